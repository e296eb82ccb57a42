//! The score company as tests see it: the deterministic simulation, which a test can take down
//! (every call then fails), slow down, and count calls to.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;

use crate::providers::{
    ExternalScore, ProviderUnavailable, ScoreProvider, ScoreRequest, SimulatedScoreProvider,
};

/// The simulated provider, switchable off, counting calls.
#[derive(Debug, Default)]
pub struct TestScoreProvider {
    down: AtomicBool,
    calls: AtomicUsize,
    /// Each call takes this long (milliseconds) before answering.
    delay_ms: AtomicU64,
}

impl TestScoreProvider {
    /// Make every call take `delay` (a slow company).
    pub fn set_delay(&self, delay: Duration) {
        self.delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl ScoreProvider for TestScoreProvider {
    async fn score(&self, request: ScoreRequest) -> Result<ExternalScore, ProviderUnavailable> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let delay = self.delay_ms.load(Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(delay)).await;
        if self.down.load(Ordering::SeqCst) {
            return Err(ProviderUnavailable("simulated outage".into()));
        }
        SimulatedScoreProvider.score(request).await
    }
}
