//! Money through a provider without holding a row lock while the provider answers.
//!
//! A payout (disbursement) or a collection (repayment) is three steps, never one transaction:
//!
//! ```text
//!  (a) request   one transaction: lock the loan, check the rules, record the intent
//!                (`loan_money_movements`, status REQUESTED, a unique provider key); commit.
//!  (b) call      the provider with the intent's key — no transaction, no lock, no pooled
//!                connection held. The same key is the same payout/charge at the provider.
//!  (c) settle    one transaction: lock the loan and the intent; only if the intent is still
//!                REQUESTED, record the outcome — SUCCEEDED with the loan change and its outbox
//!                events (loan.activated / loan.paid / loan.status.changed), or FAILED when the
//!                provider declined; commit. An intent already settled is answered as it is.
//!
//!                 (a)             (b) paid     (c)
//!   [no intent] ──────> REQUESTED ───────────────> SUCCEEDED
//!                           │     (b) declined (c)
//!                           ├─────────────────────> FAILED
//!                           │     (b) no answer: stays REQUESTED (resumed later)
//! ```
//!
//! Crash points, and what finishes them:
//! - after (a), before (b): a REQUESTED intent the provider never heard of;
//! - after (b), before (c): a REQUESTED intent the provider has already acted on.
//!
//! In both cases the same request again (the operator's `disburseLoan`, the borrower's
//! `payInstallment` with the same idempotency key) finds the REQUESTED intent in (a) and resumes
//! it with its own provider key, and [`Loans::resume_stalled`] (a background task, see
//! [`Loans::resume_loop`]) takes over intents nobody has touched for
//! [`super::MovementSettings::resume_after`]. Either way (b) is repeated with the same key — at
//! most one payout or charge — and (c) records the outcome once, whoever gets there first.
//! Concurrent callers of one loan wait for each other only during the short transactions.

use std::time::Duration;

use chrono::Utc;
use tenor_platform::refusal::{Failure, ServiceError, refuse};
use tokio_util::sync::CancellationToken;

use super::{Loans, MovementSettings, Outcome};
use crate::domain::LoanRefusal;
use crate::domain::money_movement::{MoneyMovement, MovementKind};
use crate::providers::ProviderError;
use crate::store::movements;

/// How many stalled intents one pass of the resumer takes on.
const RESUME_BATCH: i64 = 50;

/// Gauges set after every resumer pass, per `kind` (`payout`, `collection`) and `database`:
/// intents still REQUESTED past the resume threshold, and how long the oldest has waited. A
/// provider that never answers is retried with the same key for as long as it takes (giving
/// up could leave money moved and unrecorded), so these are what an operator alerts on.
pub const STALLED: &str = "tenor_loan_money_movements_stalled";
pub const STALLED_OLDEST: &str = "tenor_loan_money_movement_stalled_oldest_seconds";

/// The provider's answer to (b).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ProviderAnswer {
    /// The money moved; the provider's reference.
    Moved(String),
    /// The provider refused; nothing moved.
    Declined(ProviderError),
    /// No answer: the money may or may not have moved; ask again with the same key.
    NoAnswer(ProviderError),
}

/// What (c) decided, before it is turned into an [`Outcome`]: a refusal here must still commit
/// (a declined intent is recorded as FAILED).
pub(super) enum Settled<T> {
    Done(T),
    Refused(LoanRefusal),
}

impl<T> Settled<T> {
    pub(super) fn into_outcome(self) -> Outcome<T> {
        match self {
            Self::Done(value) => Ok(value),
            Self::Refused(refusal) => refuse(refusal),
        }
    }
}

impl Loans {
    /// (b): ask the provider, holding nothing.
    pub(super) async fn call_provider(&self, movement: &MoneyMovement) -> ProviderAnswer {
        let (loan, amount, key) = (movement.loan_id, movement.amount, &movement.provider_key);
        let answer = match movement.kind {
            MovementKind::Payout => self.providers.payout.pay_out(loan, amount, key).await,
            MovementKind::Collection => self.providers.payment.collect(loan, amount, key).await,
        };
        match answer {
            Ok(reference) => ProviderAnswer::Moved(reference),
            Err(error @ ProviderError::Declined(_)) => ProviderAnswer::Declined(error),
            Err(error @ ProviderError::Unavailable(_)) => {
                tracing::warn!(movement_id = %movement.id, %error, "provider did not answer; the intent stays REQUESTED");
                ProviderAnswer::NoAnswer(error)
            }
        }
    }

    /// (b) and (c) for an intent already taken in hand.
    async fn drive(&self, movement: MoneyMovement) -> Outcome<()> {
        let answer = self.call_provider(&movement).await;
        match movement.kind {
            MovementKind::Payout => self.settle_payout(movement, answer).await.map(drop),
            MovementKind::Collection => self.settle_collection(movement, answer).await.map(drop),
        }
    }

    /// Finish the intents nobody has touched for `older_than` (crashed or unanswered requests):
    /// each is claimed first, so two resumers (two replicas) do not both drive it. Returns how
    /// many were settled. `database` labels the gauges [`Self::report_stalled`] sets.
    #[tracing::instrument(skip(self))]
    pub async fn resume_stalled(
        &self,
        older_than: Duration,
        database: &str,
    ) -> Result<usize, ServiceError> {
        let cutoff = Utc::now()
            - chrono::Duration::from_std(older_than).map_err(|e| ServiceError::Other(e.into()))?;
        let stalled = movements::stalled(&mut *self.conn().await?, cutoff, RESUME_BATCH).await?;
        let mut settled = 0;
        for id in stalled {
            let claimed =
                movements::claim(&mut *self.conn().await?, id, Some(cutoff), Utc::now()).await?;
            // Settled or taken in hand by someone else since the list was read.
            let Some(movement) = claimed else { continue };
            tracing::info!(movement_id = %id, loan_id = %movement.loan_id, kind = %movement.kind, "resuming a stalled money movement");
            match self.drive(movement).await {
                Ok(()) => settled += 1,
                Err(Failure::Refused(refusals)) if !refusals.iter().any(is_pending) => {
                    settled += 1;
                }
                Err(Failure::Refused(_)) => {}
                Err(Failure::Error(error)) => {
                    tracing::error!(movement_id = %id, error = %format!("{error:#}"), "resuming a money movement failed");
                }
            }
        }
        self.report_stalled(cutoff, database).await?;
        Ok(settled)
    }

    /// The payouts and collections still waiting on their provider, oldest first (the back
    /// office's view of what [`STALLED`] counts, with the keys to ask the provider about).
    pub async fn awaiting_provider(
        &self,
        limit: i64,
    ) -> Result<Vec<movements::AwaitingProvider>, ServiceError> {
        Ok(movements::awaiting_provider(&mut *self.conn().await?, limit).await?)
    }

    /// Sets [`STALLED`] and [`STALLED_OLDEST`] from what is still REQUESTED after a pass.
    async fn report_stalled(
        &self,
        cutoff: chrono::DateTime<Utc>,
        database: &str,
    ) -> Result<(), ServiceError> {
        let stalled = movements::stalled_by_kind(&mut *self.conn().await?, cutoff).await?;
        let now = Utc::now();
        for kind in [MovementKind::Payout, MovementKind::Collection] {
            let (count, oldest) = stalled
                .iter()
                .find(|(k, _, _)| *k == kind)
                .map_or((0, None), |(_, count, oldest)| (*count, *oldest));
            let labels = [
                ("kind", kind.as_db().to_ascii_lowercase()),
                ("database", database.to_owned()),
            ];
            metrics::gauge!(STALLED, &labels).set(count as f64);
            metrics::gauge!(STALLED_OLDEST, &labels)
                .set(tenor_platform::telemetry::seconds_waited(oldest, now));
        }
        Ok(())
    }

    /// Run [`Self::resume_stalled`] every `settings.resume_every` until `shutdown`; `database`
    /// (the pool's database name) labels its gauges.
    pub async fn resume_loop(
        self,
        settings: MovementSettings,
        database: String,
        shutdown: CancellationToken,
    ) {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(settings.resume_every) => {}
            }
            match self.resume_stalled(settings.resume_after, &database).await {
                Ok(0) => {}
                Ok(settled) => tracing::info!(settled, "stalled money movements settled"),
                Err(error) => {
                    tracing::warn!(error = %format!("{error:#}"), "resuming money movements failed");
                }
            }
        }
    }
}

/// The provider did not answer: the intent is still REQUESTED.
fn is_pending(refusal: &LoanRefusal) -> bool {
    matches!(
        refusal,
        LoanRefusal::PayoutPending | LoanRefusal::PaymentPending
    )
}
