//! The statuses credit stores, as text columns.

tenor_platform::text_enum! {
    /// Where a score's decision stands.
    pub enum DecisionState {
        Pending = "PENDING",
        Approve = "APPROVE",
        Reject = "REJECT",
        /// Sent to the review queue: a staff member decides.
        Refer = "REFER",
        /// The borrower cancelled the application before a decision (or while it waited in
        /// the queue): it is neither scored further nor decided.
        Withdrawn = "WITHDRAWN",
    }
}

tenor_platform::text_enum! {
    /// Who decided.
    pub enum DecisionSource { Automatic = "AUTOMATIC", Manual = "MANUAL" }
}

tenor_platform::text_enum! {
    /// Where a score came from.
    pub enum ScoreSource { Internal = "INTERNAL", External = "EXTERNAL", Manual = "MANUAL" }
}

tenor_platform::text_enum! {
    /// The borrower's request for a human review of an automatic rejection (UU PDP); withdrawn
    /// when the borrower deletes the account before a person decided.
    pub enum ReviewStatus {
        None = "NONE",
        Requested = "REQUESTED",
        Decided = "DECIDED",
        Withdrawn = "WITHDRAWN",
    }
}

tenor_platform::text_enum! {
    pub enum KycState {
        Submitted = "SUBMITTED",
        Verified = "VERIFIED",
        Rejected = "REJECTED",
        Expired = "EXPIRED",
    }
}

tenor_platform::text_enum! {
    pub enum AccountState {
        Active = "ACTIVE",
        Inactive = "INACTIVE",
        Blocked = "BLOCKED",
        Deleted = "DELETED",
    }
}

tenor_platform::text_enum! {
    /// A Tenor loan's status as loan announced it.
    pub enum LoanState {
        Submitted = "SUBMITTED",
        Approved = "APPROVED",
        Rejected = "REJECTED",
        Cancelled = "CANCELLED",
        Active = "ACTIVE",
        Paid = "PAID",
    }
}

tenor_platform::text_enum! {
    pub enum RiskLevelState { Low = "LOW", Medium = "MEDIUM", High = "HIGH" }
}

impl From<tenor_contracts::risk::RiskLevel> for RiskLevelState {
    fn from(level: tenor_contracts::risk::RiskLevel) -> Self {
        use tenor_contracts::risk::RiskLevel;
        match level {
            RiskLevel::Low => Self::Low,
            RiskLevel::Medium => Self::Medium,
            RiskLevel::High => Self::High,
        }
    }
}

impl From<tenor_contracts::loan::LoanStatus> for LoanState {
    fn from(status: tenor_contracts::loan::LoanStatus) -> Self {
        use tenor_contracts::loan::LoanStatus;
        match status {
            LoanStatus::Submitted => Self::Submitted,
            LoanStatus::Approved => Self::Approved,
            LoanStatus::Rejected => Self::Rejected,
            LoanStatus::Cancelled => Self::Cancelled,
            LoanStatus::Active => Self::Active,
            LoanStatus::Paid => Self::Paid,
        }
    }
}

impl From<tenor_contracts::identity::AccountStatus> for AccountState {
    fn from(status: tenor_contracts::identity::AccountStatus) -> Self {
        use tenor_contracts::identity::AccountStatus;
        match status {
            AccountStatus::Active => Self::Active,
            AccountStatus::Inactive => Self::Inactive,
            AccountStatus::Blocked => Self::Blocked,
            AccountStatus::Deleted => Self::Deleted,
        }
    }
}

/// The facts snapshot kept with an internal score names these statuses as their stored text.
macro_rules! serde_as_text {
    ($($name:ident),+) => {$(
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_db())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                Self::from_db(&text).ok_or_else(|| {
                    serde::de::Error::custom(format!("unknown {} {text:?}", stringify!($name)))
                })
            }
        }
    )+};
}

serde_as_text!(KycState, AccountState, LoanState);
