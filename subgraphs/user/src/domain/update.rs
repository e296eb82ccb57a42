//! The owner edits their profile: name and preferences.

use chrono::{DateTime, Utc};

use super::input::normalise_fullname;
use super::preferences::{IndonesianTimeZone, Language, NotificationChannel};
use super::profile::Profile;
use super::refusal::Rejection;
use super::status::AccountStatus;

/// What the owner asked to change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileUpdate {
    pub fullname: Option<String>,
    pub language: Option<Language>,
    pub time_zone: Option<IndonesianTimeZone>,
    pub notification_channels: Option<Vec<NotificationChannel>>,
    pub marketing_consent: Option<bool>,
}

impl Profile {
    /// The profile after `update`, or every reason to refuse it (all at once, so the app can
    /// mark every faulty field in one round trip). `Ok(None)` when nothing would change.
    pub fn updated(
        &self,
        update: ProfileUpdate,
        now: DateTime<Utc>,
    ) -> Result<Option<Profile>, Vec<Rejection>> {
        match self.status {
            AccountStatus::Deleted => return Err(vec![Rejection::UserNotFound]),
            // A blocked account is under review: its data stays as it was when it was blocked.
            AccountStatus::Blocked => return Err(vec![Rejection::AccountBlocked]),
            AccountStatus::Active | AccountStatus::Inactive => {}
        }
        let mut rejections = Vec::new();
        let mut next = self.clone();

        if let Some(raw) = update.fullname {
            match normalise_fullname(&raw) {
                Ok(name) => next.fullname = name,
                Err(rejection) => rejections.push(rejection),
            }
        }
        if let Some(language) = update.language {
            next.preferences.language = language;
        }
        if let Some(time_zone) = update.time_zone {
            next.preferences.time_zone = time_zone;
        }
        if let Some(mut channels) = update.notification_channels {
            channels.sort();
            channels.dedup();
            if channels.is_empty() {
                rejections.push(Rejection::NoChannel);
            } else if self.phone_number.is_none() && channels.iter().any(|c| c.needs_phone()) {
                rejections.push(Rejection::PhoneNumberRequired);
            } else {
                next.preferences.notification_channels = channels;
            }
        }
        if let Some(consent) = update.marketing_consent {
            // Re-confirming consent keeps the original timestamp: it records when it was given.
            if consent != self.preferences.marketing_consent {
                next.preferences.marketing_consent = consent;
                next.preferences.marketing_consent_at = consent.then_some(now);
            }
        }

        if !rejections.is_empty() {
            return Err(rejections);
        }
        if next == *self {
            return Ok(None);
        }
        next.updated_at = now;
        Ok(Some(next))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::profile::fixtures::{now, profile};

    #[test]
    fn update_collects_every_rejection_and_changes_nothing() {
        let before = profile();
        let rejections = before
            .updated(
                ProfileUpdate {
                    fullname: Some(" ".into()),
                    notification_channels: Some(vec![]),
                    ..Default::default()
                },
                now(),
            )
            .unwrap_err();
        let codes: Vec<_> = rejections.iter().map(Rejection::code).collect();
        assert_eq!(codes, ["FULLNAME_INVALID", "NO_CHANNEL"]);
    }

    #[test]
    fn sms_needs_a_phone_number() {
        let mut p = profile();
        let update = ProfileUpdate {
            notification_channels: Some(vec![NotificationChannel::Sms]),
            ..Default::default()
        };
        assert_eq!(
            p.updated(update.clone(), now()).unwrap_err(),
            vec![Rejection::PhoneNumberRequired]
        );
        p.phone_number = Some("+6281234567890".into());
        let next = p.updated(update, now()).unwrap().unwrap();
        assert_eq!(
            next.preferences.notification_channels,
            vec![NotificationChannel::Sms]
        );
    }

    #[test]
    fn channels_are_sorted_and_deduplicated() {
        let next = profile()
            .updated(
                ProfileUpdate {
                    notification_channels: Some(vec![
                        NotificationChannel::Push,
                        NotificationChannel::Email,
                        NotificationChannel::Push,
                    ]),
                    language: Some(Language::En),
                    ..Default::default()
                },
                now(),
            )
            .unwrap()
            .unwrap();
        assert_eq!(
            next.preferences.notification_channels,
            vec![NotificationChannel::Email, NotificationChannel::Push]
        );
        assert_eq!(next.preferences.language, Language::En);
        assert_eq!(next.updated_at, now());
    }

    #[test]
    fn the_time_zone_changes_alone_and_the_same_zone_is_no_change() {
        let p = profile();
        assert_eq!(p.preferences.time_zone, IndonesianTimeZone::Wib);
        let to_wita = ProfileUpdate {
            time_zone: Some(IndonesianTimeZone::Wita),
            ..Default::default()
        };
        let next = p.updated(to_wita.clone(), now()).unwrap().unwrap();
        assert_eq!(next.preferences.time_zone, IndonesianTimeZone::Wita);
        assert_eq!(next.preferences.language, p.preferences.language);
        assert_eq!(next.updated_at, now());
        assert_eq!(next.updated(to_wita, now()), Ok(None));
    }

    #[test]
    fn a_refused_update_leaves_the_time_zone_alone() {
        let rejections = profile()
            .updated(
                ProfileUpdate {
                    time_zone: Some(IndonesianTimeZone::Wit),
                    notification_channels: Some(vec![]),
                    ..Default::default()
                },
                now(),
            )
            .unwrap_err();
        assert_eq!(rejections, vec![Rejection::NoChannel]);
    }

    #[test]
    fn an_update_that_changes_nothing_is_none() {
        let p = profile();
        let same = ProfileUpdate {
            fullname: Some(" Siti  Rahayu".into()),
            language: Some(Language::Id),
            time_zone: Some(IndonesianTimeZone::Wib),
            marketing_consent: Some(false),
            ..Default::default()
        };
        assert_eq!(p.updated(same, now()), Ok(None));
        assert_eq!(p.updated(ProfileUpdate::default(), now()), Ok(None));
    }

    #[test]
    fn consent_timestamp_is_set_on_grant_kept_on_reconfirm_cleared_on_withdrawal() {
        let grant = ProfileUpdate {
            marketing_consent: Some(true),
            ..Default::default()
        };
        let granted = profile().updated(grant.clone(), now()).unwrap().unwrap();
        assert_eq!(granted.preferences.marketing_consent_at, Some(now()));

        let later = now() + chrono::Duration::days(1);
        assert_eq!(granted.updated(grant, later), Ok(None));

        let withdrawn = granted
            .updated(
                ProfileUpdate {
                    marketing_consent: Some(false),
                    ..Default::default()
                },
                later,
            )
            .unwrap()
            .unwrap();
        assert!(!withdrawn.preferences.marketing_consent);
        assert_eq!(withdrawn.preferences.marketing_consent_at, None);
    }

    #[test]
    fn blocked_and_deleted_accounts_cannot_be_edited() {
        let mut p = profile();
        let update = ProfileUpdate {
            fullname: Some("Budi".into()),
            ..Default::default()
        };
        p.status = AccountStatus::Blocked;
        assert_eq!(
            p.updated(update.clone(), now()),
            Err(vec![Rejection::AccountBlocked])
        );
        p.status = AccountStatus::Deleted;
        assert_eq!(p.updated(update, now()), Err(vec![Rejection::UserNotFound]));
    }
}
