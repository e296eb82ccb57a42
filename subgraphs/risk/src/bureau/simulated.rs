//! `simulated-slik`: a **simulated** SLIK-style bureau. Nothing leaves the process.
//!
//! - The file of a borrower is derived from a SHA-256 of the user id, so it is the same on
//!   every call and every machine: 72 % of borrowers are current everywhere (collectability 1),
//!   14 % have a facility in special mention (2), the rest are substandard or worse (3–5);
//!   about 1 in 12 of the current ones has no facility at all (a thin file); the others have one
//!   to four facilities with Indonesian banks and lending platforms.
//! - A file stored in the sandbox collection (`simulated_bureau_profiles`, see
//!   [`super::sandbox`]) replaces the derived one, and can make the bureau fail for a borrower.
//! - Latency is deterministic per borrower within the configured range.
//! - Failures: `none`, `always`, or a fraction of inquiries chosen by a hash of
//!   (borrower, attempt), so a retry of a failed inquiry may succeed, deterministically.

use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use mongodb::Database;
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::sandbox::{self, BureauProfile};
use super::{BureauError, BureauReport, BureauRequest, CreditBureau};
use crate::domain::Facility;

pub const VENDOR_NAME: &str = "simulated-slik";

/// When the simulated bureau fails (`RISK_BUREAU_FAILURES`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FailureMode {
    None,
    Always,
    /// This share of inquiries (0–1), chosen per (borrower, attempt).
    Fraction(f64),
}

impl std::str::FromStr for FailureMode {
    type Err = &'static str;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" => Ok(Self::None),
            "always" => Ok(Self::Always),
            other => other
                .parse::<f64>()
                .ok()
                .filter(|f| (0.0..=1.0).contains(f))
                .map(Self::Fraction)
                .ok_or("must be none, always or a fraction between 0 and 1"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SimulationSettings {
    pub failures: FailureMode,
    pub latency_min: Duration,
    pub latency_max: Duration,
}

impl Default for SimulationSettings {
    fn default() -> Self {
        Self {
            failures: FailureMode::None,
            latency_min: Duration::from_millis(5),
            latency_max: Duration::from_millis(40),
        }
    }
}

pub struct SimulatedSlik {
    /// Where the sandbox files are; `None`: derived files only.
    sandbox: Option<Database>,
    settings: SimulationSettings,
}

impl SimulatedSlik {
    pub fn new(sandbox: Option<Database>, settings: SimulationSettings) -> Self {
        Self { sandbox, settings }
    }

    /// The file a borrower gets when the sandbox has none for them.
    pub fn derived_facilities(user: Uuid) -> Vec<Facility> {
        let class = draw(user, "class", 0) % 100;
        let worst: u8 = match class {
            0..72 => 1,
            72..86 => 2,
            86..93 => 3,
            93..97 => 4,
            _ => 5,
        };
        if worst == 1 && draw(user, "thin", 0).is_multiple_of(12) {
            return Vec::new();
        }
        let count = 1 + draw(user, "count", 0) % 4;
        (0..count)
            .map(|i| {
                // The first facility carries the worst grade; the others are no worse.
                let collectability = if i == 0 {
                    worst
                } else {
                    1 + (draw(user, "grade", i) % u64::from(worst)) as u8
                };
                let lender = LENDERS[(draw(user, "lender", i) % LENDERS.len() as u64) as usize];
                let kind = KINDS[(draw(user, "kind", i) % KINDS.len() as u64) as usize];
                // One in five facilities is closed (repaid): history without debt.
                let open = collectability > 1 || !draw(user, "open", i).is_multiple_of(5);
                let outstanding = if open {
                    500_000 + (draw(user, "debt", i) % 200) as i64 * 250_000
                } else {
                    0
                };
                Facility {
                    lender: lender.to_owned(),
                    kind: kind.to_owned(),
                    collectability,
                    outstanding,
                    days_past_due_12m: days_past_due(collectability, draw(user, "dpd", i)),
                }
            })
            .collect()
    }

    /// The simulated round trip for `user`, in the configured range.
    pub fn latency(&self, user: Uuid) -> Duration {
        let (min, max) = (self.settings.latency_min, self.settings.latency_max);
        let span = max.saturating_sub(min).as_millis() as u64;
        min + Duration::from_millis(draw(user, "latency", 0) % (span + 1))
    }

    fn fails(&self, request: &BureauRequest) -> bool {
        match self.settings.failures {
            FailureMode::None => false,
            FailureMode::Always => true,
            FailureMode::Fraction(share) => {
                let roll = draw(request.user_id, "failure", u64::from(request.attempt));
                (roll % 1_000_000) as f64 / 1_000_000.0 < share
            }
        }
    }

    async fn profile(&self, user: Uuid) -> Result<Option<BureauProfile>, BureauError> {
        let Some(db) = &self.sandbox else {
            return Ok(None);
        };
        sandbox::bureau_profile(db, user).await.map_err(|error| {
            tracing::warn!(%error, "bureau sandbox unreadable");
            BureauError::Unavailable("SANDBOX_UNREADABLE".into())
        })
    }
}

#[async_trait]
impl CreditBureau for SimulatedSlik {
    fn vendor_name(&self) -> &str {
        VENDOR_NAME
    }

    async fn report(&self, request: &BureauRequest) -> Result<BureauReport, BureauError> {
        tokio::time::sleep(self.latency(request.user_id)).await;
        let profile = self.profile(request.user_id).await?;
        if profile.as_ref().is_some_and(|p| p.unavailable) || self.fails(request) {
            return Err(BureauError::Unavailable("SLIK_SERVICE_UNAVAILABLE".into()));
        }
        let (facilities, reported_score) = match profile {
            Some(profile) => (profile.facilities, profile.score),
            None => (Self::derived_facilities(request.user_id), None),
        };
        let raw = json!({
            "vendor": VENDOR_NAME,
            "simulated": true,
            "reference": format!("SLIK-{:016x}", draw(request.loan_id, "reference", u64::from(request.attempt))),
            "inquiry": {
                "debtor_id": request.user_id,
                "purpose": "CREDIT_APPLICATION",
                "application_id": request.loan_id,
            },
            "reported_at": Utc::now(),
            "score": reported_score,
            "facilities": facilities,
        });
        Ok(BureauReport {
            facilities,
            reported_score,
            raw,
        })
    }
}

const LENDERS: [&str; 12] = [
    "Bank Rakyat Indonesia",
    "Bank Mandiri",
    "Bank Central Asia",
    "Bank Negara Indonesia",
    "Kredivo",
    "Akulaku",
    "Kredit Pintar",
    "Julo",
    "EasyCash",
    "AdaKami",
    "Home Credit Indonesia",
    "Indodana",
];

const KINDS: [&str; 5] = ["KTA", "CREDIT_CARD", "P2P_LOAN", "PAYLATER", "VEHICLE"];

/// Days past due consistent with OJK's collectability bands (1: 0, 2: 1–90, 3: 91–120,
/// 4: 121–180, 5: over 180); a current facility was sometimes a few days late.
fn days_past_due(collectability: u8, roll: u64) -> u32 {
    let roll = roll as u32;
    match collectability {
        1 if roll.is_multiple_of(4) => roll % 8,
        1 => 0,
        2 => 1 + roll % 90,
        3 => 91 + roll % 30,
        4 => 121 + roll % 60,
        _ => 181 + roll % 180,
    }
}

/// A number derived from `id`, a label and an index: the simulation's only source of variety.
fn draw(id: Uuid, label: &str, index: u64) -> u64 {
    let digest = Sha256::new()
        .chain_update(b"simulated-slik:")
        .chain_update(label.as_bytes())
        .chain_update(id.as_bytes())
        .chain_update(index.to_be_bytes())
        .finalize();
    u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::summarize;

    fn bureau(failures: FailureMode) -> SimulatedSlik {
        SimulatedSlik::new(
            None,
            SimulationSettings {
                failures,
                latency_min: Duration::from_millis(1),
                latency_max: Duration::from_millis(3),
            },
        )
    }

    fn request(user: Uuid, attempt: u32) -> BureauRequest {
        BureauRequest {
            user_id: user,
            loan_id: Uuid::from_u128(7),
            attempt,
        }
    }

    #[tokio::test]
    async fn a_borrower_gets_the_same_file_every_time() {
        let user = Uuid::from_u128(0x1234_5678);
        let bureau = bureau(FailureMode::None);
        let first = bureau.report(&request(user, 1)).await.unwrap();
        let second = bureau.report(&request(user, 2)).await.unwrap();
        assert_eq!(first.facilities, second.facilities);
        assert_eq!(bureau.latency(user), bureau.latency(user));
        assert_eq!(first.raw["facilities"], second.raw["facilities"]);
        assert_ne!(
            SimulatedSlik::derived_facilities(user),
            SimulatedSlik::derived_facilities(Uuid::from_u128(0x1234_5679))
        );
    }

    #[test]
    fn most_borrowers_are_current_or_in_special_mention() {
        let n = 2_000;
        let summaries: Vec<_> = (0..n)
            .map(|i| summarize(&SimulatedSlik::derived_facilities(Uuid::from_u128(i))))
            .collect();
        let approvable = summaries
            .iter()
            .filter(|s| s.worst_collectability <= 2)
            .count();
        let share = approvable as f64 / n as f64;
        assert!((0.80..0.92).contains(&share), "{share}");
        assert!(summaries.iter().any(|s| s.active_facilities == 0));
        assert!(summaries.iter().any(|s| s.worst_collectability == 5));
        assert!(summaries.iter().all(|s| s.active_platforms <= 4));
    }

    #[tokio::test]
    async fn failures_are_none_always_or_a_deterministic_share() {
        let user = Uuid::from_u128(99);
        assert!(
            bureau(FailureMode::None)
                .report(&request(user, 1))
                .await
                .is_ok()
        );
        assert_eq!(
            bureau(FailureMode::Always).report(&request(user, 1)).await,
            Err(BureauError::Unavailable("SLIK_SERVICE_UNAVAILABLE".into()))
        );
        let half = bureau(FailureMode::Fraction(0.5));
        let failed: Vec<bool> = (1..=200).map(|a| half.fails(&request(user, a))).collect();
        let again: Vec<bool> = (1..=200).map(|a| half.fails(&request(user, a))).collect();
        assert_eq!(failed, again);
        let share = failed.iter().filter(|f| **f).count();
        assert!((60..140).contains(&share), "{share}");
    }

    #[test]
    fn failure_modes_parse() {
        assert_eq!("none".parse(), Ok(FailureMode::None));
        assert_eq!("ALWAYS".parse(), Ok(FailureMode::Always));
        assert_eq!("0.25".parse(), Ok(FailureMode::Fraction(0.25)));
        assert!("1.5".parse::<FailureMode>().is_err());
        assert!("sometimes".parse::<FailureMode>().is_err());
    }
}
