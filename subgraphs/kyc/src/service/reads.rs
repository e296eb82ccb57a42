//! The plain reads the GraphQL layer pages through: the latest submission per user, the manual
//! review queue, a person's PII access log, a submission's reviews. None of them reads PII (the
//! document number and images go through `pii`, which logs).

use tenor_platform::cursor::PageRequest;
use tenor_platform::refusal::ServiceError;
use uuid::Uuid;

use super::KycService;
use crate::store::{self, PiiAccess, Review, Submission};

impl KycService {
    /// The latest submission of each of `users` (one query for a whole `_entities` batch).
    #[tracing::instrument(skip_all, fields(users = users.len()))]
    pub async fn latest_for_users(&self, users: &[Uuid]) -> Result<Vec<Submission>, ServiceError> {
        let mut conn = self.conn().await?;
        Ok(store::latest_for_users(&mut conn, users).await?)
    }

    /// Submissions waiting for a staff decision, oldest first; one row more than the page.
    #[tracing::instrument(skip(self))]
    pub async fn review_queue(&self, page: PageRequest) -> Result<Vec<Submission>, ServiceError> {
        let mut conn = self.conn().await?;
        Ok(store::review_queue(&mut conn, page.after, page.fetch_limit()).await?)
    }

    /// Who read `subject`'s KYC data, newest first; one row more than the page.
    #[tracing::instrument(skip(self))]
    pub async fn access_log(
        &self,
        subject: Uuid,
        page: PageRequest,
    ) -> Result<Vec<PiiAccess>, ServiceError> {
        let mut conn = self.conn().await?;
        Ok(store::access_log(&mut conn, subject, page.after, page.fetch_limit()).await?)
    }

    /// Staff decisions on one submission, oldest first.
    #[tracing::instrument(skip(self))]
    /// The staff decisions on each of `kyc_ids` (one query for the whole batch).
    pub async fn reviews_of(&self, kyc_ids: &[Uuid]) -> Result<Vec<Review>, ServiceError> {
        let mut conn = self.conn().await?;
        Ok(store::reviews_of(&mut conn, kyc_ids).await?)
    }
}
