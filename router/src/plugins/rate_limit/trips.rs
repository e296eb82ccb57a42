//! The limiter's Redis round trips, shared by the requests waiting on one worker thread: while
//! one script call is in flight, the charges that arrive queue up, and the next call carries all
//! of them (a "group commit"). A lone request still makes one call of its own and waits for
//! nothing; under load, one call serves as many requests as arrived during the last one, so
//! Redis and the router pay the socket and script overhead once per batch instead of once per
//! request. Every charge is still decided in Redis, atomically and in arrival order, so the
//! limits are exactly what they were with one call per request.
//!
//! Each worker thread has its own queue and its own connection, driven by that worker's own
//! runtime: one busy worker cannot stall the limiter on the others.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::oneshot;

/// At most this many charges per script call (a deeper queue is sent in several calls).
const MOST_PER_CALL: usize = 128;

/// One charge's keys and flags, as the script (`buckets`) reads them.
pub(super) struct Question {
    pub(super) keys: Vec<String>,
    pub(super) flags: u8,
}

/// How many numbers the script answers per charge (what they mean: `buckets`).
const ANSWER_LEN: usize = 4;

/// The script's answer for one charge.
pub(super) type Answer = [i64; ANSWER_LEN];

struct Waiting {
    question: Question,
    reply: oneshot::Sender<Answer>,
}

#[derive(Default)]
struct WorkerQueue {
    waiting: Vec<Waiting>,
    /// A task is sending this worker's queue; new charges only need to join it.
    sending: bool,
}

thread_local! {
    static QUEUE: RefCell<WorkerQueue> = RefCell::new(WorkerQueue::default());
    /// This worker's connection, made on its first use (on this worker's runtime, so its I/O
    /// is driven here and nowhere else).
    static CONNECTION: RefCell<Option<ConnectionManager>> = const { RefCell::new(None) };
}

/// Where the buckets live and the script that decides: everything a script call needs.
pub(super) struct Trips {
    client: redis::Client,
    script: redis::Script,
    /// The script's arguments before the charges' flags (the same in every call).
    leading_args: Vec<String>,
    timeout: Duration,
}

impl Trips {
    pub(super) fn new(
        client: redis::Client,
        script: redis::Script,
        leading_args: Vec<String>,
        timeout: Duration,
    ) -> Self {
        Self {
            client,
            script,
            leading_args,
            timeout,
        }
    }

    /// Asks Redis about one charge, in this worker's next script call. `None` when Redis failed
    /// or was too slow (the sender logged why): the request is let through.
    pub(super) async fn ask(self: &Arc<Self>, question: Question) -> Option<Answer> {
        let (reply, answer) = oneshot::channel();
        let start_sending = QUEUE.with(|queue| {
            let mut queue = queue.borrow_mut();
            queue.waiting.push(Waiting { question, reply });
            !std::mem::replace(&mut queue.sending, true)
        });
        if start_sending {
            // Its own task: a request that goes away (its client hung up) must not take the
            // others' answers with it.
            let trips = self.clone();
            hive_router::ntex::rt::spawn(async move { trips.send_queue().await });
        }
        // The call in flight, then the one carrying this charge: each bounded by the timeout, so
        // a hung Redis delays a request by twice the timeout at most.
        match tokio::time::timeout(self.timeout * 2, answer).await {
            Ok(Ok(answer)) => Some(answer),
            _ => None,
        }
    }

    /// Sends this worker's queue, a batch per call, until it is empty.
    async fn send_queue(&self) {
        let _reset = ResetOnPanic;
        loop {
            let batch = QUEUE.with(|queue| {
                let mut queue = queue.borrow_mut();
                // A request that stopped waiting (let through after twice the timeout while
                // Redis hung, or its client gone) is not charged: the queue cannot grow for as
                // long as Redis stays slow.
                queue.waiting.retain(|waiting| !waiting.reply.is_closed());
                let n = queue.waiting.len().min(MOST_PER_CALL);
                if n == 0 {
                    queue.sending = false;
                    return None;
                }
                Some(queue.waiting.drain(..n).collect::<Vec<_>>())
            });
            let Some(batch) = batch else { return };
            self.send(batch).await;
        }
    }

    /// One script call for `batch`; each charge gets its answer, or none if Redis failed.
    async fn send(&self, batch: Vec<Waiting>) {
        let mut invocation = self.script.prepare_invoke();
        for waiting in &batch {
            for key in &waiting.question.keys {
                invocation.key(key);
            }
        }
        for arg in &self.leading_args {
            invocation.arg(arg);
        }
        for waiting in &batch {
            invocation.arg(waiting.question.flags);
        }
        let call = async {
            let mut connection = self.connection().await?;
            invocation.invoke_async::<Vec<i64>>(&mut connection).await
        };
        match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(answers)) if answers.len() == ANSWER_LEN * batch.len() => {
                for (waiting, answer) in batch.into_iter().zip(answers.chunks_exact(ANSWER_LEN)) {
                    let answer: Answer = answer.try_into().expect("chunks of ANSWER_LEN");
                    // Its request may have gone meanwhile: nobody to tell.
                    let _ = waiting.reply.send(answer);
                }
            }
            Ok(Ok(answers)) => tracing::warn!(
                charges = batch.len(),
                answers = answers.len(),
                "rate limiter: Redis answered the wrong number of charges; requests let through"
            ),
            // The connection's own response timeout (the same length) may fire first.
            Ok(Err(e)) if e.is_timeout() => tracing::warn!(
                charges = batch.len(),
                "rate limiter: Redis timed out; requests let through"
            ),
            Ok(Err(e)) => tracing::warn!(
                error = %e,
                charges = batch.len(),
                "rate limiter: Redis failed; requests let through"
            ),
            Err(_) => tracing::warn!(
                charges = batch.len(),
                "rate limiter: Redis timed out; requests let through"
            ),
        }
    }

    /// This worker's connection (made on first use).
    async fn connection(&self) -> redis::RedisResult<ConnectionManager> {
        if let Some(connection) = CONNECTION.with(|c| c.borrow().clone()) {
            return Ok(connection);
        }
        // The crate's own default response timeout (0.5 s) would cut a call short of ours.
        let config = ConnectionManagerConfig::new().set_response_timeout(Some(self.timeout));
        let connection = ConnectionManager::new_with_config(self.client.clone(), config).await?;
        CONNECTION.with(|c| *c.borrow_mut() = Some(connection.clone()));
        Ok(connection)
    }
}

/// If sending panicked, the next charge starts a new sender instead of waiting for a dead one.
struct ResetOnPanic;

impl Drop for ResetOnPanic {
    fn drop(&mut self) {
        if std::thread::panicking() {
            QUEUE.with(|queue| queue.borrow_mut().sending = false);
        }
    }
}
