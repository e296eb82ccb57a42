//! Settings only loan reads: the product (amounts, tenors, interest, fees, rounding, the cost
//! cap) and the daily job.

use super::Svc::*;
use super::{NOT_A_DURATION, NOT_A_NUMBER, Probe, Setting, s, start_only};

const LOAN_JOBS: &str = "the daily job's effect needs a disbursed loan near its due date";
const MOVEMENTS: &str = "the resumer acts only on a payout or payment left unfinished by a crash (tenor-loan's money_movement tests)";

pub(super) static SETTINGS: &[Setting] = &[
    // --- loan ----------------------------------------------------------------------------------
    s(
        "LOAN_MIN_AMOUNT",
        &[Loan],
        "1000000",
        Probe::QuoteRefused(600_000, 6, "AMOUNT_TOO_LOW"),
        NOT_A_NUMBER,
    ),
    s(
        "LOAN_MAX_AMOUNT",
        &[Loan],
        "5000000",
        Probe::QuoteRefused(6_000_000, 6, "AMOUNT_TOO_HIGH"),
        NOT_A_NUMBER,
    ),
    s(
        "LOAN_MIN_TENOR_MONTHS",
        &[Loan],
        "3",
        Probe::QuoteRefused(1_000_000, 2, "TENOR_TOO_SHORT"),
        NOT_A_NUMBER,
    ),
    s(
        "LOAN_MAX_TENOR_MONTHS",
        &[Loan],
        "6",
        Probe::QuoteRefused(1_000_000, 7, "TENOR_TOO_LONG"),
        NOT_A_NUMBER,
    ),
    s(
        "LOAN_INTEREST_METHOD",
        &[Loan],
        "FLAT",
        // P × r × N = 1 000 000 × 4 % × 12 (an annuity charges less).
        Probe::QuoteIs(1_000_000, 12, "totalInterest", 480_000),
        &["zqsecret"],
    ),
    s(
        "LOAN_MONTHLY_RATE_PPM",
        &[Loan],
        "30000",
        Probe::QuoteIs(1_000_000, 1, "totalInterest", 30_000),
        NOT_A_NUMBER,
    ),
    s(
        "LOAN_ADMIN_FEE_PPM",
        &[Loan],
        "5000",
        Probe::QuoteIs(1_000_000, 6, "totalFee", 5_000),
        NOT_A_NUMBER,
    ),
    s(
        "LOAN_ROUNDING_UNIT",
        &[Loan],
        "1000",
        Probe::InstallmentsRoundedTo(1_234_567, 12, 1000),
        NOT_A_NUMBER,
    ),
    start_only(
        "LOAN_COST_CAP_BANDS",
        &[Loan],
        "1:3000,6:2500,9:2200",
        "the cap only gates the product at start (a product above it is refused there)",
        &["1:zqsecret"],
    ),
    start_only(
        "LOAN_REMINDER_DAYS_BEFORE",
        &[Loan],
        "5",
        LOAN_JOBS,
        NOT_A_NUMBER,
    ),
    start_only(
        "LOAN_APPLICATIONS_PER_DAY",
        &[Loan],
        "5",
        "the limit shows only once one verified borrower has applied that many times (tenor-loan's applications tests)",
        NOT_A_NUMBER,
    ),
    start_only(
        "LOAN_DAILY_JOB_INTERVAL",
        &[Loan],
        "30m",
        LOAN_JOBS,
        NOT_A_DURATION,
    ),
    start_only(
        "LOAN_MOVEMENT_RESUME_AFTER",
        &[Loan],
        "45s",
        MOVEMENTS,
        NOT_A_DURATION,
    ),
    start_only(
        "LOAN_MOVEMENT_RESUME_EVERY",
        &[Loan],
        "2s",
        MOVEMENTS,
        NOT_A_DURATION,
    ),
];
