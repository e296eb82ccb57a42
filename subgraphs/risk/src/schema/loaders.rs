//! `Loan.riskEvaluations` for a whole `_entities` batch in one query.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader, NoCache};
use tenor_platform::loaders::LoaderStats;
use uuid::Uuid;

use crate::service::RiskService;
use crate::store::Evaluation;

pub struct EvaluationsByLoan {
    service: RiskService,
    stats: Arc<LoaderStats>,
}

pub type Evaluations = DataLoader<EvaluationsByLoan, NoCache>;

impl EvaluationsByLoan {
    pub fn data_loader(service: RiskService, stats: Arc<LoaderStats>) -> Evaluations {
        DataLoader::new(Self { service, stats }, tokio::spawn)
    }
}

impl Loader<Uuid> for EvaluationsByLoan {
    type Value = Vec<Evaluation>;
    type Error = Arc<anyhow::Error>;

    async fn load(&self, loans: &[Uuid]) -> Result<HashMap<Uuid, Vec<Evaluation>>, Self::Error> {
        self.stats.record_batch();
        let rows = self
            .service
            .evaluations_for_loans(loans)
            .await
            .map_err(|e| Arc::new(anyhow::Error::from(e)))?;
        let mut by_loan: HashMap<Uuid, Vec<Evaluation>> = HashMap::new();
        for evaluation in rows {
            by_loan
                .entry(evaluation.loan_id)
                .or_default()
                .push(evaluation);
        }
        Ok(by_loan)
    }
}
