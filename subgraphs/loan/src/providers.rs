//! The external payment companies, behind traits the service calls (docs/conventions.md
//! § Contexts). Both take an idempotency key: asking again with the same key is the same payout or
//! charge, never a second one — which is what lets the service call them outside any transaction
//! and retry after a crash (`service/money_movement.rs`).
//!
//! The simulated implementations are the default (and what tests use): deterministic, no
//! network, documented as simulations. A real provider plugs in by implementing the trait and
//! being passed to [`crate::run_with`] in [`Providers`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// The provider refused (e.g. an invalid account); not worth retrying as is.
    #[error("declined: {0}")]
    Declined(String),
    /// The provider could not be reached (or did not answer); the request may be retried with
    /// the same key.
    #[error("unavailable: {0}")]
    Unavailable(String),
}

/// Pays the principal out to the borrower (disbursement).
#[async_trait]
pub trait PayoutProvider: Send + Sync {
    /// Pay `amount` for `loan_id`. Idempotent per `key`: asking twice pays once and returns the
    /// same reference.
    async fn pay_out(&self, loan_id: Uuid, amount: i64, key: &str)
    -> Result<String, ProviderError>;
}

/// Collects a repayment from the borrower.
#[async_trait]
pub trait PaymentProvider: Send + Sync {
    /// Collect `amount` for `loan_id`. Idempotent per `key`: asking twice charges once and
    /// returns the same reference.
    async fn collect(&self, loan_id: Uuid, amount: i64, key: &str)
    -> Result<String, ProviderError>;
}

/// The providers one service instance uses.
#[derive(Clone)]
pub struct Providers {
    pub payout: Arc<dyn PayoutProvider>,
    pub payment: Arc<dyn PaymentProvider>,
}

impl Providers {
    /// SIMULATION: both providers simulated (until a real one is integrated).
    pub fn simulated() -> Self {
        Self {
            payout: Arc::new(SimulatedPayout::default()),
            payment: Arc::new(SimulatedPayment::default()),
        }
    }
}

/// What a simulated provider has done, for tests to count: every call, and each effect once per
/// key (a repeated key answers from here).
#[derive(Debug, Default)]
pub struct Ledger {
    calls: AtomicUsize,
    effects: Mutex<HashMap<String, (Uuid, i64, String)>>,
}

impl Ledger {
    /// How many times the provider was asked (repeats included).
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// How many payouts or charges actually happened (one per key).
    pub fn effects(&self) -> usize {
        self.effects.lock().expect("ledger lock").len()
    }

    /// The money moved for `loan_id`, counting each key once.
    pub fn total_for(&self, loan_id: Uuid) -> i64 {
        let effects = self.effects.lock().expect("ledger lock");
        effects
            .values()
            .filter(|(loan, _, _)| *loan == loan_id)
            .map(|(_, amount, _)| amount)
            .sum()
    }

    /// The same answer for the same key; a key reused for other terms is declined, as real
    /// providers do.
    fn once(
        &self,
        loan_id: Uuid,
        amount: i64,
        key: &str,
        reference: impl FnOnce() -> String,
    ) -> Result<String, ProviderError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if amount <= 0 {
            return Err(ProviderError::Declined("non-positive amount".into()));
        }
        let mut effects = self.effects.lock().expect("ledger lock");
        match effects.get(key) {
            Some((loan, paid, reference)) if (*loan, *paid) == (loan_id, amount) => {
                Ok(reference.clone())
            }
            Some(_) => Err(ProviderError::Declined(
                "idempotency key reused with other terms".into(),
            )),
            None => {
                let reference = reference();
                effects.insert(key.to_owned(), (loan_id, amount, reference.clone()));
                Ok(reference)
            }
        }
    }
}

/// SIMULATION: always succeeds; the reference is derived from the loan id, like a real
/// provider's payout reference for the loan's account.
#[derive(Debug, Default)]
pub struct SimulatedPayout {
    pub ledger: Ledger,
}

#[async_trait]
impl PayoutProvider for SimulatedPayout {
    async fn pay_out(
        &self,
        loan_id: Uuid,
        amount: i64,
        key: &str,
    ) -> Result<String, ProviderError> {
        self.ledger.once(loan_id, amount, key, || {
            format!("SIM-PAYOUT-{}", loan_id.simple())
        })
    }
}

/// SIMULATION: always succeeds; the reference is derived from the loan and the key.
#[derive(Debug, Default)]
pub struct SimulatedPayment {
    pub ledger: Ledger,
}

#[async_trait]
impl PaymentProvider for SimulatedPayment {
    async fn collect(
        &self,
        loan_id: Uuid,
        amount: i64,
        key: &str,
    ) -> Result<String, ProviderError> {
        self.ledger.once(loan_id, amount, key, || {
            let key: String = key.chars().filter(char::is_ascii_alphanumeric).collect();
            format!("SIM-PAY-{}-{key}", loan_id.simple())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn simulations_are_deterministic() {
        let loan = Uuid::new_v4();
        let payout = SimulatedPayout::default();
        assert_eq!(
            payout.pay_out(loan, 10, "k").await,
            payout.pay_out(loan, 10, "k").await
        );
        assert!(payout.pay_out(loan, 0, "k0").await.is_err());
        let payment = SimulatedPayment::default();
        assert_eq!(
            payment.collect(loan, 5, "k-1").await,
            payment.collect(loan, 5, "k-1").await
        );
        assert_ne!(
            payment.collect(loan, 5, "k-1").await,
            payment.collect(loan, 5, "k-2").await
        );
    }

    #[tokio::test]
    async fn a_repeated_key_moves_money_once() {
        let loan = Uuid::new_v4();
        let payout = SimulatedPayout::default();
        for _ in 0..3 {
            payout.pay_out(loan, 100, "once").await.unwrap();
        }
        assert_eq!((payout.ledger.calls(), payout.ledger.effects()), (3, 1));
        assert_eq!(payout.ledger.total_for(loan), 100);
        assert!(matches!(
            payout.pay_out(loan, 200, "once").await,
            Err(ProviderError::Declined(_))
        ));
    }
}
