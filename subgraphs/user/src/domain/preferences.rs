//! How the user wants to be reached: language, time zone, notification channels, marketing
//! consent.

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
    /// The Indonesian time zone the user lives in: messages that must arrive in the daytime
    /// (reminders, collection) are timed in it, and times are shown in it.
    #[derive(Default)]
    pub enum IndonesianTimeZone {
        /// Waktu Indonesia Barat, UTC+7 (Sumatra, Java, West and Central Kalimantan): the
        /// default for a new account.
        #[default]
        Wib = "WIB",
        /// Waktu Indonesia Tengah, UTC+8 (Bali, Nusa Tenggara, South, East and North
        /// Kalimantan, Sulawesi).
        Wita = "WITA",
        /// Waktu Indonesia Timur, UTC+9 (Maluku, Papua).
        Wit = "WIT",
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
    pub time_zone: IndonesianTimeZone,
    /// Sorted, without duplicates, never empty.
    pub notification_channels: Vec<NotificationChannel>,
    pub marketing_consent: bool,
    /// When consent was given; `None` while there is none.
    pub marketing_consent_at: Option<DateTime<Utc>>,
}
