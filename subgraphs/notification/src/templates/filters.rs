//! The three filters templates may use: money as Rupiah and dates/times the way the borrower
//! reads them — in their language and their own time zone, because a due date shown in UTC
//! can be a day early for someone in Jayapura.

use chrono::{DateTime, Datelike, NaiveDate, Timelike};
use minijinja::value::{Value, ValueKind};
use minijinja::{Error, ErrorKind};

use super::RenderContext;
use crate::domain::Language;

const MONTHS_ID: [&str; 12] = [
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Integer rupiah the Indonesian way: `Rp1.250.000`, `Rp0`, `-Rp50.000` (a refund keeps its sign).
pub use tenor_platform::money::rupiah as format_rupiah;

/// `15 Januari 2027` / `15 January 2027`.
pub fn format_date(date: NaiveDate, language: Language) -> String {
    let months = match language {
        Language::Id => &MONTHS_ID,
        Language::En => &MONTHS_EN,
    };
    format!(
        "{} {} {}",
        date.day(),
        months[date.month0() as usize],
        date.year()
    )
}

/// A moment in the borrower's zone: `15 Januari 2027 14.05 WIB` (Indonesian writes the time with
/// a dot) / `15 January 2027 14:05 WIB`.
pub fn format_datetime<Tz: chrono::TimeZone>(at: DateTime<Tz>, cx: &RenderContext) -> String {
    let local = at.with_timezone(&cx.zone.offset());
    let separator = match cx.language {
        Language::Id => '.',
        Language::En => ':',
    };
    format!(
        "{} {:02}{separator}{:02} {}",
        format_date(local.date_naive(), cx.language),
        local.hour(),
        local.minute(),
        cx.zone.as_str()
    )
}

/// `{{ amount | rupiah }}`: whole numbers only — a fraction or a text would be a template bug
/// (the wrong variable), better refused at check time than shown as `Rp1.5`.
pub(super) fn rupiah(value: Value) -> Result<String, Error> {
    let amount = match value.kind() {
        ValueKind::Number => i64::try_from(value.clone()).ok(),
        _ => None,
    };
    amount.map(format_rupiah).ok_or_else(|| {
        invalid(format!(
            "rupiah expects a whole number of rupiah, got {}",
            describe(&value)
        ))
    })
}

/// `{{ due_date | date }}`: a calendar date (`2027-01-15`) as it is, a moment (RFC 3339) on the
/// borrower's local calendar.
pub(super) fn date(value: &Value, cx: &RenderContext) -> Result<String, Error> {
    let text = value.as_str().ok_or_else(|| not_a_date("date", value))?;
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(format_date(day, cx.language));
    }
    let at = DateTime::parse_from_rfc3339(text).map_err(|_| not_a_date("date", value))?;
    Ok(format_date(
        at.with_timezone(&cx.zone.offset()).date_naive(),
        cx.language,
    ))
}

/// `{{ approved_at | datetime }}`: a moment (RFC 3339) in the borrower's zone. A bare date has
/// no time to show, so it is refused rather than shown as midnight.
pub(super) fn datetime(value: &Value, cx: &RenderContext) -> Result<String, Error> {
    let at = value
        .as_str()
        .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
        .ok_or_else(|| not_a_date("datetime", value))?;
    Ok(format_datetime(at, cx))
}

fn not_a_date(filter: &str, value: &Value) -> Error {
    let expected = match filter {
        "date" => "a date (2027-01-15) or a time (2027-01-15T07:05:00Z)",
        _ => "a time (2027-01-15T07:05:00Z)",
    };
    invalid(format!(
        "{filter} expects {expected}, got {}",
        describe(value)
    ))
}

fn describe(value: &Value) -> String {
    match value.kind() {
        ValueKind::String => format!("the text {value:?}"),
        ValueKind::None => "none (null)".to_owned(),
        ValueKind::Undefined => "an undefined value".to_owned(),
        kind => format!("{kind} {value}"),
    }
}

fn invalid(message: String) -> Error {
    Error::new(ErrorKind::InvalidOperation, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::IndonesianZone;

    #[test]
    fn rupiah_refuses_what_is_not_whole_rupiah() {
        assert_eq!(rupiah(Value::from(1_250_000)).unwrap(), "Rp1.250.000");
        for bad in [
            Value::from(1.5),
            Value::from("1250000"),
            Value::from(()),
            Value::UNDEFINED,
        ] {
            let error = rupiah(bad.clone()).unwrap_err();
            assert!(
                error.to_string().contains("rupiah expects a whole number"),
                "{bad:?}: {error}"
            );
        }
        // A float with no fraction is still a whole amount (JSON has no integer type).
        assert_eq!(rupiah(Value::from(2000.0)).unwrap(), "Rp2.000");
    }

    #[test]
    fn dates_in_both_languages() {
        let id = RenderContext::default();
        let en = RenderContext {
            language: Language::En,
            zone: IndonesianZone::Wib,
        };
        assert_eq!(
            date(&Value::from("2027-01-15"), &id).unwrap(),
            "15 Januari 2027"
        );
        assert_eq!(
            date(&Value::from("2027-01-15"), &en).unwrap(),
            "15 January 2027"
        );
        assert_eq!(
            date(&Value::from("2027-08-17"), &id).unwrap(),
            "17 Agustus 2027"
        );
        assert_eq!(
            datetime(&Value::from("2027-01-15T07:05:00Z"), &id).unwrap(),
            "15 Januari 2027 14.05 WIB"
        );
        assert_eq!(
            datetime(&Value::from("2027-01-15T07:05:00Z"), &en).unwrap(),
            "15 January 2027 14:05 WIB"
        );
    }

    /// 20:30 UTC on the 14th is already the 15th in Jayapura and Makassar, still the 15th 03:30
    /// in Jakarta: the date a borrower sees is their own.
    #[test]
    fn moments_move_into_the_borrowers_zone() {
        let at = Value::from("2027-01-14T20:30:00Z");
        let zone = |zone| RenderContext {
            language: Language::Id,
            zone,
        };
        assert_eq!(
            datetime(&at, &zone(IndonesianZone::Wib)).unwrap(),
            "15 Januari 2027 03.30 WIB"
        );
        assert_eq!(
            datetime(&at, &zone(IndonesianZone::Wita)).unwrap(),
            "15 Januari 2027 04.30 WITA"
        );
        assert_eq!(
            datetime(&at, &zone(IndonesianZone::Wit)).unwrap(),
            "15 Januari 2027 05.30 WIT"
        );
        let before_midnight = Value::from("2027-01-14T16:30:00Z");
        assert_eq!(
            date(&before_midnight, &zone(IndonesianZone::Wib)).unwrap(),
            "14 Januari 2027"
        );
        assert_eq!(
            date(&before_midnight, &zone(IndonesianZone::Wit)).unwrap(),
            "15 Januari 2027"
        );
    }

    #[test]
    fn what_is_not_a_date_is_refused() {
        let cx = RenderContext::default();
        assert!(date(&Value::from("15/01/2027"), &cx).is_err());
        assert!(date(&Value::from(20270115), &cx).is_err());
        let bare = datetime(&Value::from("2027-01-15"), &cx).unwrap_err();
        assert!(
            bare.to_string().contains("datetime expects a time"),
            "{bare}"
        );
    }
}
