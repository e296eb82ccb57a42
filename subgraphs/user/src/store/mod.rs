//! Persistence of profiles in `user_profile` (diesel-async); nothing here decides anything.
//!
//! `schema` is the table; `profiles` reads and writes one account (writes lock the row first);
//! `listing` pages through them for the back office; `loans` is the projection of the account's
//! loans' statuses. Status, kind, language and channels load
//! straight into the domain's `text_enum!` types, so a value the code does not know fails the
//! query with a deserialization error instead of being guessed at.

mod listing;
mod loans;
mod profiles;
mod schema;

pub use listing::{ListFilter, list};
pub use loans::{open_loans, project_loan};
pub use profiles::{create_registered, find, find_many, lock, save};
