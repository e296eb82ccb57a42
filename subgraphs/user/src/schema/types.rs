//! The GraphQL types of the user subgraph: the `User` entity, its enums (mirrors of the
//! domain's: `remote` derives the conversions), and the inputs and payloads of the mutations.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use tenor_platform::graphql::{CallerExt, UserError, internal_error};
use uuid::Uuid;

use super::USER_ADMIN;
use crate::domain::{AccountStatus, Profile};

/// A person with an account: a customer or a staff member. Same id in every context.
pub struct User(pub(super) Profile);

#[Object]
impl User {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }

    async fn phone_number(&self) -> Option<&str> {
        self.0.phone_number.as_deref()
    }

    async fn fullname(&self) -> &str {
        &self.0.fullname
    }

    async fn status(&self) -> Result<UserStatusGql> {
        match self.0.status {
            AccountStatus::Active => Ok(UserStatusGql::Active),
            AccountStatus::Inactive => Ok(UserStatusGql::Inactive),
            AccountStatus::Blocked => Ok(UserStatusGql::Blocked),
            // Resolvers never hand out a deleted profile; reaching this is a bug.
            AccountStatus::Deleted => Err(internal_error(format_args!(
                "deleted profile {} escaped to the API",
                self.0.id
            ))),
        }
    }

    async fn kind(&self) -> AccountKindGql {
        self.0.kind.into()
    }

    async fn preferences(&self) -> UserPreferences {
        let prefs = &self.0.preferences;
        UserPreferences {
            language: prefs.language.into(),
            time_zone: prefs.time_zone.into(),
            notification_channels: prefs
                .notification_channels
                .iter()
                .map(|&c| c.into())
                .collect(),
            marketing_consent: prefs.marketing_consent,
            marketing_consent_at: prefs.marketing_consent_at,
        }
    }

    /// Why staff blocked the account (internal notes: staff only).
    #[graphql(requires_scopes = "user:admin")]
    async fn block_reason(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        ctx.require_scope(USER_ADMIN)?;
        Ok(self.0.block.as_ref().map(|b| b.reason.as_str()))
    }

    #[graphql(requires_scopes = "user:admin")]
    async fn blocked_at(&self, ctx: &Context<'_>) -> Result<Option<DateTime<Utc>>> {
        ctx.require_scope(USER_ADMIN)?;
        Ok(self.0.block.as_ref().map(|b| b.at))
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

#[derive(SimpleObject)]
struct UserPreferences {
    language: LanguageGql,
    /// Where reminders are timed and times are shown; WIB unless the user chose another.
    time_zone: IndonesianTimeZoneGql,
    notification_channels: Vec<NotificationChannelGql>,
    marketing_consent: bool,
    /// When marketing consent was given; null while there is none.
    marketing_consent_at: Option<DateTime<Utc>>,
}

/// An `ID` argument as a user id; anything else names no user.
pub(super) fn parse_id(id: &ID) -> Option<Uuid> {
    id.parse().ok()
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "Language", remote = "crate::domain::Language")]
pub(super) enum LanguageGql {
    /// Bahasa Indonesia.
    Id,
    /// English.
    En,
}

/// Indonesia's three time zones.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(
    name = "IndonesianTimeZone",
    remote = "crate::domain::IndonesianTimeZone"
)]
pub(super) enum IndonesianTimeZoneGql {
    /// Waktu Indonesia Barat, UTC+7 (Sumatra, Java, West and Central Kalimantan).
    Wib,
    /// Waktu Indonesia Tengah, UTC+8 (Bali, Nusa Tenggara, the rest of Kalimantan, Sulawesi).
    Wita,
    /// Waktu Indonesia Timur, UTC+9 (Maluku, Papua).
    Wit,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(
    name = "NotificationChannel",
    remote = "crate::domain::NotificationChannel"
)]
pub(super) enum NotificationChannelGql {
    Email,
    Sms,
    Whatsapp,
    Push,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "AccountKind", remote = "crate::domain::AccountKind")]
pub(super) enum AccountKindGql {
    Customer,
    Staff,
}

/// Deleted accounts are not visible through the API, so there is no DELETED value.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "UserStatus")]
pub(super) enum UserStatusGql {
    Active,
    /// Dormant.
    Inactive,
    /// Blocked by staff: no login, no changes.
    Blocked,
}

impl From<UserStatusGql> for AccountStatus {
    fn from(status: UserStatusGql) -> Self {
        match status {
            UserStatusGql::Active => Self::Active,
            UserStatusGql::Inactive => Self::Inactive,
            UserStatusGql::Blocked => Self::Blocked,
        }
    }
}

/// Omitted fields stay as they are.
#[derive(InputObject)]
pub(super) struct UpdateProfileInput {
    /// 1–100 characters; surrounding and repeated spaces are removed.
    pub(super) fullname: Option<String>,
    pub(super) language: Option<LanguageGql>,
    pub(super) time_zone: Option<IndonesianTimeZoneGql>,
    /// At least one. SMS and WhatsApp need a phone number on the account.
    pub(super) notification_channels: Option<Vec<NotificationChannelGql>>,
    pub(super) marketing_consent: Option<bool>,
}

#[derive(SimpleObject)]
pub(super) struct UpdateProfilePayload {
    /// The profile after the change; unchanged when there are userErrors.
    pub(super) user: Option<User>,
    pub(super) user_errors: Vec<UserError>,
}

#[derive(SimpleObject)]
pub(super) struct DeleteMyAccountPayload {
    /// When the account was deleted.
    pub(super) deleted_at: Option<DateTime<Utc>>,
    pub(super) user_errors: Vec<UserError>,
}

#[derive(InputObject, Default)]
pub(super) struct UserFilter {
    pub(super) status: Option<UserStatusGql>,
    /// Case-insensitive substring of email, phone number or full name.
    pub(super) query: Option<String>,
}

#[derive(SimpleObject)]
pub(super) struct BlockUserPayload {
    pub(super) user: Option<User>,
    pub(super) user_errors: Vec<UserError>,
}

#[derive(SimpleObject)]
pub(super) struct UnblockUserPayload {
    pub(super) user: Option<User>,
    pub(super) user_errors: Vec<UserError>,
}
