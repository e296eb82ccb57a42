//! The external credit score company, behind [`ScoreProvider`]. Until one is integrated, the
//! service uses [`SimulatedScoreProvider`]: a SIMULATION, deterministic per borrower, that
//! answers a score in 640–740. It calls nobody; its answer says `simulated-score` as the vendor.
//!
//! The provider is called by the external-score worker with no transaction, lock or pooled
//! connection held (see `service/external.rs`).

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// What credit asks for: a score of this borrower, for this application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScoreRequest {
    pub user_id: Uuid,
    pub loan_id: Uuid,
}

/// The company's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ExternalScore {
    /// On Tenor's 300–850 scale.
    pub score: i32,
    pub vendor: String,
    /// The company's own reason, for staff.
    pub reason: String,
    /// What the company returned, kept with the score as its input snapshot.
    pub raw: serde_json::Value,
}

#[derive(Debug, thiserror::Error)]
#[error("score provider unavailable: {0}")]
pub struct ProviderUnavailable(pub String);

#[async_trait]
pub trait ScoreProvider: Send + Sync {
    async fn score(&self, request: ScoreRequest) -> Result<ExternalScore, ProviderUnavailable>;
}

/// SIMULATED external credit score: no company is called. Deterministic per borrower (a hash
/// of the user id) in 640–740, so the same borrower always gets the same answer.
#[derive(Debug, Clone, Default)]
pub struct SimulatedScoreProvider;

pub const SIMULATED_VENDOR: &str = "simulated-score";

impl SimulatedScoreProvider {
    pub fn score_of(user_id: Uuid) -> i32 {
        let digest = Sha256::new()
            .chain_update(b"tenor.simulated-score:")
            .chain_update(user_id.as_bytes())
            .finalize();
        640 + i32::from(u16::from_be_bytes([digest[0], digest[1]]) % 101)
    }
}

#[async_trait]
impl ScoreProvider for SimulatedScoreProvider {
    async fn score(&self, request: ScoreRequest) -> Result<ExternalScore, ProviderUnavailable> {
        let score = Self::score_of(request.user_id);
        Ok(ExternalScore {
            score,
            vendor: SIMULATED_VENDOR.to_owned(),
            reason: "simulated score (no bureau was called)".to_owned(),
            raw: serde_json::json!({
                "vendor": SIMULATED_VENDOR,
                "simulated": true,
                "score": score,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_simulation_is_deterministic_and_in_range() {
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..500 {
            let user_id = Uuid::new_v4();
            let request = ScoreRequest {
                user_id,
                loan_id: Uuid::new_v4(),
            };
            let first = SimulatedScoreProvider.score(request).await.unwrap();
            let again = SimulatedScoreProvider
                .score(ScoreRequest {
                    loan_id: Uuid::new_v4(),
                    ..request
                })
                .await
                .unwrap();
            assert_eq!(first.score, again.score);
            assert!((640..=740).contains(&first.score), "{}", first.score);
            seen.insert(first.score);
        }
        assert!(seen.len() > 50, "spread over the range");
    }
}
