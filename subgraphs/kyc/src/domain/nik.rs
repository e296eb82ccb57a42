//! The NIK (Nomor Induk Kependudukan, the KTP's number): `PP KK CC DDMMYY SSSS` — province,
//! regency, district, birth date (a woman's day + 40), serial.

use chrono::NaiveDate;

use super::document_number::DocumentNumberError;

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gender {
    Male,
    Female,
}

/// What a NIK's structure says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nik {
    pub province: u8,
    pub regency: u8,
    pub district: u8,
    pub birth_date: NaiveDate,
    pub gender: Gender,
    pub serial: u16,
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

#[cfg(test)]
mod tests {
    use chrono::Datelike;

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
}
