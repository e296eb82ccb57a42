//! When a reminder or collection message may reach a borrower: 08:00–20:00 in their own time
//! zone, not on Sundays, not on national holidays. Outside that window a message is deferred to
//! the next moment it is allowed, never dropped. (Indonesian debt-collection rules limit contact
//! to these hours; a reminder at 22:00 also simply reads as harassment.)
//!
//! Time is always passed in, never read here, so the service and its tests decide what "now" is.

mod holidays;

use std::path::PathBuf;

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use tenor_platform::config::Env;

pub use holidays::{Holidays, HolidaysError};

use crate::domain::IndonesianZone;

/// The first local hour a message may be sent.
pub const WINDOW_START_HOUR: u32 = 8;
/// The local hour from which messages wait for the next allowed day (20:00 itself is too late).
pub const WINDOW_END_HOUR: u32 = 20;

/// `now` when it is inside the window on an allowed day in `zone`; otherwise 08:00 local time of
/// the next allowed day (today, when it is still before 08:00 on an allowed day).
pub fn next_allowed(
    now: DateTime<Utc>,
    zone: IndonesianZone,
    holidays: &Holidays,
) -> DateTime<Utc> {
    let offset = zone.offset();
    let local = now.with_timezone(&offset);
    let today = local.date_naive();
    let start = NaiveTime::from_hms_opt(WINDOW_START_HOUR, 0, 0).expect("a valid hour");
    let end = NaiveTime::from_hms_opt(WINDOW_END_HOUR, 0, 0).expect("a valid hour");
    if is_allowed_day(today, holidays) {
        if local.time() >= start && local.time() < end {
            return now;
        }
        if local.time() < start {
            return at_local(today, start, zone);
        }
    }
    let next_day = next_allowed_day(today, holidays);
    at_local(next_day, start, zone)
}

/// Whether messages may go out at all on `day` (local calendar).
pub fn is_allowed_day(day: NaiveDate, holidays: &Holidays) -> bool {
    day.weekday() != Weekday::Sun && !holidays.is_holiday(day)
}

/// The first allowed day after `day`. Holidays are a few dozen days a year, so the search ends
/// within days; the bound only guards against a file that lists every day.
fn next_allowed_day(day: NaiveDate, holidays: &Holidays) -> NaiveDate {
    let mut candidate = day;
    for _ in 0..366 {
        candidate = candidate + Days::new(1);
        if is_allowed_day(candidate, holidays) {
            return candidate;
        }
    }
    candidate
}

fn at_local(day: NaiveDate, time: NaiveTime, zone: IndonesianZone) -> DateTime<Utc> {
    zone.offset()
        .from_local_datetime(&day.and_time(time))
        .single()
        .expect("a fixed offset maps every local time to one instant")
        .with_timezone(&Utc)
}

/// The quiet-hours settings of the service: the holidays it respects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuietHours {
    pub holidays: Holidays,
}

impl QuietHours {
    /// `NOTIFICATION_HOLIDAYS_FILE` (optional): a TOML file of extra dated holidays (same format
    /// as `subgraphs/notification/holidays/*.toml`) added to the compiled-in national ones. A
    /// file that cannot be read or parsed is a configuration error naming the file, so the
    /// service stops at start instead of messaging borrowers on a holiday.
    pub fn from_env(env: &mut Env) -> Self {
        let file: Option<PathBuf> = env.maybe("NOTIFICATION_HOLIDAYS_FILE");
        let holidays = match file {
            None => Holidays::national(),
            Some(path) => Holidays::national_and_file(&path).unwrap_or_else(|error| {
                env.fail("NOTIFICATION_HOLIDAYS_FILE", error.problem());
                Holidays::national()
            }),
        };
        Self { holidays }
    }

    /// [`next_allowed`] with these holidays.
    pub fn next_allowed(&self, now: DateTime<Utc>, zone: IndonesianZone) -> DateTime<Utc> {
        next_allowed(now, zone, &self.holidays)
    }
}

impl Default for QuietHours {
    /// The compiled-in national holidays.
    fn default() -> Self {
        Self {
            holidays: Holidays::national(),
        }
    }
}
