//! The vocabulary every part of notification shares: channels, languages, categories and the
//! borrower's Indonesian time zone.

use serde::{Deserialize, Serialize};

/// How a notification reaches the borrower. The in-app inbox is not a channel: every
/// notification is also an inbox item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, async_graphql::Enum)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChannelKind {
    Email,
    Sms,
    Whatsapp,
    Push,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 4] = [Self::Email, Self::Sms, Self::Whatsapp, Self::Push];

    /// The stored and logged name (`email`, `sms`, `whatsapp`, `push`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Sms => "sms",
            Self::Whatsapp => "whatsapp",
            Self::Push => "push",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

/// The borrower's language; Indonesian unless their profile says English.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, async_graphql::Enum,
)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    Id,
    En,
}

impl Language {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::En => "en",
        }
    }

    /// `id`/`en` (also `id-ID`, `en-US`, any case); anything else is Indonesian.
    pub fn from_profile(code: &str) -> Self {
        if code.to_ascii_lowercase().starts_with("en") {
            Self::En
        } else {
            Self::Id
        }
    }
}

/// What a notification is about (the seed's categories plus `security` and `collection`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, async_graphql::Enum)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    Loan,
    Kyc,
    Payment,
    Security,
    Collection,
    Other,
}

/// Indonesia's three time zones, fixed offsets (no daylight saving): WIB UTC+7 (Java, Sumatra,
/// West/Central Kalimantan), WITA UTC+8 (Bali, Nusa Tenggara, Sulawesi, East/South/North
/// Kalimantan), WIT UTC+9 (Maluku, Papua). A profile without one is WIB.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, async_graphql::Enum,
)]
#[serde(rename_all = "UPPERCASE")]
// The user subgraph's name for the same three values, so one enum reaches the supergraph.
#[graphql(name = "IndonesianTimeZone")]
pub enum IndonesianZone {
    #[default]
    Wib,
    Wita,
    Wit,
}

impl IndonesianZone {
    pub fn offset(self) -> chrono::FixedOffset {
        let hours = match self {
            Self::Wib => 7,
            Self::Wita => 8,
            Self::Wit => 9,
        };
        chrono::FixedOffset::east_opt(hours * 3600).expect("a valid offset")
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Wib => "WIB",
            Self::Wita => "WITA",
            Self::Wit => "WIT",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        match name.to_ascii_uppercase().as_str() {
            "WIB" => Some(Self::Wib),
            "WITA" => Some(Self::Wita),
            "WIT" => Some(Self::Wit),
            _ => None,
        }
    }
}
