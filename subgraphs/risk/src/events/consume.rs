//! `loan.submitted.v1` → a request in the work queue; `loan.status.changed.v1` CANCELLED ends a
//! pending one (no more bureau calls for a loan nobody wants). Nothing else happens on the consumer:
//! a slow or absent bureau never holds the Kafka partition, and the request document (unique
//! per loan) makes a redelivered or repeated event change nothing.

use async_trait::async_trait;
use tenor_contracts::loan::{LoanStatus, LoanStatusChangedV1, LoanSubmittedV1};
use tenor_events::{Envelope, EventHandler, HandlerError};

use crate::service::RiskService;

/// The consumer group (`consumer.group_id`, overridable like every subgraph's).
pub const CONSUMER_GROUP: &str = "tenor-risk";

pub struct LoanEvents {
    service: RiskService,
}

impl LoanEvents {
    pub fn new(service: RiskService) -> Self {
        Self { service }
    }
}

#[async_trait]
impl EventHandler for LoanEvents {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        if event.is::<LoanStatusChangedV1>() {
            let changed: LoanStatusChangedV1 = event.decode().map_err(HandlerError::permanent)?;
            if changed.status == LoanStatus::Cancelled {
                self.service
                    .withdraw(changed.loan_id)
                    .await
                    .map_err(HandlerError::retryable)?;
            }
            return Ok(());
        }
        if !event.is::<LoanSubmittedV1>() {
            return Ok(());
        }
        let submitted: LoanSubmittedV1 = event.decode().map_err(HandlerError::permanent)?;
        let traceparent = event.traceparent().map(|t| t.as_str().to_owned());
        self.service
            .accept_submission(&submitted, traceparent)
            .await
            .map_err(HandlerError::retryable)?;
        Ok(())
    }
}
