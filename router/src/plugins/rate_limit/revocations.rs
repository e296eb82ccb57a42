//! Hearing revocations as they happen, so that a session served from a lease (see `leases`) is
//! refused as soon as this router has read the announcement — normally before the revoking
//! mutation has even answered, at worst the few milliseconds later this thread is scheduled.
//!
//! Auth publishes every session it marks revoked on `<revocation_prefix>:sessions` (the
//! payload is the `sid`), right after setting its key and before the revoking mutation
//! answers. This router subscribes on a connection of its own, on a thread of its own (the
//! workers' runtimes serve requests; this one only listens). Whether the subscription still
//! delivers is checked by a `PING` on it every second: Redis answers it in order after any
//! message published before it, so an answer means nothing was missed. A failed or slow `PING`,
//! or a dropped connection, stops the leases trusting any session until the subscription is
//! back; requests are then decided in Redis one by one, as without leases.
//!
//! If Redis hangs without closing the connection, revocations can go unheard for up to about
//! two seconds (the `PING` interval and its timeout). Without leases a hung Redis lets every
//! request through unchecked, revoked sessions included, so this is no weaker.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt as _;

use super::leases::Leases;

const PING_EVERY: Duration = Duration::from_secs(1);
/// For connecting, subscribing and each `PING`.
const ANSWER_WITHIN: Duration = Duration::from_secs(1);
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// The channel auth publishes revoked sessions on.
pub(super) fn channel(revocation_prefix: &str) -> String {
    format!("{revocation_prefix}:sessions")
}

/// Starts listening on a thread of its own; runs for the life of the process.
pub(super) fn listen(client: redis::Client, channel: String, leases: Arc<Leases>) {
    let spawned = std::thread::Builder::new()
        .name("rate-limit-revocations".to_owned())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(error) => {
                    tracing::error!(%error, "rate limiter: no runtime for the revocation subscription; sessions are checked in Redis on every request");
                    return;
                }
            };
            runtime.block_on(subscribe_forever(client, channel, leases));
        });
    if let Err(error) = spawned {
        tracing::error!(%error, "rate limiter: no thread for the revocation subscription; sessions are checked in Redis on every request");
    }
}

async fn subscribe_forever(client: redis::Client, channel: String, leases: Arc<Leases>) {
    // Logged once per outage, not on every retry.
    let mut quiet = false;
    loop {
        let (went_live, error) = subscribed(&client, &channel, &leases).await;
        leases.subscription_lost();
        if went_live || !quiet {
            tracing::warn!(
                %error,
                "rate limiter: no revocation subscription; sessions are checked in Redis on every request until it is back"
            );
        }
        quiet = !went_live;
        tokio::time::sleep(RETRY_AFTER).await;
    }
}

/// Subscribes and applies revocations until the subscription fails: whether it got as far as
/// listening, and why it stopped.
async fn subscribed(
    client: &redis::Client,
    channel: &str,
    leases: &Leases,
) -> (bool, redis::RedisError) {
    let (mut sink, mut messages) = match subscribe(client, channel).await {
        Ok(pubsub) => pubsub.split(),
        Err(error) => return (false, error),
    };
    leases.subscription_live();
    tracing::info!(channel, "rate limiter: listening for revoked sessions");
    let mut ping = tokio::time::interval(PING_EVERY);
    loop {
        tokio::select! {
            message = messages.next() => {
                let Some(message) = message else {
                    return (true, redis::RedisError::from((redis::ErrorKind::Io, "subscription closed")));
                };
                match message.get_payload::<String>() {
                    Ok(session) => leases.revoked(&session, Instant::now()),
                    Err(error) => tracing::warn!(%error, "rate limiter: unreadable revocation message ignored"),
                }
            }
            _ = ping.tick() => {
                let answered = tokio::time::timeout(ANSWER_WITHIN, sink.ping::<redis::Value>()).await;
                match answered {
                    Ok(Ok(_)) => {}
                    Ok(Err(error)) => return (true, error),
                    Err(_) => return (true, timed_out()),
                }
            }
        }
    }
}

async fn subscribe(
    client: &redis::Client,
    channel: &str,
) -> redis::RedisResult<redis::aio::PubSub> {
    let mut pubsub = tokio::time::timeout(ANSWER_WITHIN, client.get_async_pubsub())
        .await
        .map_err(|_| timed_out())??;
    tokio::time::timeout(ANSWER_WITHIN, pubsub.subscribe(channel))
        .await
        .map_err(|_| timed_out())??;
    Ok(pubsub)
}

fn timed_out() -> redis::RedisError {
    redis::RedisError::from((redis::ErrorKind::Io, "timed out"))
}
