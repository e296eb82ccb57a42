//! The simulated payout and payment companies of one test, shared by every process of it (as
//! the real companies would be), with a knob to make them slow and a way to make one process
//! crash around a provider call.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use uuid::Uuid;

use crate::providers::{
    PaymentProvider, PayoutProvider, ProviderError, Providers, SimulatedPayment, SimulatedPayout,
};

/// Where a simulated process crash happens around a provider call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashPoint {
    /// The intent is recorded; the provider is never asked.
    BeforeProviderCall,
    /// The provider has moved the money; its answer is never recorded.
    AfterProviderCall,
}

/// The simulated companies of one test, with a knob to make them slow.
#[derive(Default)]
pub struct TestProviders {
    pub payout: SimulatedPayout,
    pub payment: SimulatedPayment,
    delay_ms: AtomicU64,
    unreachable: AtomicBool,
}

impl TestProviders {
    /// Every later provider call takes `delay` before answering.
    pub fn set_delay(&self, delay: Duration) {
        self.delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    /// While set, every provider call fails as unanswered (a timeout: the money may or may not
    /// have moved), so intents stay REQUESTED.
    pub fn set_unreachable(&self, unreachable: bool) {
        self.unreachable.store(unreachable, Ordering::SeqCst);
    }

    /// The providers as one process sees them: crashing at `crash`, if given.
    pub fn for_process(self: &Arc<Self>, crash: Option<CrashPoint>) -> Providers {
        let process = Arc::new(Process {
            companies: self.clone(),
            crash,
        });
        Providers {
            payout: process.clone(),
            payment: process,
        }
    }
}

/// One process's view of the providers.
struct Process {
    companies: Arc<TestProviders>,
    crash: Option<CrashPoint>,
}

impl Process {
    async fn before_call(&self) -> Result<(), ProviderError> {
        let delay = self.companies.delay_ms.load(Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(delay)).await;
        if self.crash == Some(CrashPoint::BeforeProviderCall) {
            panic!("simulated crash before the provider call");
        }
        if self.companies.unreachable.load(Ordering::SeqCst) {
            return Err(ProviderError::Unavailable("simulated timeout".into()));
        }
        Ok(())
    }

    fn after_call(&self) {
        if self.crash == Some(CrashPoint::AfterProviderCall) {
            panic!("simulated crash after the provider call");
        }
    }
}

#[async_trait]
impl PayoutProvider for Process {
    async fn pay_out(
        &self,
        loan_id: Uuid,
        amount: i64,
        key: &str,
    ) -> Result<String, ProviderError> {
        self.before_call().await?;
        let answer = self.companies.payout.pay_out(loan_id, amount, key).await;
        self.after_call();
        answer
    }
}

#[async_trait]
impl PaymentProvider for Process {
    async fn collect(
        &self,
        loan_id: Uuid,
        amount: i64,
        key: &str,
    ) -> Result<String, ProviderError> {
        self.before_call().await?;
        let answer = self.companies.payment.collect(loan_id, amount, key).await;
        self.after_call();
        answer
    }
}
