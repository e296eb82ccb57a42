//! Settings only auth reads: Redis, signing keys, token and session lifetimes, refresh reuse,
//! scopes, biometric challenges, revocation and login throttling.

use super::Svc::*;
use super::{FREE_TEXT, NOT_A_DURATION, NOT_A_NUMBER, Probe, Setting, s, start_only};

const THROTTLE: &str = "login throttling shows only after several failed logins (seconds each)";

pub(super) static SETTINGS: &[Setting] = &[
    // --- auth ----------------------------------------------------------------------------------
    s(
        "REDIS_URL",
        &[Auth],
        "{redis-db:5}",
        Probe::Revocation {
            db: 5,
            prefix: "tenor:revoked",
            ttl: 930,
        },
        &["zqsecret"],
    ),
    Setting {
        var: "AUTH_SIGNING_KEYS",
        services: &[Auth],
        good: "k1={pem:1},k2={pem:2}",
        with: &[],
        probe: Probe::SigningKeys { kid: "k1", keys: 2 },
        bad: &["zqsecret", "k1=/nonexistent/zqsecret.pem"],
        bad_alone: false,
    },
    Setting {
        var: "AUTH_ACTIVE_SIGNING_KEY",
        services: &[Auth],
        good: "k2",
        with: &[("AUTH_SIGNING_KEYS", "k1={pem:1},k2={pem:2}")],
        probe: Probe::SigningKeys { kid: "k2", keys: 2 },
        bad: &["zqsecret"],
        bad_alone: false,
    },
    s(
        "AUTH_ACCESS_TOKEN_TTL",
        &[Auth],
        "5m",
        Probe::TokenLifetime(300),
        NOT_A_DURATION,
    ),
    s(
        "AUTH_SESSION_TTL",
        &[Auth],
        "1day",
        Probe::SessionLifetime(86_400),
        NOT_A_DURATION,
    ),
    s(
        "AUTH_REFRESH_REUSE_GRACE",
        &[Auth],
        "0",
        Probe::StrictRefresh,
        NOT_A_DURATION,
    ),
    s(
        "AUTH_CUSTOMER_SCOPES",
        &[Auth],
        "loan:apply",
        Probe::TokenClaim("scope", "loan:apply"),
        FREE_TEXT,
    ),
    s(
        "AUTH_BIOMETRIC_CHALLENGE_TTL",
        &[Auth],
        "20s",
        Probe::BiometricChallengeLifetime(20),
        NOT_A_DURATION,
    ),
    s(
        "AUTH_REVOCATION_REDIS_URL",
        &[Auth],
        "{redis-db:6}",
        Probe::Revocation {
            db: 6,
            prefix: "tenor:revoked",
            ttl: 930,
        },
        &["zqsecret"],
    ),
    s(
        "AUTH_REVOCATION_KEY_PREFIX",
        &[Auth],
        "tenor-probe:revoked",
        Probe::Revocation {
            db: 0,
            prefix: "tenor-probe:revoked",
            ttl: 930,
        },
        FREE_TEXT,
    ),
    s(
        "AUTH_REVOCATION_TTL",
        &[Auth],
        "20m",
        Probe::Revocation {
            db: 0,
            prefix: "tenor:revoked",
            ttl: 1200,
        },
        NOT_A_DURATION,
    ),
    start_only("LOGIN_FREE_FAILURES", &[Auth], "5", THROTTLE, NOT_A_NUMBER),
    start_only("LOGIN_BASE_DELAY", &[Auth], "1s", THROTTLE, NOT_A_DURATION),
    start_only("LOGIN_MAX_DELAY", &[Auth], "30s", THROTTLE, NOT_A_DURATION),
    start_only("LOGIN_LOCK_AFTER", &[Auth], "8", THROTTLE, NOT_A_NUMBER),
    start_only(
        "LOGIN_LOCK_DURATION",
        &[Auth],
        "10m",
        THROTTLE,
        NOT_A_DURATION,
    ),
    start_only(
        "LOGIN_MAX_FAILURES_PER_SOURCE",
        &[Auth],
        "50",
        THROTTLE,
        NOT_A_NUMBER,
    ),
    start_only(
        "LOGIN_SOURCE_WINDOW",
        &[Auth],
        "10m",
        THROTTLE,
        NOT_A_DURATION,
    ),
];
