//! What people type, made fit to store: names and block reasons.

use tenor_platform::text::{TextPolicy, TextProblem};

use super::refusal::Rejection;

/// Longest accepted full name, in characters (not bytes: Indonesian names may carry accents).
pub const FULLNAME_MAX_CHARS: usize = 100;
/// A block reason must say something an auditor can read, and fit a back-office form.
pub const BLOCK_REASON_MIN_CHARS: usize = 3;
pub const BLOCK_REASON_MAX_CHARS: usize = 500;

/// The platform text policy (NFC; no control, bidi, invisible or tag characters; trimmed,
/// whitespace collapsed), then the length in characters.
pub fn normalise_fullname(raw: &str) -> Result<String, Rejection> {
    // Control characters (newlines included) would corrupt the documents and messages a name is
    // printed on, and bidi or invisible ones let a name impersonate another: refuse rather than
    // silently strip them.
    TextPolicy::single_line(FULLNAME_MAX_CHARS)
        .clean("fullname", raw)
        .map_err(|refusal| match refusal.problem {
            TextProblem::InvalidCharacter { .. } => Rejection::FullnameControlCharacters,
            TextProblem::Required | TextProblem::TooShort { .. } => Rejection::FullnameEmpty,
            TextProblem::TooLong { .. } => Rejection::FullnameTooLong,
        })
}

/// A block reason as stored: the platform text policy for multi-line text (newlines and tabs
/// allowed), trimmed, 3..=500 characters.
pub fn normalise_block_reason(raw: &str) -> Result<String, Rejection> {
    TextPolicy::multi_line(BLOCK_REASON_MAX_CHARS)
        .min_chars(BLOCK_REASON_MIN_CHARS)
        .clean("reason", raw)
        .map_err(|_| Rejection::BlockReasonInvalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fullname_is_trimmed_and_whitespace_collapsed() {
        assert_eq!(
            normalise_fullname("  Siti \t  Rahayu ").unwrap(),
            "Siti Rahayu"
        );
        assert_eq!(
            normalise_fullname("Ni Luh Putu Ayu Dewi").unwrap().len(),
            20
        );
    }

    #[test]
    fn fullname_rejections() {
        assert_eq!(normalise_fullname("   "), Err(Rejection::FullnameEmpty));
        assert_eq!(normalise_fullname(""), Err(Rejection::FullnameEmpty));
        assert_eq!(
            normalise_fullname("Siti\nRahayu"),
            Err(Rejection::FullnameControlCharacters)
        );
        assert_eq!(
            normalise_fullname("Siti\u{0}"),
            Err(Rejection::FullnameControlCharacters)
        );
        for hostile in [
            "Siti\u{202E}",
            "Si\u{200B}ti",
            "Siti\u{E0041}",
            "\u{FEFF}Siti",
            "\u{301}Siti",
        ] {
            assert_eq!(
                normalise_fullname(hostile),
                Err(Rejection::FullnameControlCharacters),
                "{hostile:?}"
            );
        }
        assert_eq!(normalise_fullname("Jose\u{301}").unwrap(), "José");
        assert_eq!(
            normalise_block_reason(" fraud\r\nreview ").unwrap(),
            "fraud\nreview"
        );
        assert_eq!(
            normalise_block_reason("fraud\u{0}review"),
            Err(Rejection::BlockReasonInvalid)
        );
        // The limit counts characters: 100 accented letters are fine although > 100 bytes.
        assert!(normalise_fullname(&"é".repeat(FULLNAME_MAX_CHARS)).is_ok());
        assert_eq!(
            normalise_fullname(&"é".repeat(FULLNAME_MAX_CHARS + 1)),
            Err(Rejection::FullnameTooLong)
        );
        assert_eq!(
            Rejection::FullnameTooLong.code(),
            Rejection::FullnameEmpty.code()
        );
    }
}
