//! Recording an evaluation: the bureau's answer reduced to the summary, score and level, the
//! raw report sealed (bound to the evaluation id, on the blocking pool), and the document
//! inserted once with its event. A loan that already has an evaluation keeps it.

use anyhow::Context as _;
use tenor_contracts::credit::credit_score_id;
use tenor_events::TraceParent;
use tenor_platform::telemetry::traces::current_traceparent;
use uuid::Uuid;

use super::{RiskService, now};
use crate::bureau::{BureauError, BureauReport};
use crate::crypto::seal_report;
use crate::domain::{
    EvaluationOutcome, FailureReason, level_text, normalize, risk_level, summarize,
};
use crate::events::publish::evaluation_events;
use crate::store::{Evaluation, NormalizedScore, RiskRequest, SealedReport, evaluations, requests};

impl RiskService {
    pub(super) async fn record_evaluated(
        &self,
        request: &RiskRequest,
        vendor: &str,
        report: BureauReport,
    ) -> anyhow::Result<()> {
        let id = Uuid::now_v7();
        let summary = summarize(&report.facilities);
        let score = normalize(&summary, report.reported_score);
        let level = risk_level(&self.settings.rules, score, &summary);
        let sealed = self.seal(id, report.raw).await?;
        let evaluation = Evaluation {
            id,
            credit_score_id: credit_score_id(request.loan_id),
            loan_id: request.loan_id,
            user_id: request.user_id,
            vendor_name: vendor.to_owned(),
            outcome: EvaluationOutcome::Evaluated,
            raw: Some(sealed),
            normalized: Some(NormalizedScore { score, summary }),
            risk_level: Some(level),
            rules_version: Some(self.settings.rules.version.clone()),
            failure_reason: None,
            attempts: request.attempts,
            created_at: now(),
        };
        tracing::info!(level = level_text(level), "bureau answered");
        self.insert_once(request, evaluation).await
    }

    pub(super) async fn record_failed(
        &self,
        request: &RiskRequest,
        vendor: &str,
        error: &BureauError,
    ) -> anyhow::Result<()> {
        let reason = match error {
            BureauError::Timeout => FailureReason::BureauTimeout,
            BureauError::Unavailable(_) => FailureReason::BureauUnavailable,
        };
        let evaluation = Evaluation {
            id: Uuid::now_v7(),
            credit_score_id: credit_score_id(request.loan_id),
            loan_id: request.loan_id,
            user_id: request.user_id,
            vendor_name: vendor.to_owned(),
            outcome: EvaluationOutcome::Failed,
            raw: None,
            normalized: None,
            risk_level: None,
            rules_version: Some(self.settings.rules.version.clone()),
            failure_reason: Some(reason.code().to_owned()),
            attempts: request.attempts,
            created_at: now(),
        };
        tracing::warn!(reason = reason.code(), %error, "bureau gave no answer by the deadline");
        self.insert_once(request, evaluation).await
    }

    /// Insert the evaluation with its event (refused if the loan has one: a crash or another
    /// replica got there first), ring the relay, then close the request.
    async fn insert_once(
        &self,
        request: &RiskRequest,
        evaluation: Evaluation,
    ) -> anyhow::Result<()> {
        // Named by the bureau check's span when spans are exported (so the decision follows it
        // in one tree), else a span of its own in the submission's trace as the request kept it.
        let traceparent = current_traceparent().or_else(|| {
            let kept = TraceParent::parse(request.traceparent.as_deref()?)?;
            Some(kept.child().as_str().to_owned())
        });
        let events = evaluation_events(&self.publisher, &evaluation, traceparent.as_deref())
            .context("building the evaluation event")?;
        let document = events.into_new_document(evaluations::to_document(&evaluation));
        if evaluations::insert(&self.evaluations(), document).await? {
            self.publisher.wake_relay();
            metrics::counter!("risk_evaluations_total", "outcome" => evaluation.outcome.as_str())
                .increment(1);
            tracing::info!(evaluation_id = %evaluation.id, outcome = evaluation.outcome.as_str(), "risk evaluation recorded");
        } else {
            tracing::info!("loan already evaluated; keeping the first evaluation");
        }
        requests::mark_done(&self.requests(), request.loan_id, now()).await?;
        Ok(())
    }

    /// The raw report encrypted under the current master key, bound to the evaluation id,
    /// on the blocking pool.
    async fn seal(&self, evaluation: Uuid, raw: serde_json::Value) -> anyhow::Result<SealedReport> {
        let vault = self.vault.clone();
        tokio::task::spawn_blocking(move || seal_report(&vault, evaluation, &raw))
            .await
            .context("sealing the bureau report")
    }
}
