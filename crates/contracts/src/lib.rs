//! Event contracts between bounded contexts. A producer and its consumers share these types so
//! the payload cannot drift; every type name ends in its version, and consumers ignore fields
//! they do not know, so adding a field is not a breaking change.

pub mod credit;
pub mod identity;
pub mod kyc;
pub mod loan;
pub mod risk;

/// One topic per context (docs/conventions.md § Events).
pub mod topics {
    pub const AUTH: &str = "auth.events";
    pub const USER: &str = "user.events";
    pub const KYC: &str = "kyc.events";
    pub const LOAN: &str = "loan.events";
    pub const CREDIT: &str = "credit.events";
    pub const RISK: &str = "risk.events";
    pub const NOTIFICATION: &str = "notification.events";
}

/// CloudEvents `source` of each service.
pub mod sources {
    pub const AUTH: &str = "/tenor/auth";
    pub const USER: &str = "/tenor/user";
    pub const KYC: &str = "/tenor/kyc";
    pub const LOAN: &str = "/tenor/loan";
    pub const CREDIT: &str = "/tenor/credit";
    pub const RISK: &str = "/tenor/risk";
    pub const NOTIFICATION: &str = "/tenor/notification";
}
