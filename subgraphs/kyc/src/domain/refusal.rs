//! Every way a KYC operation says no, one enum per operation (each names exactly the refusals
//! that operation can give), all in the kit's [`Refusal`] shape: a stable code, the input field
//! at fault, a message safe to show. Codes never change; the app branches on them.

use tenor_platform::refusal::Refusal;
use tenor_platform::text::TEXT_INVALID_CHARACTERS;

use super::document_number::DocumentNumberError;
use super::upload::{ImageProblem, MAX_IMAGE_SIDE, MIN_IMAGE_SIDES};

/// The GraphQL input fields an upload refusal can point at.
pub const DOCUMENT_UPLOAD_FIELD: &str = "documentUploadId";
pub const SELFIE_UPLOAD_FIELD: &str = "selfieUploadId";

/// Why `submitKyc` was refused. Nothing was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubmitRefusal {
    DocumentNumber(DocumentNumberError),
    DocumentNumberTaken,
    AlreadyPending,
    AlreadyVerified,
    UploadNotFound(&'static str),
    UploadWrongKind(&'static str),
    UploadNotReceived(&'static str),
    UploadAlreadyUsed(&'static str),
    /// `limit` submissions in the last 24 hours; the next is possible in `hours`. Each is a
    /// paid vendor check, and repeated attempts with other documents are a fraud pattern.
    SubmissionLimit {
        limit: u32,
        hours: i64,
    },
}

impl Refusal for SubmitRefusal {
    fn code(&self) -> &'static str {
        match self {
            Self::DocumentNumber(e) => e.code(),
            Self::DocumentNumberTaken => "DOCUMENT_NUMBER_TAKEN",
            Self::AlreadyPending => "KYC_ALREADY_PENDING",
            Self::AlreadyVerified => "KYC_ALREADY_VERIFIED",
            Self::UploadNotFound(_) => "UPLOAD_NOT_FOUND",
            Self::UploadWrongKind(_) => "UPLOAD_WRONG_KIND",
            Self::UploadNotReceived(_) => "UPLOAD_NOT_RECEIVED",
            Self::UploadAlreadyUsed(_) => "UPLOAD_ALREADY_USED",
            Self::SubmissionLimit { .. } => "KYC_SUBMISSION_LIMIT",
        }
    }

    fn field(&self) -> Option<&str> {
        Some(match self {
            Self::DocumentNumber(_) | Self::DocumentNumberTaken => "documentNumber",
            Self::AlreadyPending | Self::AlreadyVerified => "documentType",
            Self::UploadNotFound(f)
            | Self::UploadWrongKind(f)
            | Self::UploadNotReceived(f)
            | Self::UploadAlreadyUsed(f) => f,
            Self::SubmissionLimit { .. } => return None,
        })
    }

    fn message(&self) -> String {
        match self {
            Self::DocumentNumber(e) => e.message(),
            Self::DocumentNumberTaken => {
                "Nomor dokumen sudah terdaftar pada akun lain / This document number is already registered to another account"
            }
            Self::AlreadyPending => {
                "Verifikasi Anda sedang diproses / Your verification is already being processed"
            }
            Self::AlreadyVerified => {
                "Akun Anda sudah terverifikasi / Your account is already verified"
            }
            Self::UploadNotFound(_) => "Unggahan tidak ditemukan / Upload not found",
            Self::UploadWrongKind(_) => {
                "Jenis unggahan salah / This upload is not the kind of image expected here"
            }
            Self::UploadNotReceived(_) => {
                "Gambar belum diunggah / The image has not been uploaded yet"
            }
            Self::UploadAlreadyUsed(_) => {
                "Gambar sudah dipakai / This image was already used for a submission"
            }
            Self::SubmissionLimit { limit, hours } => {
                let (id, en) = tenor_platform::quota::wait_in_words(*hours);
                return format!(
                    "Batas pengajuan verifikasi dalam 24 jam ({limit}) sudah tercapai; coba lagi dalam {id} / The limit of verification submissions in 24 hours ({limit}) is reached; try again in {en}"
                );
            }
        }
        .to_owned()
    }
}

/// Why `reviewKyc` was refused. Nothing was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewRefusal {
    NotFound,
    NotInReview,
    OwnSubmission,
    ReasonRequired,
    ReasonLength,
    /// A character the platform text policy refuses (control, bidi, invisible, tag, …).
    ReasonCharacters,
}

impl Refusal for ReviewRefusal {
    fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "KYC_NOT_FOUND",
            Self::NotInReview => "KYC_NOT_IN_REVIEW",
            Self::OwnSubmission => "KYC_OWN_SUBMISSION",
            Self::ReasonRequired => "REASON_REQUIRED",
            Self::ReasonLength => "REASON_LENGTH",
            Self::ReasonCharacters => TEXT_INVALID_CHARACTERS,
        }
    }

    fn field(&self) -> Option<&str> {
        Some(match self {
            Self::NotFound | Self::NotInReview | Self::OwnSubmission => "kycId",
            Self::ReasonRequired | Self::ReasonLength | Self::ReasonCharacters => "reason",
        })
    }

    fn message(&self) -> String {
        match self {
            Self::NotFound => "Pengajuan KYC tidak ditemukan. / No such KYC submission.",
            Self::NotInReview => {
                "Pengajuan ini tidak menunggu peninjauan manual. / This submission is not waiting for manual review."
            }
            Self::OwnSubmission => {
                "Staf tidak boleh meninjau pengajuannya sendiri. / Staff cannot review their own submission."
            }
            Self::ReasonRequired => {
                "Penolakan memerlukan alasan yang akan dibaca nasabah. / A rejection needs a reason the customer will read."
            }
            Self::ReasonLength => {
                "Alasan harus 3–500 karakter. / The reason must be 3–500 characters."
            }
            Self::ReasonCharacters => {
                "Alasan memuat karakter yang tidak diizinkan (kontrol, bidi atau tak terlihat). / The reason contains a character that is not allowed (control, bidi or invisible)."
            }
        }
        .to_owned()
    }
}

/// Why an image PUT to a signed upload URL was refused (the HTTP route answers each with its
/// own status). Nothing was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadRefusal {
    /// Signature missing or not ours (tampered id or expiry).
    InvalidSignature,
    Expired,
    AlreadyUsed,
    NotFound,
    TooLarge,
    Empty,
    NotAnImage,
    /// Outside [`MIN_IMAGE_SIDES`]–[`MAX_IMAGE_SIDE`] pixels.
    Dimensions {
        width: usize,
        height: usize,
    },
    /// A well-formed header, but the image behind it does not decode (truncated, damaged, or
    /// not image data at all).
    Damaged,
}

impl From<ImageProblem> for UploadRefusal {
    fn from(problem: ImageProblem) -> Self {
        match problem {
            ImageProblem::NotAnImage => Self::NotAnImage,
            ImageProblem::Dimensions { width, height } => Self::Dimensions { width, height },
            ImageProblem::Undecodable => Self::Damaged,
        }
    }
}

impl Refusal for UploadRefusal {
    fn code(&self) -> &'static str {
        match self {
            Self::InvalidSignature => "UPLOAD_URL_INVALID",
            Self::Expired => "UPLOAD_URL_EXPIRED",
            Self::AlreadyUsed => "UPLOAD_ALREADY_USED",
            Self::NotFound => "UPLOAD_NOT_FOUND",
            Self::TooLarge => "UPLOAD_TOO_LARGE",
            Self::Empty => "UPLOAD_EMPTY",
            Self::NotAnImage => "UPLOAD_NOT_AN_IMAGE",
            Self::Dimensions { .. } => "UPLOAD_IMAGE_DIMENSIONS",
            Self::Damaged => "UPLOAD_IMAGE_DAMAGED",
        }
    }

    fn field(&self) -> Option<&str> {
        None
    }

    fn message(&self) -> String {
        let (long, short) = MIN_IMAGE_SIDES;
        match self {
            Self::InvalidSignature => "Tautan unggah ini tidak valid; minta tautan baru. / This upload link is not valid; request a new one.".to_owned(),
            Self::Expired => "Tautan unggah ini sudah kedaluwarsa; minta tautan baru. / This upload link has expired; request a new one.".to_owned(),
            Self::AlreadyUsed => "Tautan unggah ini sudah dipakai; minta tautan baru. / This upload link was already used; request a new one.".to_owned(),
            Self::NotFound => "Unggahan tidak ditemukan; minta tautan baru. / No such upload; request a new link.".to_owned(),
            Self::TooLarge => "Ukuran foto terlalu besar. / The image is too large.".to_owned(),
            Self::Empty => "Tidak ada foto yang dikirim. / The request carried no image.".to_owned(),
            Self::NotAnImage => "Hanya foto JPEG dan PNG yang diterima. / Only JPEG and PNG images are accepted.".to_owned(),
            Self::Dimensions { width, height } => format!(
                "Foto harus minimal {long}×{short} dan paling besar {MAX_IMAGE_SIDE} piksel per sisi (foto ini {width}×{height}). / The photo must be at least {long}×{short} and at most {MAX_IMAGE_SIDE} pixels a side (this one is {width}×{height})."
            ),
            Self::Damaged => "Foto rusak atau tidak lengkap; ambil dan unggah ulang. / The image is damaged or incomplete; take it again and upload it again.".to_owned(),
        }
    }
}

/// Why a signed image download was refused. Nothing was read (and nothing logged).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownloadRefusal {
    InvalidSignature,
    Expired,
    NotFound,
}

impl Refusal for DownloadRefusal {
    fn code(&self) -> &'static str {
        match self {
            Self::InvalidSignature => "DOWNLOAD_URL_INVALID",
            Self::Expired => "DOWNLOAD_URL_EXPIRED",
            Self::NotFound => "NOT_FOUND",
        }
    }

    fn field(&self) -> Option<&str> {
        None
    }

    fn message(&self) -> String {
        match self {
            Self::InvalidSignature => "Tautan ini tidak valid. / This link is not valid.",
            Self::Expired => {
                "Tautan ini sudah kedaluwarsa; minta tautan baru. / This link has expired; request a new one."
            }
            Self::NotFound => "Berkas tidak ditemukan. / No such file.",
        }
        .to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The app shows these to whoever is reading, Indonesian first, English after " / " (the
    /// reviewer's language is not known here, the customer's is not ours to guess).
    fn bilingual(message: &str) -> bool {
        matches!(message.split_once(" / "), Some((id, en)) if !id.is_empty() && !en.is_empty())
    }

    #[test]
    fn review_and_download_refusals_speak_both_languages() {
        let review = [
            ReviewRefusal::NotFound,
            ReviewRefusal::NotInReview,
            ReviewRefusal::OwnSubmission,
            ReviewRefusal::ReasonRequired,
            ReviewRefusal::ReasonLength,
            ReviewRefusal::ReasonCharacters,
        ]
        .map(|refusal| refusal.message());
        let download = [
            DownloadRefusal::InvalidSignature,
            DownloadRefusal::Expired,
            DownloadRefusal::NotFound,
        ]
        .map(|refusal| refusal.message());
        for message in review.iter().chain(&download) {
            assert!(bilingual(message), "{message}");
        }
    }
}
