//! Why a change is refused, in the terms the app shows the user.
//!
//! A [`Rejection`] is the rule that said no; the message explaining it depends on who reads it,
//! so what a use case returns is a [`UserRefusal`]: the rejection and the reader's language.

use tenor_platform::refusal::Refusal;

use super::input::{BLOCK_REASON_MAX_CHARS, BLOCK_REASON_MIN_CHARS, FULLNAME_MAX_CHARS};
use super::preferences::Language;
use super::status::AccountStatus;

/// A request to refuse, with the code the app branches on (docs/conventions.md § API conventions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    FullnameEmpty,
    FullnameTooLong,
    FullnameControlCharacters,
    NoChannel,
    PhoneNumberRequired,
    UserNotFound,
    AccountBlocked,
    InvalidStatusTransition {
        from: AccountStatus,
        to: AccountStatus,
    },
    CannotBlockSelf,
    BlockReasonInvalid,
    ConfirmationRequired,
    /// The account has loans being decided, waiting to be paid out, or owed.
    LoansOpen {
        count: i64,
    },
}

impl Rejection {
    pub fn code(&self) -> &'static str {
        match self {
            Self::FullnameEmpty | Self::FullnameTooLong | Self::FullnameControlCharacters => {
                "FULLNAME_INVALID"
            }
            Self::NoChannel => "NO_CHANNEL",
            Self::PhoneNumberRequired => "PHONE_NUMBER_REQUIRED",
            Self::UserNotFound => "USER_NOT_FOUND",
            Self::AccountBlocked => "ACCOUNT_BLOCKED",
            Self::InvalidStatusTransition { .. } => "INVALID_STATUS_TRANSITION",
            Self::CannotBlockSelf => "CANNOT_BLOCK_SELF",
            Self::BlockReasonInvalid => "REASON_INVALID",
            Self::ConfirmationRequired => "CONFIRMATION_REQUIRED",
            Self::LoansOpen { .. } => "LOANS_OPEN",
        }
    }

    /// The input field at fault (GraphQL name), if one is.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::FullnameEmpty | Self::FullnameTooLong | Self::FullnameControlCharacters => {
                Some("fullname")
            }
            Self::NoChannel | Self::PhoneNumberRequired => Some("notificationChannels"),
            Self::UserNotFound | Self::CannotBlockSelf => Some("id"),
            Self::BlockReasonInvalid => Some("reason"),
            Self::ConfirmationRequired => Some("confirm"),
            Self::AccountBlocked
            | Self::InvalidStatusTransition { .. }
            | Self::LoansOpen { .. } => None,
        }
    }

    /// A message safe to show, in the reader's language.
    pub fn message(&self, language: Language) -> String {
        let (id, en) = match self {
            Self::FullnameEmpty => (
                "Nama lengkap wajib diisi.".to_owned(),
                "Full name is required.".to_owned(),
            ),
            Self::FullnameTooLong => (
                format!("Nama lengkap maksimal {FULLNAME_MAX_CHARS} karakter."),
                format!("Full name must be at most {FULLNAME_MAX_CHARS} characters."),
            ),
            Self::FullnameControlCharacters => (
                "Nama lengkap mengandung karakter yang tidak diizinkan.".to_owned(),
                "Full name contains characters that are not allowed.".to_owned(),
            ),
            Self::NoChannel => (
                "Pilih setidaknya satu saluran notifikasi.".to_owned(),
                "Choose at least one notification channel.".to_owned(),
            ),
            Self::PhoneNumberRequired => (
                "SMS dan WhatsApp memerlukan nomor telepon.".to_owned(),
                "SMS and WhatsApp need a phone number.".to_owned(),
            ),
            Self::UserNotFound => (
                "Pengguna tidak ditemukan.".to_owned(),
                "User not found.".to_owned(),
            ),
            Self::AccountBlocked => (
                "Akun sedang diblokir.".to_owned(),
                "The account is blocked.".to_owned(),
            ),
            Self::InvalidStatusTransition { from, to } => (
                format!(
                    "Status akun tidak dapat diubah dari {} ke {}.",
                    from.as_db(),
                    to.as_db()
                ),
                format!(
                    "The account status cannot change from {} to {}.",
                    from.as_db(),
                    to.as_db()
                ),
            ),
            Self::CannotBlockSelf => (
                "Anda tidak dapat memblokir akun Anda sendiri.".to_owned(),
                "You cannot block your own account.".to_owned(),
            ),
            Self::BlockReasonInvalid => (
                format!(
                    "Alasan wajib diisi ({BLOCK_REASON_MIN_CHARS}–{BLOCK_REASON_MAX_CHARS} karakter)."
                ),
                format!(
                    "A reason is required ({BLOCK_REASON_MIN_CHARS}–{BLOCK_REASON_MAX_CHARS} characters)."
                ),
            ),
            Self::ConfirmationRequired => (
                "Konfirmasi penghapusan akun diperlukan.".to_owned(),
                "Confirm that the account should be deleted.".to_owned(),
            ),
            Self::LoansOpen { count } => (
                format!(
                    "Akun tidak dapat dihapus selama ada pinjaman yang berjalan ({count}): batalkan pengajuan atau lunasi pinjaman terlebih dahulu."
                ),
                format!(
                    "The account cannot be deleted while a loan is open ({count}): cancel the application or repay the loan first."
                ),
            ),
        };
        match language {
            Language::Id => id,
            Language::En => en,
        }
    }
}

impl Rejection {
    /// This rejection, explained in `language` (the account's own, where there is an account).
    pub fn in_language(self, language: Language) -> UserRefusal {
        UserRefusal {
            rejection: self,
            language,
        }
    }
}

/// A rejection and the language to explain it in: the user context's [`Refusal`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRefusal {
    pub rejection: Rejection,
    pub language: Language,
}

/// Explained in the default language: for refusals with no account to take a language from
/// (an unknown id, a staff action, a request refused before the account is read).
impl From<Rejection> for UserRefusal {
    fn from(rejection: Rejection) -> Self {
        rejection.in_language(Language::default())
    }
}

impl Refusal for UserRefusal {
    fn code(&self) -> &'static str {
        self.rejection.code()
    }

    fn field(&self) -> Option<&str> {
        self.rejection.field()
    }

    fn message(&self) -> String {
        self.rejection.message(self.language)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_follow_the_reader_language() {
        let r = Rejection::NoChannel;
        assert!(r.message(Language::Id).contains("saluran"));
        assert!(r.message(Language::En).contains("channel"));
        assert_eq!(r.field(), Some("notificationChannels"));
    }

    #[test]
    fn a_refusal_speaks_the_language_it_carries() {
        let refusal = Rejection::NoChannel.in_language(Language::En);
        assert_eq!(refusal.code(), "NO_CHANNEL");
        assert_eq!(Refusal::field(&refusal), Some("notificationChannels"));
        assert_eq!(
            Refusal::message(&refusal),
            Rejection::NoChannel.message(Language::En)
        );
        let default = UserRefusal::from(Rejection::UserNotFound);
        assert_eq!(Refusal::message(&default), "Pengguna tidak ditemukan.");
    }
}
