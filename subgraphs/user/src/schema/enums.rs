//! The GraphQL enums, mirrors of the domain's (`remote` derives the conversions).

use async_graphql::Enum;

use crate::domain::AccountStatus;

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "Language", remote = "crate::domain::Language")]
pub(super) enum LanguageGql {
    /// Bahasa Indonesia.
    Id,
    /// English.
    En,
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
