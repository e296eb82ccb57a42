//! Reading evaluations (never their raw reports: see [`super::raw_access`]).

use uuid::Uuid;

use super::RiskService;
use crate::store::{Evaluation, StoreError, evaluations};

impl RiskService {
    /// The evaluations of `loans`, in one query (the `Loan.riskEvaluations` loader).
    #[tracing::instrument(skip_all, fields(loans = loans.len()))]
    pub async fn evaluations_for_loans(
        &self,
        loans: &[Uuid],
    ) -> Result<Vec<Evaluation>, StoreError> {
        evaluations::for_loans(&self.evaluations(), loans).await
    }

    #[tracing::instrument(skip(self))]
    pub async fn evaluation(&self, id: Uuid) -> Result<Option<Evaluation>, StoreError> {
        evaluations::by_id(&self.evaluations(), id).await
    }
}
