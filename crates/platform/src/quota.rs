//! Actions counted over a rolling window: a borrower's loan applications and KYC submissions
//! in any 24 hours. Each buys a call to an outside company (a credit-bureau inquiry, a KYC
//! vendor check) that costs money, so a loop of them must stop somewhere other than the router's
//! per-request rate limit.

use chrono::{DateTime, Duration, Utc};

/// The window the services count in.
pub const DAY: Duration = Duration::hours(24);

/// Whole hours until another action fits in the window, or `None` while there is room.
/// `times` are the actions inside the window (newer than `now − window`), oldest first.
pub fn hours_until_room(
    times: &[DateTime<Utc>],
    limit: u32,
    window: Duration,
    now: DateTime<Utc>,
) -> Option<i64> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    if times.len() < limit {
        return None;
    }
    // A place frees when the action `limit` places from the newest leaves the window.
    let frees_at = times[times.len() - limit] + window;
    let minutes = (frees_at - now).num_minutes().max(0);
    // Rounded up, and never "0 hours".
    Some(((minutes + 59) / 60).max(1))
}

/// "in N hours" as the refusals say it: (Indonesian, English).
pub fn wait_in_words(hours: i64) -> (String, String) {
    let unit = if hours == 1 { "hour" } else { "hours" };
    (format!("{hours} jam"), format!("{hours} {unit}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_frees_as_the_window_rolls() {
        let now = Utc::now();
        let ago = |minutes| now - Duration::minutes(minutes);
        assert_eq!(hours_until_room(&[], 3, DAY, now), None);
        assert_eq!(hours_until_room(&[ago(60), ago(5)], 3, DAY, now), None);
        // The oldest of three leaves the window in 30 minutes: said as 1 hour.
        let full = [ago(23 * 60 + 30), ago(60), ago(5)];
        assert_eq!(hours_until_room(&full, 3, DAY, now), Some(1));
        // Four in the window (a lowered limit): the second oldest decides.
        let more = [ago(23 * 60), ago(10 * 60), ago(60), ago(5)];
        assert_eq!(hours_until_room(&more, 3, DAY, now), Some(14));
        assert_eq!(hours_until_room(&[ago(1)], 1, DAY, now), Some(24));
    }

    #[test]
    fn one_hour_is_singular_in_english() {
        assert_eq!(wait_in_words(1), ("1 jam".into(), "1 hour".into()));
        assert_eq!(wait_in_words(14), ("14 jam".into(), "14 hours".into()));
    }
}
