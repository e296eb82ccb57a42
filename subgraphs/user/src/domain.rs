//! The rules of the user context, free of I/O: what a profile is, which changes to it are
//! allowed, and how input is normalised before it is stored.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Longest accepted full name, in characters (not bytes: Indonesian names may carry accents).
pub const FULLNAME_MAX_CHARS: usize = 100;
/// A block reason must say something an auditor can read, and fit a back-office form.
pub const BLOCK_REASON_MIN_CHARS: usize = 3;
pub const BLOCK_REASON_MAX_CHARS: usize = 500;
/// What a deleted account's name becomes (see [`Profile::minimised`]).
pub const DELETED_FULLNAME: &str = "Deleted user";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountStatus {
    Active,
    /// Dormant (seed data); may be blocked or deleted like an active account.
    Inactive,
    Blocked,
    /// Soft-deleted by the owner: PII minimised, invisible through the API.
    Deleted,
}

impl AccountStatus {
    pub fn as_db(self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Inactive => "INACTIVE",
            Self::Blocked => "BLOCKED",
            Self::Deleted => "DELETED",
        }
    }

    pub fn from_db(value: &str) -> Option<Self> {
        Some(match value {
            "ACTIVE" => Self::Active,
            "INACTIVE" => Self::Inactive,
            "BLOCKED" => Self::Blocked,
            "DELETED" => Self::Deleted,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountKind {
    Customer,
    Staff,
}

impl AccountKind {
    pub fn as_db(self) -> &'static str {
        match self {
            Self::Customer => "CUSTOMER",
            Self::Staff => "STAFF",
        }
    }

    pub fn from_db(value: &str) -> Option<Self> {
        match value {
            "CUSTOMER" => Some(Self::Customer),
            "STAFF" => Some(Self::Staff),
            _ => None,
        }
    }
}

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
    fn needs_phone(self) -> bool {
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub reason: String,
    pub at: DateTime<Utc>,
    pub by: Option<Uuid>,
}

/// One account's profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub id: Uuid,
    pub email: Option<String>,
    pub phone_number: Option<String>,
    pub fullname: String,
    pub status: AccountStatus,
    pub kind: AccountKind,
    pub kyc_id: Option<Uuid>,
    pub preferences: Preferences,
    pub block: Option<Block>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A request to refuse, with the code the app branches on (DESIGN §9).
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
            Self::AccountBlocked | Self::InvalidStatusTransition { .. } => None,
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
        };
        match language {
            Language::Id => id,
            Language::En => en,
        }
    }
}

/// Trim, collapse runs of whitespace to one space, and check length and characters.
pub fn normalise_fullname(raw: &str) -> Result<String, Rejection> {
    // Control characters (including newlines and bidi-less C0/C1 codes) would corrupt the
    // documents and messages a name is printed on; refuse rather than silently strip them.
    if raw
        .chars()
        .any(|c| c.is_control() && !matches!(c, ' ' | '\t'))
    {
        return Err(Rejection::FullnameControlCharacters);
    }
    let name = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        return Err(Rejection::FullnameEmpty);
    }
    if name.chars().count() > FULLNAME_MAX_CHARS {
        return Err(Rejection::FullnameTooLong);
    }
    Ok(name)
}

/// A block reason as stored: trimmed, 3..=500 characters, no control characters but newlines.
pub fn normalise_block_reason(raw: &str) -> Result<String, Rejection> {
    let reason = raw.trim();
    let length = reason.chars().count();
    let clean = !reason
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\t'));
    if clean && (BLOCK_REASON_MIN_CHARS..=BLOCK_REASON_MAX_CHARS).contains(&length) {
        Ok(reason.to_owned())
    } else {
        Err(Rejection::BlockReasonInvalid)
    }
}

/// What the owner asked to change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileUpdate {
    pub fullname: Option<String>,
    pub language: Option<Language>,
    pub notification_channels: Option<Vec<NotificationChannel>>,
    pub marketing_consent: Option<bool>,
}

impl Profile {
    /// The profile after `update`, or every reason to refuse it (all at once, so the app can
    /// mark every faulty field in one round trip). `Ok(None)` when nothing would change.
    pub fn updated(
        &self,
        update: ProfileUpdate,
        now: DateTime<Utc>,
    ) -> Result<Option<Profile>, Vec<Rejection>> {
        match self.status {
            AccountStatus::Deleted => return Err(vec![Rejection::UserNotFound]),
            // A blocked account is under review: its data stays as it was when it was blocked.
            AccountStatus::Blocked => return Err(vec![Rejection::AccountBlocked]),
            AccountStatus::Active | AccountStatus::Inactive => {}
        }
        let mut rejections = Vec::new();
        let mut next = self.clone();

        if let Some(raw) = update.fullname {
            match normalise_fullname(&raw) {
                Ok(name) => next.fullname = name,
                Err(rejection) => rejections.push(rejection),
            }
        }
        if let Some(language) = update.language {
            next.preferences.language = language;
        }
        if let Some(mut channels) = update.notification_channels {
            channels.sort();
            channels.dedup();
            if channels.is_empty() {
                rejections.push(Rejection::NoChannel);
            } else if self.phone_number.is_none() && channels.iter().any(|c| c.needs_phone()) {
                rejections.push(Rejection::PhoneNumberRequired);
            } else {
                next.preferences.notification_channels = channels;
            }
        }
        if let Some(consent) = update.marketing_consent {
            // Re-confirming consent keeps the original timestamp: it records when it was given.
            if consent != self.preferences.marketing_consent {
                next.preferences.marketing_consent = consent;
                next.preferences.marketing_consent_at = consent.then_some(now);
            }
        }

        if !rejections.is_empty() {
            return Err(rejections);
        }
        if next == *self {
            return Ok(None);
        }
        next.updated_at = now;
        Ok(Some(next))
    }

    /// Staff block the account (fraud, a court order, a complaint under review).
    pub fn blocked(
        &self,
        reason: &str,
        by: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Profile, Rejection> {
        if by == self.id {
            return Err(Rejection::CannotBlockSelf);
        }
        let reason = normalise_block_reason(reason)?;
        match self.status {
            AccountStatus::Active | AccountStatus::Inactive => {}
            from => {
                return Err(Rejection::InvalidStatusTransition {
                    from,
                    to: AccountStatus::Blocked,
                });
            }
        }
        Ok(Profile {
            status: AccountStatus::Blocked,
            block: Some(Block {
                reason,
                at: now,
                by: Some(by),
            }),
            updated_at: now,
            ..self.clone()
        })
    }

    /// Staff lift a block; the account becomes active again.
    pub fn unblocked(&self, now: DateTime<Utc>) -> Result<Profile, Rejection> {
        if self.status != AccountStatus::Blocked {
            return Err(Rejection::InvalidStatusTransition {
                from: self.status,
                to: AccountStatus::Active,
            });
        }
        Ok(Profile {
            status: AccountStatus::Active,
            block: None,
            updated_at: now,
            ..self.clone()
        })
    }

    /// The owner closes the account. Soft delete with PII minimised: under UU PDP (Law 27/2022)
    /// personal data is erased once the purpose ends and the owner asks; contact data and the
    /// name go now. The id stays so that loan records held elsewhere (which lending regulation
    /// requires lenders to keep) still point at an account, and so auth and every other context
    /// can act on the `DELETED` event.
    pub fn minimised(&self, now: DateTime<Utc>) -> Result<Profile, Rejection> {
        match self.status {
            AccountStatus::Active | AccountStatus::Inactive => {}
            // A blocked account may be under fraud investigation: its data must survive until
            // staff lift the block.
            AccountStatus::Blocked => return Err(Rejection::AccountBlocked),
            AccountStatus::Deleted => {
                return Err(Rejection::InvalidStatusTransition {
                    from: AccountStatus::Deleted,
                    to: AccountStatus::Deleted,
                });
            }
        }
        Ok(Profile {
            email: None,
            phone_number: None,
            fullname: DELETED_FULLNAME.to_owned(),
            status: AccountStatus::Deleted,
            preferences: Preferences {
                // Consent ends with the account; no channel stays usable without contact data,
                // but the column keeps its "at least one" rule, so leave the defaults.
                marketing_consent: false,
                marketing_consent_at: None,
                ..self.preferences.clone()
            },
            deleted_at: Some(now),
            updated_at: now,
            ..self.clone()
        })
    }

    /// Deleted accounts do not exist as far as the API is concerned.
    pub fn is_visible(&self) -> bool {
        self.status != AccountStatus::Deleted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile() -> Profile {
        let at = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        Profile {
            id: Uuid::new_v4(),
            email: Some("siti@example.id".into()),
            phone_number: None,
            fullname: "Siti Rahayu".into(),
            status: AccountStatus::Active,
            kind: AccountKind::Customer,
            kyc_id: None,
            preferences: Preferences {
                language: Language::Id,
                notification_channels: vec![NotificationChannel::Email, NotificationChannel::Push],
                marketing_consent: false,
                marketing_consent_at: None,
            },
            block: None,
            deleted_at: None,
            created_at: at,
            updated_at: at,
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_900_000_000, 0).unwrap()
    }

    #[test]
    fn fullname_is_trimmed_and_whitespace_collapsed() {
        assert_eq!(
            normalise_fullname("  Siti \t  Rahayu ").unwrap(),
            "Siti Rahayu"
        );
        assert_eq!(
            normalise_fullname("Ni Luh Putu Ayu Dewi").unwrap().len(),
            20
        );
    }

    #[test]
    fn fullname_rejections() {
        assert_eq!(normalise_fullname("   "), Err(Rejection::FullnameEmpty));
        assert_eq!(normalise_fullname(""), Err(Rejection::FullnameEmpty));
        assert_eq!(
            normalise_fullname("Siti\nRahayu"),
            Err(Rejection::FullnameControlCharacters)
        );
        assert_eq!(
            normalise_fullname("Siti\u{0}"),
            Err(Rejection::FullnameControlCharacters)
        );
        // The limit counts characters: 100 accented letters are fine although > 100 bytes.
        assert!(normalise_fullname(&"é".repeat(FULLNAME_MAX_CHARS)).is_ok());
        assert_eq!(
            normalise_fullname(&"é".repeat(FULLNAME_MAX_CHARS + 1)),
            Err(Rejection::FullnameTooLong)
        );
        assert_eq!(
            Rejection::FullnameTooLong.code(),
            Rejection::FullnameEmpty.code()
        );
    }

    #[test]
    fn update_collects_every_rejection_and_changes_nothing() {
        let before = profile();
        let rejections = before
            .updated(
                ProfileUpdate {
                    fullname: Some(" ".into()),
                    notification_channels: Some(vec![]),
                    ..Default::default()
                },
                now(),
            )
            .unwrap_err();
        let codes: Vec<_> = rejections.iter().map(Rejection::code).collect();
        assert_eq!(codes, ["FULLNAME_INVALID", "NO_CHANNEL"]);
    }

    #[test]
    fn sms_needs_a_phone_number() {
        let mut p = profile();
        let update = ProfileUpdate {
            notification_channels: Some(vec![NotificationChannel::Sms]),
            ..Default::default()
        };
        assert_eq!(
            p.updated(update.clone(), now()).unwrap_err(),
            vec![Rejection::PhoneNumberRequired]
        );
        p.phone_number = Some("+6281234567890".into());
        let next = p.updated(update, now()).unwrap().unwrap();
        assert_eq!(
            next.preferences.notification_channels,
            vec![NotificationChannel::Sms]
        );
    }

    #[test]
    fn channels_are_sorted_and_deduplicated() {
        let next = profile()
            .updated(
                ProfileUpdate {
                    notification_channels: Some(vec![
                        NotificationChannel::Push,
                        NotificationChannel::Email,
                        NotificationChannel::Push,
                    ]),
                    language: Some(Language::En),
                    ..Default::default()
                },
                now(),
            )
            .unwrap()
            .unwrap();
        assert_eq!(
            next.preferences.notification_channels,
            vec![NotificationChannel::Email, NotificationChannel::Push]
        );
        assert_eq!(next.preferences.language, Language::En);
        assert_eq!(next.updated_at, now());
    }

    #[test]
    fn an_update_that_changes_nothing_is_none() {
        let p = profile();
        let same = ProfileUpdate {
            fullname: Some(" Siti  Rahayu".into()),
            language: Some(Language::Id),
            marketing_consent: Some(false),
            ..Default::default()
        };
        assert_eq!(p.updated(same, now()), Ok(None));
        assert_eq!(p.updated(ProfileUpdate::default(), now()), Ok(None));
    }

    #[test]
    fn consent_timestamp_is_set_on_grant_kept_on_reconfirm_cleared_on_withdrawal() {
        let grant = ProfileUpdate {
            marketing_consent: Some(true),
            ..Default::default()
        };
        let granted = profile().updated(grant.clone(), now()).unwrap().unwrap();
        assert_eq!(granted.preferences.marketing_consent_at, Some(now()));

        let later = now() + chrono::Duration::days(1);
        assert_eq!(granted.updated(grant, later), Ok(None));

        let withdrawn = granted
            .updated(
                ProfileUpdate {
                    marketing_consent: Some(false),
                    ..Default::default()
                },
                later,
            )
            .unwrap()
            .unwrap();
        assert!(!withdrawn.preferences.marketing_consent);
        assert_eq!(withdrawn.preferences.marketing_consent_at, None);
    }

    #[test]
    fn blocked_and_deleted_accounts_cannot_be_edited() {
        let mut p = profile();
        let update = ProfileUpdate {
            fullname: Some("Budi".into()),
            ..Default::default()
        };
        p.status = AccountStatus::Blocked;
        assert_eq!(
            p.updated(update.clone(), now()),
            Err(vec![Rejection::AccountBlocked])
        );
        p.status = AccountStatus::Deleted;
        assert_eq!(p.updated(update, now()), Err(vec![Rejection::UserNotFound]));
    }

    #[test]
    fn status_transitions() {
        let staff = Uuid::new_v4();
        let active = profile();
        let blocked = active.blocked("  fraud review ", staff, now()).unwrap();
        assert_eq!(blocked.status, AccountStatus::Blocked);
        assert_eq!(
            blocked.block,
            Some(Block {
                reason: "fraud review".into(),
                at: now(),
                by: Some(staff)
            })
        );
        assert_eq!(
            blocked.blocked("again", staff, now()).unwrap_err().code(),
            "INVALID_STATUS_TRANSITION"
        );

        let unblocked = blocked.unblocked(now()).unwrap();
        assert_eq!(unblocked.status, AccountStatus::Active);
        assert_eq!(unblocked.block, None);
        assert_eq!(
            unblocked.unblocked(now()),
            Err(Rejection::InvalidStatusTransition {
                from: AccountStatus::Active,
                to: AccountStatus::Active
            })
        );

        let mut inactive = profile();
        inactive.status = AccountStatus::Inactive;
        assert!(inactive.blocked("dormant fraud", staff, now()).is_ok());

        let deleted = active.minimised(now()).unwrap();
        assert_eq!(
            deleted
                .blocked("too late", staff, now())
                .unwrap_err()
                .code(),
            "INVALID_STATUS_TRANSITION"
        );
        assert_eq!(blocked.minimised(now()), Err(Rejection::AccountBlocked));
    }

    #[test]
    fn block_needs_a_reason_and_another_person() {
        let p = profile();
        let staff = Uuid::new_v4();
        assert_eq!(
            p.blocked("  x ", staff, now()),
            Err(Rejection::BlockReasonInvalid)
        );
        assert_eq!(
            p.blocked(&"x".repeat(BLOCK_REASON_MAX_CHARS + 1), staff, now()),
            Err(Rejection::BlockReasonInvalid)
        );
        assert!(
            p.blocked(&"x".repeat(BLOCK_REASON_MAX_CHARS), staff, now())
                .is_ok()
        );
        assert_eq!(
            p.blocked("fraud review", p.id, now()),
            Err(Rejection::CannotBlockSelf)
        );
    }

    #[test]
    fn deletion_minimises_personal_data() {
        let mut p = profile();
        p.phone_number = Some("+6281234567890".into());
        p.preferences.marketing_consent = true;
        p.preferences.marketing_consent_at = Some(now());
        let deleted = p.minimised(now()).unwrap();
        assert_eq!(deleted.status, AccountStatus::Deleted);
        assert_eq!(deleted.email, None);
        assert_eq!(deleted.phone_number, None);
        assert_eq!(deleted.fullname, DELETED_FULLNAME);
        assert!(!deleted.preferences.marketing_consent);
        assert_eq!(deleted.deleted_at, Some(now()));
        assert!(!deleted.is_visible());
        assert_eq!(deleted.id, p.id);
    }

    #[test]
    fn messages_follow_the_reader_language() {
        let r = Rejection::NoChannel;
        assert!(r.message(Language::Id).contains("saluran"));
        assert!(r.message(Language::En).contains("channel"));
        assert_eq!(r.field(), Some("notificationChannels"));
    }
}
