//! Document numbers as customers type them: separators dropped, each type's structure checked
//! (KTP → the NIK rules, SIM, NPWP with its check digit), and a mask for display.

use chrono::Datelike;
use tenor_contracts::kyc::DocumentType;

use super::nik::parse_nik;

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

/// The year two-digit NIK birth years are resolved against.
pub fn this_year() -> i32 {
    chrono::Utc::now().year()
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

#[cfg(test)]
mod tests {
    use super::*;
    use DocumentNumberError::*;

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
}
