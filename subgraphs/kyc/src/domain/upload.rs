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

/// The smallest photo accepted, in pixels (long side, short side; either orientation). A
/// document or face smaller than this cannot be read or matched, and the vendor charges for
/// every attempt, so it is refused here.
pub const MIN_IMAGE_SIDES: (usize, usize) = (640, 480);
/// The longest side accepted, in pixels. A phone photo is a few thousand; a header declaring far
/// more in a few megabytes is a decompression bomb for whoever decodes it next.
pub const MAX_IMAGE_SIDE: usize = 12_000;

/// An uploaded image as its header describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageHeader {
    pub content_type: &'static str,
    pub width: usize,
    pub height: usize,
}

/// Why bytes are not an acceptable photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageProblem {
    /// Not JPEG or PNG, or a header that does not say how large the image is (bytes behind a
    /// borrowed signature).
    NotAnImage,
    /// Smaller than [`MIN_IMAGE_SIDES`] or larger than [`MAX_IMAGE_SIDE`].
    Dimensions { width: usize, height: usize },
}

/// The format (by its signature) and the dimensions (from its header) of an upload, within the
/// accepted range. Reads the header only: cheap enough for the request's own thread.
pub fn inspect_image(bytes: &[u8]) -> Result<ImageHeader, ImageProblem> {
    let content_type = sniff_image(bytes).ok_or(ImageProblem::NotAnImage)?;
    let size = imagesize::blob_size(bytes).map_err(|_| ImageProblem::NotAnImage)?;
    let (width, height) = (size.width, size.height);
    let (long, short) = (width.max(height), width.min(height));
    if long < MIN_IMAGE_SIDES.0 || short < MIN_IMAGE_SIDES.1 || long > MAX_IMAGE_SIDE {
        return Err(ImageProblem::Dimensions { width, height });
    }
    Ok(ImageHeader {
        content_type,
        width,
        height,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        crate::testing::png_of(width, height, b" pixels follow")
    }

    fn jpeg(width: u16, height: u16) -> Vec<u8> {
        crate::testing::jpeg_of(width, height, b"")
    }

    #[test]
    fn photos_in_range_are_accepted_in_either_orientation() {
        for (bytes, content_type, width, height) in [
            (png(1280, 960), "image/png", 1280, 960),
            (png(480, 640), "image/png", 480, 640),
            (jpeg(960, 1280), "image/jpeg", 960, 1280),
            (jpeg(12_000, 9_000), "image/jpeg", 12_000, 9_000),
        ] {
            assert_eq!(
                inspect_image(&bytes),
                Ok(ImageHeader {
                    content_type,
                    width,
                    height
                })
            );
        }
    }

    #[test]
    fn too_small_too_large_and_headerless_images_are_refused() {
        for (width, height) in [(16, 16), (639, 480), (640, 479), (12_001, 5_000), (0, 0)] {
            assert_eq!(
                inspect_image(&png(width, height)),
                Err(ImageProblem::Dimensions {
                    width: width as usize,
                    height: height as usize
                }),
                "{width}×{height}"
            );
        }
        // A JPEG signature with nothing an image has behind it.
        let mut garbage = vec![0xFF, 0xD8, 0xFF];
        garbage.extend_from_slice(&[b'x'; 100]);
        assert_eq!(inspect_image(&garbage), Err(ImageProblem::NotAnImage));
        assert_eq!(
            inspect_image(b"\x89PNG\r\n\x1a\n"),
            Err(ImageProblem::NotAnImage)
        );
        assert_eq!(inspect_image(b"GIF89a"), Err(ImageProblem::NotAnImage));
    }

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
