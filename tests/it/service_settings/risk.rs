//! Settings only risk reads: its MongoDB database, the master keys of raw bureau reports, the
//! simulated bureau, the bureau work queue, the risk rules and the MongoDB outbox's lease. The
//! shared settings (Kafka, tokens, topics, the relay's poll and batch) are in [`super::shared`].

use super::Svc::*;
use super::{
    FREE_TEXT, NOT_A_DURATION, NOT_A_KEY, NOT_A_NUMBER, Probe, Setting, TOO_LONG_KEY_ID, s,
    start_only,
};

const KEYS: &str = "key material shows only in a sealed bureau report (tenor-risk's the_raw_report_is_encrypted_at_rest_and_kept_out_of_the_logs)";
const BUREAU: &str =
    "the simulated bureau is asked only for a submitted loan (tenor-risk's failures tests)";
const WORK_QUEUE: &str = "the work queue's timing shows only with a submitted loan and a slow or failing bureau (tenor-risk's failures and crash tests)";
const RULES: &str =
    "a level shows only in an evaluation of a submitted loan (tests/it/credit_decisions.rs)";
/// A threshold that differs from its default is a new rule set and needs its own version.
const NEW_RULES: &[(&str, &str)] = &[("RISK_RULES_VERSION", "settings-probe")];

const fn new_rules(var: &'static str, good: &'static str) -> Setting {
    Setting {
        var,
        services: &[Risk],
        good,
        with: NEW_RULES,
        probe: Probe::StartOnly(RULES),
        bad: NOT_A_NUMBER,
        bad_alone: false,
    }
}

pub(super) static SETTINGS: &[Setting] = &[
    // --- risk ----------------------------------------------------------------------------------
    s(
        "MONGODB_URL",
        &[Risk],
        "{mongo-url}",
        Probe::MongoIndexed,
        // Checked at start: a URL without the mongodb:// scheme stops risk with exit 2.
        &["zqsecret"],
    ),
    s(
        "RISK_MONGODB_DATABASE",
        &[Risk],
        "{mongo-db}",
        Probe::MongoIndexed,
        FREE_TEXT,
    ),
    start_only("RISK_MASTER_KEY", &[Risk], "{key32}", KEYS, NOT_A_KEY),
    Setting {
        var: "RISK_MASTER_KEY_ID",
        services: &[Risk],
        good: "risk-2027",
        with: &[],
        probe: Probe::StartOnly(KEYS),
        bad: TOO_LONG_KEY_ID,
        bad_alone: false,
    },
    Setting {
        var: "RISK_PREVIOUS_MASTER_KEYS",
        services: &[Risk],
        good: "risk-0={key32},risk-00={key32}",
        with: &[],
        probe: Probe::StartOnly(KEYS),
        bad: &["zqsecret", "risk-0=zqsecret"],
        bad_alone: false,
    },
    start_only(
        "RISK_BUREAU_FAILURES",
        &[Risk],
        "0.25",
        BUREAU,
        &["zqsecret", "1.5zqsecret"],
    ),
    start_only(
        "RISK_BUREAU_LATENCY_MIN",
        &[Risk],
        "1ms",
        BUREAU,
        NOT_A_DURATION,
    ),
    start_only(
        "RISK_BUREAU_LATENCY_MAX",
        &[Risk],
        "100ms",
        BUREAU,
        NOT_A_DURATION,
    ),
    start_only(
        "RISK_BUREAU_TIMEOUT",
        &[Risk],
        "3s",
        WORK_QUEUE,
        NOT_A_DURATION,
    ),
    start_only(
        "RISK_BUREAU_DEADLINE",
        &[Risk],
        "90s",
        WORK_QUEUE,
        NOT_A_DURATION,
    ),
    start_only(
        "RISK_RETRY_INITIAL",
        &[Risk],
        "100ms",
        WORK_QUEUE,
        NOT_A_DURATION,
    ),
    start_only("RISK_RETRY_MAX", &[Risk], "8s", WORK_QUEUE, NOT_A_DURATION),
    start_only(
        "RISK_WORKER_POLL",
        &[Risk],
        "500ms",
        WORK_QUEUE,
        NOT_A_DURATION,
    ),
    start_only(
        "RISK_CLAIM_LEASE",
        &[Risk],
        "20s",
        WORK_QUEUE,
        NOT_A_DURATION,
    ),
    start_only(
        "RISK_REQUEST_RETENTION",
        &[Risk],
        "30days",
        "deletes finished requests only after the retention (risk's evaluation_flow test)",
        NOT_A_DURATION,
    ),
    start_only(
        "RISK_WORKER_CONCURRENCY",
        &[Risk],
        "8",
        WORK_QUEUE,
        NOT_A_NUMBER,
    ),
    start_only(
        "RISK_RULES_VERSION",
        &[Risk],
        "settings-probe",
        RULES,
        FREE_TEXT,
    ),
    new_rules("RISK_HIGH_COLLECTABILITY", "4"),
    new_rules("RISK_HIGH_SCORE_BELOW", "500"),
    new_rules("RISK_MEDIUM_SCORE_BELOW", "700"),
    new_rules("RISK_MEDIUM_PLATFORMS", "3"),
    new_rules("RISK_MEDIUM_DAYS_PAST_DUE", "60"),
    start_only(
        "OUTBOX_LEASE",
        &[Risk],
        "90s",
        "a relay's claim on a collection shows only when a relay dies holding it",
        NOT_A_DURATION,
    ),
];
