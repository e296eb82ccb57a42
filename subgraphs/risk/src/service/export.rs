//! The owner's copy of what risk holds about them (right of access, UU PDP Pasal 32;
//! docs/conventions.md § Data-subject requests): each bureau check of their loans — when, which
//! bureau, the outcome, the risk level and the bureau's summary of their facilities — and who
//! read the raw report. The raw report itself stays sealed (it is the bureau's document, read
//! only by staff with `risk:raw:read`, each read listed here). Risk holds no name, NIK or
//! contact data: its records carry the opaque user id and are kept for the lender's retention
//! duty.

use uuid::Uuid;

use super::RiskService;
use crate::store::access_log::{self, AccessFilter};
use crate::store::{Evaluation, RawAccess, StoreError, evaluations};

/// At most this many raw-report reads per loan in one export.
pub const EXPORT_ACCESS_LIMIT: i64 = 1000;

#[derive(Debug)]
pub struct RiskExport {
    pub evaluations: Vec<Evaluation>,
    pub raw_report_reads: Vec<RawAccess>,
}

impl RiskService {
    #[tracing::instrument(skip(self))]
    pub async fn export_of(&self, user: Uuid) -> Result<RiskExport, StoreError> {
        let evaluations = evaluations::for_user(&self.evaluations(), user).await?;
        let mut raw_report_reads = Vec::new();
        for evaluation in &evaluations {
            raw_report_reads.extend(
                access_log::page(
                    &self.access_log(),
                    AccessFilter::Evaluation(evaluation.id),
                    None,
                    EXPORT_ACCESS_LIMIT,
                )
                .await?,
            );
        }
        Ok(RiskExport {
            evaluations,
            raw_report_reads,
        })
    }
}
