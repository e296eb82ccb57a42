//! An event becomes one inbox item and one notification per channel, rendered now with the
//! active templates in the borrower's language (what is stored is what is sent).
//!
//! ```text
//!  event ─► handled before? (Redis key, fast path) ─yes─► nothing
//!        └► contact ─► channels = catalog ∩ chosen, each with its address or a skip reason
//!           ─► per channel: render ─► notifications insert (unique event+channel)
//!           ─► inbox item insert (_id = event id) ─► its announcement + inbox.added event
//!           ─► account deleted meanwhile? ─yes─► erase what was stored
//!           ─► ring the worker ─► Redis key SET NX (handled)
//! ```
//!
//! Every write is an insert refused as a duplicate the second time, so a redelivered event (or
//! one whose first handling died half-way) adds only what is missing. The Redis key is set last,
//! after every write: a crash before it costs the redelivery a few refused inserts, never a lost
//! notification. Nothing is sent here; the worker sends (see [`super::delivery`]).

use std::collections::HashMap;

use anyhow::Context as _;
use tenor_events::Envelope;
use uuid::Uuid;

use super::NotificationService;
use super::policy::{self, Route};
use crate::domain::{ChannelKind, Language};
use crate::events::publish;
use crate::store::notifications::{self, Notification, NotificationStatus};
use crate::store::{Contact, InboxItem, inbox};
use crate::templates::{self, EventEntry, RenderContext, Rendered, TemplateKey};

/// What intake did with one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intake {
    /// Not an event borrowers hear about.
    Ignored,
    /// Its Redis key says it was handled before.
    AlreadyHandled,
    /// The borrower's account is deleted: nothing is stored or sent.
    AccountDeleted,
    /// Handled: how many notifications and inbox items were new (0 on a redelivery).
    Stored {
        notifications: usize,
        inbox_item: bool,
    },
}

/// Why intake could not handle an event.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    /// The event will never be handled (no user id): a permanent failure.
    #[error("malformed event: {0}")]
    Malformed(String),
    /// Worth trying again (MongoDB away).
    #[error(transparent)]
    Unavailable(#[from] anyhow::Error),
}

impl NotificationService {
    #[tracing::instrument(skip_all, fields(event_id = %event.id(), event_type = event.event_type()))]
    pub async fn accept(&self, event: &Envelope) -> Result<Intake, IntakeError> {
        let Some(entry) = templates::entry(event.event_type()) else {
            return Ok(Intake::Ignored);
        };
        let event_id = event.id();
        match self.cache.was_handled(event_id).await {
            Ok(true) => return Ok(Intake::AlreadyHandled),
            Ok(false) => {}
            Err(error) => {
                tracing::warn!(%error, "dedupe fast path unavailable; the indexes decide")
            }
        }
        let data = event.to_json().get("data").cloned().unwrap_or_default();
        let user: Uuid = data
            .get("user_id")
            .and_then(serde_json::Value::as_str)
            .and_then(|id| id.parse().ok())
            .ok_or_else(|| IntakeError::Malformed("no user_id in its data".to_owned()))?;
        let contact = self
            .contact(user)
            .await
            .context("reading the contact")?
            .unwrap_or(Contact {
                user_id: user,
                ..Contact::default()
            });
        if contact.is_deleted() {
            tracing::info!("account deleted; nothing sent");
            return Ok(Intake::AccountDeleted);
        }
        if let Some(hook) = &self.after_contact_read {
            hook(user).await;
        }
        let stored = self.store(event_id, entry, &data, &contact).await?;
        // Another replica may have applied the account's deletion since the read above (its
        // events and this one's arrive on different partitions).
        if self
            .erase_if_deleted(user)
            .await
            .context("checking the account")?
        {
            tracing::info!("account deleted meanwhile; what this event stored is erased");
            return Ok(Intake::AccountDeleted);
        }
        self.work.notify_one();
        let ttl = self.settings.delivery.dedupe_ttl;
        if let Err(error) = self.cache.mark_handled(event_id, ttl).await {
            tracing::warn!(%error, "dedupe key not set; a redelivery will be refused by the indexes");
        }
        Ok(stored)
    }

    /// Render and store the event's notifications and inbox item.
    async fn store(
        &self,
        event_id: Uuid,
        entry: &EventEntry,
        data: &serde_json::Value,
        contact: &Contact,
    ) -> anyhow::Result<Intake> {
        let cx = RenderContext {
            language: contact.language,
            zone: contact.zone,
        };
        let name = contact.fullname.clone().unwrap_or_else(|| {
            match contact.language {
                Language::Id => "Nasabah",
                Language::En => "Customer",
            }
            .to_owned()
        });
        let mut variables = templates::variables_with_name(data, &name);
        templates::in_borrower_language(entry.event_type, &mut variables, contact.language);
        let now = self.now();
        let due = if entry.quiet_hours {
            self.settings.quiet_hours.next_allowed(now, contact.zone)
        } else {
            now
        };
        let link = policy::link(entry.event_type, data);
        // Each channel's text side by side: one event costs a few round trips to the store, not
        // a few per channel (the consumer takes events one at a time).
        let rendered: HashMap<ChannelKind, Result<Rendered, String>> =
            futures::future::try_join_all(entry.channels.iter().map(|&channel| {
                let (cx, variables) = (&cx, &variables);
                async move {
                    let text = self
                        .render(entry.event_type, channel, cx, variables)
                        .await?;
                    Ok::<_, anyhow::Error>((channel, text))
                }
            }))
            .await?
            .into_iter()
            .collect();

        let routes = policy::routes(entry.channels, contact, entry.transactional, |kind| {
            self.channels.get(kind).is_some()
        });
        let mut deliveries = Vec::new();
        for (channel, route) in routes {
            let text = rendered
                .get(&channel)
                .cloned()
                .unwrap_or_else(|| Err("no template".to_owned()));
            let mut notification = Notification {
                id: Uuid::now_v7(),
                event_id,
                event_type: entry.event_type.to_owned(),
                user_id: contact.user_id,
                category: entry.category,
                channel,
                to: String::new(),
                language: contact.language,
                zone: contact.zone,
                title: String::new(),
                content: String::new(),
                link: link.clone(),
                quiet_hours: entry.quiet_hours,
                status: NotificationStatus::Pending,
                skip_reason: None,
                failure_reason: None,
                attempts: Vec::new(),
                next_attempt_at: Some(due),
                provider_message_id: None,
                created_at: now,
                sent_at: None,
                failed_at: None,
            };
            match (route, text) {
                (Route::Skip(why), _) => {
                    notification.status = NotificationStatus::Skipped;
                    notification.skip_reason = Some(why.to_owned());
                    notification.next_attempt_at = None;
                }
                (Route::To(_), Err(why)) => {
                    // A template that cannot render this event will not render it on a retry.
                    notification.status = NotificationStatus::Failed;
                    notification.failure_reason = Some(format!("template: {why}"));
                    notification.failed_at = Some(now);
                    notification.next_attempt_at = None;
                }
                (Route::To(address), Ok(text)) => {
                    notification.to = address;
                    notification.title = text.title;
                    notification.content = text.body;
                }
            }
            deliveries.push(notification);
        }
        let collection = self.notifications();
        let inserted = futures::future::try_join_all(
            deliveries
                .iter()
                .map(|n| notifications::insert_if_absent(&collection, n)),
        )
        .await?;
        let mut created = 0;
        for (notification, _) in deliveries.iter().zip(inserted).filter(|(_, new)| *new) {
            created += 1;
            metrics::counter!(
                "notification_created_total",
                "channel" => notification.channel.as_str(),
                "status" => crate::store::serde_name(&notification.status)
            )
            .increment(1);
        }

        let inbox_text = inbox_text(entry, &rendered);
        let item = InboxItem {
            id: event_id,
            user_id: contact.user_id,
            event_type: entry.event_type.to_owned(),
            category: entry.category,
            title: inbox_text.title,
            content: inbox_text.body,
            link,
            created_at: now,
            read_at: None,
        };
        let inbox_item = inbox::insert_item(&self.inbox(), &item).await?;
        let events = publish::inbox_added(&self.publisher, &item)?;
        if inbox::insert_announcement(&self.announcements(), &item, events).await? {
            self.publisher.wake_relay();
        }
        tracing::info!(created, inbox_item, "event taken in");
        Ok(Intake::Stored {
            notifications: created,
            inbox_item,
        })
    }

    /// The event's message on `channel` in the borrower's language — Indonesian when there is no
    /// active template in theirs — or why it cannot be rendered.
    async fn render(
        &self,
        event_type: &str,
        channel: ChannelKind,
        cx: &RenderContext,
        variables: &serde_json::Value,
    ) -> anyhow::Result<Result<Rendered, String>> {
        let mut languages = vec![cx.language];
        if cx.language != Language::Id {
            languages.push(Language::Id);
        }
        for language in languages {
            let key = TemplateKey::new(event_type, channel, language);
            let Some(source) = self.active_template(&key).await? else {
                continue;
            };
            let cx = RenderContext { language, ..*cx };
            return Ok(templates::render(&source, variables, &cx).map_err(|error| {
                tracing::error!(%error, template = %key, "active template failed to render");
                format!("{} ({error})", error.code())
            }));
        }
        Ok(Err("no template".to_owned()))
    }
}

/// What the inbox shows: the push text (short, made for a phone), else the SMS, else the email.
fn inbox_text(
    entry: &EventEntry,
    rendered: &HashMap<ChannelKind, Result<Rendered, String>>,
) -> Rendered {
    [
        ChannelKind::Push,
        ChannelKind::Sms,
        ChannelKind::Whatsapp,
        ChannelKind::Email,
    ]
    .iter()
    .find_map(|channel| rendered.get(channel).and_then(|r| r.as_ref().ok()).cloned())
    .unwrap_or_else(|| Rendered {
        title: entry.event_type.to_owned(),
        body: String::new(),
    })
}
