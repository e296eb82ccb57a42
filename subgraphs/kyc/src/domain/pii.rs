//! The PII a caller can read, as the access log names it, and the two images of a submission.

tenor_platform::text_enum! {
    /// `pii_access_log.field`: what was read.
    pub enum PiiField {
        DocumentNumber = "documentNumber",
        DocumentImageUrl = "documentImageUrl",
        SelfieImageUrl = "selfieImageUrl",
        DocumentImageDownload = "documentImage.download",
        SelfieImageDownload = "selfieImage.download",
    }
}

/// Which image of a submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Image {
    Document,
    Selfie,
}

impl Image {
    /// The image's segment of a download path (`/kyc/files/{kycId}/{segment}`).
    pub fn path_segment(self) -> &'static str {
        match self {
            Self::Document => "document",
            Self::Selfie => "selfie",
        }
    }

    pub fn from_segment(s: &str) -> Option<Self> {
        match s {
            "document" => Some(Self::Document),
            "selfie" => Some(Self::Selfie),
            _ => None,
        }
    }

    /// Handing out a link to the image is a read of its own.
    pub fn url_field(self) -> PiiField {
        match self {
            Self::Document => PiiField::DocumentImageUrl,
            Self::Selfie => PiiField::SelfieImageUrl,
        }
    }

    pub fn download_field(self) -> PiiField {
        match self {
            Self::Document => PiiField::DocumentImageDownload,
            Self::Selfie => PiiField::SelfieImageDownload,
        }
    }
}
