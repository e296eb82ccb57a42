//! KYC rules, pure: document-number validation (NIK structure, SIM, NPWP), masking, the
//! submission state machine and the verification decision from the vendor's score.

use chrono::{Datelike, NaiveDate};
use tenor_contracts::kyc::DocumentType;
use tenor_platform::text::{TEXT_INVALID_CHARACTERS, TextPolicy, TextProblem};

/// Province codes (the first two NIK digits) in use by Dukcapil, including the Papua provinces
/// created in 2022. A NIK from outside this list cannot have been issued.
const PROVINCE_CODES: &[u8] = &[
    11, 12, 13, 14, 15, 16, 17, 18, 19, 21, // Sumatra, Riau Islands
    31, 32, 33, 34, 35, 36, // Java
    51, 52, 53, // Bali, Nusa Tenggara
    61, 62, 63, 64, 65, // Kalimantan
    71, 72, 73, 74, 75, 76, // Sulawesi
    81, 82, // Maluku
    91, 92, 93, 94, 95, 96, // Papua
];

/// One structural rule a document number broke. Each has its own code so the app can say
/// exactly what is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentNumberError {
    NikLength,
    NikNotNumeric,
    NikProvince,
    NikRegency,
    NikDistrict,
    NikBirthDay,
    NikBirthMonth,
    NikBirthDate,
    NikSerial,
    SimFormat,
    NpwpFormat,
    NpwpCheckDigit,
}

impl DocumentNumberError {
    pub fn code(self) -> &'static str {
        match self {
            Self::NikLength => "NIK_INVALID_LENGTH",
            Self::NikNotNumeric => "NIK_NOT_NUMERIC",
            Self::NikProvince => "NIK_INVALID_PROVINCE",
            Self::NikRegency => "NIK_INVALID_REGENCY",
            Self::NikDistrict => "NIK_INVALID_DISTRICT",
            Self::NikBirthDay => "NIK_INVALID_BIRTH_DAY",
            Self::NikBirthMonth => "NIK_INVALID_BIRTH_MONTH",
            Self::NikBirthDate => "NIK_INVALID_BIRTH_DATE",
            Self::NikSerial => "NIK_INVALID_SERIAL",
            Self::SimFormat => "SIM_INVALID_FORMAT",
            Self::NpwpFormat => "NPWP_INVALID_FORMAT",
            Self::NpwpCheckDigit => "NPWP_INVALID_CHECK_DIGIT",
        }
    }

    /// Safe to show: it never repeats the number.
    pub fn message(self) -> &'static str {
        match self {
            Self::NikLength => "NIK harus 16 digit / A NIK has exactly 16 digits",
            Self::NikNotNumeric => "NIK hanya berisi angka / A NIK contains digits only",
            Self::NikProvince => {
                "Kode provinsi NIK tidak dikenal / The NIK's province code does not exist"
            }
            Self::NikRegency => {
                "Kode kabupaten/kota NIK tidak valid / The NIK's regency code is invalid"
            }
            Self::NikDistrict => {
                "Kode kecamatan NIK tidak valid / The NIK's district code is invalid"
            }
            Self::NikBirthDay => {
                "Tanggal lahir pada NIK tidak valid / The NIK's birth day must be 01–31 or 41–71"
            }
            Self::NikBirthMonth => {
                "Bulan lahir pada NIK tidak valid / The NIK's birth month must be 01–12"
            }
            Self::NikBirthDate => {
                "Tanggal lahir pada NIK tidak ada / The NIK's birth date is not a real date"
            }
            Self::NikSerial => "Nomor urut NIK tidak boleh 0000 / The NIK's serial cannot be 0000",
            Self::SimFormat => "Nomor SIM harus 12–14 digit / A SIM number has 12–14 digits",
            Self::NpwpFormat => "NPWP harus 15 atau 16 digit / An NPWP has 15 or 16 digits",
            Self::NpwpCheckDigit => "NPWP tidak valid / The NPWP's check digit is wrong",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gender {
    Male,
    Female,
}

/// What a NIK's structure says (`PP KK CC DDMMYY SSSS`, domain facts §2.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nik {
    pub province: u8,
    pub regency: u8,
    pub district: u8,
    pub birth_date: NaiveDate,
    pub gender: Gender,
    pub serial: u16,
}

/// A document number as stored: digits only, checked for its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentNumber {
    pub document_type: DocumentType,
    pub digits: String,
}

impl DocumentNumber {
    /// `3201********0001`: enough for the owner to recognise it, useless to anyone else.
    pub fn masked(&self) -> String {
        mask(&self.digits)
    }
}

pub fn mask(digits: &str) -> String {
    let n = digits.chars().count();
    if n <= 8 {
        return "*".repeat(n);
    }
    digits
        .chars()
        .enumerate()
        .map(|(i, c)| if i < 4 || i >= n - 4 { c } else { '*' })
        .collect()
}

/// Spaces, dots and dashes are how people write these numbers (`09.254.294.3-407.000`); they
/// carry no meaning.
/// Only the separators people type (space, no-break space, dot, dash) are dropped: any other
/// character — a control such as U+0085, which Rust counts as whitespace, included — stays and
/// makes the number invalid (platform text policy: never silently strip).
fn strip_separators(raw: &str) -> String {
    raw.chars()
        .filter(|c| !matches!(c, ' ' | '\u{a0}' | '.' | '-'))
        .collect()
}

/// Validate `raw` as a number of `document_type`.
pub fn parse_document_number(
    document_type: DocumentType,
    raw: &str,
) -> Result<DocumentNumber, DocumentNumberError> {
    let digits = strip_separators(raw);
    match document_type {
        DocumentType::Ktp => {
            parse_nik(&digits, this_year())?;
        }
        DocumentType::Sim => parse_sim(&digits)?,
        DocumentType::Npwp => parse_npwp(&digits)?,
    }
    Ok(DocumentNumber {
        document_type,
        digits,
    })
}

fn this_year() -> i32 {
    chrono::Utc::now().year()
}

/// The NIK rules, in the order of the digits. `current_year` resolves the two-digit birth year:
/// a year not after this one's is 20YY, otherwise 19YY.
pub fn parse_nik(nik: &str, current_year: i32) -> Result<Nik, DocumentNumberError> {
    use DocumentNumberError::*;
    if nik.chars().count() != 16 {
        return Err(NikLength);
    }
    if !nik.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NikNotNumeric);
    }
    let pair = |at: usize| -> u8 { nik[at..at + 2].parse().expect("two ASCII digits") };
    let province = pair(0);
    if !PROVINCE_CODES.contains(&province) {
        return Err(NikProvince);
    }
    let regency = pair(2);
    if regency == 0 {
        return Err(NikRegency);
    }
    let district = pair(4);
    if district == 0 {
        return Err(NikDistrict);
    }
    let (day, gender) = match pair(6) {
        d @ 1..=31 => (d, Gender::Male),
        d @ 41..=71 => (d - 40, Gender::Female),
        _ => return Err(NikBirthDay),
    };
    let month = pair(8);
    if !(1..=12).contains(&month) {
        return Err(NikBirthMonth);
    }
    let yy = i32::from(pair(10));
    let century = if 2000 + yy <= current_year {
        2000
    } else {
        1900
    };
    let birth_date =
        NaiveDate::from_ymd_opt(century + yy, month.into(), day.into()).ok_or(NikBirthDate)?;
    let serial: u16 = nik[12..16].parse().expect("four ASCII digits");
    if serial == 0 {
        return Err(NikSerial);
    }
    Ok(Nik {
        province,
        regency,
        district,
        birth_date,
        gender,
        serial,
    })
}

/// Driving licences: 12 digits (pre-2013 cards, e.g. `1234-5678-9012`) or 14 (current cards).
fn parse_sim(digits: &str) -> Result<(), DocumentNumberError> {
    let len = digits.chars().count();
    if (12..=14).contains(&len) && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(DocumentNumberError::SimFormat)
    }
}

/// NPWP: the classic 15 digits, whose ninth digit is a Luhn check digit over the first eight
/// (as python-stdnum's `id.npwp` checks), or since 2024 the holder's 16-digit NIK.
fn parse_npwp(digits: &str) -> Result<(), DocumentNumberError> {
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DocumentNumberError::NpwpFormat);
    }
    match digits.len() {
        15 if luhn_valid(&digits[..9]) => Ok(()),
        15 => Err(DocumentNumberError::NpwpCheckDigit),
        16 => parse_nik(digits, this_year())
            .map(|_| ())
            .map_err(|_| DocumentNumberError::NpwpFormat),
        _ => Err(DocumentNumberError::NpwpFormat),
    }
}

fn luhn_valid(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

// ---------------------------------------------------------------------------------------------
// Submissions

/// `user_kyc.status` (seed values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KycStatus {
    Pending,
    Verified,
    Rejected,
    Expired,
}

impl KycStatus {
    pub fn as_db(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Verified => "VERIFIED",
            Self::Rejected => "REJECTED",
            Self::Expired => "EXPIRED",
        }
    }

    pub fn from_db(s: &str) -> Option<Self> {
        Some(match s {
            "PENDING" => Self::Pending,
            "VERIFIED" => Self::Verified,
            "REJECTED" => Self::Rejected,
            "EXPIRED" => Self::Expired,
            _ => return None,
        })
    }

    /// A new submission is refused while the latest one is still in play or still valid.
    pub fn blocks_resubmission(self) -> bool {
        matches!(self, Self::Pending | Self::Verified)
    }
}

/// Where a PENDING submission is in verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerificationStage {
    /// Not yet answered by the vendor: the verification worker picks it up (also after a crash).
    AwaitingVendor,
    /// The vendor's score was borderline: waiting for staff in the review queue.
    ManualReview,
    /// Decided (the status says how).
    Decided,
}

impl VerificationStage {
    pub fn as_db(self) -> &'static str {
        match self {
            Self::AwaitingVendor => "AWAITING_VENDOR",
            Self::ManualReview => "MANUAL_REVIEW",
            Self::Decided => "DECIDED",
        }
    }

    pub fn from_db(s: &str) -> Option<Self> {
        Some(match s {
            "AWAITING_VENDOR" => Self::AwaitingVendor,
            "MANUAL_REVIEW" => Self::ManualReview,
            "DECIDED" => Self::Decided,
            _ => return None,
        })
    }
}

pub fn document_type_db(t: DocumentType) -> &'static str {
    match t {
        DocumentType::Ktp => "ktp",
        DocumentType::Sim => "sim",
        DocumentType::Npwp => "npwp",
    }
}

pub fn document_type_from_db(s: &str) -> Option<DocumentType> {
    Some(match s {
        "ktp" => DocumentType::Ktp,
        "sim" => DocumentType::Sim,
        "npwp" => DocumentType::Npwp,
        _ => return None,
    })
}

/// Where the automatic decision draws its lines (configuration, not literals).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// A face-match score at or above this verifies automatically.
    pub approve: f64,
    /// Below this rejects automatically; in between goes to manual review.
    pub reject: f64,
}

/// What the vendor's answer means for a submission.
#[derive(Debug, Clone, PartialEq)]
pub enum VerificationOutcome {
    Verify,
    Reject { code: &'static str, reason: String },
    ManualReview,
}

/// The automatic decision. The document number the vendor read must be the one submitted
/// (a mismatch is a different or doctored document); then the face-match score decides.
pub fn decide(
    thresholds: Thresholds,
    submitted_number: &str,
    ocr_number: Option<&str>,
    face_match_score: f64,
) -> VerificationOutcome {
    match ocr_number {
        None => {
            return VerificationOutcome::Reject {
                code: "DOCUMENT_UNREADABLE",
                reason: "Dokumen tidak terbaca / The document could not be read".into(),
            };
        }
        Some(read) if read != submitted_number => {
            return VerificationOutcome::Reject {
                code: "DOCUMENT_NUMBER_MISMATCH",
                reason: "Nomor dokumen tidak sesuai / The number does not match the document"
                    .into(),
            };
        }
        Some(_) => {}
    }
    if face_match_score >= thresholds.approve {
        VerificationOutcome::Verify
    } else if face_match_score < thresholds.reject {
        VerificationOutcome::Reject {
            code: "FACE_MISMATCH",
            reason: "Swafoto tidak cocok dengan foto dokumen / The selfie does not match the document photo".into(),
        }
    } else {
        VerificationOutcome::ManualReview
    }
}

/// A staff reviewer's reason: required for a rejection, 3–500 characters.
pub fn review_reason(raw: Option<&str>, required: bool) -> Result<Option<String>, &'static str> {
    let Some(raw) = raw else {
        return if required {
            Err("REASON_REQUIRED")
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
            TextProblem::Required if required => Err("REASON_REQUIRED"),
            TextProblem::Required => Ok(None),
            TextProblem::InvalidCharacter { .. } => Err(TEXT_INVALID_CHARACTERS),
            TextProblem::TooShort { .. } | TextProblem::TooLong { .. } => Err("REASON_LENGTH"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DocumentNumberError::*;

    const YEAR: i32 = 2026;

    fn nik(s: &str) -> Result<Nik, DocumentNumberError> {
        parse_nik(s, YEAR)
    }

    #[test]
    fn a_valid_male_nik_is_parsed() {
        let parsed = nik("3201011203900001").unwrap();
        assert_eq!(parsed.province, 32);
        assert_eq!(parsed.regency, 1);
        assert_eq!(parsed.district, 1);
        assert_eq!(
            parsed.birth_date,
            NaiveDate::from_ymd_opt(1990, 3, 12).unwrap()
        );
        assert_eq!(parsed.gender, Gender::Male);
        assert_eq!(parsed.serial, 1);
    }

    #[test]
    fn women_have_forty_added_to_the_day() {
        let parsed = nik("3174055203050042").unwrap();
        assert_eq!(parsed.gender, Gender::Female);
        assert_eq!(
            parsed.birth_date,
            NaiveDate::from_ymd_opt(2005, 3, 12).unwrap()
        );
    }

    #[test]
    fn each_structural_rule_has_its_code() {
        for (input, expected) in [
            ("320101120390001", NikLength),
            ("32010112039000011", NikLength),
            ("32010112039O0001", NikNotNumeric),
            ("9901011203900001", NikProvince),
            ("2001011203900001", NikProvince),
            ("3200011203900001", NikRegency),
            ("3201001203900001", NikDistrict),
            ("3201010003900001", NikBirthDay),
            ("3201013203900001", NikBirthDay),
            ("3201017203900001", NikBirthDay),
            ("3201011200900001", NikBirthMonth),
            ("3201011213900001", NikBirthMonth),
            ("3201013102900001", NikBirthDate),
            ("3201017102900001", NikBirthDate),
            ("3201012902990001", NikBirthDate),
            ("3201011203900000", NikSerial),
        ] {
            assert_eq!(nik(input), Err(expected), "{input}");
        }
    }

    #[test]
    fn leap_days_follow_the_resolved_century() {
        // 29 Feb 2000 existed, 29 Feb 2001 did not.
        assert!(nik("3201012902000001").is_ok());
        assert_eq!(nik("3201012902010001"), Err(NikBirthDate));
    }

    #[test]
    fn two_digit_years_resolve_to_the_past() {
        assert_eq!(nik("3201010101260001").unwrap().birth_date.year(), 2026);
        assert_eq!(nik("3201010101270001").unwrap().birth_date.year(), 1927);
    }

    #[test]
    fn codes_are_distinct() {
        let all = [
            NikLength,
            NikNotNumeric,
            NikProvince,
            NikRegency,
            NikDistrict,
            NikBirthDay,
            NikBirthMonth,
            NikBirthDate,
            NikSerial,
            SimFormat,
            NpwpFormat,
            NpwpCheckDigit,
        ];
        let codes: std::collections::BTreeSet<_> = all.iter().map(|e| e.code()).collect();
        assert_eq!(codes.len(), all.len());
    }

    #[test]
    fn separators_are_ignored_and_numbers_masked() {
        let number = parse_document_number(DocumentType::Ktp, " 3201-0112 0390.0001 ").unwrap();
        assert_eq!(number.digits, "3201011203900001");
        assert_eq!(number.masked(), "3201********0001");
        for hostile in [
            "3201011203900001\u{85}",
            "32010112\u{0}03900001",
            "3201011203900001\u{2028}",
            "\t3201011203900001",
        ] {
            assert!(
                parse_document_number(DocumentType::Ktp, hostile).is_err(),
                "{hostile:?}"
            );
        }
    }

    #[test]
    fn sim_numbers_have_twelve_to_fourteen_digits() {
        assert!(parse_document_number(DocumentType::Sim, "1234-5678-9012").is_ok());
        assert!(parse_document_number(DocumentType::Sim, "12345678901234").is_ok());
        for bad in ["12345678901", "123456789012345", "1234-5678-90AB"] {
            assert_eq!(
                parse_document_number(DocumentType::Sim, bad),
                Err(SimFormat),
                "{bad}"
            );
        }
    }

    #[test]
    fn npwp_checks_the_luhn_digit_or_the_nik() {
        // 01.234.567.4-...: Luhn over 01234567 gives check digit 4.
        assert!(parse_document_number(DocumentType::Npwp, "01.234.567.4-012.000").is_ok());
        assert_eq!(
            parse_document_number(DocumentType::Npwp, "01.234.567.5-012.000"),
            Err(NpwpCheckDigit)
        );
        assert!(parse_document_number(DocumentType::Npwp, "3201011203900001").is_ok());
        assert_eq!(
            parse_document_number(DocumentType::Npwp, "3201011203900000"),
            Err(NpwpFormat)
        );
        assert_eq!(
            parse_document_number(DocumentType::Npwp, "1234"),
            Err(NpwpFormat)
        );
    }

    #[test]
    fn thresholds_split_three_ways_and_ocr_mismatch_rejects() {
        let t = Thresholds {
            approve: 0.85,
            reject: 0.5,
        };
        let n = "3201011203900001";
        assert_eq!(decide(t, n, Some(n), 0.85), VerificationOutcome::Verify);
        assert_eq!(
            decide(t, n, Some(n), 0.84),
            VerificationOutcome::ManualReview
        );
        assert_eq!(
            decide(t, n, Some(n), 0.5),
            VerificationOutcome::ManualReview
        );
        assert!(matches!(
            decide(t, n, Some(n), 0.49),
            VerificationOutcome::Reject {
                code: "FACE_MISMATCH",
                ..
            }
        ));
        assert!(matches!(
            decide(t, n, Some("3201011203900002"), 0.99),
            VerificationOutcome::Reject {
                code: "DOCUMENT_NUMBER_MISMATCH",
                ..
            }
        ));
        assert!(matches!(
            decide(t, n, None, 0.99),
            VerificationOutcome::Reject {
                code: "DOCUMENT_UNREADABLE",
                ..
            }
        ));
    }

    #[test]
    fn statuses_round_trip_and_block_resubmission() {
        for s in [
            KycStatus::Pending,
            KycStatus::Verified,
            KycStatus::Rejected,
            KycStatus::Expired,
        ] {
            assert_eq!(KycStatus::from_db(s.as_db()), Some(s));
        }
        assert!(KycStatus::Pending.blocks_resubmission());
        assert!(KycStatus::Verified.blocks_resubmission());
        assert!(!KycStatus::Rejected.blocks_resubmission());
        assert!(!KycStatus::Expired.blocks_resubmission());
    }

    #[test]
    fn review_reasons() {
        assert_eq!(review_reason(None, true), Err("REASON_REQUIRED"));
        assert_eq!(review_reason(Some("   "), true), Err("REASON_REQUIRED"));
        assert_eq!(review_reason(None, false), Ok(None));
        assert_eq!(review_reason(Some("ok"), false), Err("REASON_LENGTH"));
        assert_eq!(
            review_reason(Some(" blurry   photo "), true),
            Ok(Some("blurry photo".into()))
        );
        assert_eq!(
            review_reason(Some("blurry\r\nphoto"), true),
            Ok(Some("blurry photo".into()))
        );
        for hostile in [
            "blurry\u{0}photo",
            "\u{202E}blurry",
            "blur\u{200B}ry",
            "\u{301}blurry",
        ] {
            assert_eq!(
                review_reason(Some(hostile), true),
                Err("TEXT_INVALID_CHARACTERS")
            );
        }
        assert_eq!(
            review_reason(Some(&"x".repeat(501)), true),
            Err("REASON_LENGTH")
        );
    }
}
