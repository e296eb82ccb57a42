//! Indonesia's national holidays (libur nasional) as dated lists. Islamic and Chinese holidays
//! move every year and the government fixes them by decree, so they cannot be computed: the
//! list is data, compiled in from `subgraphs/notification/holidays/*.toml`, and an operator can
//! add dates (a newly decreed holiday, the next year's list) with `NOTIFICATION_HOLIDAYS_FILE`
//! without a release.
//!
//! File format:
//! ```toml
//! [[holiday]]
//! date = 2026-08-17
//! name = "Hari Proklamasi Kemerdekaan RI"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Deserialize;

const COMPILED_IN: [(&str, &str); 2] = [
    (
        "holidays/2026.toml",
        include_str!("../../holidays/2026.toml"),
    ),
    (
        "holidays/2027.toml",
        include_str!("../../holidays/2027.toml"),
    ),
];

/// Days on which no reminder or collection message is sent, wherever the borrower lives
/// (national holidays apply in all three zones).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Holidays {
    days: BTreeMap<NaiveDate, String>,
}

/// A holiday file that cannot be used; the message names the file and the problem (without
/// quoting the file). [`HolidaysError::problem`] is the same without the path, for a setting's
/// error, which must not echo the setting's value.
#[derive(Debug, thiserror::Error)]
pub enum HolidaysError {
    #[error("{path}: cannot read it: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {problem}")]
    Malformed { path: PathBuf, problem: String },
}

/// `message` with every double-quoted part (the parser quotes the file's values) replaced by `…`.
fn unquoted(message: &str) -> String {
    message
        .split('"')
        .enumerate()
        .map(|(i, part)| if i % 2 == 1 { "…" } else { part })
        .collect()
}

impl HolidaysError {
    pub fn problem(&self) -> String {
        match self {
            Self::Read { source, .. } => format!("cannot be read ({})", source.kind()),
            Self::Malformed { problem, .. } => problem.clone(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HolidayFile {
    #[serde(default)]
    holiday: Vec<Holiday>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Holiday {
    date: toml::value::Datetime,
    name: String,
}

impl Holidays {
    /// No holidays at all: Sundays and the hours still hold. For tests that want only those.
    pub fn none() -> Self {
        Self::default()
    }

    /// The compiled-in national holidays (2026 and 2027).
    pub fn national() -> Self {
        let mut holidays = Self::none();
        for (name, text) in COMPILED_IN {
            holidays
                .add_toml(Path::new(name), text)
                .expect("the compiled-in holiday lists are valid");
        }
        holidays
    }

    /// The national holidays plus those in the file at `path`.
    pub fn national_and_file(path: &Path) -> Result<Self, HolidaysError> {
        let text = std::fs::read_to_string(path).map_err(|source| HolidaysError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut holidays = Self::national();
        holidays.add_toml(path, &text)?;
        Ok(holidays)
    }

    /// Adds the holidays of a file's text; `path` only names it in errors. Nothing is added when
    /// any entry is bad.
    pub fn add_toml(&mut self, path: &Path, text: &str) -> Result<(), HolidaysError> {
        let malformed = |problem: String| HolidaysError::Malformed {
            path: path.to_owned(),
            problem,
        };
        // Problems name a line or an entry's position, never the file's text: a configuration
        // error is logged, and the file is not ours to print.
        let file: HolidayFile = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(0, |span| {
                text[..span.start.min(text.len())].matches('\n').count() + 1
            });
            malformed(format!("line {line}: {}", unquoted(e.message().trim())))
        })?;
        let mut parsed = Vec::with_capacity(file.holiday.len());
        for (position, holiday) in file.holiday.into_iter().enumerate() {
            let entry = position + 1;
            let day = calendar_day(&holiday.date).ok_or_else(|| {
                malformed(format!(
                    "holiday {entry}: the date must be a plain date such as 2026-08-17"
                ))
            })?;
            if holiday.name.trim().is_empty() {
                return Err(malformed(format!("holiday {entry} has no name")));
            }
            parsed.push((day, holiday.name));
        }
        self.days.extend(parsed);
        Ok(())
    }

    /// Adds one day (tests, tools).
    pub fn with(mut self, day: NaiveDate, name: &str) -> Self {
        self.days.insert(day, name.to_owned());
        self
    }

    pub fn is_holiday(&self, day: NaiveDate) -> bool {
        self.days.contains_key(&day)
    }

    /// The holiday's name, for logs explaining why a message waits.
    pub fn name(&self, day: NaiveDate) -> Option<&str> {
        self.days.get(&day).map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.days.len()
    }

    pub fn is_empty(&self) -> bool {
        self.days.is_empty()
    }
}

/// A TOML local date (`2026-08-17`); a time or an offset would make "which day" ambiguous.
fn calendar_day(value: &toml::value::Datetime) -> Option<NaiveDate> {
    if value.time.is_some() || value.offset.is_some() {
        return None;
    }
    let date = value.date?;
    NaiveDate::from_ymd_opt(
        i32::from(date.year),
        u32::from(date.month),
        u32::from(date.day),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn national_lists_hold_the_fixed_holidays() {
        let holidays = Holidays::national();
        for fixed in [
            "2026-01-01",
            "2026-05-01",
            "2026-06-01",
            "2026-08-17",
            "2026-12-25",
            "2027-01-01",
            "2027-08-17",
            "2027-12-25",
        ] {
            assert!(holidays.is_holiday(day(fixed)), "{fixed}");
        }
        assert!(!holidays.is_holiday(day("2026-08-18")));
        assert_eq!(
            holidays.name(day("2026-08-17")),
            Some("Hari Proklamasi Kemerdekaan Republik Indonesia")
        );
    }

    #[test]
    fn a_bad_file_names_itself_and_adds_nothing() {
        let mut holidays = Holidays::none();
        let path = Path::new("/etc/tenor/holidays.toml");
        for (text, expected) in [
            (
                "[[holiday]]\ndate = 2026-02-30\nname = \"x\"",
                "/etc/tenor/holidays.toml",
            ),
            (
                "[[holiday]]\ndate = \"2026-01-02\"\nname = \"x\"",
                "/etc/tenor/holidays.toml",
            ),
            (
                "[[holiday]]\ndate = 2026-01-02T08:00:00\nname = \"x\"",
                "plain date",
            ),
            (
                "[[holiday]]\ndate = 2026-01-02\nname = \" \"",
                "has no name",
            ),
            (
                "[[holiday]]\ndate = 2026-01-02\nnama = \"x\"",
                "unknown field",
            ),
        ] {
            let error = holidays.add_toml(path, text).unwrap_err();
            let (full, problem) = (error.to_string(), error.problem());
            assert!(full.contains(expected), "{text}: {full}");
            assert!(full.starts_with("/etc/tenor/holidays.toml: "), "{full}");
            assert!(!problem.contains("/etc/tenor"), "{problem}");
            assert!(
                !problem.contains("\"x\"")
                    && !problem.contains("2026-01-02")
                    && !problem.contains("2026-02-30"),
                "{problem}"
            );
        }
        assert!(holidays.is_empty());
        holidays
            .add_toml(path, "[[holiday]]\ndate = 2026-01-02\nname = \"Cuti\"")
            .unwrap();
        assert!(holidays.is_holiday(day("2026-01-02")));
    }

    #[test]
    fn a_missing_file_is_named() {
        let error = Holidays::national_and_file(Path::new("/nonexistent/holidays.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("/nonexistent/holidays.toml: cannot read it"),
            "{error}"
        );
    }
}
