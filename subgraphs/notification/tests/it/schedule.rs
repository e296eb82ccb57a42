//! Quiet hours with injected times: reminders wait for 08:00–20:00 local on a working day.

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};
use tenor_notification::domain::IndonesianZone;
use tenor_notification::schedule::{Holidays, QuietHours, is_allowed_day, next_allowed};
use tenor_platform::config::Env;

/// `2027-01-12 22:00` in `zone`, as the instant it is.
fn local(zone: IndonesianZone, text: &str) -> DateTime<Utc> {
    let naive = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap();
    zone.offset()
        .from_local_datetime(&naive)
        .unwrap()
        .with_timezone(&Utc)
}

fn shown(at: DateTime<Utc>, zone: IndonesianZone) -> String {
    let offset: FixedOffset = zone.offset();
    format!(
        "{} {}",
        at.with_timezone(&offset).format("%a %Y-%m-%d %H:%M"),
        zone.as_str()
    )
}

#[test]
fn ten_pm_waits_for_eight_the_next_morning() {
    // Tuesday 12 January 2027, 22:00 WIB (15:00 UTC).
    let now = local(IndonesianZone::Wib, "2027-01-12 22:00");
    assert_eq!(
        now,
        "2027-01-12T15:00:00Z".parse::<DateTime<Utc>>().unwrap()
    );
    let at = next_allowed(now, IndonesianZone::Wib, &Holidays::national());
    assert_eq!(shown(at, IndonesianZone::Wib), "Wed 2027-01-13 08:00 WIB");
    assert_eq!(at, "2027-01-13T01:00:00Z".parse::<DateTime<Utc>>().unwrap());
}

#[test]
fn saturday_night_waits_for_monday_in_papua() {
    let now = local(IndonesianZone::Wit, "2027-01-09 21:00");
    let at = next_allowed(now, IndonesianZone::Wit, &Holidays::national());
    assert_eq!(shown(at, IndonesianZone::Wit), "Mon 2027-01-11 08:00 WIT");
    assert_eq!(at, "2027-01-10T23:00:00Z".parse::<DateTime<Utc>>().unwrap());
}

#[test]
fn a_holiday_is_skipped() {
    // Thursday 24 December 2026, 22:00 WIB: Friday is Christmas, so Saturday 08:00.
    let now = local(IndonesianZone::Wib, "2026-12-24 22:00");
    let at = next_allowed(now, IndonesianZone::Wib, &Holidays::national());
    assert_eq!(shown(at, IndonesianZone::Wib), "Sat 2026-12-26 08:00 WIB");
    // Without the holiday list the same moment would be Friday 08:00: the list is what moved it.
    let without = next_allowed(now, IndonesianZone::Wib, &Holidays::none());
    assert_eq!(
        shown(without, IndonesianZone::Wib),
        "Fri 2026-12-25 08:00 WIB"
    );
    // During the day on a holiday: the next allowed day, not "now".
    let midday = local(IndonesianZone::Wita, "2026-08-17 10:00");
    let at = next_allowed(midday, IndonesianZone::Wita, &Holidays::national());
    assert_eq!(shown(at, IndonesianZone::Wita), "Tue 2026-08-18 08:00 WITA");
}

#[test]
fn holidays_and_sundays_in_a_row() {
    // Friday 20 March 2026 at 20:30 WIB: Idulfitri falls on Saturday 21 and Sunday 22 March,
    // so the next allowed morning is Monday 23 March.
    let now = local(IndonesianZone::Wib, "2026-03-20 20:30");
    let at = next_allowed(now, IndonesianZone::Wib, &Holidays::national());
    assert_eq!(shown(at, IndonesianZone::Wib), "Mon 2026-03-23 08:00 WIB");
}

#[test]
fn the_window_edges() {
    let holidays = Holidays::national();
    let zone = IndonesianZone::Wib;
    let early = local(zone, "2027-01-12 07:59");
    assert_eq!(
        shown(next_allowed(early, zone, &holidays), zone),
        "Tue 2027-01-12 08:00 WIB"
    );
    let opening = local(zone, "2027-01-12 08:00");
    assert_eq!(next_allowed(opening, zone, &holidays), opening);
    let last_minute = local(zone, "2027-01-12 19:59");
    assert_eq!(next_allowed(last_minute, zone, &holidays), last_minute);
    let closing = local(zone, "2027-01-12 20:00");
    assert_eq!(
        shown(next_allowed(closing, zone, &holidays), zone),
        "Wed 2027-01-13 08:00 WIB"
    );
}

/// One instant, three zones: 13:30 UTC is 20:30 in Jakarta (too late), 21:30 in Makassar and
/// 22:30 in Jayapura; 00:30 UTC is 07:30 WIB (wait), 08:30 WITA and 09:30 WIT (send).
#[test]
fn the_same_instant_differs_per_zone() {
    let holidays = Holidays::none();
    let morning: DateTime<Utc> = "2027-01-12T00:30:00Z".parse().unwrap();
    assert_eq!(
        shown(
            next_allowed(morning, IndonesianZone::Wib, &holidays),
            IndonesianZone::Wib
        ),
        "Tue 2027-01-12 08:00 WIB"
    );
    assert_eq!(
        next_allowed(morning, IndonesianZone::Wita, &holidays),
        morning
    );
    assert_eq!(
        next_allowed(morning, IndonesianZone::Wit, &holidays),
        morning
    );
    let evening: DateTime<Utc> = "2027-01-12T13:30:00Z".parse().unwrap();
    for zone in [
        IndonesianZone::Wib,
        IndonesianZone::Wita,
        IndonesianZone::Wit,
    ] {
        assert_eq!(
            shown(next_allowed(evening, zone, &holidays), zone),
            format!("Wed 2027-01-13 08:00 {}", zone.as_str())
        );
    }
}

#[test]
fn sundays_are_never_allowed() {
    let sunday = NaiveDate::from_ymd_opt(2027, 1, 10).unwrap();
    assert!(!is_allowed_day(sunday, &Holidays::none()));
    assert!(is_allowed_day(
        sunday.succ_opt().unwrap(),
        &Holidays::none()
    ));
    let noon = local(IndonesianZone::Wib, "2027-01-10 12:00");
    assert_eq!(
        shown(
            next_allowed(noon, IndonesianZone::Wib, &Holidays::none()),
            IndonesianZone::Wib
        ),
        "Mon 2027-01-11 08:00 WIB"
    );
}

#[test]
fn a_holidays_file_adds_days() {
    let path = std::env::temp_dir().join(format!("holidays-{}.toml", uuid::Uuid::new_v4()));
    std::fs::write(
        &path,
        "[[holiday]]\ndate = 2027-01-12\nname = \"Cuti bersama (test)\"\n",
    )
    .unwrap();
    let mut env = Env::from_pairs([("NOTIFICATION_HOLIDAYS_FILE", path.display().to_string())]);
    let quiet = QuietHours::from_env(&mut env);
    let quiet = env.finish(quiet).unwrap();
    std::fs::remove_file(&path).unwrap();
    let now = local(IndonesianZone::Wib, "2027-01-12 10:00");
    assert_eq!(
        shown(
            quiet.next_allowed(now, IndonesianZone::Wib),
            IndonesianZone::Wib
        ),
        "Wed 2027-01-13 08:00 WIB"
    );
    // The national list is still there.
    assert!(
        quiet
            .holidays
            .is_holiday(NaiveDate::from_ymd_opt(2027, 8, 17).unwrap())
    );
    // Without the variable: national holidays only.
    let mut env = Env::from_pairs(Vec::<(String, String)>::new());
    let quiet = QuietHours::from_env(&mut env);
    let quiet = env.finish(quiet).unwrap();
    assert_eq!(quiet, QuietHours::default());
    assert_eq!(quiet.next_allowed(now, IndonesianZone::Wib), now);
}

#[test]
fn a_bad_holidays_file_stops_the_service_naming_it() {
    let path = std::env::temp_dir().join(format!("holidays-{}.toml", uuid::Uuid::new_v4()));
    std::fs::write(&path, "[[holiday]]\ndate = 2027-02-30\nname = \"x\"\n").unwrap();
    let mut env = Env::from_pairs([("NOTIFICATION_HOLIDAYS_FILE", path.display().to_string())]);
    let quiet = QuietHours::from_env(&mut env);
    let errors = env.finish(quiet).unwrap_err();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(errors.vars(), ["NOTIFICATION_HOLIDAYS_FILE"]);
    // The problem and its line, never the setting's value (the path) nor the file's text.
    let message = errors.to_string();
    assert!(message.contains("line 2"), "{message}");
    assert!(!message.contains(&path.display().to_string()), "{message}");
    assert!(!message.contains("2027-02-30"), "{message}");

    let mut env = Env::from_pairs([("NOTIFICATION_HOLIDAYS_FILE", "/nonexistent/holidays.toml")]);
    let quiet = QuietHours::from_env(&mut env);
    let message = env.finish(quiet).unwrap_err().to_string();
    assert!(message.contains("cannot be read"), "{message}");
    assert!(!message.contains("/nonexistent"), "{message}");
}
