//! `risk_evaluations`: one document per loan (unique index on `loan_id`), inserted once with
//! its pending event (`tenor_events::mongo_outbox`) and never updated by the service.
//!
//! ```text
//! { _id = evaluation_id, evaluation_id, credit_score_id, loan_id, user_id, vendor_name,
//!   outcome: EVALUATED|FAILED, raw_score: { key_id, ciphertext: <binary> } | null,
//!   normalized_score: { score, worst_collectability, active_facilities, active_platforms,
//!                       outstanding_debt, max_days_past_due_12m } | null,
//!   risk_level: LOW|MEDIUM|HIGH | null, rules_version, failure_reason, attempts, created_at,
//!   outbox, outbox_pending }
//! ```

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use mongodb::bson::spec::BinarySubtype;
use mongodb::bson::{Binary, Bson, Document, doc};
use mongodb::options::IndexOptions;
use mongodb::{Collection, Database, IndexModel};
use tenor_contracts::risk::{BureauSummary, RiskLevel};
use uuid::Uuid;

use super::{StoreError, bson_time, int_field, is_duplicate_key, time_field, uuid_field};
use crate::domain::{EvaluationOutcome, level_text, parse_level};

pub const COLLECTION: &str = "risk_evaluations";

pub fn collection(db: &Database) -> Collection<Document> {
    db.collection(COLLECTION)
}

/// The raw bureau report, encrypted (bound to the evaluation id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedReport {
    pub key_id: String,
    pub ciphertext: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalizedScore {
    pub score: i32,
    pub summary: BureauSummary,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub id: Uuid,
    pub credit_score_id: Uuid,
    pub loan_id: Uuid,
    pub user_id: Uuid,
    pub vendor_name: String,
    pub outcome: EvaluationOutcome,
    pub raw: Option<SealedReport>,
    pub normalized: Option<NormalizedScore>,
    pub risk_level: Option<RiskLevel>,
    pub rules_version: Option<String>,
    pub failure_reason: Option<String>,
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
}

/// The document for `evaluation`, without its events (the caller adds them).
pub fn to_document(evaluation: &Evaluation) -> Document {
    let raw = evaluation.raw.as_ref().map(|raw| {
        doc! {
            "key_id": &raw.key_id,
            "ciphertext": Binary { subtype: BinarySubtype::Generic, bytes: raw.ciphertext.clone() },
        }
    });
    let normalized = evaluation.normalized.as_ref().map(|n| {
        doc! {
            "score": n.score,
            "worst_collectability": i32::from(n.summary.worst_collectability),
            "active_facilities": i64::from(n.summary.active_facilities),
            "active_platforms": i64::from(n.summary.active_platforms),
            "outstanding_debt": n.summary.outstanding_debt,
            "max_days_past_due_12m": i64::from(n.summary.max_days_past_due_12m),
        }
    });
    doc! {
        "_id": evaluation.id.to_string(),
        "evaluation_id": evaluation.id.to_string(),
        "credit_score_id": evaluation.credit_score_id.to_string(),
        "loan_id": evaluation.loan_id.to_string(),
        "user_id": evaluation.user_id.to_string(),
        "vendor_name": &evaluation.vendor_name,
        "outcome": evaluation.outcome.as_str(),
        "raw_score": raw,
        "normalized_score": normalized,
        "risk_level": evaluation.risk_level.map(level_text),
        "rules_version": evaluation.rules_version.clone(),
        "failure_reason": evaluation.failure_reason.clone(),
        "attempts": i64::from(evaluation.attempts),
        "created_at": bson_time(evaluation.created_at),
    }
}

/// Insert the evaluation document (with its events); `false` when the loan already has one.
pub async fn insert(
    evaluations: &Collection<Document>,
    document: Document,
) -> Result<bool, StoreError> {
    match evaluations.insert_one(document).await {
        Ok(_) => Ok(true),
        Err(error) if is_duplicate_key(&error) => Ok(false),
        Err(error) => Err(error.into()),
    }
}

/// The evaluations of `loans`, in one query.
pub async fn for_loans(
    evaluations: &Collection<Document>,
    loans: &[Uuid],
) -> Result<Vec<Evaluation>, StoreError> {
    let ids: Vec<String> = loans.iter().map(Uuid::to_string).collect();
    let documents: Vec<Document> = evaluations
        .find(doc! { "loan_id": { "$in": ids } })
        .projection(doc! { "outbox": 0 })
        .await?
        .try_collect()
        .await?;
    documents.iter().map(parse).collect()
}

/// Every evaluation of one borrower (the owner's data export).
pub async fn for_user(
    evaluations: &Collection<Document>,
    user: Uuid,
) -> Result<Vec<Evaluation>, StoreError> {
    let documents: Vec<Document> = evaluations
        .find(doc! { "user_id": user.to_string() })
        .projection(doc! { "outbox": 0 })
        .await?
        .try_collect()
        .await?;
    documents.iter().map(parse).collect()
}

pub async fn by_id(
    evaluations: &Collection<Document>,
    id: Uuid,
) -> Result<Option<Evaluation>, StoreError> {
    let found = evaluations.find_one(doc! { "_id": id.to_string() }).await?;
    found.as_ref().map(parse).transpose()
}

pub async fn ensure_indexes(db: &Database) -> mongodb::error::Result<()> {
    let index = IndexModel::builder()
        .keys(doc! { "loan_id": 1 })
        .options(IndexOptions::builder().unique(true).build())
        .build();
    collection(db).create_index(index).await.map(|_| ())
}

fn parse(document: &Document) -> Result<Evaluation, StoreError> {
    let malformed = |key: &str| StoreError::Malformed(key.to_owned());
    let text = |key: &str| document.get_str(key).ok().map(str::to_owned);
    let outcome = document
        .get_str("outcome")
        .ok()
        .and_then(EvaluationOutcome::parse)
        .ok_or_else(|| malformed("outcome"))?;
    let raw = match document.get("raw_score") {
        Some(Bson::Document(raw)) => Some(SealedReport {
            key_id: raw
                .get_str("key_id")
                .map_err(|_| malformed("raw_score.key_id"))?
                .to_owned(),
            ciphertext: raw
                .get_binary_generic("ciphertext")
                .map_err(|_| malformed("raw_score.ciphertext"))?
                .clone(),
        }),
        _ => None,
    };
    let normalized = match document.get("normalized_score") {
        Some(Bson::Document(n)) => Some(NormalizedScore {
            score: int_field(n, "score")? as i32,
            summary: BureauSummary {
                worst_collectability: int_field(n, "worst_collectability")? as u8,
                active_facilities: int_field(n, "active_facilities")? as u32,
                active_platforms: int_field(n, "active_platforms")? as u32,
                outstanding_debt: int_field(n, "outstanding_debt")?,
                max_days_past_due_12m: int_field(n, "max_days_past_due_12m")? as u32,
            },
        }),
        _ => None,
    };
    Ok(Evaluation {
        id: uuid_field(document, "_id")?,
        credit_score_id: uuid_field(document, "credit_score_id")?,
        loan_id: uuid_field(document, "loan_id")?,
        user_id: uuid_field(document, "user_id")?,
        vendor_name: text("vendor_name").ok_or_else(|| malformed("vendor_name"))?,
        outcome,
        raw,
        normalized,
        risk_level: document.get_str("risk_level").ok().and_then(parse_level),
        rules_version: text("rules_version"),
        failure_reason: text("failure_reason"),
        attempts: int_field(document, "attempts")?.clamp(0, i64::from(u32::MAX)) as u32,
        created_at: time_field(document, "created_at")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_reads_back_as_what_was_written() {
        let evaluation = Evaluation {
            id: Uuid::now_v7(),
            credit_score_id: Uuid::now_v7(),
            loan_id: Uuid::now_v7(),
            user_id: Uuid::now_v7(),
            vendor_name: "simulated-slik".into(),
            outcome: EvaluationOutcome::Evaluated,
            raw: Some(SealedReport {
                key_id: "risk-1".into(),
                ciphertext: vec![1, 2, 3],
            }),
            normalized: Some(NormalizedScore {
                score: 640,
                summary: BureauSummary {
                    worst_collectability: 2,
                    active_facilities: 3,
                    active_platforms: 2,
                    outstanding_debt: 4_500_000,
                    max_days_past_due_12m: 15,
                },
            }),
            risk_level: Some(RiskLevel::Medium),
            rules_version: Some("v".into()),
            failure_reason: None,
            attempts: 2,
            created_at: DateTime::from_timestamp_millis(1_800_000_000_123).unwrap(),
        };
        assert_eq!(parse(&to_document(&evaluation)).unwrap(), evaluation);
    }
}
