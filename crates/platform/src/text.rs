//! The one text-input policy every subgraph applies to what people type (names, loan purposes,
//! block and review reasons, device names, …) and, for the character rules, to identifier-like
//! strings and new passwords.
//!
//! Free text is normalised to Unicode NFC, trimmed (and, on a single line, runs of whitespace
//! collapsed to one space) and measured in characters after that. It is refused when it holds:
//!
//! - a control character (C0 including NUL, DEL, C1 including U+0085), except a tab (and, in
//!   multi-line text, a newline; `\r\n` becomes `\n`);
//! - a bidirectional control (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069);
//! - an invisible character: zero-width space/joiners (U+200B–U+200D), word joiner and invisible
//!   operators (U+2060–U+2064), deprecated format characters (U+206A–U+206F), the BOM (U+FEFF),
//!   soft hyphen, combining grapheme joiner, Mongolian vowel separator, Hangul fillers, the
//!   blank braille pattern (U+2800), interlinear annotation marks;
//! - a tag character (U+E0000–U+E007F), a noncharacter (U+FDD0–U+FDEF, U+xFFFE/U+xFFFF), a line
//!   or paragraph separator (U+2028/U+2029);
//! - a combining mark with nothing to combine with (at the start or after whitespace), or more
//!   than [`MAX_COMBINING_RUN`] of them in a row.
//!
//! Refusals carry a stable code ([`TEXT_INVALID_CHARACTERS`], [`TEXT_TOO_LONG`],
//! [`TEXT_TOO_SHORT`], [`TEXT_REQUIRED`]) and the field; a subgraph whose field already has a
//! published code (e.g. `FULLNAME_INVALID`) keeps that code and uses the message.
//! Nothing refused here ever reaches a database (PostgreSQL refuses NUL in `text` with an error
//! that would otherwise surface as `INTERNAL`).

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

pub const TEXT_INVALID_CHARACTERS: &str = "TEXT_INVALID_CHARACTERS";
pub const TEXT_TOO_LONG: &str = "TEXT_TOO_LONG";
pub const TEXT_TOO_SHORT: &str = "TEXT_TOO_SHORT";
pub const TEXT_REQUIRED: &str = "TEXT_REQUIRED";

/// Longest run of combining marks on one base character ("Zalgo" text is refused).
pub const MAX_COMBINING_RUN: usize = 4;

/// Which whitespace control characters a value may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    /// No control character at all (secrets, identifiers).
    None,
    /// One line: tabs are accepted (and collapsed with other whitespace), newlines are not.
    Single,
    /// Notes and reasons: tabs and newlines (`\r\n` is read as `\n`).
    Multi,
}

/// What was wrong with a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextProblem {
    /// A character the policy refuses, with its 0-based position (in characters, after NFC).
    InvalidCharacter {
        position: usize,
        code_point: u32,
    },
    /// Nothing left after trimming.
    Required,
    TooShort {
        min: usize,
    },
    TooLong {
        max: usize,
    },
}

/// A refused value: which field, and why. Messages never echo the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextRefusal {
    pub field: String,
    pub problem: TextProblem,
}

impl TextRefusal {
    fn new(field: &str, problem: TextProblem) -> Self {
        Self {
            field: field.to_owned(),
            problem,
        }
    }

    /// The stable code of the problem (`TEXT_…`).
    pub fn code(&self) -> &'static str {
        match self.problem {
            TextProblem::InvalidCharacter { .. } => TEXT_INVALID_CHARACTERS,
            TextProblem::Required => TEXT_REQUIRED,
            TextProblem::TooShort { .. } => TEXT_TOO_SHORT,
            TextProblem::TooLong { .. } => TEXT_TOO_LONG,
        }
    }

    pub fn is_invalid_characters(&self) -> bool {
        matches!(self.problem, TextProblem::InvalidCharacter { .. })
    }

    /// Indonesian / English, safe to show.
    pub fn message(&self) -> String {
        let field = &self.field;
        match self.problem {
            TextProblem::InvalidCharacter { code_point, .. } => format!(
                "{field}: mengandung karakter yang tidak diizinkan (U+{code_point:04X}). / \
                 {field}: contains a character that is not allowed (U+{code_point:04X})."
            ),
            TextProblem::Required => {
                format!("{field}: wajib diisi. / {field}: is required.")
            }
            TextProblem::TooShort { min } => format!(
                "{field}: minimal {min} karakter. / {field}: must be at least {min} characters."
            ),
            TextProblem::TooLong { max } => format!(
                "{field}: maksimal {max} karakter. / {field}: must be at most {max} characters."
            ),
        }
    }
}

impl std::fmt::Display for TextRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

/// How one free-text field is cleaned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextPolicy {
    pub min_chars: usize,
    pub max_chars: usize,
    pub lines: Lines,
}

impl TextPolicy {
    /// One line of 1..=`max_chars` characters, whitespace collapsed.
    pub const fn single_line(max_chars: usize) -> Self {
        Self {
            min_chars: 1,
            max_chars,
            lines: Lines::Single,
        }
    }

    /// Text of 1..=`max_chars` characters that may span lines; trimmed at both ends.
    pub const fn multi_line(max_chars: usize) -> Self {
        Self {
            min_chars: 1,
            max_chars,
            lines: Lines::Multi,
        }
    }

    pub const fn min_chars(self, min_chars: usize) -> Self {
        Self { min_chars, ..self }
    }

    /// The value as it should be stored, or why not.
    pub fn clean(&self, field: &str, raw: &str) -> Result<String, TextRefusal> {
        // A value far beyond any limit is refused before it is normalised or scanned. NFC and
        // trimming only shrink text by small factors, so a legitimate value never comes near.
        if raw.len() > self.max_chars.saturating_mul(16).saturating_add(1024) {
            return Err(TextRefusal::new(
                field,
                TextProblem::TooLong {
                    max: self.max_chars,
                },
            ));
        }
        let unified;
        let raw = if self.lines == Lines::Multi && raw.contains('\r') {
            unified = raw.replace("\r\n", "\n");
            unified.as_str()
        } else {
            raw
        };
        let normalised: String = raw.nfc().collect();
        if let Some((position, c)) = first_forbidden(&normalised, self.lines) {
            return Err(TextRefusal::new(
                field,
                TextProblem::InvalidCharacter {
                    position,
                    code_point: c as u32,
                },
            ));
        }
        let cleaned = match self.lines {
            Lines::Multi => normalised.trim().to_owned(),
            Lines::Single | Lines::None => {
                normalised.split_whitespace().collect::<Vec<_>>().join(" ")
            }
        };
        let length = cleaned.chars().count();
        if length == 0 && self.min_chars > 0 {
            return Err(TextRefusal::new(field, TextProblem::Required));
        }
        if length < self.min_chars {
            return Err(TextRefusal::new(
                field,
                TextProblem::TooShort {
                    min: self.min_chars,
                },
            ));
        }
        if length > self.max_chars {
            return Err(TextRefusal::new(
                field,
                TextProblem::TooLong {
                    max: self.max_chars,
                },
            ));
        }
        Ok(cleaned)
    }
}

/// One line of 1..=`max_chars` characters: NFC, trimmed, whitespace collapsed, characters
/// checked. The common case of [`TextPolicy::clean`].
pub fn clean_text(value: &str, field: &str, max_chars: usize) -> Result<String, TextRefusal> {
    TextPolicy::single_line(max_chars).clean(field, value)
}

/// The character rules alone, for values that are not rewritten (secrets, identifiers, emails):
/// `Err` names the first refused character. Nothing is normalised.
pub fn check_characters(value: &str, field: &str, lines: Lines) -> Result<(), TextRefusal> {
    match first_forbidden(value, lines) {
        None => Ok(()),
        Some((position, c)) => Err(TextRefusal::new(
            field,
            TextProblem::InvalidCharacter {
                position,
                code_point: c as u32,
            },
        )),
    }
}

/// An opaque token, key or id as clients send them: 1..=`max_len` printable ASCII characters,
/// no space. Anything else cannot be one of ours and is refused before a database sees it.
pub fn is_plain_token(value: &str, max_len: usize) -> bool {
    !value.is_empty() && value.len() <= max_len && value.bytes().all(|b| b.is_ascii_graphic())
}

/// Whether the policy refuses `c` wherever it appears (whitespace controls aside).
pub fn is_forbidden_character(c: char) -> bool {
    let cp = c as u32;
    c.is_control()
        || matches!(
            cp,
            0x00AD // soft hyphen
            | 0x034F // combining grapheme joiner
            | 0x061C // Arabic letter mark
            | 0x115F | 0x1160 | 0x3164 | 0xFFA0 // Hangul fillers
            | 0x180E // Mongolian vowel separator
            | 0x2800 // braille pattern blank: renders as nothing, is not whitespace
            | 0x200B..=0x200F // zero-width space, ZWNJ, ZWJ, LRM, RLM
            | 0x2028 | 0x2029 // line and paragraph separators
            | 0x202A..=0x202E // bidi embeddings and overrides
            | 0x2060..=0x206F // word joiner, invisible operators, bidi isolates, deprecated
            | 0xFEFF // byte order mark / zero-width no-break space
            | 0xFFF9..=0xFFFB // interlinear annotation
            | 0xE0000..=0xE007F // tags
            | 0xFDD0..=0xFDEF // noncharacters
        )
        || cp & 0xFFFE == 0xFFFE // U+xFFFE and U+xFFFF: noncharacters
}

fn allowed_whitespace_control(c: char, lines: Lines) -> bool {
    match lines {
        Lines::None => false,
        Lines::Single => c == '\t',
        Lines::Multi => c == '\t' || c == '\n',
    }
}

/// The first refused character and its position, if any.
fn first_forbidden(value: &str, lines: Lines) -> Option<(usize, char)> {
    let mut previous: Option<char> = None;
    let mut combining_run = 0usize;
    for (position, c) in value.chars().enumerate() {
        if is_forbidden_character(c) && !allowed_whitespace_control(c, lines) {
            return Some((position, c));
        }
        if is_combining_mark(c) {
            combining_run += 1;
            let lone = previous.is_none_or(char::is_whitespace);
            if lone || combining_run > MAX_COMBINING_RUN {
                return Some((position, c));
            }
            // The run stays attached to the base before it.
        } else {
            combining_run = 0;
            previous = Some(c);
        }
    }
    None
}

#[cfg(test)]
mod tests;
