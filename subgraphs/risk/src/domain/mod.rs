//! Pure rules, no I/O: what a bureau file says ([`facility`]), how it maps to Tenor's 300–850
//! scale ([`score`]) and which risk level the configured rules give it ([`rules`]).

pub mod facility;
pub mod retry;
pub mod rules;
pub mod score;

pub use facility::{Facility, summarize};
pub use rules::{RiskRules, risk_level};
pub use score::normalize;

/// Why an evaluation failed (the `reason_code` of `risk.evaluation.failed.v1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureReason {
    /// The bureau answered with errors until the deadline.
    BureauUnavailable,
    /// The bureau's last attempt got no answer within `RISK_BUREAU_TIMEOUT`.
    BureauTimeout,
}

impl FailureReason {
    pub fn code(self) -> &'static str {
        match self {
            Self::BureauUnavailable => "BUREAU_UNAVAILABLE",
            Self::BureauTimeout => "BUREAU_TIMEOUT",
        }
    }
}

/// Whether the bureau answered before the deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvaluationOutcome {
    Evaluated,
    Failed,
}

impl EvaluationOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Evaluated => "EVALUATED",
            Self::Failed => "FAILED",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "EVALUATED" => Some(Self::Evaluated),
            "FAILED" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// A risk level as stored (`LOW`, `MEDIUM`, `HIGH`, the event's wire form).
pub fn level_text(level: tenor_contracts::risk::RiskLevel) -> &'static str {
    use tenor_contracts::risk::RiskLevel;
    match level {
        RiskLevel::Low => "LOW",
        RiskLevel::Medium => "MEDIUM",
        RiskLevel::High => "HIGH",
    }
}

pub fn parse_level(text: &str) -> Option<tenor_contracts::risk::RiskLevel> {
    use tenor_contracts::risk::RiskLevel;
    match text {
        "LOW" => Some(RiskLevel::Low),
        "MEDIUM" => Some(RiskLevel::Medium),
        "HIGH" => Some(RiskLevel::High),
        _ => None,
    }
}
