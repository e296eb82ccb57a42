//! Every way credit refuses a staff or borrower request, with the stable code the app and the
//! back office branch on. A refusal changes nothing.

use tenor_platform::refusal::Refusal;
use tenor_platform::text::{TextPolicy, TextProblem, TextRefusal};

/// The shortest and longest reason or note staff and borrowers may write.
pub const TEXT_MAX_CHARS: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreditRefusal {
    /// Unknown loan, or (for a borrower) someone else's: the two look the same.
    NotFound,
    ScoreOutOfRange,
    /// A manual score's reason the text policy refuses (blank, too long, a forbidden character).
    ReasonInvalid(TextRefusal),
    ReasonCodeInvalid,
    /// A note the text policy refuses: `NOTE_TOO_LONG` for its length (the code published
    /// first), `NOTE_INVALID` for a forbidden character.
    NoteInvalid(TextRefusal),
    /// The staff member who recorded the manual score cannot also decide the loan.
    MakerChecker,
    AlreadyDecided,
    /// The borrower cancelled the application: nothing is left to decide or score.
    Withdrawn,
    /// The borrower deleted the account: nothing is left to decide (a human review they asked
    /// for is withdrawn), and an approval could never be paid out.
    AccountDeleted,
    /// The loan is still being decided automatically; nothing to decide by hand yet.
    NotInReviewQueue,
    ManualScoreAlreadyRecorded,
    /// The rules require a manual score before this loan is decided.
    ManualScoreRequired,
    NotRejected,
    NotAutomatic,
    ReviewAlreadyRequested,
    ReviewWindowPassed {
        days: i64,
    },
}

impl Refusal for CreditRefusal {
    fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "NOT_FOUND",
            Self::ScoreOutOfRange => "SCORE_OUT_OF_RANGE",
            Self::ReasonInvalid(_) => "REASON_INVALID",
            Self::ReasonCodeInvalid => "REASON_CODE_INVALID",
            Self::NoteInvalid(refusal)
                if matches!(refusal.problem, TextProblem::TooLong { .. }) =>
            {
                "NOTE_TOO_LONG"
            }
            Self::NoteInvalid(_) => "NOTE_INVALID",
            Self::MakerChecker => "MAKER_CHECKER",
            Self::AlreadyDecided => "ALREADY_DECIDED",
            Self::Withdrawn => "LOAN_WITHDRAWN",
            Self::AccountDeleted => "ACCOUNT_DELETED",
            Self::NotInReviewQueue => "NOT_IN_REVIEW_QUEUE",
            Self::ManualScoreAlreadyRecorded => "MANUAL_SCORE_ALREADY_RECORDED",
            Self::ManualScoreRequired => "MANUAL_SCORE_REQUIRED",
            Self::NotRejected => "NOT_REJECTED",
            Self::NotAutomatic => "NOT_AUTOMATIC",
            Self::ReviewAlreadyRequested => "REVIEW_ALREADY_REQUESTED",
            Self::ReviewWindowPassed { .. } => "REVIEW_WINDOW_PASSED",
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            Self::NotFound => Some("loanId"),
            Self::ScoreOutOfRange => Some("score"),
            Self::ReasonInvalid(_) => Some("reason"),
            Self::ReasonCodeInvalid => Some("reasonCode"),
            Self::NoteInvalid(_) => Some("note"),
            _ => None,
        }
    }

    /// In Indonesian, then English (`id / en`), as auth, KYC and loan answer: credit does not
    /// know the reader's language preference (a borrower asking for a review, or staff).
    fn message(&self) -> String {
        let (id, en) = match self {
            // The text policy's own bilingual message says which rule, without echoing the text.
            Self::ReasonInvalid(refusal) | Self::NoteInvalid(refusal) => return refusal.message(),
            Self::NotFound => ("Pinjaman tidak ditemukan".into(), "No such loan".into()),
            Self::ScoreOutOfRange => (
                "Skor harus antara 300 dan 850".into(),
                "A score lies between 300 and 850".into(),
            ),
            Self::ReasonCodeInvalid => (
                "Kode alasan terdiri dari 2 sampai 64 huruf kapital, angka atau garis bawah".into(),
                "A reason code is 2 to 64 capital letters, digits or underscores".into(),
            ),
            Self::MakerChecker => (
                "Anda yang mencatat skor manual pinjaman ini; staf lain yang harus memutuskannya"
                    .into(),
                "You recorded the manual score of this loan; another staff member must decide it"
                    .into(),
            ),
            Self::AlreadyDecided => (
                "Pinjaman ini sudah diputuskan".into(),
                "This loan has already been decided".into(),
            ),
            Self::AccountDeleted => (
                "Peminjam telah menghapus akunnya; tidak ada lagi yang perlu diputuskan".into(),
                "The borrower deleted the account; there is nothing left to decide".into(),
            ),
            Self::Withdrawn => (
                "Peminjam telah membatalkan pengajuan ini".into(),
                "The borrower withdrew this application".into(),
            ),
            Self::NotInReviewQueue => (
                "Pinjaman ini tidak ada di antrean tinjauan; masih diputuskan otomatis".into(),
                "This loan is not in the review queue; it is still being decided automatically"
                    .into(),
            ),
            Self::ManualScoreAlreadyRecorded => (
                "Skor manual untuk pinjaman ini sudah dicatat".into(),
                "A manual score was already recorded for this loan".into(),
            ),
            Self::ManualScoreRequired => (
                "Catat skor manual untuk pinjaman ini sebelum memutuskannya".into(),
                "Record a manual score for this loan before deciding it".into(),
            ),
            Self::NotRejected => (
                "Hanya pengajuan yang ditolak yang dapat ditinjau".into(),
                "Only a rejected application can be reviewed".into(),
            ),
            Self::NotAutomatic => (
                "Keputusan ini sudah dibuat oleh petugas; tidak dapat ditinjau lagi".into(),
                "This decision was already made by a person; it cannot be reviewed again".into(),
            ),
            Self::ReviewAlreadyRequested => (
                "Tinjauan sudah diminta".into(),
                "A review was already requested".into(),
            ),
            Self::ReviewWindowPassed { days } => (
                format!("Tinjauan dapat diminta paling lambat {days} hari setelah keputusan"),
                format!("A review can be requested within {days} days of the decision"),
            ),
        };
        format!("{id} / {en}")
    }
}

/// A reason code staff may give: `MANUAL_APPROVAL`, `INCOME_VERIFIED`…
pub fn valid_reason_code(code: &str) -> bool {
    (2..=64).contains(&code.len())
        && code.starts_with(|c: char| c.is_ascii_uppercase())
        && code
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// Free text from staff or a borrower, under the platform text policy (NFC, trimmed, lines
/// kept; no control, bidirectional, invisible or tag characters: what a reviewer reads in the
/// audit trail is what was typed), at most [`TEXT_MAX_CHARS`] characters.
fn text_policy(min_chars: usize) -> TextPolicy {
    TextPolicy::multi_line(TEXT_MAX_CHARS).min_chars(min_chars)
}

/// A manual score's reason, as it is stored.
pub fn clean_reason(reason: &str) -> Result<String, CreditRefusal> {
    text_policy(1)
        .clean("reason", reason)
        .map_err(CreditRefusal::ReasonInvalid)
}

/// An optional note, as it is stored: blank is no note.
pub fn clean_note(note: Option<&str>) -> Result<Option<String>, CreditRefusal> {
    let Some(note) = note else { return Ok(None) };
    let note = text_policy(0)
        .clean("note", note)
        .map_err(CreditRefusal::NoteInvalid)?;
    Ok(Some(note).filter(|n| !n.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_speak_indonesian_then_english() {
        assert_eq!(
            CreditRefusal::ReviewWindowPassed { days: 14 }.message(),
            "Tinjauan dapat diminta paling lambat 14 hari setelah keputusan / A review can be requested within 14 days of the decision"
        );
        assert_eq!(
            CreditRefusal::NotFound.message(),
            "Pinjaman tidak ditemukan / No such loan"
        );
    }

    #[test]
    fn reason_codes_and_texts_are_checked() {
        assert!(valid_reason_code("MANUAL_APPROVAL"));
        assert!(valid_reason_code("INCOME_VERIFIED_2"));
        for bad in ["", "a", "lower", "_X", "WITH SPACE", &"X".repeat(65)] {
            assert!(!valid_reason_code(bad), "{bad}");
        }
        assert_eq!(
            clean_reason("  payslips\r\nchecked ").unwrap(),
            "payslips\nchecked"
        );
        assert_eq!(clean_reason("a\u{301}").unwrap(), "\u{e1}");
        assert_eq!(clean_note(Some("   ")).unwrap(), None);
        assert_eq!(clean_note(None).unwrap(), None);
        fn code<T: std::fmt::Debug>(result: Result<T, CreditRefusal>) -> &'static str {
            result.unwrap_err().code()
        }
        assert_eq!(code(clean_reason("   ")), "REASON_INVALID");
        for hostile in [
            "bell\u{7}",
            "a\u{202e}b",
            "a\u{200b}b",
            "\u{feff}x",
            "x\u{e0041}",
            "\u{301}x",
        ] {
            assert_eq!(code(clean_reason(hostile)), "REASON_INVALID", "{hostile:?}");
            assert_eq!(
                code(clean_note(Some(hostile))),
                "NOTE_INVALID",
                "{hostile:?}"
            );
        }
        assert_eq!(code(clean_note(Some(&"x".repeat(1001)))), "NOTE_TOO_LONG");
        assert_eq!(code(clean_reason(&"x".repeat(1001))), "REASON_INVALID");
    }
}
