//! Persistence only: [`schema`] (diesel tables), one file per aggregate — [`scores`] (the score
//! of a loan and its obtained scores), [`risk_results`], [`decisions`] — and [`projections`]
//! of other contexts' events.

pub mod decisions;
pub mod projections;
pub mod risk_results;
pub mod schema;
pub mod scores;
