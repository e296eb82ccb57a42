//! Reads of a raw bureau report: each writes a `raw_access_log` entry (who, which evaluation,
//! which operation and request, when) and a log line — never the content — before the report
//! is decrypted and handed out. The way KYC treats PII reads.

use anyhow::Context as _;
use tenor_platform::cursor::PageRequest;
use tenor_platform::graphql::ClientInfo;
use tenor_platform::request::RequestContext;
use uuid::Uuid;

use super::{RiskService, now};
use crate::crypto::open_report;
use crate::store::access_log::{self, AccessFilter};
use crate::store::{Evaluation, RawAccess, StoreError};

/// Who is reading, and in which request.
#[derive(Debug, Clone)]
pub struct Reader {
    pub actor: Uuid,
    pub operation_name: Option<String>,
    pub client: ClientInfo,
}

impl RiskService {
    /// The decrypted raw report of `evaluation` (`None` for a failed check, which has none),
    /// logged first: no log entry, no report.
    #[tracing::instrument(skip_all, fields(actor = %reader.actor, evaluation_id = %evaluation.id))]
    pub async fn read_raw_report(
        &self,
        reader: &Reader,
        evaluation: &Evaluation,
    ) -> anyhow::Result<Option<String>> {
        let Some(sealed) = evaluation.raw.clone() else {
            return Ok(None);
        };
        let request_id = reader
            .client
            .request_id
            .clone()
            .or_else(|| RequestContext::current().and_then(|c| c.request_id));
        let access = RawAccess {
            id: Uuid::now_v7(),
            actor_id: reader.actor,
            evaluation_id: evaluation.id,
            loan_id: evaluation.loan_id,
            operation_name: reader.operation_name.clone(),
            request_id,
            client_ip: reader.client.ip.clone(),
            accessed_at: now(),
        };
        access_log::insert(&self.access_log(), &access).await?;
        tracing::info!(
            loan_id = %evaluation.loan_id,
            operation = access.operation_name.as_deref().unwrap_or_default(),
            request_id = access.request_id.as_deref().unwrap_or_default(),
            "raw bureau report read"
        );
        let vault = self.vault.clone();
        let id = evaluation.id;
        let report = tokio::task::spawn_blocking(move || open_report(&vault, id, &sealed))
            .await
            .context("opening the bureau report")?
            .context("opening the bureau report")?;
        Ok(Some(report))
    }

    /// A page of the raw-report access log, newest first.
    #[tracing::instrument(skip_all, fields(?filter))]
    pub async fn raw_access_log(
        &self,
        filter: AccessFilter,
        page: PageRequest,
    ) -> Result<Vec<RawAccess>, StoreError> {
        access_log::page(&self.access_log(), filter, page.after, page.fetch_limit()).await
    }
}
