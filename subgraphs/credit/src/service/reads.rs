//! What the GraphQL layer reads: assessments by loan (batched for the DataLoader) and the review
//! queue. Authorization is the resolver's business; these only read.

use std::collections::HashMap;

use tenor_platform::cursor::PageRequest;
use tenor_platform::refusal::ServiceError;
use uuid::Uuid;

use super::{Credit, Outcome};
use crate::store::scores::{self, ScoreEntry, ScoreRow};

/// A loan's score with every score obtained for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    pub score: ScoreRow,
    pub entries: Vec<ScoreEntry>,
}

impl Credit {
    /// The assessments of `loan_ids` in two queries; a loan without one is absent.
    #[tracing::instrument(skip_all, fields(loans = loan_ids.len()))]
    pub async fn assessments(
        &self,
        loan_ids: &[Uuid],
    ) -> Result<HashMap<Uuid, Assessment>, ServiceError> {
        let mut conn = self.conn().await?;
        let rows = scores::by_loans(&mut conn, loan_ids).await?;
        let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
        let entries = scores::entries_of(&mut conn, &ids).await?;
        Ok(assemble(rows, entries)
            .into_iter()
            .map(|a| (a.score.loan_id, a))
            .collect())
    }

    /// One loan's assessment (after a mutation).
    pub(crate) async fn assessment(&self, loan_id: Uuid) -> Outcome<Assessment> {
        let found = self.assessments(&[loan_id]).await?.remove(&loan_id);
        Ok(found
            .ok_or_else(|| ServiceError::Other(anyhow::anyhow!("score of {loan_id} vanished")))?)
    }

    /// One page of the review queue, oldest first (one row more than the page).
    #[tracing::instrument(skip_all, fields(first = page.first))]
    pub async fn review_queue(&self, page: PageRequest) -> Result<Vec<Assessment>, ServiceError> {
        let mut conn = self.conn().await?;
        let rows = scores::queue_page(&mut conn, page.after, page.fetch_limit()).await?;
        let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
        let entries = scores::entries_of(&mut conn, &ids).await?;
        Ok(assemble(rows, entries))
    }
}

fn assemble(rows: Vec<ScoreRow>, entries: Vec<ScoreEntry>) -> Vec<Assessment> {
    let mut by_score: HashMap<Uuid, Vec<ScoreEntry>> = HashMap::new();
    for entry in entries {
        by_score
            .entry(entry.credit_score_id)
            .or_default()
            .push(entry);
    }
    rows.into_iter()
        .map(|score| Assessment {
            entries: by_score.remove(&score.id).unwrap_or_default(),
            score,
        })
        .collect()
}
