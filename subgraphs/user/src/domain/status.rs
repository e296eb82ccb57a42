//! Where an account stands, and whose it is; both stored as text in `user_profile`.

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
