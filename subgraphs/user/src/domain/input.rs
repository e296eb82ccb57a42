//! What people type, made fit to store: names and block reasons.

use super::rejection::Rejection;

/// Longest accepted full name, in characters (not bytes: Indonesian names may carry accents).
pub const FULLNAME_MAX_CHARS: usize = 100;
/// A block reason must say something an auditor can read, and fit a back-office form.
pub const BLOCK_REASON_MIN_CHARS: usize = 3;
pub const BLOCK_REASON_MAX_CHARS: usize = 500;

/// Trim, collapse runs of whitespace to one space, and check length and characters.
pub fn normalise_fullname(raw: &str) -> Result<String, Rejection> {
    // Control characters (including newlines and bidi-less C0/C1 codes) would corrupt the
    // documents and messages a name is printed on; refuse rather than silently strip them.
    if raw
        .chars()
        .any(|c| c.is_control() && !matches!(c, ' ' | '\t'))
    {
        return Err(Rejection::FullnameControlCharacters);
    }
    let name = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        return Err(Rejection::FullnameEmpty);
    }
    if name.chars().count() > FULLNAME_MAX_CHARS {
        return Err(Rejection::FullnameTooLong);
    }
    Ok(name)
}

/// A block reason as stored: trimmed, 3..=500 characters, no control characters but newlines.
pub fn normalise_block_reason(raw: &str) -> Result<String, Rejection> {
    let reason = raw.trim();
    let length = reason.chars().count();
    let clean = !reason
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\t'));
    if clean && (BLOCK_REASON_MIN_CHARS..=BLOCK_REASON_MAX_CHARS).contains(&length) {
        Ok(reason.to_owned())
    } else {
        Err(Rejection::BlockReasonInvalid)
    }
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
