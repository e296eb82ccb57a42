//! KYC rules, pure (no pool, no Kafka, no async): what a document number must look like, where
//! a submission is in its life, what the vendor's answer decides, what a reviewer must write,
//! and every way an operation refuses.
//!
//! One file per concept: [`nik`] and [`document_number`] (structure, masking), [`upload`]
//! (image kinds and formats), [`status`] (the stored states), [`decision`] (thresholds),
//! [`review`] (staff decisions), [`pii`] (the readable fields), [`refusal`].

pub mod decision;
pub mod document_number;
pub mod nik;
pub mod pii;
pub mod refusal;
pub mod review;
pub mod status;
pub mod upload;

pub use decision::{Thresholds, VerificationOutcome, decide};
pub use document_number::{DocumentNumber, DocumentNumberError, mask, parse_document_number};
pub use nik::{Gender, Nik, parse_nik};
pub use pii::{Image, PiiField};
pub use refusal::{DownloadRefusal, ReviewRefusal, SubmitRefusal, UploadRefusal};
pub use review::{ReviewDecision, review_reason};
pub use status::{DecisionSource, KycStatus, StoredDocumentType, VerificationStage};
pub use upload::{
    ImageHeader, ImageProblem, MAX_IMAGE_SIDE, MIN_IMAGE_SIDES, UploadKind, UploadStatus,
    decode_fully, inspect_image, sniff_image,
};
