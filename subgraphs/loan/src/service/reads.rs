//! What the GraphQL layer reads: loans by id, by borrower, the back-office search, and — in
//! batches, for the DataLoaders — loans by ids, by borrowers, and schedules. Authorization is
//! the caller's (the resolver's) business; these only read.

use std::collections::HashMap;

use tenor_platform::cursor::PageRequest;
use tenor_platform::refusal::ServiceError;
use uuid::Uuid;

use super::Loans;
use crate::domain::{InstallmentState, Loan, LoanFilter};
use crate::store::installments;
use crate::store::loans;

impl Loans {
    #[tracing::instrument(skip_all, fields(%loan_id))]
    pub async fn find(&self, loan_id: Uuid) -> Result<Option<Loan>, ServiceError> {
        Ok(loans::find(&mut *self.conn().await?, loan_id).await?)
    }

    /// The loans of `loan_ids` that exist, in one query.
    #[tracing::instrument(skip_all, fields(loans = loan_ids.len()))]
    pub async fn find_many(&self, loan_ids: &[Uuid]) -> Result<Vec<Loan>, ServiceError> {
        Ok(loans::find_many(&mut *self.conn().await?, loan_ids).await?)
    }

    /// The loans of each of `user_ids`, newest first, in one query; a borrower without loans
    /// is absent.
    #[tracing::instrument(skip_all, fields(users = user_ids.len()))]
    pub async fn loans_of_users(
        &self,
        user_ids: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<Loan>>, ServiceError> {
        Ok(loans::of_users(&mut *self.conn().await?, user_ids).await?)
    }

    /// A borrower's loans, newest first.
    #[tracing::instrument(skip_all, fields(%user_id))]
    pub async fn loans_of(&self, user_id: Uuid) -> Result<Vec<Loan>, ServiceError> {
        Ok(loans::of_user(&mut *self.conn().await?, user_id).await?)
    }

    /// One page of the back-office search, newest first: up to `page.fetch_limit()` loans (one
    /// more than the page, so the caller knows whether another follows).
    #[tracing::instrument(skip_all, fields(status = ?filter.status, user_id = ?filter.user_id, first = page.first))]
    pub async fn search(
        &self,
        filter: LoanFilter,
        page: PageRequest,
    ) -> Result<Vec<Loan>, ServiceError> {
        let mut conn = self.conn().await?;
        Ok(loans::search(&mut conn, filter, page.after, page.fetch_limit()).await?)
    }

    /// The schedules of `loan_ids` in one query; a loan without one is absent.
    #[tracing::instrument(skip_all, fields(loans = loan_ids.len()))]
    pub async fn installments_of(
        &self,
        loan_ids: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<InstallmentState>>, ServiceError> {
        let mut conn = self.conn().await?;
        Ok(installments::installments_of_many(&mut conn, loan_ids).await?)
    }
}
