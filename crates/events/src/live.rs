//! A replica's live fan-out: what a GraphQL subscription of this process listens to. It knows
//! nothing of GraphQL.
//!
//! Each process reads its topics with a consumer group of its own (`<prefix>-<uuid>`, from the
//! latest offset; it commits its position only to resume there after a re-assignment), so every
//! replica sees every event whichever replica handled it, and hands each item its `classify`
//! picks out to the local subscribers of the item's recipient (a user) through that recipient's
//! broadcast channel (a subscriber too slow to keep up skips what it missed and carries on).
//! Channels per recipient, not one for everything: with 15 000 sockets open, one channel would
//! wake every socket's task for every item only for all but a few to drop it. A revoked session (`auth.session.revoked`,
//! recognised by `classify` too) ends every local subscription opened with a token of that
//! session, and is remembered so one opened later with such a token is refused.
//!
//! Each recipient may hold [`LiveHub::with_subscription_cap`] subscriptions in one process (the
//! receivers of its channel, so the count ends with the subscription): the router caps sockets
//! per user, not subscriptions per socket, and each subscription is state here and in the
//! router for as long as it lives.
//!
//! Used by loan (`loanStatusChanged`) and notification (`notificationReceived`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::Stream;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Message};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::Envelope;
use crate::consumer::receive_failed;
use crate::kafka::{KafkaConfig, consumer_config};

/// How long a revoked session id is remembered, so a subscription opened with one of its
/// tokens after the event arrived is refused too. Longer than any access token lives
/// (15 min + leeway by default); after that its tokens are refused as expired anyway.
const REVOKED_RETENTION: Duration = Duration::from_secs(60 * 60);

/// Who an item is for: only that recipient's subscribers receive it.
pub trait Addressed {
    fn recipient(&self) -> Uuid;
}

/// A recipient's buffer: items for one user come a few at a time.
const PER_RECIPIENT_BUFFER: usize = 16;

/// Live subscriptions one recipient may hold in one process unless configured
/// (`LIVE_SUBSCRIPTIONS_PER_USER`): the router lets a user hold 10 sockets, an app listens to
/// one or two things on each.
pub const DEFAULT_SUBSCRIPTIONS_PER_RECIPIENT: usize = 20;

/// `LIVE_SUBSCRIPTIONS_PER_USER`: at least 1.
pub fn subscriptions_per_user(env: &mut tenor_platform::config::Env) -> usize {
    let cap = env.optional(
        "LIVE_SUBSCRIPTIONS_PER_USER",
        DEFAULT_SUBSCRIPTIONS_PER_RECIPIENT,
    );
    if cap == 0 {
        env.fail(
            "LIVE_SUBSCRIPTIONS_PER_USER",
            "must be at least 1".to_owned(),
        );
    }
    cap
}

/// A recipient already holds as many subscriptions in this process as it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("at most {cap} live subscriptions per account: end one and subscribe again")]
pub struct TooManySubscriptions {
    pub cap: usize,
}

/// The channel of every recipient with a subscriber (or had one since the last prune).
struct Recipients<T> {
    channels: HashMap<Uuid, broadcast::Sender<T>>,
    /// Size after the last prune: the map is pruned when it has doubled since.
    pruned_at: usize,
}

impl<T: Clone> Recipients<T> {
    /// A receiver on `recipient`'s channel, unless it already has `cap` of them.
    fn subscribe(&mut self, recipient: Uuid, cap: usize) -> Option<broadcast::Receiver<T>> {
        if self.channels.len() >= 2 * self.pruned_at.max(512) {
            self.channels
                .retain(|_, sender| sender.receiver_count() > 0);
            self.pruned_at = self.channels.len();
        }
        let sender = self
            .channels
            .entry(recipient)
            .or_insert_with(|| broadcast::channel(PER_RECIPIENT_BUFFER).0);
        (sender.receiver_count() < cap).then(|| sender.subscribe())
    }

    fn send(&mut self, recipient: Uuid, item: T) {
        if let Some(sender) = self.channels.get(&recipient)
            // Nobody listens any more: forget the channel.
            && sender.send(item).is_err()
        {
            self.channels.remove(&recipient);
        }
    }
}

/// What one event means to the live subscribers.
pub enum Live<T> {
    /// Something to push.
    Item(T),
    /// A session ended: its subscriptions end.
    Revoked(Uuid),
}

/// Sessions revoked while this process was running (recently enough to matter).
#[derive(Default)]
struct RevokedSessions {
    seen: HashMap<Uuid, Instant>,
    last_pruned: Option<Instant>,
}

impl RevokedSessions {
    fn insert(&mut self, session: Uuid) {
        let now = Instant::now();
        if self
            .last_pruned
            .is_none_or(|at| now.duration_since(at) > Duration::from_secs(60))
        {
            self.seen
                .retain(|_, at| now.duration_since(*at) < REVOKED_RETENTION);
            self.last_pruned = Some(now);
        }
        self.seen.insert(session, now);
    }
}

/// Items and session revocations received by this process, for its subscribers.
pub struct LiveHub<T> {
    recipients: Arc<Mutex<Recipients<T>>>,
    revocations: broadcast::Sender<Uuid>,
    revoked: Arc<Mutex<RevokedSessions>>,
    assigned: Arc<AtomicBool>,
    per_recipient: usize,
}

impl<T> Clone for LiveHub<T> {
    fn clone(&self) -> Self {
        Self {
            recipients: self.recipients.clone(),
            revocations: self.revocations.clone(),
            revoked: self.revoked.clone(),
            assigned: self.assigned.clone(),
            per_recipient: self.per_recipient,
        }
    }
}

impl<T: Addressed + Clone + Send + 'static> Default for LiveHub<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Addressed + Clone + Send + 'static> LiveHub<T> {
    pub fn new() -> Self {
        let (revocations, _) = broadcast::channel(1024);
        Self {
            recipients: Arc::new(Mutex::new(Recipients {
                channels: HashMap::new(),
                pruned_at: 0,
            })),
            revocations,
            revoked: Arc::default(),
            assigned: Arc::new(AtomicBool::new(false)),
            per_recipient: DEFAULT_SUBSCRIPTIONS_PER_RECIPIENT,
        }
    }

    /// At most `cap` (at least 1) subscriptions per recipient in this process.
    pub fn with_subscription_cap(self, cap: usize) -> Self {
        Self {
            per_recipient: cap.max(1),
            ..self
        }
    }

    /// Every item for `recipient` from now on; a subscriber too slow to keep up skips what it
    /// missed. Refused when the recipient already holds as many subscriptions as it may; the
    /// stream counts as one until it is dropped.
    pub fn items_for(
        &self,
        recipient: Uuid,
    ) -> Result<impl Stream<Item = T> + use<T>, TooManySubscriptions> {
        let cap = self.per_recipient;
        let receiver = self
            .recipients
            .lock()
            .expect("recipients lock")
            .subscribe(recipient, cap)
            .ok_or(TooManySubscriptions { cap })?;
        Ok(futures::stream::unfold(
            receiver,
            |mut receiver| async move {
                loop {
                    match receiver.recv().await {
                        Ok(item) => return Some((item, receiver)),
                        Err(broadcast::error::RecvError::Lagged(skipped)) => {
                            tracing::warn!(skipped, "slow subscriber skipped live items");
                        }
                        Err(broadcast::error::RecvError::Closed) => return None,
                    }
                }
            },
        ))
    }

    /// Hand `item` to its recipient's local subscribers (none is fine).
    pub fn push(&self, item: T) {
        let recipient = item.recipient();
        self.recipients
            .lock()
            .expect("recipients lock")
            .send(recipient, item);
    }

    /// How many recipients have a channel (tests: channels of gone subscribers are dropped).
    pub fn recipient_channels(&self) -> usize {
        self.recipients
            .lock()
            .expect("recipients lock")
            .channels
            .len()
    }

    /// True once the Kafka consumer has partitions of every topic (before that, events are
    /// missed).
    pub fn is_live(&self) -> bool {
        self.assigned.load(Ordering::Relaxed)
    }

    /// Whether `session` was revoked (since this process started, within the retention).
    pub fn is_revoked(&self, session: Uuid) -> bool {
        self.revoked
            .lock()
            .expect("revoked sessions lock")
            .seen
            .contains_key(&session)
    }

    /// Record a revoked session and tell the subscriptions (the set first, so a subscription
    /// that subscribes then checks the set cannot miss it).
    pub fn revoke(&self, session: Uuid) {
        self.revoked
            .lock()
            .expect("revoked sessions lock")
            .insert(session);
        // No subscribers is fine.
        drop(self.revocations.send(session));
    }

    /// Resolves once `session` is revoked; never for a token without a session.
    pub fn revoked_session(&self, session: Option<Uuid>) -> impl Future<Output = ()> + use<T> {
        // Subscribed now, before the subscription is handed out, so nothing is missed.
        let mut receiver = self.revocations.subscribe();
        let hub = self.clone();
        async move {
            let Some(session) = session else {
                return std::future::pending().await;
            };
            if hub.is_revoked(session) {
                return;
            }
            loop {
                match receiver.recv().await {
                    Ok(revoked) if revoked == session => return,
                    Ok(_) => {}
                    // Too many revocations went by unread: the set still has ours if it was one.
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        if hub.is_revoked(session) {
                            return;
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => {
                        return std::future::pending().await;
                    }
                }
            }
        }
    }

    /// Consume `topics` until `shutdown` in a group of this process's own
    /// (`<group_prefix>-<uuid>`), pushing what `classify` makes of each event.
    pub async fn run(
        self,
        kafka: KafkaConfig,
        group_prefix: &str,
        topics: &[&str],
        classify: impl Fn(&BorrowedMessage<'_>, &Envelope) -> Option<Live<T>>,
        shutdown: CancellationToken,
    ) -> anyhow::Result<()> {
        let consumer: StreamConsumer = consumer_config(&kafka)
            .set("group.id", format!("{group_prefix}-{}", Uuid::new_v4()))
            // Only what happens from now on matters to a live subscriber: a new process's group
            // starts at the end.
            .set("auto.offset.reset", "latest")
            // But a group that is re-assigned its partitions (its session lapsed while a broker
            // restarted) resumes where it was: without a committed position it would jump to
            // the end again and skip what was published meanwhile. A redelivered second of
            // events repeats statuses, which subscribers take as "the status is now X".
            .set("enable.auto.commit", "true")
            .set("auto.commit.interval.ms", "1000")
            .set("enable.partition.eof", "false")
            .create()?;
        consumer.subscribe(topics)?;
        let has_all = |consumer: &StreamConsumer| {
            consumer.assignment().is_ok_and(|assignment| {
                let assigned: Vec<String> = assignment
                    .elements()
                    .iter()
                    .map(|p| p.topic().to_owned())
                    .collect();
                topics
                    .iter()
                    .all(|topic| assigned.iter().any(|a| a == topic))
            })
        };
        loop {
            let message = tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                message = consumer.recv() => message,
                () = tokio::time::sleep(Duration::from_millis(100)), if !self.is_live() => {
                    self.assigned.store(has_all(&consumer), Ordering::Relaxed);
                    continue;
                }
            };
            let message = match message {
                Ok(message) => message,
                Err(error) => {
                    receive_failed(&error).await;
                    continue;
                }
            };
            if !self.is_live() {
                self.assigned.store(has_all(&consumer), Ordering::Relaxed);
            }
            let Ok(envelope) = Envelope::from_slice(message.payload().unwrap_or_default()) else {
                continue;
            };
            match classify(&message, &envelope) {
                Some(Live::Item(item)) => self.push(item),
                Some(Live::Revoked(session)) => {
                    tracing::debug!(session_id = %session, "session revoked; ending its subscriptions");
                    self.revoke(session);
                }
                None => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;

    use super::*;

    #[derive(Clone, Debug, PartialEq)]
    struct Note(Uuid, u32);

    impl Addressed for Note {
        fn recipient(&self) -> Uuid {
            self.0
        }
    }

    async fn next_soon(items: &mut (impl Stream<Item = Note> + Unpin)) -> Option<Note> {
        tokio::time::timeout(Duration::from_millis(50), items.next())
            .await
            .ok()
            .flatten()
    }

    #[tokio::test]
    async fn each_recipient_receives_only_its_own_items() {
        let hub = LiveHub::<Note>::new();
        let (siti, budi) = (Uuid::new_v4(), Uuid::new_v4());
        let mut hers = Box::pin(hub.items_for(siti).unwrap());
        let mut hers_too = Box::pin(hub.items_for(siti).unwrap());
        let mut his = Box::pin(hub.items_for(budi).unwrap());
        hub.push(Note(siti, 1));
        hub.push(Note(budi, 2));
        hub.push(Note(Uuid::new_v4(), 3)); // nobody's listening: dropped
        assert_eq!(next_soon(&mut hers).await, Some(Note(siti, 1)));
        assert_eq!(next_soon(&mut hers_too).await, Some(Note(siti, 1)));
        assert_eq!(next_soon(&mut his).await, Some(Note(budi, 2)));
        assert_eq!(next_soon(&mut hers).await, None);
        assert_eq!(next_soon(&mut his).await, None);
        assert_eq!(hub.recipient_channels(), 2);
    }

    /// A recipient's subscriptions are capped while they live: ending one frees its place, and
    /// other recipients are not affected.
    #[tokio::test]
    async fn a_recipient_holds_at_most_its_cap_of_subscriptions() {
        let hub = LiveHub::<Note>::new().with_subscription_cap(2);
        let (siti, budi) = (Uuid::new_v4(), Uuid::new_v4());
        let first = hub.items_for(siti).unwrap();
        let mut second = Box::pin(hub.items_for(siti).unwrap());
        assert_eq!(
            hub.items_for(siti).err(),
            Some(TooManySubscriptions { cap: 2 })
        );
        let mut his = Box::pin(hub.items_for(budi).unwrap());
        drop(first);
        let mut third = Box::pin(hub.items_for(siti).unwrap());
        hub.push(Note(siti, 1));
        hub.push(Note(budi, 2));
        assert_eq!(next_soon(&mut second).await, Some(Note(siti, 1)));
        assert_eq!(next_soon(&mut third).await, Some(Note(siti, 1)));
        assert_eq!(next_soon(&mut his).await, Some(Note(budi, 2)));
        assert!(hub.items_for(siti).is_err());
    }

    #[test]
    fn the_cap_is_read_from_the_environment_and_is_at_least_one() {
        use tenor_platform::config::Env;
        let read = |pairs: &[(&str, &str)]| {
            let mut env = Env::from_pairs(pairs.iter().copied());
            let cap = subscriptions_per_user(&mut env);
            env.finish(cap).map_err(|e| e.to_string())
        };
        assert_eq!(read(&[]), Ok(DEFAULT_SUBSCRIPTIONS_PER_RECIPIENT));
        assert_eq!(read(&[("LIVE_SUBSCRIPTIONS_PER_USER", "3")]), Ok(3));
        let zero = read(&[("LIVE_SUBSCRIPTIONS_PER_USER", "0")]).unwrap_err();
        assert!(zero.contains("LIVE_SUBSCRIPTIONS_PER_USER"), "{zero}");
    }

    #[tokio::test]
    async fn channels_of_recipients_nobody_listens_to_are_dropped() {
        let hub = LiveHub::<Note>::new();
        let gone = Uuid::new_v4();
        drop(hub.items_for(gone).unwrap());
        // The next item for them finds nobody and removes the channel.
        hub.push(Note(gone, 1));
        assert_eq!(hub.recipient_channels(), 0);
        // Channels nobody pushes to go when the map has doubled since the last prune.
        for _ in 0..1100 {
            drop(hub.items_for(Uuid::new_v4()).unwrap());
        }
        let mut kept = Box::pin(hub.items_for(gone).unwrap());
        assert!(
            hub.recipient_channels() < 1100,
            "{}",
            hub.recipient_channels()
        );
        hub.push(Note(gone, 2));
        assert_eq!(next_soon(&mut kept).await, Some(Note(gone, 2)));
    }
}
