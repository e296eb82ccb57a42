//! The simulated bureau's sandbox: a borrower's file chosen in advance, so tests and
//! development get the answer they need. One document per borrower in
//! `simulated_bureau_profiles` (`_id` = the user id as text) replaces the file the simulation
//! derives from the user id. Only [`super::SimulatedSlik`] reads it; a real vendor has none.
//!
//! The presets carry a fixed score, so their normalised score is exactly the documented one:
//!
//! | preset             | score | worst coll. | platforms | max DPD 12m | level (default rules) |
//! |--------------------|-------|-------------|-----------|-------------|-----------------------|
//! | [`clean`]          | 780   | 1           | 1         | 0           | LOW                   |
//! | [`borderline`]     | 600   | 2           | 2         | 20          | MEDIUM                |
//! | [`low_score`]      | 420   | 2           | 2         | 45          | HIGH                  |
//! | [`delinquent`]     | 400   | 4           | 2         | 150         | HIGH                  |
//! | [`many_platforms`] | 700   | 1           | 6         | 0           | MEDIUM                |
//! | [`unavailable`]    | —     | the bureau fails for this borrower on every attempt       |

use mongodb::Database;
use mongodb::bson::{self, Document, doc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::Facility;

pub const COLLECTION: &str = "simulated_bureau_profiles";

/// A borrower's file in the sandbox.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BureauProfile {
    #[serde(default)]
    pub facilities: Vec<Facility>,
    /// Reported as the bureau's own score (kept as the normalised score).
    #[serde(default)]
    pub score: Option<i32>,
    /// The bureau fails every inquiry about this borrower.
    #[serde(default)]
    pub unavailable: bool,
}

/// Give `user` this file from now on (replacing any earlier one).
pub async fn set_bureau_profile(
    db: &Database,
    user: Uuid,
    profile: &BureauProfile,
) -> mongodb::error::Result<()> {
    let mut document = bson::to_document(profile)?;
    document.insert("_id", user.to_string());
    let profiles = db.collection::<Document>(COLLECTION);
    profiles
        .replace_one(doc! { "_id": user.to_string() }, document)
        .upsert(true)
        .await?;
    Ok(())
}

/// The sandbox file of `user`, if one was set.
pub async fn bureau_profile(
    db: &Database,
    user: Uuid,
) -> mongodb::error::Result<Option<BureauProfile>> {
    let found = db
        .collection::<Document>(COLLECTION)
        .find_one(doc! { "_id": user.to_string() })
        .await?;
    Ok(match found {
        Some(document) => Some(bson::from_document(document)?),
        None => None,
    })
}

fn facility(lender: &str, kind: &str, collectability: u8, outstanding: i64, dpd: u32) -> Facility {
    Facility {
        lender: lender.to_owned(),
        kind: kind.to_owned(),
        collectability,
        outstanding,
        days_past_due_12m: dpd,
    }
}

/// Current on one credit card: score 780 → LOW.
pub fn clean() -> BureauProfile {
    BureauProfile {
        facilities: vec![facility(
            "Bank Central Asia",
            "CREDIT_CARD",
            1,
            3_500_000,
            0,
        )],
        score: Some(780),
        unavailable: false,
    }
}

/// A pay-later line in special mention, 20 days late: score 600 → MEDIUM.
pub fn borderline() -> BureauProfile {
    BureauProfile {
        facilities: vec![
            facility("Kredivo", "PAYLATER", 2, 1_200_000, 20),
            facility("Bank Mandiri", "KTA", 1, 8_000_000, 0),
        ],
        score: Some(600),
        unavailable: false,
    }
}

/// Late on both of two lenders, 45 days at worst: score 420 → HIGH. Two platforms, so the
/// OJK limit of three including ours does not refuse it first (docs/conventions.md § Credit
/// decisions): a rejection by score, not by policy.
pub fn low_score() -> BureauProfile {
    BureauProfile {
        facilities: vec![
            facility("Akulaku", "PAYLATER", 2, 2_500_000, 45),
            facility("Kredit Pintar", "P2P_LOAN", 2, 1_800_000, 30),
        ],
        score: Some(420),
        unavailable: false,
    }
}

/// A P2P loan in collectability 4 (doubtful), 150 days late: score 400 → HIGH.
pub fn delinquent() -> BureauProfile {
    BureauProfile {
        facilities: vec![
            facility("AdaKami", "P2P_LOAN", 4, 3_000_000, 150),
            facility("Bank Rakyat Indonesia", "KTA", 2, 10_000_000, 35),
        ],
        score: Some(400),
        unavailable: false,
    }
}

/// Current everywhere, but on six lending platforms at once: score 700 → MEDIUM.
pub fn many_platforms() -> BureauProfile {
    let lenders = [
        ("Kredivo", "PAYLATER"),
        ("Akulaku", "PAYLATER"),
        ("Julo", "P2P_LOAN"),
        ("EasyCash", "P2P_LOAN"),
        ("Indodana", "PAYLATER"),
        ("Home Credit Indonesia", "KTA"),
    ];
    BureauProfile {
        facilities: lenders
            .iter()
            .map(|(lender, kind)| facility(lender, kind, 1, 1_500_000, 0))
            .collect(),
        score: Some(700),
        unavailable: false,
    }
}

/// The bureau fails for this borrower on every attempt.
pub fn unavailable() -> BureauProfile {
    BureauProfile {
        unavailable: true,
        ..BureauProfile::default()
    }
}

/// A preset by name (`clean`, `borderline`, `low_score`, `delinquent`, `many_platforms`,
/// `unavailable`), for tools and environment-driven set-ups.
pub fn preset(name: &str) -> Option<BureauProfile> {
    Some(match name {
        "clean" => clean(),
        "borderline" => borderline(),
        "low_score" => low_score(),
        "delinquent" => delinquent(),
        "many_platforms" => many_platforms(),
        "unavailable" => unavailable(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{RiskRules, normalize, risk_level, summarize};
    use tenor_contracts::risk::RiskLevel;

    #[test]
    fn presets_have_their_documented_figures() {
        let rules = RiskRules::default();
        let check = |profile: BureauProfile, score, worst, platforms, dpd, level| {
            let summary = summarize(&profile.facilities);
            let normalized = normalize(&summary, profile.score);
            assert_eq!(normalized, score);
            assert_eq!(summary.worst_collectability, worst);
            assert_eq!(summary.active_platforms, platforms);
            assert_eq!(summary.max_days_past_due_12m, dpd);
            assert_eq!(risk_level(&rules, normalized, &summary), level);
        };
        check(clean(), 780, 1, 1, 0, RiskLevel::Low);
        check(borderline(), 600, 2, 2, 20, RiskLevel::Medium);
        check(low_score(), 420, 2, 2, 45, RiskLevel::High);
        check(delinquent(), 400, 4, 2, 150, RiskLevel::High);
        check(many_platforms(), 700, 1, 6, 0, RiskLevel::Medium);
        assert!(unavailable().unavailable);
        assert_eq!(preset("clean"), Some(clean()));
        assert_eq!(preset("nope"), None);
    }
}
