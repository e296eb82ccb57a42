//! The credit bureau, an outside company behind a trait (docs/conventions.md § Contexts).
//!
//! The only implementation is [`SimulatedSlik`], a **simulated** Indonesian bureau (OJK's SLIK
//! as a stand-in): deterministic per borrower, with a sandbox of chosen files ([`sandbox`]) for
//! tests and development. A real vendor would implement [`CreditBureau`] by calling its API and
//! turning the answer into [`BureauReport`], keeping the answer itself as `raw`.

pub mod sandbox;
mod simulated;

use async_trait::async_trait;
use uuid::Uuid;

pub use simulated::{FailureMode, SimulatedSlik, SimulationSettings};

use crate::domain::Facility;

/// One inquiry: whose file, for which application, which attempt (1 for the first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BureauRequest {
    pub user_id: Uuid,
    pub loan_id: Uuid,
    pub attempt: u32,
}

/// What the bureau answered.
#[derive(Debug, Clone, PartialEq)]
pub struct BureauReport {
    pub facilities: Vec<Facility>,
    /// A score the bureau computed itself, kept as Tenor's score when present.
    pub reported_score: Option<i32>,
    /// The whole answer as received. Sensitive: stored only encrypted, never logged.
    pub raw: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BureauError {
    /// The bureau refused or failed this inquiry; worth another try later. The text is the
    /// vendor's error code, never part of a file.
    #[error("bureau unavailable: {0}")]
    Unavailable(String),
    /// No answer within `RISK_BUREAU_TIMEOUT`.
    #[error("bureau timed out")]
    Timeout,
}

#[async_trait]
pub trait CreditBureau: Send + Sync {
    /// Stored with every evaluation and announced in its event.
    fn vendor_name(&self) -> &str;

    async fn report(&self, request: &BureauRequest) -> Result<BureauReport, BureauError>;
}
