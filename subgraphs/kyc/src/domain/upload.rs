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
    /// The header is fine, the image behind it does not decode.
    Undecodable,
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

/// Memory a whole-image check may take: a PNG is decoded a row at a time (a 12 000-pixel row
/// of 16-bit RGBA is 96 KiB), a JPEG at an eighth of each side (12 000² at 1/8 is 6.6 MiB).
const DECODE_MEMORY: usize = 32 * 1024 * 1024;

/// Decodes the whole image and throws the pixels away: an upload whose header is followed by
/// anything but intact image data (truncated, damaged, or a borrowed header in front of other
/// bytes) is refused before it is stored or sent to the vendor, who charges for every attempt.
/// Bytes after the image's end marker are ignored, as every viewer ignores them (some phone
/// cameras write their own data there).
///
/// CPU-bound — tens of milliseconds for a phone photo — so it runs on the blocking pool. PNG
/// chunk and zlib checksums are verified, so any damaged byte is caught. A JPEG is decoded at
/// an eighth of each side, which still reads every coded block (only the inverse transform is
/// smaller): running out of data before the last block, or bytes that are not coded blocks, is
/// an error; but JPEG has no checksum, and a changed byte that still decodes (a smudge in the
/// picture) passes, as it would in any viewer.
pub fn decode_fully(bytes: &[u8], header: &ImageHeader) -> Result<(), ImageProblem> {
    let decoded = match header.content_type {
        "image/png" => decode_png(bytes),
        "image/jpeg" => decode_jpeg(bytes),
        _ => Err(()),
    };
    decoded.map_err(|()| ImageProblem::Undecodable)
}

fn decode_png(bytes: &[u8]) -> Result<(), ()> {
    let mut decoder = png::Decoder::new_with_limits(
        std::io::Cursor::new(bytes),
        png::Limits {
            bytes: DECODE_MEMORY,
        },
    );
    decoder.set_transformations(png::Transformations::IDENTITY);
    let mut reader = decoder.read_info().map_err(drop)?;
    while reader.next_row().map_err(drop)?.is_some() {}
    reader.finish().map_err(drop)
}

fn decode_jpeg(bytes: &[u8]) -> Result<(), ()> {
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    decoder.set_max_decoding_buffer_size(DECODE_MEMORY);
    // The smallest output the decoder offers: 1/8 of each side.
    decoder.scale(1, 1).map_err(drop)?;
    decoder.decode().map(drop).map_err(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        crate::testing::png_header_of(width, height, b" pixels follow")
    }

    fn jpeg(width: u16, height: u16) -> Vec<u8> {
        crate::testing::jpeg_header_of(width, height, b"")
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

    /// What a whole-image check says of `bytes`, after the header check passed.
    fn decodes(bytes: &[u8]) -> Result<(), ImageProblem> {
        decode_fully(bytes, &inspect_image(bytes)?)
    }

    #[test]
    fn intact_photos_decode_whatever_follows_their_end() {
        use crate::testing::{jpeg, png};
        assert_eq!(decodes(&png(b"")), Ok(()));
        assert_eq!(decodes(&jpeg(b"")), Ok(()));
        // Bytes after the end marker (some cameras write their own data there) are ignored.
        assert_eq!(decodes(&png(&[7u8; 2000])), Ok(()));
        assert_eq!(decodes(&jpeg(b"trailer \xFF\xD8 more")), Ok(()));
    }

    #[test]
    fn a_header_without_its_image_does_not_decode() {
        // Valid dimensions in a valid header, then anything but image data.
        for bytes in [
            crate::testing::png_header_of(1280, 960, b" pixels follow"),
            crate::testing::png_header_of(1280, 960, &[0x5A; 4000]),
            crate::testing::jpeg_header_of(960, 1280, b""),
            crate::testing::jpeg_header_of(960, 1280, &[0x5A; 4000]),
        ] {
            assert_eq!(inspect_image(&bytes).map(drop), Ok(()));
            assert_eq!(decodes(&bytes), Err(ImageProblem::Undecodable));
        }
    }

    #[test]
    fn truncated_or_damaged_photos_do_not_decode() {
        for photo in [
            crate::testing::encode_png(1280, 960),
            crate::testing::encode_jpeg(960, 1280),
        ] {
            assert_eq!(decodes(&photo), Ok(()));
            // Cut short: three quarters, and one byte short of the end marker's last byte.
            let cut = &photo[..photo.len() * 3 / 4];
            assert_eq!(decodes(cut), Err(ImageProblem::Undecodable));
            let short = &photo[..photo.len() - 2];
            assert_eq!(decodes(short), Err(ImageProblem::Undecodable));
            // The middle of the coded data replaced by other bytes.
            let mut damaged = photo.clone();
            let middle = damaged.len() / 2;
            damaged[middle..middle + 64].copy_from_slice(&[0xFF; 64]);
            assert_eq!(decodes(&damaged), Err(ImageProblem::Undecodable));
        }
    }
}
