//! The external payment companies, behind traits. The simulated implementations are the
//! default (and what tests use): deterministic, no network, documented as simulations. A real
//! provider plugs in by implementing the trait and being selected in [`crate::run`]'s wiring.

use async_trait::async_trait;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// The provider refused (e.g. an invalid account); not worth retrying as is.
    #[error("declined: {0}")]
    Declined(String),
    /// The provider could not be reached; the request may be retried with the same key.
    #[error("unavailable: {0}")]
    Unavailable(String),
}

/// Pays the principal out to the borrower (disbursement).
#[async_trait]
pub trait PayoutProvider: Send + Sync {
    /// Pay `amount` for `loan_id`. Idempotent per loan: asking twice pays once and returns the
    /// same reference.
    async fn pay_out(&self, loan_id: Uuid, amount: i64) -> Result<String, ProviderError>;
}

/// Collects a repayment from the borrower.
#[async_trait]
pub trait PaymentProvider: Send + Sync {
    /// Collect `amount` for `loan_id`; idempotent per (loan, key).
    async fn collect(&self, loan_id: Uuid, amount: i64, key: &str)
    -> Result<String, ProviderError>;
}

/// SIMULATION: always succeeds; the reference is derived from the loan id, so a repeated call
/// returns the same one (like a real provider's idempotent payout).
#[derive(Debug, Clone, Default)]
pub struct SimulatedPayout;

#[async_trait]
impl PayoutProvider for SimulatedPayout {
    async fn pay_out(&self, loan_id: Uuid, amount: i64) -> Result<String, ProviderError> {
        if amount <= 0 {
            return Err(ProviderError::Declined("non-positive amount".into()));
        }
        Ok(format!("SIM-PAYOUT-{}", loan_id.simple()))
    }
}

/// SIMULATION: always succeeds; the reference is derived from the loan and the key.
#[derive(Debug, Clone, Default)]
pub struct SimulatedPayment;

#[async_trait]
impl PaymentProvider for SimulatedPayment {
    async fn collect(
        &self,
        loan_id: Uuid,
        amount: i64,
        key: &str,
    ) -> Result<String, ProviderError> {
        if amount <= 0 {
            return Err(ProviderError::Declined("non-positive amount".into()));
        }
        let key: String = key
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(32)
            .collect();
        Ok(format!("SIM-PAY-{}-{key}", loan_id.simple()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn simulations_are_deterministic() {
        let loan = Uuid::new_v4();
        let payout = SimulatedPayout;
        assert_eq!(
            payout.pay_out(loan, 10).await,
            payout.pay_out(loan, 10).await
        );
        assert!(payout.pay_out(loan, 0).await.is_err());
        let payment = SimulatedPayment;
        assert_eq!(
            payment.collect(loan, 5, "k-1").await,
            payment.collect(loan, 5, "k-1").await
        );
        assert_ne!(
            payment.collect(loan, 5, "k-1").await,
            payment.collect(loan, 5, "k-2").await
        );
    }
}
