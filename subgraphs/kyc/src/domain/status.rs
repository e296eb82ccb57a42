//! The states a submission is stored in (`user_kyc`), as text columns via
//! [`tenor_platform::text_enum!`]. The table's CHECK constraints list the same values.

use tenor_contracts::kyc::{DocumentType, KycDecisionSource};

tenor_platform::text_enum! {
    /// `user_kyc.status` (seed values).
    pub enum KycStatus {
        Pending = "PENDING",
        Verified = "VERIFIED",
        Rejected = "REJECTED",
        Expired = "EXPIRED",
    }
}

impl KycStatus {
    /// A new submission is refused while the latest one is still in play or still valid.
    pub fn blocks_resubmission(self) -> bool {
        matches!(self, Self::Pending | Self::Verified)
    }
}

tenor_platform::text_enum! {
    /// Where a PENDING submission is in verification.
    pub enum VerificationStage {
        /// Not yet answered by the vendor: the verification worker picks it up (also after a
        /// crash).
        AwaitingVendor = "AWAITING_VENDOR",
        /// The vendor's score was borderline: waiting for staff in the review queue.
        ManualReview = "MANUAL_REVIEW",
        /// Decided (the status says how).
        Decided = "DECIDED",
    }
}

tenor_platform::text_enum! {
    /// `user_kyc.document_type`: the contract's [`DocumentType`] as the seed stores it (lower
    /// case). The blind index is keyed by this text too, so it must never change.
    pub enum StoredDocumentType {
        Ktp = "ktp",
        Sim = "sim",
        Npwp = "npwp",
    }
}

impl From<DocumentType> for StoredDocumentType {
    fn from(t: DocumentType) -> Self {
        match t {
            DocumentType::Ktp => Self::Ktp,
            DocumentType::Sim => Self::Sim,
            DocumentType::Npwp => Self::Npwp,
        }
    }
}

impl From<StoredDocumentType> for DocumentType {
    fn from(t: StoredDocumentType) -> Self {
        match t {
            StoredDocumentType::Ktp => Self::Ktp,
            StoredDocumentType::Sim => Self::Sim,
            StoredDocumentType::Npwp => Self::Npwp,
        }
    }
}

tenor_platform::text_enum! {
    /// `user_kyc.decision_source`: the contract's [`KycDecisionSource`] as stored.
    pub enum DecisionSource {
        Automatic = "AUTOMATIC",
        Manual = "MANUAL",
    }
}

impl From<KycDecisionSource> for DecisionSource {
    fn from(source: KycDecisionSource) -> Self {
        match source {
            KycDecisionSource::Automatic => Self::Automatic,
            KycDecisionSource::Manual => Self::Manual,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_and_block_resubmission() {
        for s in [
            KycStatus::Pending,
            KycStatus::Verified,
            KycStatus::Rejected,
            KycStatus::Expired,
        ] {
            assert_eq!(KycStatus::from_db(s.as_db()), Some(s));
        }
        assert!(KycStatus::Pending.blocks_resubmission());
        assert!(KycStatus::Verified.blocks_resubmission());
        assert!(!KycStatus::Rejected.blocks_resubmission());
        assert!(!KycStatus::Expired.blocks_resubmission());
    }

    #[test]
    fn document_types_keep_the_seed_spelling() {
        for t in [DocumentType::Ktp, DocumentType::Sim, DocumentType::Npwp] {
            let stored = StoredDocumentType::from(t);
            assert_eq!(DocumentType::from(stored), t);
        }
        assert_eq!(StoredDocumentType::Ktp.as_db(), "ktp");
    }
}
