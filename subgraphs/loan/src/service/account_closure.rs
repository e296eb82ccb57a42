//! The borrower deleted the account: what has not been paid out is withdrawn.
//!
//! The user context refuses a deletion while it knows of an open loan, but it learns of a new
//! application through Kafka: one made in the moments before the deletion can still be
//! SUBMITTED — and later APPROVED — for an account that no longer exists. `disburseLoan` would
//! refuse it (`USER_NOT_ACTIVE`) for good, leaving it open forever; it is cancelled instead,
//! which also tells credit and risk to stop working on it. A loan whose payout is at the
//! provider is left to finish (the money may have moved, and then the debt stands), as is an
//! ACTIVE one.

use diesel_async::AsyncPgConnection;
use tenor_contracts::loan::CANCELLED_ACCOUNT_DELETED;
use tenor_platform::refusal::ServiceError;
use uuid::Uuid;

use super::applications::{withdraw, withdrawal_refused};
use crate::domain::LoanStatus;
use crate::events::Publisher;
use crate::store::loans;

/// Withdraw the deleted account's loans that are waiting for a decision or a payout, inside the
/// caller's (inbox) transaction; returns how many. Each under its lock, so a credit decision or
/// a payout for the same loan goes first or finds it CANCELLED.
#[tracing::instrument(skip(conn, publisher))]
pub async fn withdraw_unpaid_loans(
    conn: &mut AsyncPgConnection,
    publisher: &Publisher,
    user_id: Uuid,
) -> Result<usize, ServiceError> {
    let waiting = loans::of_user(conn, user_id)
        .await?
        .into_iter()
        .filter(|loan| matches!(loan.status, LoanStatus::Submitted | LoanStatus::Approved));
    let mut withdrawn = 0;
    for candidate in waiting {
        let Some(loan) = loans::lock(conn, candidate.id).await? else {
            continue;
        };
        if let Some(refusal) = withdrawal_refused(conn, &loan).await? {
            tracing::warn!(loan_id = %loan.id, ?refusal, "left as it is");
            continue;
        }
        withdraw(conn, publisher, &loan, CANCELLED_ACCOUNT_DELETED).await?;
        withdrawn += 1;
    }
    Ok(withdrawn)
}
