//! Uploaded images: which of the two a link is for, where the upload is in its life, and the
//! formats accepted.

tenor_platform::text_enum! {
    /// `kyc_uploads.kind`.
    pub enum UploadKind {
        DocumentFront = "DOCUMENT_FRONT",
        Selfie = "SELFIE",
    }
}

tenor_platform::text_enum! {
    /// `kyc_uploads.status`: a link is REQUESTED, its PUT makes it STORED, a submission makes it
    /// USED. Each step happens once.
    pub enum UploadStatus {
        Requested = "REQUESTED",
        Stored = "STORED",
        Used = "USED",
    }
}

/// The two image formats accepted, recognised by their first bytes (never by a header the
/// client chose).
pub fn sniff_image(bytes: &[u8]) -> Option<&'static str> {
    const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF];
    const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    if bytes.starts_with(JPEG) {
        Some("image/jpeg")
    } else if bytes.starts_with(PNG) {
        Some("image/png")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_recognised_by_magic_bytes() {
        assert_eq!(
            sniff_image(&[0xFF, 0xD8, 0xFF, 0xE0, 0]),
            Some("image/jpeg")
        );
        assert_eq!(
            sniff_image(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Some("image/png")
        );
        assert_eq!(sniff_image(b"GIF89a"), None);
        assert_eq!(sniff_image(b"%PDF-1.7"), None);
        assert_eq!(sniff_image(b"\x89PNG"), None);
        assert_eq!(sniff_image(&[]), None);
    }
}
