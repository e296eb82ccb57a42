//! Open-loop load: requests start on a clock, not when earlier ones finish, so a slow answer
//! delays no later request (closed-loop clients would slow down with the system and hide its
//! queueing). Shared by every paced benchmark.

use std::future::Future;
use std::time::{Duration, Instant};

use tokio::task::JoinError;

/// Starts `send(item)` for each of `items`, one per tick at `rate` a second, each in a task of
/// its own, until the items run out or `until` has passed; returns the tasks' outputs in the
/// order they started (a task that panicked gives its `JoinError`).
pub async fn paced<I, F, Fut>(
    rate: u32,
    items: I,
    until: Option<Instant>,
    mut send: F,
) -> Vec<Result<Fut::Output, JoinError>>
where
    I: IntoIterator,
    F: FnMut(I::Item) -> Fut,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate.max(1))));
    let mut tasks = Vec::new();
    for item in items {
        ticker.tick().await;
        if until.is_some_and(|until| Instant::now() >= until) {
            break;
        }
        tasks.push(tokio::spawn(send(item)));
    }
    futures::future::join_all(tasks).await
}
