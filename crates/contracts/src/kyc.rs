//! Events about identity verification, published by kyc on `kyc.events` (key = user id, so one
//! person's verification history stays ordered). Loan keeps an eligibility projection from them;
//! notification tells the customer. No PII travels in these events: no document number, no
//! image reference — consumers that need more ask the KYC subgraph with a scoped token.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tenor_events::DomainEvent;
use uuid::Uuid;

/// The identity document a submission is based on (seed `user_kyc.document_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DocumentType {
    /// Kartu Tanda Penduduk — the national identity card carrying the NIK.
    Ktp,
    /// Surat Izin Mengemudi — driving licence.
    Sim,
    /// Nomor Pokok Wajib Pajak — tax number card.
    Npwp,
}

/// Who decided a verification outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum KycDecisionSource {
    /// The configured verification vendor (simulated by default), above/below thresholds.
    Automatic,
    /// A staff member from the manual review queue.
    Manual,
}

/// A customer submitted documents for verification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KycSubmittedV1 {
    pub kyc_id: Uuid,
    pub user_id: Uuid,
    pub document_type: DocumentType,
    pub submitted_at: DateTime<Utc>,
}

impl DomainEvent for KycSubmittedV1 {
    const TYPE: &'static str = "kyc.submitted.v1";
}

/// A submission was verified; the customer is eligible for products that need KYC until
/// `expires_at` (or a later `kyc.expired`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KycVerifiedV1 {
    pub kyc_id: Uuid,
    pub user_id: Uuid,
    pub document_type: DocumentType,
    pub source: KycDecisionSource,
    /// The staff member for a manual decision.
    pub decided_by: Option<Uuid>,
    pub verified_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl DomainEvent for KycVerifiedV1 {
    const TYPE: &'static str = "kyc.verified.v1";
}

/// A submission was rejected; the customer may resubmit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KycRejectedV1 {
    pub kyc_id: Uuid,
    pub user_id: Uuid,
    pub document_type: DocumentType,
    pub source: KycDecisionSource,
    pub decided_by: Option<Uuid>,
    /// Machine-readable reason (e.g. `FACE_MISMATCH`, `DOCUMENT_UNREADABLE`, `MANUAL`).
    pub reason_code: String,
    /// Human-readable reason shown to the customer; never contains PII.
    pub reason: String,
    pub rejected_at: DateTime<Utc>,
}

impl DomainEvent for KycRejectedV1 {
    const TYPE: &'static str = "kyc.rejected.v1";
}

/// A verified submission reached the end of its validity; the customer must verify again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KycExpiredV1 {
    pub kyc_id: Uuid,
    pub user_id: Uuid,
    pub expired_at: DateTime<Utc>,
}

impl DomainEvent for KycExpiredV1 {
    const TYPE: &'static str = "kyc.expired.v1";
}

#[cfg(test)]
mod tests {
    use tenor_events::Envelope;

    use super::*;

    /// Loan's eligibility projection reads this shape: pin the wire names.
    #[test]
    fn verified_wire_form_is_stable() {
        let event = KycVerifiedV1 {
            kyc_id: Uuid::nil(),
            user_id: Uuid::max(),
            document_type: DocumentType::Ktp,
            source: KycDecisionSource::Automatic,
            decided_by: None,
            verified_at: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            expires_at: DateTime::from_timestamp(1_831_536_000, 0).unwrap(),
        };
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            serde_json::json!({
                "kyc_id": "00000000-0000-0000-0000-000000000000",
                "user_id": "ffffffff-ffff-ffff-ffff-ffffffffffff",
                "document_type": "KTP",
                "source": "AUTOMATIC",
                "decided_by": null,
                "verified_at": "2027-01-15T08:00:00Z",
                "expires_at": "2028-01-15T08:00:00Z",
            })
        );
        let envelope = Envelope::new("/tenor/kyc", "x", &event, None).unwrap();
        let back = Envelope::from_slice(&envelope.to_bytes()).unwrap();
        assert_eq!(back.event_type(), "kyc.verified.v1");
        assert_eq!(back.decode::<KycVerifiedV1>().unwrap(), event);
    }

    #[test]
    fn rejected_and_expired_round_trip() {
        let rejected = KycRejectedV1 {
            kyc_id: Uuid::new_v4(),
            user_id: Uuid::new_v4(),
            document_type: DocumentType::Sim,
            source: KycDecisionSource::Manual,
            decided_by: Some(Uuid::new_v4()),
            reason_code: "FACE_MISMATCH".into(),
            reason: "The selfie does not match the document photo".into(),
            rejected_at: Utc::now(),
        };
        let json = serde_json::to_vec(&rejected).unwrap();
        assert_eq!(
            serde_json::from_slice::<KycRejectedV1>(&json).unwrap(),
            rejected
        );
        let expired = KycExpiredV1 {
            kyc_id: Uuid::new_v4(),
            user_id: Uuid::new_v4(),
            expired_at: Utc::now(),
        };
        let json = serde_json::to_vec(&expired).unwrap();
        assert_eq!(
            serde_json::from_slice::<KycExpiredV1>(&json).unwrap(),
            expired
        );
    }
}
