//! The borrower's right to object to a solely automated decision (UU PDP): an AUTOMATIC
//! rejection may be sent to a person, once, within the configured window. The staff decision
//! that follows names the rejection it reviews (`reviews_decision`).

use chrono::Utc;
use diesel_async::AsyncConnection;
use tenor_platform::refusal::refuse;
use uuid::Uuid;

use super::{Assessment, Credit, Outcome, chrono_duration};
use crate::domain::CreditRefusal;
use crate::domain::decision::HUMAN_REVIEW_REQUESTED;
use crate::domain::refusal::clean_note;
use crate::domain::status::{DecisionSource, DecisionState, ReviewStatus};
use crate::store::scores;

impl Credit {
    #[tracing::instrument(skip_all, fields(%user_id, %loan_id))]
    pub async fn request_human_review(
        &self,
        user_id: Uuid,
        loan_id: Uuid,
        note: Option<&str>,
    ) -> Outcome<Assessment> {
        let note = match clean_note(note) {
            Ok(note) => note,
            Err(refusal) => return refuse(refusal),
        };
        let note = note.as_deref();
        let window = self.settings.human_review_window;
        let mut conn = self.conn().await?;
        conn.transaction(async |conn| {
            // Someone else's loan looks exactly like an unknown one.
            let Some(row) = scores::lock_by_loan(conn, loan_id)
                .await?
                .filter(|row| row.user_id == user_id)
            else {
                return refuse(CreditRefusal::NotFound);
            };
            if row.decision != DecisionState::Reject {
                return refuse(CreditRefusal::NotRejected);
            }
            if row.review_status != ReviewStatus::None {
                return refuse(CreditRefusal::ReviewAlreadyRequested);
            }
            if row.decision_source != Some(DecisionSource::Automatic) {
                return refuse(CreditRefusal::NotAutomatic);
            }
            let now = Utc::now();
            let decided_at = row.decided_at.unwrap_or(now);
            if now > decided_at + chrono_duration(window) {
                return refuse(CreditRefusal::ReviewWindowPassed {
                    days: (window.as_secs() / 86_400) as i64,
                });
            }
            scores::request_review(conn, row.id, HUMAN_REVIEW_REQUESTED, note, now).await?;
            Ok(())
        })
        .await?;
        self.assessment(loan_id).await
    }
}
