//! What a borrower reads: templates per event × channel × language, rendered with a sandboxed
//! engine, checked before they are saved, versioned in MongoDB ([`store`]).
//!
//! The engine is `minijinja` built without includes, imports, macros or a loader, and started
//! empty, so a template can read its variables and call our three filters (`rupiah`, `date`,
//! `datetime`) and nothing else: no file, no network, no clock, no builtin filter or function.
//! It may use `if` and `for`, and no operator that repeats or joins values; a render is bounded
//! in steps and in output ([`sandbox`]), so a template cannot exhaust the service. Undefined variables are errors, never empty
//! text, so a typo cannot send "Halo , pinjaman Anda sebesar  disetujui".
//!
//! A template's variables are the event's `data` exactly as its contract serialises it, plus
//! `name` (the borrower's full name); a loan rejection's `reason` is in the borrower's language
//! ([`reasons`]). [`catalog`] lists them per event, with sample data that
//! [`check`] renders every template with before it may be stored.

mod catalog;
mod defaults;
mod engine;
mod error;
mod filters;
mod reasons;
mod sandbox;
pub mod store;

use serde::{Deserialize, Serialize};

use crate::domain::{ChannelKind, IndonesianZone, Language};

pub use catalog::{EventEntry, Variable, catalog, entry, variables_with_name};
pub use defaults::defaults;
pub use engine::{check, render};
pub use error::TemplateError;
pub use filters::{format_date, format_datetime, format_rupiah};
pub use reasons::in_borrower_language;

/// Which template: one per event type, channel and language. Its text form
/// (`loan.approved.v1/email/id`) is the stored head's `_id` and what logs show.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TemplateKey {
    pub event_type: String,
    pub channel: ChannelKind,
    pub language: Language,
}

impl TemplateKey {
    pub fn new(event_type: impl Into<String>, channel: ChannelKind, language: Language) -> Self {
        Self {
            event_type: event_type.into(),
            channel,
            language,
        }
    }

    /// Parses the text form `event/channel/lang`; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split('/');
        let (event_type, channel, language) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || event_type.is_empty() {
            return None;
        }
        let language = match language {
            "id" => Language::Id,
            "en" => Language::En,
            _ => return None,
        };
        Some(Self::new(
            event_type,
            ChannelKind::parse(channel)?,
            language,
        ))
    }
}

impl std::fmt::Display for TemplateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}/{}/{}",
            self.event_type,
            self.channel.as_str(),
            self.language.as_str()
        )
    }
}

/// A template's text. `title` is the email subject or the push title; an SMS does not carry it,
/// but the in-app inbox shows it, so SMS templates have one too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateSource {
    pub key: TemplateKey,
    pub title: String,
    pub body: String,
}

/// A template filled in for one borrower: ready for a channel and the inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub title: String,
    pub body: String,
}

/// What rendering needs to know about the borrower besides the event: the language decides
/// month names and the time style, the zone the local time a date or time is shown in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RenderContext {
    pub language: Language,
    pub zone: IndonesianZone,
}

/// The longest title and body a channel may carry, in characters, as (title, body). SMS: three
/// concatenated segments (3 × 160); push: what Android and iOS show before cutting; email
/// subject: what mail clients show. The title of an SMS or WhatsApp message is only the inbox
/// title, so it gets the push limit. `None`: no limit for that part.
pub fn length_limits(channel: ChannelKind) -> (Option<usize>, Option<usize>) {
    match channel {
        ChannelKind::Sms => (Some(65), Some(480)),
        ChannelKind::Whatsapp => (Some(65), Some(1024)),
        ChannelKind::Push => (Some(65), Some(240)),
        ChannelKind::Email => (Some(150), None),
    }
}
