//! Credit's pure rules, no I/O: the versioned [`rules`], the [`internal_score`] from Tenor's
//! own projections, the simulated external score's arithmetic lives with its provider, and
//! [`decision`] — (rules, inputs) → APPROVE / REJECT / REFER. [`refusal`] says why a staff or
//! borrower request is refused; [`status`] declares the stored statuses.

pub mod decision;
pub mod internal_score;
pub mod refusal;
pub mod rules;
pub mod status;

pub use decision::{Decision, DecisionInputs, Outcome, RiskInput, Standing, decide};
pub use refusal::CreditRefusal;
pub use rules::{RuleBook, RuleSet};
