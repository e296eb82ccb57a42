//! The events a borrower hears about: for each, what kind of message it is, whether quiet hours
//! hold it back, which channels carry it, which variables its templates may use and sample data
//! to render them with.
//!
//! Every sample is the real contract struct serialised (loan, KYC and auth's security events),
//! so a renamed contract field breaks [`check`](super::check) of every template that uses it,
//! here, instead of a borrower's message.

use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::Value;
use tenor_contracts::credit::CreditReferredV1;
use tenor_contracts::identity::{
    AllSessionsEndedV1, BiometricEnrolledV1, DeviceRegisteredV1, PasswordChangedV1,
};
use tenor_contracts::kyc::{
    DocumentType, KycDecisionSource, KycExpiredV1, KycRejectedV1, KycVerifiedV1,
};
use tenor_contracts::loan::{
    LoanActivatedV1, LoanApprovedV1, LoanInstallmentDueV1, LoanInstallmentOverdueV1, LoanPaidV1,
    LoanRejectedV1,
};
use uuid::Uuid;

use crate::domain::{Category, ChannelKind};

const ALL_THREE: &[ChannelKind] = &[ChannelKind::Email, ChannelKind::Sms, ChannelKind::Push];
const REMINDER: &[ChannelKind] = &[ChannelKind::Sms, ChannelKind::Push, ChannelKind::Email];
const EMAIL_AND_PUSH: &[ChannelKind] = &[ChannelKind::Email, ChannelKind::Push];

/// The borrower's full name, added by the notification service to every event's data.
pub const NAME: &str = "name";
const SAMPLE_NAME: &str = "Siti Rahayu Wulandari";

/// One event type notification reacts to.
#[derive(Debug, Clone)]
pub struct EventEntry {
    pub event_type: &'static str,
    pub category: Category,
    /// Reminders and collection messages wait for 08:00–20:00 local time on a working day
    /// (see [`crate::schedule`]); everything else goes at once.
    pub quiet_hours: bool,
    /// Transactional messages go even to a borrower who declined marketing. All of these are.
    pub transactional: bool,
    /// The channels it is sent on, in the order the borrower is most likely to see it first.
    pub channels: &'static [ChannelKind],
    /// Every variable a template may use, `name` included.
    pub variables: Vec<Variable>,
    /// A complete set of variables (event data plus `name`) for checks and previews.
    pub sample: Value,
}

/// A template variable, documented for the back office's editor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    pub name: &'static str,
    pub description: &'static str,
    /// May be `null`: a template must read well without it (checks render it both ways).
    pub optional: bool,
}

impl EventEntry {
    pub fn variable(&self, name: &str) -> Option<&Variable> {
        self.variables.iter().find(|v| v.name == name)
    }

    /// The sample with every optional variable set to `null`: the other case a template must
    /// handle (a rejection without a reason).
    pub fn sample_without_optionals(&self) -> Option<Value> {
        let optional: Vec<_> = self.variables.iter().filter(|v| v.optional).collect();
        if optional.is_empty() {
            return None;
        }
        let mut sample = self.sample.clone();
        for variable in optional {
            sample[variable.name] = Value::Null;
        }
        Some(sample)
    }
}

/// Every event type notification consumes.
pub fn catalog() -> &'static [EventEntry] {
    &CATALOG
}

/// The entry for `event_type`, `None` when notification does not send anything for it.
pub fn entry(event_type: &str) -> Option<&'static EventEntry> {
    CATALOG.iter().find(|e| e.event_type == event_type)
}

/// A template's variables from an event's `data` and the borrower's name. Data that is not a
/// JSON object (never the case for our contracts) is kept under `data`.
pub fn variables_with_name(data: &Value, name: &str) -> Value {
    let mut variables = match data {
        Value::Object(fields) => fields.clone(),
        other => serde_json::Map::from_iter([("data".to_owned(), other.clone())]),
    };
    variables.insert(NAME.to_owned(), Value::String(name.to_owned()));
    Value::Object(variables)
}

static CATALOG: LazyLock<Vec<EventEntry>> = LazyLock::new(|| {
    vec![
        loan_referred(),
        loan_approved(),
        loan_rejected(),
        loan_activated(),
        loan_paid(),
        installment_due(),
        installment_overdue(),
        kyc_verified(),
        kyc_rejected(),
        kyc_expired(),
        password_changed(),
        device_registered(),
        biometric_enrolled(),
        sessions_ended(),
    ]
});

/// Credit's rules referred the application to a person: the borrower hears it is being
/// reviewed (the loan itself stays SUBMITTED until staff decide, then `loan.approved` or
/// `loan.rejected` follows). Email and push: news, not urgent enough for a paid SMS.
fn loan_referred() -> EventEntry {
    let data = CreditReferredV1 {
        loan_id: sample_id(1),
        user_id: sample_id(2),
        amount: 5_000_000,
        tenor_months: 6,
        reason_codes: vec!["SCORE_BORDERLINE".into()],
        referred_at: sample_time("2027-01-15T07:05:00Z"),
    };
    event(
        "credit.referred.v1",
        Category::Loan,
        EMAIL_AND_PUSH,
        &data,
        &[
            var("loan_id", "the loan's id"),
            var("user_id", "the borrower's id"),
            var(
                "amount",
                "principal applied for, whole rupiah (use | rupiah)",
            ),
            var("tenor_months", "number of monthly installments applied for"),
            var(
                "reason_codes",
                "why the rules referred it (internal, a list)",
            ),
            var(
                "referred_at",
                "when it went to review (use | datetime or | date)",
            ),
        ],
    )
}

fn loan_approved() -> EventEntry {
    let data = LoanApprovedV1 {
        loan_id: sample_id(1),
        user_id: sample_id(2),
        amount: 5_000_000,
        tenor_months: 6,
        score: 712,
        reason_codes: vec!["GOOD_REPAYMENT_HISTORY".into()],
        approved_at: sample_time("2027-01-15T07:05:00Z"),
    };
    event(
        "loan.approved.v1",
        Category::Loan,
        ALL_THREE,
        &data,
        &[
            var("loan_id", "the loan's id"),
            var("user_id", "the borrower's id"),
            var("amount", "approved principal, whole rupiah (use | rupiah)"),
            var("tenor_months", "number of monthly installments"),
            var("score", "credit score behind the decision (internal)"),
            var("reason_codes", "decision reason codes (internal, a list)"),
            var(
                "approved_at",
                "when it was approved (use | datetime or | date)",
            ),
        ],
    )
}

fn loan_rejected() -> EventEntry {
    let data = LoanRejectedV1 {
        loan_id: sample_id(1),
        user_id: sample_id(2),
        score: 480,
        reason_codes: vec!["SCORE_BELOW_THRESHOLD".into()],
        // What a template receives for an Indonesian reader (`reasons`), not credit's English.
        reason: Some("Skor kredit Anda belum memenuhi persyaratan kami saat ini".into()),
        rejected_at: sample_time("2027-01-15T07:05:00Z"),
    };
    event(
        "loan.rejected.v1",
        Category::Loan,
        ALL_THREE,
        &data,
        &[
            var("loan_id", "the loan's id"),
            var("user_id", "the borrower's id"),
            var("score", "credit score behind the decision (internal)"),
            var("reason_codes", "decision reason codes (internal, a list)"),
            optional(
                "reason",
                "reason to show the borrower, in their language and without a closing full stop, may be null: {% if reason %}",
            ),
            var(
                "rejected_at",
                "when it was rejected (use | datetime or | date)",
            ),
        ],
    )
}

fn loan_activated() -> EventEntry {
    let data = LoanActivatedV1 {
        loan_id: sample_id(1),
        user_id: sample_id(2),
        amount: 5_000_000,
        payout_reference: "PAYOUT-20270115-0001".into(),
        disbursed_on: sample_date("2027-01-15"),
        first_due_date: sample_date("2027-02-15"),
        activated_at: sample_time("2027-01-15T07:05:00Z"),
    };
    event(
        "loan.activated.v1",
        Category::Loan,
        ALL_THREE,
        &data,
        &[
            var("loan_id", "the loan's id"),
            var("user_id", "the borrower's id"),
            var("amount", "disbursed amount, whole rupiah (use | rupiah)"),
            var("payout_reference", "the transfer's reference"),
            var("disbursed_on", "the day the money was sent (use | date)"),
            var(
                "first_due_date",
                "the first installment's due date (use | date)",
            ),
            var(
                "activated_at",
                "when the loan became active (use | datetime)",
            ),
        ],
    )
}

fn loan_paid() -> EventEntry {
    let data = LoanPaidV1 {
        loan_id: sample_id(1),
        user_id: sample_id(2),
        total_paid: 6_250_000,
        paid_at: sample_time("2027-07-15T03:30:00Z"),
    };
    event(
        "loan.paid.v1",
        Category::Payment,
        ALL_THREE,
        &data,
        &[
            var("loan_id", "the loan's id"),
            var("user_id", "the borrower's id"),
            var(
                "total_paid",
                "everything paid on the loan, whole rupiah (use | rupiah)",
            ),
            var(
                "paid_at",
                "when the last payment arrived (use | datetime or | date)",
            ),
        ],
    )
}

fn installment_due() -> EventEntry {
    let data = LoanInstallmentDueV1 {
        loan_id: sample_id(1),
        user_id: sample_id(2),
        installment_number: 2,
        due_date: sample_date("2027-03-15"),
        amount_due: 1_041_667,
    };
    let mut entry = event(
        "loan.installment.due.v1",
        Category::Payment,
        REMINDER,
        &data,
        &[
            var("loan_id", "the loan's id"),
            var("user_id", "the borrower's id"),
            var("installment_number", "which installment (1 = the first)"),
            var("due_date", "its due date (use | date)"),
            var(
                "amount_due",
                "what is still owed on it, whole rupiah (use | rupiah)",
            ),
        ],
    );
    entry.quiet_hours = true;
    entry
}

fn installment_overdue() -> EventEntry {
    let data = LoanInstallmentOverdueV1 {
        loan_id: sample_id(1),
        user_id: sample_id(2),
        installment_number: 2,
        due_date: sample_date("2027-03-15"),
        amount_due: 1_041_667,
        days_past_due: 3,
    };
    let mut entry = event(
        "loan.installment.overdue.v1",
        Category::Collection,
        REMINDER,
        &data,
        &[
            var("loan_id", "the loan's id"),
            var("user_id", "the borrower's id"),
            var("installment_number", "which installment (1 = the first)"),
            var("due_date", "the due date that passed (use | date)"),
            var(
                "amount_due",
                "what is still owed on it, whole rupiah (use | rupiah)",
            ),
            var("days_past_due", "days since the due date"),
        ],
    );
    entry.quiet_hours = true;
    entry
}

fn kyc_verified() -> EventEntry {
    let data = KycVerifiedV1 {
        kyc_id: sample_id(3),
        user_id: sample_id(2),
        document_type: DocumentType::Ktp,
        source: KycDecisionSource::Automatic,
        decided_by: None,
        verified_at: sample_time("2027-01-15T07:05:00Z"),
        expires_at: sample_time("2028-01-15T07:05:00Z"),
    };
    event(
        "kyc.verified.v1",
        Category::Kyc,
        EMAIL_AND_PUSH,
        &data,
        &[
            var("kyc_id", "the verification's id"),
            var("user_id", "the borrower's id"),
            var("document_type", "KTP, SIM or NPWP"),
            var("source", "AUTOMATIC or MANUAL (internal)"),
            optional(
                "decided_by",
                "the staff member's id for a manual decision (internal)",
            ),
            var(
                "verified_at",
                "when it was verified (use | datetime or | date)",
            ),
            var("expires_at", "until when it is valid (use | date)"),
        ],
    )
}

fn kyc_rejected() -> EventEntry {
    let data = KycRejectedV1 {
        kyc_id: sample_id(3),
        user_id: sample_id(2),
        document_type: DocumentType::Ktp,
        source: KycDecisionSource::Manual,
        decided_by: Some(sample_id(4)),
        reason_code: "DOCUMENT_UNREADABLE".into(),
        reason: "Foto KTP buram sehingga data tidak terbaca".into(),
        rejected_at: sample_time("2027-01-15T07:05:00Z"),
    };
    event(
        "kyc.rejected.v1",
        Category::Kyc,
        EMAIL_AND_PUSH,
        &data,
        &[
            var("kyc_id", "the verification's id"),
            var("user_id", "the borrower's id"),
            var("document_type", "KTP, SIM or NPWP"),
            var("source", "AUTOMATIC or MANUAL (internal)"),
            optional(
                "decided_by",
                "the staff member's id for a manual decision (internal)",
            ),
            var("reason_code", "machine-readable reason, e.g. FACE_MISMATCH"),
            var(
                "reason",
                "the reason to show the borrower (never PII), in their language for KYC's own codes, as staff wrote it otherwise; no closing full stop",
            ),
            var(
                "rejected_at",
                "when it was rejected (use | datetime or | date)",
            ),
        ],
    )
}

fn kyc_expired() -> EventEntry {
    let data = KycExpiredV1 {
        kyc_id: sample_id(3),
        user_id: sample_id(2),
        expired_at: sample_time("2028-01-15T07:05:00Z"),
    };
    event(
        "kyc.expired.v1",
        Category::Kyc,
        EMAIL_AND_PUSH,
        &data,
        &[
            var("kyc_id", "the verification's id"),
            var("user_id", "the borrower's id"),
            var("expired_at", "when it expired (use | date or | datetime)"),
        ],
    )
}

fn password_changed() -> EventEntry {
    let data = PasswordChangedV1 {
        user_id: sample_id(2),
        changed_at: sample_time("2027-01-15T13:42:00Z"),
    };
    event(
        "auth.password.changed.v1",
        Category::Security,
        ALL_THREE,
        &data,
        &[
            var("user_id", "the borrower's id"),
            var(
                "changed_at",
                "when the password was changed (use | datetime)",
            ),
        ],
    )
}

fn device_registered() -> EventEntry {
    let data = DeviceRegisteredV1 {
        user_id: sample_id(2),
        device_id: sample_id(5).to_string(),
        device_name: "Samsung Galaxy A54".into(),
        registered_at: sample_time("2027-01-15T13:42:00Z"),
    };
    event(
        "auth.device.registered.v1",
        Category::Security,
        ALL_THREE,
        &data,
        &[
            var("user_id", "the borrower's id"),
            var("device_id", "the device's id (internal)"),
            var("device_name", "the device's name as the app reported it"),
            var("registered_at", "when it was registered (use | datetime)"),
        ],
    )
}

fn biometric_enrolled() -> EventEntry {
    let data = BiometricEnrolledV1 {
        user_id: sample_id(2),
        device_id: sample_id(5).to_string(),
        device_name: "Samsung Galaxy A54".into(),
        enrolled_at: sample_time("2027-01-15T13:42:00Z"),
    };
    event(
        "auth.biometric.enrolled.v1",
        Category::Security,
        ALL_THREE,
        &data,
        &[
            var("user_id", "the borrower's id"),
            var("device_id", "the device's id (internal)"),
            var("device_name", "the device's name as the app reported it"),
            var(
                "enrolled_at",
                "when biometric login was enabled (use | datetime)",
            ),
        ],
    )
}

fn sessions_ended() -> EventEntry {
    let data = AllSessionsEndedV1 {
        user_id: sample_id(2),
        sessions_ended: 3,
        reason: "LOGOUT_ALL".into(),
        ended_at: sample_time("2027-01-15T13:42:00Z"),
    };
    event(
        "auth.sessions.ended.v1",
        Category::Security,
        ALL_THREE,
        &data,
        &[
            var("user_id", "the borrower's id"),
            var("sessions_ended", "how many sessions were ended"),
            var(
                "reason",
                "why, a code: LOGOUT_ALL, PASSWORD_CHANGED, REFRESH_TOKEN_REUSE, ACCOUNT_BLOCKED…",
            ),
            var("ended_at", "when (use | datetime)"),
        ],
    )
}

fn event(
    event_type: &'static str,
    category: Category,
    channels: &'static [ChannelKind],
    data: &impl Serialize,
    variables: &[Variable],
) -> EventEntry {
    let data = serde_json::to_value(data).expect("a contract serialises to JSON");
    let mut variables = variables.to_vec();
    variables.push(var(
        NAME,
        "the borrower's full name (\"Nasabah\" when unknown)",
    ));
    EventEntry {
        event_type,
        category,
        quiet_hours: false,
        transactional: true,
        channels,
        variables,
        sample: variables_with_name(&data, SAMPLE_NAME),
    }
}

const fn var(name: &'static str, description: &'static str) -> Variable {
    Variable {
        name,
        description,
        optional: false,
    }
}

const fn optional(name: &'static str, description: &'static str) -> Variable {
    Variable {
        name,
        description,
        optional: true,
    }
}

fn sample_id(n: u128) -> Uuid {
    Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 + n)
}

fn sample_time(text: &str) -> DateTime<Utc> {
    text.parse().expect("a valid sample time")
}

fn sample_date(text: &str) -> NaiveDate {
    text.parse().expect("a valid sample date")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// The documented variables are exactly the sample's fields: a contract field added or
    /// renamed shows up here, not as a template that silently cannot use it.
    #[test]
    fn variables_match_the_contracts() {
        for entry in catalog() {
            let documented: BTreeSet<_> = entry.variables.iter().map(|v| v.name).collect();
            let sampled: BTreeSet<_> = entry
                .sample
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(documented, sampled, "{}", entry.event_type);
        }
    }

    #[test]
    fn every_consumed_event_is_listed_once_with_its_policy() {
        let types: BTreeSet<_> = catalog().iter().map(|e| e.event_type).collect();
        assert_eq!(types.len(), catalog().len());
        assert_eq!(types.len(), 14);
        let quiet: BTreeSet<_> = catalog()
            .iter()
            .filter(|e| e.quiet_hours)
            .map(|e| e.event_type)
            .collect();
        assert_eq!(
            quiet,
            BTreeSet::from(["loan.installment.due.v1", "loan.installment.overdue.v1"])
        );
        assert!(catalog().iter().all(|e| e.transactional));
        assert_eq!(
            entry("auth.device.registered.v1").unwrap().category,
            Category::Security
        );
        assert_eq!(
            entry("kyc.rejected.v1").unwrap().channels,
            [ChannelKind::Email, ChannelKind::Push]
        );
        assert!(entry("loan.submitted.v1").is_none());
        // A referral is news, not a decision: no paid SMS, and it goes at once.
        let referred = entry("credit.referred.v1").unwrap();
        assert_eq!(referred.channels, [ChannelKind::Email, ChannelKind::Push]);
        assert_eq!(referred.category, Category::Loan);
        assert!(entry("credit.decision.made.v1").is_none());
    }

    #[test]
    fn optional_variables_can_be_nulled() {
        let rejected = entry("loan.rejected.v1").unwrap();
        assert!(rejected.sample["reason"].is_string());
        assert!(rejected.sample_without_optionals().unwrap()["reason"].is_null());
        assert!(
            entry("loan.paid.v1")
                .unwrap()
                .sample_without_optionals()
                .is_none()
        );
    }
}
