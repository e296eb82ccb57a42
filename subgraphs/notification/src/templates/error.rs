//! Why a template was refused or could not be rendered, in words a back-office user can act on:
//! every message names the part (title or body), the line when there is one, and the variable.

use tenor_platform::refusal::Refusal;

/// A template problem. The stable [`code`](TemplateError::code) is what the back office
/// branches on; the message is safe to show (it quotes template text, never borrower data).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// The message quotes at most the start of what was sent (it can be anything, up to the
    /// router's body limit) and names the event types there are, which is what staff need.
    #[error(
        "unknown event type {}: no notification is sent for it (event types: {})",
        quoted_start(.event_type),
        known_event_types()
    )]
    UnknownEvent { event_type: String },
    #[error("`{event_type}` is not sent by {channel} (it goes to {allowed})")]
    ChannelNotUsed {
        event_type: String,
        channel: &'static str,
        allowed: String,
    },
    #[error("{at}: unknown variable `{variable}`; `{event_type}` offers {known}")]
    UnknownVariable {
        /// `title` or `body`, with the line: `body, line 3`.
        at: String,
        part: &'static str,
        variable: String,
        event_type: String,
        known: String,
    },
    #[error("{at}: syntax error: {detail}")]
    Syntax {
        at: String,
        part: &'static str,
        detail: String,
    },
    #[error("{at}: cannot render: {detail}")]
    RenderFailed {
        at: String,
        part: &'static str,
        detail: String,
    },
    #[error("{part} is {length} characters once rendered; {channel} allows at most {limit}")]
    TooLong {
        part: &'static str,
        channel: &'static str,
        length: usize,
        limit: usize,
    },
    #[error("{part} is empty")]
    Empty { part: &'static str },
    #[error("`{key}` has no version {version}")]
    UnknownVersion { key: String, version: u32 },
    /// A statement or operator a template may not use (`templates::sandbox`).
    #[error("{at}: not allowed: {what}")]
    NotAllowed {
        at: String,
        part: &'static str,
        what: String,
    },
    /// Refused by the platform's text policy (`tenor_platform::text`).
    #[error("{message}")]
    Text {
        part: &'static str,
        code: &'static str,
        message: String,
    },
}

impl TemplateError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownEvent { .. } => "UNKNOWN_EVENT",
            Self::ChannelNotUsed { .. } => "CHANNEL_NOT_USED",
            Self::UnknownVariable { .. } => "UNKNOWN_VARIABLE",
            Self::Syntax { .. } => "TEMPLATE_SYNTAX",
            Self::RenderFailed { .. } => "RENDER_FAILED",
            Self::TooLong { .. } => "TOO_LONG",
            Self::Empty { .. } => "EMPTY",
            Self::UnknownVersion { .. } => "UNKNOWN_VERSION",
            Self::NotAllowed { .. } => "TEMPLATE_NOT_ALLOWED",
            Self::Text { code, .. } => code,
        }
    }

    /// The input field at fault: `title`, `body`, `eventType`, `channel` or `version`.
    pub fn field(&self) -> &'static str {
        match self {
            Self::UnknownEvent { .. } => "eventType",
            Self::ChannelNotUsed { .. } => "channel",
            Self::UnknownVariable { part, .. }
            | Self::Syntax { part, .. }
            | Self::RenderFailed { part, .. }
            | Self::TooLong { part, .. }
            | Self::Empty { part }
            | Self::NotAllowed { part, .. }
            | Self::Text { part, .. } => part,
            Self::UnknownVersion { .. } => "version",
        }
    }
}

impl Refusal for TemplateError {
    fn code(&self) -> &'static str {
        TemplateError::code(self)
    }

    fn field(&self) -> Option<&str> {
        Some(TemplateError::field(self))
    }

    fn message(&self) -> String {
        self.to_string()
    }
}

/// The first characters of untrusted text, quoted and with control characters escaped.
fn quoted_start(text: &str) -> String {
    const SHOWN: usize = 40;
    let start: String = text.chars().take(SHOWN).collect();
    let more = if text.chars().nth(SHOWN).is_some() {
        "…"
    } else {
        ""
    };
    format!("{start:?}{more}")
}

fn known_event_types() -> String {
    let types: Vec<&str> = super::catalog().iter().map(|e| e.event_type).collect();
    types.join(", ")
}

/// `body, line 3`, or just `body` when the engine could not say where.
pub(super) fn at(part: &str, line: Option<usize>) -> String {
    match line {
        Some(line) => format!("{part}, line {line}"),
        None => part.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whatever a caller sends as the event type, the refusal stays short, escapes control
    /// characters and tells staff which event types exist.
    #[test]
    fn an_unknown_event_type_is_quoted_short_and_the_known_ones_are_named() {
        let hostile = format!("\u{1b}[31m{}", "<script>".repeat(10_000));
        let message = TemplateError::UnknownEvent {
            event_type: hostile,
        }
        .to_string();
        assert!(message.len() < 1_000, "{} bytes", message.len());
        assert!(
            !message.contains('\u{1b}') && message.contains("\\u{1b}"),
            "{message}"
        );
        assert!(
            message.contains("…") && message.contains("loan.paid.v1"),
            "{message}"
        );

        let short = TemplateError::UnknownEvent {
            event_type: "loan.submitted.v1".into(),
        }
        .to_string();
        assert!(
            short.starts_with("unknown event type \"loan.submitted.v1\": "),
            "{short}"
        );
        assert!(!short.contains('…'), "{short}");
    }
}
