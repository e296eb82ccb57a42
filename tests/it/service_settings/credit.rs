//! Settings only credit reads: its operator rule sets and the timing of decisions, the
//! external-score worker and the input sweeper. Its database, topics and the shared settings
//! are in [`super::shared`].

use super::Svc::*;
use super::{NOT_A_DURATION, Setting, start_only};

const RULES: &str = "a rule set shows only in a decision that names its version (tenor-credit's an_operator_rule_set_is_added_from_the_directory)";
const DECISION_TIMING: &str = "shows only with a submitted loan whose inputs stay missing (tenor-credit's inputs_missing_past_the_timeout_go_to_the_queue)";
const WORKER: &str =
    "the external-score worker's timing shows only with a submitted loan or a failing provider";

pub(super) static SETTINGS: &[Setting] = &[
    // --- credit --------------------------------------------------------------------------------
    start_only(
        "CREDIT_RULES_DIR",
        &[Credit],
        "{rules}",
        RULES,
        // A directory that cannot be read; one with a file that does not parse (the file is
        // named, its text is not shown).
        &["/nonexistent/zqsecret", "{broken-rules:zqsecret}"],
    ),
    start_only(
        "CREDIT_INPUT_TIMEOUT",
        &[Credit],
        "5m",
        DECISION_TIMING,
        NOT_A_DURATION,
    ),
    start_only(
        "CREDIT_HUMAN_REVIEW_WINDOW",
        &[Credit],
        "7days",
        "a review request needs an automatically rejected loan (tenor-credit's only_automatic_rejections_within_the_window_can_be_reviewed)",
        NOT_A_DURATION,
    ),
    start_only(
        "CREDIT_WORKER_POLL",
        &[Credit],
        "500ms",
        WORKER,
        NOT_A_DURATION,
    ),
    start_only(
        "CREDIT_EXTERNAL_RETRY_INITIAL",
        &[Credit],
        "2s",
        WORKER,
        NOT_A_DURATION,
    ),
    start_only(
        "CREDIT_EXTERNAL_RETRY_MAX",
        &[Credit],
        "1m",
        WORKER,
        NOT_A_DURATION,
    ),
    start_only(
        "CREDIT_SWEEP_EVERY",
        &[Credit],
        "10s",
        "the sweeper acts only on a loan whose inputs are overdue",
        NOT_A_DURATION,
    ),
];
