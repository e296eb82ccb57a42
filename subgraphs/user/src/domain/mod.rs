//! The rules of the user context, free of I/O: what a profile is, which changes to it are
//! allowed, and how input is normalised before it is stored.
//!
//! Reads top-down: `profile` (the aggregate) and the changes to it — `update` by the owner,
//! `block` by staff, `deletion` when the owner leaves — each refused with a [`Rejection`]
//! (`refusal`: explained to the reader as a [`UserRefusal`]); `input` normalises what people
//! type; `status` and `preferences` are values a profile holds (stored as text via
//! `tenor_platform::text_enum!`); `loans` is what loan tells this context about the account's
//! loans (their status, which deletion checks).

mod block;
mod deletion;
mod input;
mod loans;
mod preferences;
mod profile;
mod refusal;
mod status;
mod update;

pub use block::Block;
pub use deletion::DELETED_FULLNAME;
pub use input::{
    BLOCK_REASON_MAX_CHARS, BLOCK_REASON_MIN_CHARS, FULLNAME_MAX_CHARS, normalise_block_reason,
    normalise_fullname,
};
pub use loans::LoanState;
pub use preferences::{IndonesianTimeZone, Language, NotificationChannel, Preferences};
pub use profile::Profile;
pub use refusal::{Rejection, UserRefusal};
pub use status::{AccountKind, AccountStatus};
pub use update::ProfileUpdate;
