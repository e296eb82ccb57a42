//! Settings only kyc reads: the object store, keys, upload and download links, verification
//! thresholds and timing.

use super::Svc::*;
use super::{
    NOT_A_DURATION, NOT_A_KEY, NOT_A_NUMBER, Probe, Setting, TOO_LONG_KEY_ID, UploadCheck, s,
    start_only,
};

const KEYS: &str = "key material shows only in sealed data";
const KYC_TIMING: &str = "verification and expiry timing show only over a submission's life";

pub(super) static SETTINGS: &[Setting] = &[
    // --- kyc -----------------------------------------------------------------------------------
    s(
        "KYC_OBJECT_STORE_URL",
        &[Kyc],
        "file://{dir:objects-probe}",
        Probe::ObjectDirectory,
        &["zqsecret"],
    ),
    start_only("KYC_MASTER_KEY", &[Kyc], "{key32}", KEYS, NOT_A_KEY),
    start_only(
        "KYC_MASTER_KEY_ID",
        &[Kyc],
        "2026-07",
        KEYS,
        TOO_LONG_KEY_ID,
    ),
    start_only(
        "KYC_PREVIOUS_MASTER_KEYS",
        &[Kyc],
        "2026-01={key32}",
        KEYS,
        NOT_A_KEY,
    ),
    start_only("KYC_BLIND_INDEX_KEY", &[Kyc], "{key32}", KEYS, NOT_A_KEY),
    start_only("KYC_URL_SIGNING_KEY", &[Kyc], "{key32}", KEYS, NOT_A_KEY),
    s(
        "KYC_PUBLIC_URL",
        &[Kyc],
        "https://kyc.example.test/base",
        Probe::UploadLink(UploadCheck::UrlStartsWith("https://kyc.example.test/base/")),
        &["zqsecret"],
    ),
    s(
        "KYC_UPLOAD_MAX_BYTES",
        &[Kyc],
        "1048576",
        Probe::UploadLink(UploadCheck::MaxBytes(1_048_576)),
        NOT_A_NUMBER,
    ),
    s(
        "KYC_UPLOAD_URL_TTL",
        &[Kyc],
        "2m",
        Probe::UploadLink(UploadCheck::LifetimeSeconds(120)),
        NOT_A_DURATION,
    ),
    start_only(
        "KYC_DOWNLOAD_URL_TTL",
        &[Kyc],
        "2m",
        "download links are handed only to staff reading a submission",
        NOT_A_DURATION,
    ),
    start_only(
        "KYC_AUTO_APPROVE_SCORE",
        &[Kyc],
        "0.9",
        KYC_TIMING,
        NOT_A_NUMBER,
    ),
    start_only(
        "KYC_AUTO_REJECT_SCORE",
        &[Kyc],
        "0.4",
        KYC_TIMING,
        NOT_A_NUMBER,
    ),
    start_only(
        "KYC_VALIDITY",
        &[Kyc],
        "180days",
        KYC_TIMING,
        NOT_A_DURATION,
    ),
    start_only(
        "KYC_EXPIRY_CHECK_INTERVAL",
        &[Kyc],
        "30m",
        KYC_TIMING,
        NOT_A_DURATION,
    ),
    start_only(
        "KYC_VERIFICATION_POLL_INTERVAL",
        &[Kyc],
        "2s",
        KYC_TIMING,
        NOT_A_DURATION,
    ),
    start_only(
        "KYC_SUBMISSIONS_PER_DAY",
        &[Kyc],
        "5",
        "the limit shows only once one account has submitted that many times (tenor-kyc's verification_flow tests)",
        NOT_A_NUMBER,
    ),
    start_only(
        "KYC_ABANDONED_UPLOAD_TTL",
        &[Kyc],
        "12h",
        KYC_TIMING,
        NOT_A_DURATION,
    ),
];
