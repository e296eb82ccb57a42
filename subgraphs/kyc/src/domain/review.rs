//! Staff decisions on the manual review queue: approve or reject, and the reason a rejection
//! must carry (the customer reads it).

use tenor_platform::text::{TextPolicy, TextProblem};

use super::refusal::ReviewRefusal;

tenor_platform::text_enum! {
    /// `kyc_reviews.decision`.
    pub enum ReviewDecision {
        Approve = "APPROVE",
        Reject = "REJECT",
    }
}

/// The rejection code staff decisions carry in `kyc.rejected`.
pub const MANUAL_REJECTION: &str = "MANUAL_REVIEW_REJECTED";

/// A staff reviewer's reason: required for a rejection, 3–500 characters.
pub fn review_reason(raw: Option<&str>, required: bool) -> Result<Option<String>, ReviewRefusal> {
    let Some(raw) = raw else {
        return if required {
            Err(ReviewRefusal::ReasonRequired)
        } else {
            Ok(None)
        };
    };
    // The platform text policy (NFC; no control, bidi, invisible or tag characters; newlines
    // accepted), then every run of whitespace collapsed: the customer reads it on one line.
    match TextPolicy::multi_line(500)
        .min_chars(3)
        .clean("reason", raw)
    {
        Ok(reason) => Ok(Some(
            reason.split_whitespace().collect::<Vec<_>>().join(" "),
        )),
        Err(refusal) => match refusal.problem {
            TextProblem::Required if required => Err(ReviewRefusal::ReasonRequired),
            TextProblem::Required => Ok(None),
            TextProblem::InvalidCharacter { .. } => Err(ReviewRefusal::ReasonCharacters),
            TextProblem::TooShort { .. } | TextProblem::TooLong { .. } => {
                Err(ReviewRefusal::ReasonLength)
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use tenor_platform::refusal::Refusal;

    use super::*;

    /// The refusal's code, which is what the app sees.
    fn reason(raw: Option<&str>, required: bool) -> Result<Option<String>, &'static str> {
        review_reason(raw, required).map_err(|refusal| refusal.code())
    }

    #[test]
    fn review_reasons() {
        assert_eq!(reason(None, true), Err("REASON_REQUIRED"));
        assert_eq!(reason(Some("   "), true), Err("REASON_REQUIRED"));
        assert_eq!(reason(None, false), Ok(None));
        assert_eq!(reason(Some("ok"), false), Err("REASON_LENGTH"));
        assert_eq!(
            reason(Some(" blurry   photo "), true),
            Ok(Some("blurry photo".into()))
        );
        assert_eq!(
            reason(Some("blurry\r\nphoto"), true),
            Ok(Some("blurry photo".into()))
        );
        for hostile in [
            "blurry\u{0}photo",
            "\u{202E}blurry",
            "blur\u{200B}ry",
            "\u{301}blurry",
        ] {
            assert_eq!(reason(Some(hostile), true), Err("TEXT_INVALID_CHARACTERS"));
        }
        assert_eq!(reason(Some(&"x".repeat(501)), true), Err("REASON_LENGTH"));
    }
}
