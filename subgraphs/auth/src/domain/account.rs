//! What an account is to auth: a customer or a staff member, and whether it may sign in (the
//! status mirrors the user context's, see `events::consume`).

use tenor_contracts::identity;

use super::session::RevokeReason;

tenor_platform::text_enum! {
    /// Who the account belongs to; staff accounts carry their own scopes.
    pub enum AccountKind {
        Customer = "CUSTOMER",
        Staff = "STAFF",
    }
}

tenor_platform::text_enum! {
    /// Only an ACTIVE account may sign in or refresh.
    pub enum AccountStatus {
        Active = "ACTIVE",
        Inactive = "INACTIVE",
        Blocked = "BLOCKED",
        Deleted = "DELETED",
    }
}

impl From<identity::AccountKind> for AccountKind {
    fn from(kind: identity::AccountKind) -> Self {
        match kind {
            identity::AccountKind::Customer => Self::Customer,
            identity::AccountKind::Staff => Self::Staff,
        }
    }
}

impl From<identity::AccountStatus> for AccountStatus {
    fn from(status: identity::AccountStatus) -> Self {
        match status {
            identity::AccountStatus::Active => Self::Active,
            identity::AccountStatus::Inactive => Self::Inactive,
            identity::AccountStatus::Blocked => Self::Blocked,
            identity::AccountStatus::Deleted => Self::Deleted,
        }
    }
}

impl AccountStatus {
    /// Every status but ACTIVE ends the account's sessions at once, for this reason.
    pub fn ends_sessions(self) -> Option<RevokeReason> {
        match self {
            Self::Active => None,
            Self::Inactive => Some(RevokeReason::AccountInactive),
            Self::Blocked => Some(RevokeReason::AccountBlocked),
            Self::Deleted => Some(RevokeReason::AccountDeleted),
        }
    }
}
