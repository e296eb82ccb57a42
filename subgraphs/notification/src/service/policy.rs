//! The pure rules of intake and delivery: which channels an event goes to and where, how long
//! to wait before the next try, and which rate-limit window a moment falls in. No I/O.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::domain::ChannelKind;
use crate::store::Contact;

/// Where one channel's message goes, or why it does not go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    To(String),
    Skip(&'static str),
}

/// The channels an event goes to: its catalog channels that the borrower chose (all of them
/// before the borrower chose any), each with its address or why it is skipped. Every event
/// handled today is transactional, so the marketing consent does not enter into it; a
/// marketing event would be dropped here for a borrower who did not consent.
pub fn routes(
    catalog_channels: &[ChannelKind],
    contact: &Contact,
    transactional: bool,
    configured: impl Fn(ChannelKind) -> bool,
) -> Vec<(ChannelKind, Route)> {
    if !transactional && !contact.marketing_consent {
        return Vec::new();
    }
    catalog_channels
        .iter()
        .copied()
        .filter(|channel| {
            contact
                .channels
                .as_ref()
                .is_none_or(|chosen| chosen.contains(channel))
        })
        .map(|channel| {
            let address = match channel {
                ChannelKind::Email => contact.email.clone(),
                ChannelKind::Sms | ChannelKind::Whatsapp => contact.phone_number.clone(),
                // Push goes to the user's devices; the provider adapter resolves them.
                ChannelKind::Push => Some(contact.user_id.to_string()),
            };
            let route = match address {
                _ if !configured(channel) => Route::Skip(not_available(channel)),
                Some(address) => Route::To(address),
                None if channel == ChannelKind::Email => Route::Skip("no email address"),
                None => Route::Skip("no phone number"),
            };
            (channel, route)
        })
        .collect()
}

fn not_available(channel: ChannelKind) -> &'static str {
    match channel {
        ChannelKind::Email => "email not available",
        ChannelKind::Sms => "sms not available",
        ChannelKind::Whatsapp => "whatsapp not available",
        ChannelKind::Push => "push not available",
    }
}

/// The wait before try number `attempts + 1` after `attempts` failed ones: `initial`,
/// doubled each time, at most `max`, times `jitter` (0.8–1.2, so retries of many messages
/// failed by one outage spread out).
pub fn backoff(initial: Duration, max: Duration, attempts: u32, jitter: f64) -> Duration {
    let factor = 2u32.saturating_pow(attempts.saturating_sub(1).min(30));
    initial
        .saturating_mul(factor)
        .min(max)
        .mul_f64(jitter.clamp(0.5, 1.5))
}

/// The number of the rate-limit window `at` falls in, and when the next one starts.
pub fn rate_window(at: DateTime<Utc>, length: Duration) -> (i64, DateTime<Utc>) {
    let length_ms = i64::try_from(length.as_millis()).unwrap_or(i64::MAX).max(1);
    let window = at.timestamp_millis().div_euclid(length_ms);
    let next =
        DateTime::from_timestamp_millis((window + 1).saturating_mul(length_ms)).unwrap_or(at);
    (window, next)
}

/// Where in the app an event's item leads.
pub fn link(event_type: &str, data: &serde_json::Value) -> Option<String> {
    let loan = data.get("loan_id").and_then(serde_json::Value::as_str);
    match event_type.split('.').next() {
        Some("loan") => loan.map(|id| format!("tenor://loans/{id}")),
        Some("kyc") => Some("tenor://kyc".to_owned()),
        Some("auth") => Some("tenor://security".to_owned()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn contact() -> Contact {
        Contact {
            user_id: Uuid::nil(),
            email: Some("siti@example.id".into()),
            phone_number: None,
            ..Contact::default()
        }
    }

    #[test]
    fn channels_are_the_catalogs_that_the_borrower_chose_with_addresses() {
        let all = [ChannelKind::Email, ChannelKind::Sms, ChannelKind::Push];
        let routes_of = |c: &Contact| routes(&all, c, true, |k| k != ChannelKind::Push);
        assert_eq!(
            routes_of(&contact()),
            vec![
                (ChannelKind::Email, Route::To("siti@example.id".into())),
                (ChannelKind::Sms, Route::Skip("no phone number")),
                (ChannelKind::Push, Route::Skip("push not available")),
            ]
        );
        let chose_sms = Contact {
            channels: Some(vec![ChannelKind::Sms]),
            phone_number: Some("+628123".into()),
            ..contact()
        };
        assert_eq!(
            routes_of(&chose_sms),
            vec![(ChannelKind::Sms, Route::To("+628123".into()))]
        );
    }

    #[test]
    fn marketing_needs_consent_and_transactional_does_not() {
        let all = [ChannelKind::Email];
        assert!(routes(&all, &contact(), false, |_| true).is_empty());
        assert_eq!(routes(&all, &contact(), true, |_| true).len(), 1);
        let consenting = Contact {
            marketing_consent: true,
            ..contact()
        };
        assert_eq!(routes(&all, &consenting, false, |_| true).len(), 1);
    }

    #[test]
    fn backoff_doubles_up_to_the_maximum() {
        let (initial, max) = (Duration::from_secs(1), Duration::from_secs(300));
        assert_eq!(backoff(initial, max, 1, 1.0), Duration::from_secs(1));
        assert_eq!(backoff(initial, max, 3, 1.0), Duration::from_secs(4));
        assert_eq!(backoff(initial, max, 40, 1.0), max);
        assert_eq!(backoff(initial, max, 1, 1.2), Duration::from_millis(1200));
    }

    #[test]
    fn rate_windows_are_fixed_and_the_next_one_follows() {
        let at = DateTime::parse_from_rfc3339("2027-01-15T10:59:59Z")
            .unwrap()
            .with_timezone(&Utc);
        let (window, next) = rate_window(at, Duration::from_secs(3600));
        assert_eq!(next.to_rfc3339(), "2027-01-15T11:00:00+00:00");
        let (same, _) = rate_window(
            at - chrono::Duration::minutes(59),
            Duration::from_secs(3600),
        );
        assert_eq!(window, same);
    }
}
