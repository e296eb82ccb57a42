//! How the user wants to be reached: language, notification channels, marketing consent.

use chrono::{DateTime, Utc};

tenor_platform::text_enum! {
    /// The language the app and notifications use for this user.
    #[derive(Default)]
    pub enum Language {
        /// Bahasa Indonesia, the default for a new account.
        #[default]
        Id = "id",
        En = "en",
    }
}

tenor_platform::text_enum! {
    /// A way to reach the user. Ordered as declared, so a profile's channels sort the same way
    /// every time.
    #[derive(PartialOrd, Ord)]
    pub enum NotificationChannel {
        Email = "EMAIL",
        Sms = "SMS",
        Whatsapp = "WHATSAPP",
        Push = "PUSH",
    }
}

impl NotificationChannel {
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
