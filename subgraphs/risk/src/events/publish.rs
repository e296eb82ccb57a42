//! What risk announces about an evaluation, keyed by the loan id. The events go into the
//! evaluation document's insert ([`tenor_events::mongo_outbox`]) and continue the trace of the
//! `loan.submitted` that caused them.

use tenor_contracts::risk::{RiskEvaluatedV1, RiskEvaluationFailedV1};
use tenor_events::{Envelope, EnvelopeError, MongoPublisher, PendingEvents, TraceParent};

use crate::domain::EvaluationOutcome;
use crate::store::Evaluation;

/// The event of `evaluation`, ready for its insert.
pub fn evaluation_events(
    publisher: &MongoPublisher,
    evaluation: &Evaluation,
    traceparent: Option<&str>,
) -> Result<PendingEvents, EnvelopeError> {
    // Named as given: the caller hands over the span the evaluation was made in.
    let trace = traceparent.and_then(TraceParent::parse);
    let subject = evaluation.loan_id.to_string();
    let source = tenor_contracts::sources::RISK;
    let envelope = match (
        evaluation.outcome,
        &evaluation.normalized,
        evaluation.risk_level,
    ) {
        (EvaluationOutcome::Evaluated, Some(normalized), Some(risk_level)) => {
            let event = RiskEvaluatedV1 {
                evaluation_id: evaluation.id,
                credit_score_id: evaluation.credit_score_id,
                loan_id: evaluation.loan_id,
                user_id: evaluation.user_id,
                vendor_name: evaluation.vendor_name.clone(),
                risk_level,
                normalized_score: normalized.score,
                bureau: normalized.summary.clone(),
                rules_version: evaluation.rules_version.clone().unwrap_or_default(),
                evaluated_at: evaluation.created_at,
            };
            Envelope::new(source, subject, &event, trace.as_ref())?
        }
        _ => {
            let event = RiskEvaluationFailedV1 {
                evaluation_id: evaluation.id,
                credit_score_id: evaluation.credit_score_id,
                loan_id: evaluation.loan_id,
                user_id: evaluation.user_id,
                vendor_name: evaluation.vendor_name.clone(),
                reason_code: evaluation.failure_reason.clone().unwrap_or_default(),
                attempts: evaluation.attempts,
                failed_at: evaluation.created_at,
            };
            Envelope::new(source, subject, &event, trace.as_ref())?
        }
    };
    let mut events = publisher.events();
    events.add_envelope(&envelope);
    Ok(events)
}
