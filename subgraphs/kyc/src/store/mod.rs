//! Persistence in PostgreSQL (diesel-async), nothing else: [`schema`] (the tables), and one file
//! per table group — [`uploads`], [`submissions`], [`claims`] (one number, one account),
//! [`reviews`], [`access_log`]. Rows hold the domain's status enums directly.

pub mod access_log;
pub mod claims;
pub mod erasure;
pub mod reviews;
pub mod schema;
pub mod submissions;
pub mod uploads;

pub use access_log::{PiiAccess, access_log, insert_access};
pub use claims::{claim_document, release_claim};
pub use reviews::{Review, insert_review, reviews_of};
pub use submissions::{
    Submission, awaiting_vendor, find_submission, insert_submission, latest_for_users,
    lock_due_for_expiry, lock_live_for_user, lock_submission, number_context, review_queue,
    save_submission, submitted_since,
};
pub use uploads::{
    Upload, delete_upload, find_upload, insert_upload, lock_abandoned_uploads, lock_upload,
    mark_upload_stored, mark_upload_used,
};
