//! How the user wants to be reached: language, notification channels, marketing consent.

use chrono::{DateTime, Utc};

/// The language the app and notifications use for this user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Language {
    /// Bahasa Indonesia, the default for a new account.
    #[default]
    Id,
    En,
}

impl Language {
    pub fn as_db(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::En => "en",
        }
    }

    pub fn from_db(value: &str) -> Option<Self> {
        match value {
            "id" => Some(Self::Id),
            "en" => Some(Self::En),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NotificationChannel {
    Email,
    Sms,
    Whatsapp,
    Push,
}

impl NotificationChannel {
    pub fn as_db(self) -> &'static str {
        match self {
            Self::Email => "EMAIL",
            Self::Sms => "SMS",
            Self::Whatsapp => "WHATSAPP",
            Self::Push => "PUSH",
        }
    }

    pub fn from_db(value: &str) -> Option<Self> {
        match value {
            "EMAIL" => Some(Self::Email),
            "SMS" => Some(Self::Sms),
            "WHATSAPP" => Some(Self::Whatsapp),
            "PUSH" => Some(Self::Push),
            _ => None,
        }
    }

    /// SMS and WhatsApp reach the user through the phone number.
    pub(super) fn needs_phone(self) -> bool {
        matches!(self, Self::Sms | Self::Whatsapp)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preferences {
    pub language: Language,
    /// Sorted, without duplicates, never empty.
    pub notification_channels: Vec<NotificationChannel>,
    pub marketing_consent: bool,
    /// When consent was given; `None` while there is none.
    pub marketing_consent_at: Option<DateTime<Utc>>,
}
