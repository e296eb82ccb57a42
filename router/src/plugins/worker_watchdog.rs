//! `worker_watchdog`: a router whose worker is wedged or dead must not look alive.
//!
//! hive-router serves HTTP on a fixed set of worker threads, each running its own single-threaded
//! runtime. If one worker spins (a CPU-bound loop, a fault handler that keeps faulting) or dies,
//! the other workers keep answering `/health`, so neither `./dev`, a container runtime nor
//! Kubernetes would ever restart the process, while every connection that lands on the bad
//! worker hangs for good.
//!
//! So every worker, on its first request, starts a heartbeat task on its own runtime that stamps
//! a shared clock every [`BEAT`]. A plain OS thread checks the stamps; one older than
//! `stall_after` means that worker's runtime has not run for that long, and the process kills
//! itself with SIGKILL (exit status 137 to a shell), so the supervisor restarts it. Not
//! `abort()`: ntex-rt catches SIGABRT (and SIGSEGV) with a handler that captures a backtrace and
//! returns, which is exactly how a stack overflow became a wedge (see the README, "Hostile
//! input"). SIGKILL cannot be caught, runs no destructor and takes no lock a wedged thread might
//! hold.
//!
//! A worker whose thread has exited is not wedged: that is how a graceful shutdown (SIGTERM)
//! stops workers, and ntex-rt's own supervision covers a worker that ends otherwise. Its
//! heartbeat is dropped with the thread (a thread-local guard), so only a thread that is alive
//! but no longer runs its tasks — spinning, blocked, or stuck in a fault handler — counts.
//! (Listening for SIGTERM ourselves is no option: a second handler next to ntex-rt's stopped
//! the router from shutting down at all.)
//!
//! `test_faults: true` (tests only; off in the committed config) lets a request hold its worker
//! with the `x-tenor-test-fault` header, so tests can prove the behaviour: `block=<ms>` blocks
//! the worker thread for that long, `wedge` blocks it for good.

use std::io::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use hive_router::executor::plugins::hooks::on_http_request::{
    OnHttpRequestHookFuture, OnHttpRequestHookPayload,
};
use hive_router::executor::plugins::hooks::on_plugin_init::{
    OnPluginInitPayload, OnPluginInitResult,
};
use hive_router::executor::plugins::plugin_trait::{RouterPlugin, StartHookPayload as _};
use serde::Deserialize;

/// The header that triggers a test fault when `test_faults` is on.
pub const FAULT_HEADER: &str = "x-tenor-test-fault";
/// How often each worker stamps its heartbeat.
const BEAT: Duration = Duration::from_millis(250);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerWatchdogConfig {
    /// A worker whose runtime has not run for this long is wedged.
    #[serde(default = "default_stall_after", with = "hive_router::humantime_serde")]
    pub stall_after: Duration,
    /// Honour `x-tenor-test-fault` (tests only).
    #[serde(default)]
    pub test_faults: bool,
}

fn default_stall_after() -> Duration {
    Duration::from_secs(5)
}

pub struct WorkerWatchdogPlugin {
    test_faults: bool,
}

/// One worker's last sign of life, in milliseconds since [`epoch`].
struct Heartbeat {
    worker: String,
    last_ms: AtomicU64,
    /// Its thread has exited.
    gone: AtomicBool,
}

/// Lives in the worker's thread-locals: dropped when the thread exits.
struct ThreadAlive(Arc<Heartbeat>);

impl Drop for ThreadAlive {
    fn drop(&mut self) {
        self.0.gone.store(true, Ordering::SeqCst);
    }
}

static HEARTBEATS: Mutex<Vec<Arc<Heartbeat>>> = Mutex::new(Vec::new());
static DISARMED: AtomicBool = AtomicBool::new(false);
static WATCHDOG: OnceLock<()> = OnceLock::new();

thread_local! {
    static THIS_WORKER: std::cell::RefCell<Option<ThreadAlive>> =
        const { std::cell::RefCell::new(None) };
}

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn now_ms() -> u64 {
    epoch().elapsed().as_millis() as u64
}

#[hive_router::async_trait]
impl RouterPlugin for WorkerWatchdogPlugin {
    type Config = WorkerWatchdogConfig;

    fn plugin_name() -> &'static str {
        "worker_watchdog"
    }

    fn on_plugin_init(payload: OnPluginInitPayload<Self>) -> OnPluginInitResult<Self> {
        let config: WorkerWatchdogConfig = payload.config()?;
        if config.stall_after < BEAT * 4 {
            return Err(format!(
                "plugins.tenor.config.worker_watchdog.config.stall_after must be at least {:?}",
                BEAT * 4
            )
            .into());
        }
        start_watchdog(config.stall_after);
        payload.initialize_plugin(WorkerWatchdogPlugin {
            test_faults: config.test_faults,
        })
    }

    fn on_http_request<'req>(
        &'req self,
        payload: OnHttpRequestHookPayload<'req>,
    ) -> OnHttpRequestHookFuture<'req> {
        watch_this_worker();
        if self.test_faults
            && let Some(fault) = payload
                .router_http_request
                .headers()
                .get(FAULT_HEADER)
                .and_then(|v| v.to_str().ok())
        {
            inject(fault);
        }
        Box::pin(async move { payload.proceed() })
    }

    async fn on_shutdown<'exec>(&'exec self) {
        // However else the router is stopped: workers stopping is not a wedge.
        DISARMED.store(true, Ordering::SeqCst);
    }
}

/// Starts this worker's heartbeat once (the first request a worker serves).
fn watch_this_worker() {
    if THIS_WORKER.with(|w| w.borrow().is_some()) {
        return;
    }
    let beat = Arc::new(Heartbeat {
        worker: std::thread::current()
            .name()
            .unwrap_or("unnamed worker")
            .to_owned(),
        last_ms: AtomicU64::new(now_ms()),
        gone: AtomicBool::new(false),
    });
    THIS_WORKER.with(|w| *w.borrow_mut() = Some(ThreadAlive(beat.clone())));
    HEARTBEATS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .push(beat.clone());
    // On this worker's own runtime: it only runs when the worker is free to run tasks.
    hive_router::ntex::rt::spawn(async move {
        loop {
            beat.last_ms.store(now_ms(), Ordering::Relaxed);
            tokio::time::sleep(BEAT).await;
        }
    });
}

fn start_watchdog(stall_after: Duration) {
    WATCHDOG.get_or_init(|| {
        let _ = epoch();
        std::thread::Builder::new()
            .name("worker-watchdog".to_owned())
            .spawn(move || {
                loop {
                    std::thread::sleep(BEAT);
                    if DISARMED.load(Ordering::SeqCst) {
                        return;
                    }
                    let now = now_ms();
                    let beats = HEARTBEATS
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                    for beat in beats.iter().filter(|b| !b.gone.load(Ordering::SeqCst)) {
                        let silent = now.saturating_sub(beat.last_ms.load(Ordering::Relaxed));
                        if silent > stall_after.as_millis() as u64 {
                            die(&beat.worker, silent);
                        }
                    }
                }
            })
            .expect("cannot start the worker watchdog thread");
    });
}

/// Stops the process now: one JSON log line (the router's log format) to stderr, then SIGKILL.
fn die(worker: &str, silent_ms: u64) -> ! {
    let line = serde_json::json!({
        "level": "ERROR",
        "target": "tenor_router::worker_watchdog",
        "fields": {
            "message": "a worker has not run for too long: exiting so the supervisor restarts the router",
            "worker": worker,
            "silent_ms": silent_ms,
        }
    });
    let _ = std::io::stderr().write_all(format!("{line}\n").as_bytes());
    let _ = nix::sys::signal::kill(nix::unistd::Pid::this(), nix::sys::signal::Signal::SIGKILL);
    // SIGKILL to ourselves does not return; should it ever, never pretend to be healthy.
    loop {
        std::thread::park();
    }
}

/// Test faults: hold the worker thread (never the async way: the point is a blocked worker).
fn inject(fault: &str) {
    if fault == "wedge" {
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }
    if let Some(ms) = fault
        .strip_prefix("block=")
        .and_then(|ms| ms.parse::<u64>().ok())
    {
        std::thread::sleep(Duration::from_millis(ms.min(60_000)));
    }
}
