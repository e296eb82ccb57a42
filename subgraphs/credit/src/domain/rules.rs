//! Versioned rule sets: weights, thresholds, policy limits and the internal score's points, as
//! TOML files under `subgraphs/credit/rules/` compiled in, plus any an operator adds through
//! `CREDIT_RULES_DIR`. The set in effect when a loan was submitted decides it, and a decision
//! names its version so it can be replayed with exactly those rules.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Deserialize;

/// The rule sets shipped with the binary (file name, text).
const COMPILED: &[(&str, &str)] = &[(
    "2026-12-01.toml",
    include_str!("../../rules/2026-12-01.toml"),
)];

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    pub version: String,
    pub effective_from: DateTime<Utc>,
    pub weights: Weights,
    pub thresholds: Thresholds,
    pub policy: Policy,
    pub internal: InternalPoints,
}

/// Percent weights of the combined score; they add up to 100.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weights {
    pub internal: u32,
    pub external: u32,
    pub risk: u32,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    pub approve_at: i32,
    pub reject_below: i32,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub max_collectability: u8,
    pub max_active_platforms: u32,
    pub external_mandatory: bool,
    pub manual_score_above: i64,
}

/// The points of the internal score (see [`crate::domain::internal_score`]).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InternalPoints {
    pub base: i32,
    pub kyc_verified: i32,
    pub account_age_points_per_month: i32,
    pub account_age_points_max: i32,
    pub paid_loan_points: i32,
    pub paid_loan_points_max: i32,
    pub overdue_installment_penalty: i32,
    pub overdue_penalty_max: i32,
    pub severe_days_past_due: i32,
    pub severe_delinquency_penalty: i32,
    pub first_loan_typical_max: i64,
    pub first_loan_typical_points: i32,
    pub first_loan_large_penalty: i32,
    pub above_previous_max_factor: i64,
    pub above_previous_max_penalty: i32,
    pub long_tenor_months: u32,
    pub long_tenor_penalty: i32,
}

/// Scores live on Tenor's 300–850 scale.
pub const MIN_SCORE: i32 = 300;
pub const MAX_SCORE: i32 = 850;

impl RuleSet {
    /// Parse and check one rule set.
    pub fn parse(text: &str) -> Result<Self, String> {
        let rules: RuleSet = toml::from_str(text).map_err(|error| error.message().to_owned())?;
        rules.validate()?;
        Ok(rules)
    }

    fn validate(&self) -> Result<(), String> {
        let w = &self.weights;
        if w.internal + w.external + w.risk != 100 {
            return Err(format!("{}: weights must add up to 100", self.version));
        }
        if self.version.trim().is_empty() || self.version.len() > 40 {
            return Err("version must be 1 to 40 characters".to_owned());
        }
        let t = &self.thresholds;
        let in_scale = |s: i32| (MIN_SCORE..=MAX_SCORE).contains(&s);
        if !in_scale(t.approve_at) || !in_scale(t.reject_below) || t.reject_below > t.approve_at {
            return Err(format!(
                "{}: thresholds must lie in {MIN_SCORE}–{MAX_SCORE} with reject_below ≤ approve_at",
                self.version
            ));
        }
        if !(1..=5).contains(&self.policy.max_collectability) {
            return Err(format!("{}: max_collectability must be 1–5", self.version));
        }
        if self.policy.manual_score_above <= 0 || self.internal.above_previous_max_factor <= 0 {
            return Err(format!(
                "{}: amounts and factors must be positive",
                self.version
            ));
        }
        Ok(())
    }
}

/// Every known rule set by version.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleBook {
    sets: BTreeMap<String, RuleSet>,
}

impl RuleBook {
    /// The compiled-in rule sets.
    pub fn compiled() -> Self {
        let sets = COMPILED
            .iter()
            .map(|(name, text)| {
                let rules = RuleSet::parse(text)
                    .unwrap_or_else(|error| panic!("compiled rule set {name}: {error}"));
                (rules.version.clone(), rules)
            })
            .collect();
        Self { sets }
    }

    /// The compiled-in sets plus every `*.toml` in `dir`. A file that does not parse, or that
    /// reuses a version with different rules, is an error naming the file.
    pub fn with_dir(dir: &Path) -> Result<Self, String> {
        let mut book = Self::compiled();
        let entries = std::fs::read_dir(dir).map_err(|error| format!("cannot read: {error}"))?;
        let mut files: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
            .collect();
        files.sort();
        for path in files {
            let name = path.display().to_string();
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{name}: {e}"))?;
            let rules = RuleSet::parse(&text).map_err(|e| format!("{name}: {e}"))?;
            book.add(rules).map_err(|e| format!("{name}: {e}"))?;
        }
        Ok(book)
    }

    /// Add a rule set; a version is immutable once known.
    pub fn add(&mut self, rules: RuleSet) -> Result<(), String> {
        match self.sets.get(&rules.version) {
            Some(existing) if *existing != rules => Err(format!(
                "version {} already exists with different rules",
                rules.version
            )),
            _ => {
                self.sets.insert(rules.version.clone(), rules);
                Ok(())
            }
        }
    }

    /// The set in effect at `at`: the latest `effective_from` not after it (the earliest set
    /// for anything older, so an old application is never left without rules).
    pub fn effective_at(&self, at: DateTime<Utc>) -> &RuleSet {
        let mut sets: Vec<&RuleSet> = self.sets.values().collect();
        sets.sort_by_key(|rules| rules.effective_from);
        sets.iter()
            .rev()
            .find(|rules| rules.effective_from <= at)
            .or_else(|| sets.first())
            .expect("at least the compiled rule set")
    }

    pub fn version(&self, version: &str) -> Option<&RuleSet> {
        self.sets.get(version)
    }

    pub fn versions(&self) -> impl Iterator<Item = &str> {
        self.sets.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn later(version: &str, from: &str, approve_at: i32) -> String {
        COMPILED[0]
            .1
            .replace(
                "version = \"2026-12-01\"",
                &format!("version = \"{version}\""),
            )
            .replace(
                "effective_from = \"2026-01-01T00:00:00Z\"",
                &format!("effective_from = \"{from}\""),
            )
            .replace("approve_at = 680", &format!("approve_at = {approve_at}"))
    }

    #[test]
    fn the_set_in_effect_at_submission_applies() {
        let mut book = RuleBook::compiled();
        book.add(RuleSet::parse(&later("2027-06", "2027-06-01T00:00:00Z", 700)).unwrap())
            .unwrap();
        let before: DateTime<Utc> = "2027-05-31T23:59:59Z".parse().unwrap();
        let after: DateTime<Utc> = "2027-06-01T00:00:00Z".parse().unwrap();
        assert_eq!(book.effective_at(before).version, "2026-12-01");
        assert_eq!(book.effective_at(after).version, "2027-06");
        let ancient: DateTime<Utc> = "2020-01-01T00:00:00Z".parse().unwrap();
        assert_eq!(book.effective_at(ancient).version, "2026-12-01");
    }

    #[test]
    fn bad_rule_sets_are_refused() {
        let bad_weights = later("x", "2027-01-01T00:00:00Z", 680).replace("risk = 50", "risk = 60");
        assert!(RuleSet::parse(&bad_weights).unwrap_err().contains("100"));
        let inverted = later("x", "2027-01-01T00:00:00Z", 500);
        assert!(RuleSet::parse(&inverted).is_err());
        assert!(RuleSet::parse("version = 1").is_err());
        let unknown = format!(
            "{}\nsurprise = 1\n",
            later("x", "2027-01-01T00:00:00Z", 680)
        );
        assert!(RuleSet::parse(&unknown).is_err());
        let mut book = RuleBook::compiled();
        let changed = later("2026-12-01", "2026-01-01T00:00:00Z", 690);
        assert!(book.add(RuleSet::parse(&changed).unwrap()).is_err());
    }
}
