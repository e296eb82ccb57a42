//! Every setting the README's "Configuration" table and `.env.example` document for the
//! subgraphs works: each one, set alone to a valid non-default value, lets each service that
//! reads it start (the real `tenor-<service>` binary, as deployed) and, where that is cheap to
//! observe, visibly takes effect; each typed one, set to garbage, stops the service at once with
//! exit status 2 and a message naming the variable without echoing the value.
//!
//! The documented names are read from the README and `.env.example`, so a newly documented
//! variable without an entry in [`SETTINGS`] fails this test. Router-only variables are covered
//! by `router/tests`; `./dev`, test and docker-compose settings are not read by any service.
//!
//! Needs the stack (`./dev up`) and the service binaries of this build:
//! `cargo build -p tenor-auth -p tenor-user -p tenor-kyc -p tenor-loan --bins`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use futures::StreamExt;
use serde_json::{Value, json};
use tenor_events::kafka::ensure_topics;
use tenor_platform::testing::{TestDatabase, kafka_brokers, redis_url};
use tokio::process::{Child, Command};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Svc {
    Auth,
    User,
    Kyc,
    Loan,
}

use Svc::*;

impl Svc {
    fn name(self) -> &'static str {
        match self {
            Auth => "auth",
            User => "user",
            Kyc => "kyc",
            Loan => "loan",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        [Auth, User, Kyc, Loan]
            .into_iter()
            .find(|s| s.name() == name)
    }
}

const ALL: &[Svc] = &[Auth, User, Kyc, Loan];
/// The services with an outbox relay.
const PRODUCERS: &[Svc] = ALL;
/// The services with a Kafka consumer runner (kyc only publishes).
const CONSUMERS: &[Svc] = &[Auth, User, Loan];
/// The services that verify tokens against auth's JWKS (auth itself signs them).
const VERIFIERS: &[Svc] = &[User, Kyc, Loan];

/// Marker in every invalid value: the error output must never contain it (values may be
/// secrets, so they are never echoed).
const MARK: &str = "zqsecret";

/// What shows that a value took effect.
#[derive(Debug, Clone, Copy)]
enum Probe {
    /// Start-up only; the reason says why the effect is not observed here.
    StartOnly(&'static str),
    /// The service answers on the port it was given.
    Port,
    /// The service answers on 127.0.0.2 and not on 127.0.0.1.
    Host,
    /// The database given (fresh, empty) was migrated by the service.
    Migrated,
    /// stdout has log lines that are not JSON.
    PrettyLogs,
    /// stdout has DEBUG lines.
    DebugLogs,
    /// A token from the shared auth service is accepted (user, kyc, loan).
    AcceptsSharedTokens,
    /// A token from the shared auth service (other `iss`/`aud`) is refused.
    RefusesSharedTokens,
    /// Tokens issued by this auth carry `claim` = `value`.
    TokenClaim(&'static str, &'static str),
    /// Tokens issued by this auth live this many seconds.
    TokenLifetime(i64),
    /// Tokens are signed with `kid` and the JWKS lists `keys` keys.
    SigningKeys { kid: &'static str, keys: usize },
    /// A session expires this many seconds after it starts.
    SessionLifetime(i64),
    /// The previous refresh token is refused at once (no grace).
    StrictRefresh,
    /// A biometric challenge expires after this many seconds.
    BiometricChallengeLifetime(i64),
    /// A logout sets `<prefix>:session:<sid>` in Redis database `db` with a TTL of `ttl` s.
    Revocation {
        db: u8,
        prefix: &'static str,
        ttl: i64,
    },
    /// A registration is published on the topic given.
    PublishesRegistrations,
    /// The shared customer's profile appears (user consumed the shared auth's topic).
    ConsumesRegistrations,
    /// The object directory exists after start.
    ObjectDirectory,
    /// `requestKycUpload` hands out a link with this property.
    UploadLink(UploadCheck),
    /// `quoteLoan(amount, tenor)` is refused with `code`.
    QuoteRefused(i64, i32, &'static str),
    /// `quoteLoan(amount, tenor)` has `field` = `value`.
    QuoteIs(i64, i32, &'static str, i64),
    /// Every installment of `quoteLoan(amount, tenor)` but the last is a multiple of this.
    InstallmentsRoundedTo(i64, i32, i64),
}

#[derive(Debug, Clone, Copy)]
enum UploadCheck {
    UrlStartsWith(&'static str),
    LifetimeSeconds(i64),
    MaxBytes(i64),
}

/// One documented variable.
struct Setting {
    var: &'static str,
    /// The services that read it.
    services: &'static [Svc],
    /// A valid non-default value. Placeholders: `{port}` a free port, `{db}` a fresh empty
    /// database, `{topic:NAME}` a fresh Kafka topic, `{shared-auth-topic}`, `{jwks}` the shared
    /// auth's JWKS URL, `{brokers}`, `{redis-db:N}` the stack's Redis with database N,
    /// `{key32}` a random 32-byte key, `{pem:N}` a signing key file, `{dir:NAME}` a fresh
    /// directory.
    good: &'static str,
    /// Other variables that go with the value (e.g. a second key needs the key list).
    with: &'static [(&'static str, &'static str)],
    probe: Probe,
    /// Invalid values (each must contain [`MARK`]); empty for free text (names, topics,
    /// scopes), where any value is accepted.
    bad: &'static [&'static str],
}

const NOT_A_NUMBER: &[&str] = &["zqsecret"];
const NOT_A_DURATION: &[&str] = &["15 zqsecret"];
const NOT_A_KEY: &[&str] = &["zqsecret"];
const FREE_TEXT: &[&str] = &[];

const fn s(
    var: &'static str,
    services: &'static [Svc],
    good: &'static str,
    probe: Probe,
    bad: &'static [&'static str],
) -> Setting {
    Setting {
        var,
        services,
        good,
        with: &[],
        probe,
        bad,
    }
}

const fn start_only(
    var: &'static str,
    services: &'static [Svc],
    good: &'static str,
    why: &'static str,
    bad: &'static [&'static str],
) -> Setting {
    s(var, services, good, Probe::StartOnly(why), bad)
}

const POOL: &str = "pool size/wait are internal to the process";
const JWKS_CACHE: &str = "refetch timing of the JWKS cache needs key rotation over minutes";
const RELAY: &str =
    "relay timing/batching/retention are internal; the effect needs an outbox backlog";
const RETRIES: &str = "retries show only with a failing handler";
const LEEWAY: &str = "tolerance on `exp` shows only with an expired token";
const THROTTLE: &str = "login throttling shows only after several failed logins (seconds each)";
const TOPIC_IN: &str = "consumed topic: the effect needs an event from another service";
const TOPIC_OUT: &str =
    "published topic: the effect needs a business flow (KYC submission, loan application)";
const KEYS: &str = "key material shows only in sealed data";
const KYC_TIMING: &str = "verification and expiry timing show only over a submission's life";
const LOAN_JOBS: &str = "the daily job's effect needs a disbursed loan near its due date";

/// The documented service variables, each with the services that read it.
static SETTINGS: &[Setting] = &[
    // --- PostgreSQL services -------------------------------------------------------------------
    s(
        "AUTH_DATABASE_URL",
        &[Auth],
        "{db}",
        Probe::Migrated,
        &["zqsecret"],
    ),
    s(
        "USER_DATABASE_URL",
        &[User],
        "{db}",
        Probe::Migrated,
        &["zqsecret"],
    ),
    s(
        "KYC_DATABASE_URL",
        &[Kyc],
        "{db}",
        Probe::Migrated,
        &["zqsecret"],
    ),
    s(
        "LOAN_DATABASE_URL",
        &[Loan],
        "{db}",
        Probe::Migrated,
        &["zqsecret"],
    ),
    start_only("DB_MAX_CONNECTIONS", ALL, "4", POOL, NOT_A_NUMBER),
    start_only("DB_ACQUIRE_TIMEOUT", ALL, "3s", POOL, NOT_A_DURATION),
    // --- all services --------------------------------------------------------------------------
    start_only(
        "KAFKA_BROKERS",
        ALL,
        "{brokers},{brokers}",
        "a second bootstrap address of the same broker; readiness covers Kafka",
        &["127.0.0.1:zqsecret"],
    ),
    s(
        "LOG_FORMAT",
        ALL,
        "pretty",
        Probe::PrettyLogs,
        &["zqsecret"],
    ),
    s(
        "RUST_LOG",
        ALL,
        "debug",
        Probe::DebugLogs,
        &["info,zqsecret=loudest"],
    ),
    s("PORT", ALL, "{port}", Probe::Port, NOT_A_NUMBER),
    s("HOST", ALL, "127.0.0.2", Probe::Host, &["zqsecret"]),
    // --- token verification (auth signs with its own keys; issuer, audience and leeway shape
    // its tokens and revocation keys) -----------------------------------------------------------
    s(
        "AUTH_JWKS_URL",
        VERIFIERS,
        "{jwks}",
        Probe::AcceptsSharedTokens,
        &["zqsecret"],
    ),
    s(
        "AUTH_ISSUER",
        VERIFIERS,
        "tenor-auth-probe",
        Probe::RefusesSharedTokens,
        FREE_TEXT,
    ),
    s(
        "AUTH_AUDIENCE",
        VERIFIERS,
        "tenor-probe",
        Probe::RefusesSharedTokens,
        FREE_TEXT,
    ),
    s(
        "AUTH_ISSUER",
        &[Auth],
        "tenor-auth-probe",
        Probe::TokenClaim("iss", "tenor-auth-probe"),
        FREE_TEXT,
    ),
    s(
        "AUTH_AUDIENCE",
        &[Auth],
        "tenor-probe",
        Probe::TokenClaim("aud", "tenor-probe"),
        FREE_TEXT,
    ),
    start_only("AUTH_LEEWAY", VERIFIERS, "10s", LEEWAY, NOT_A_DURATION),
    s(
        "AUTH_LEEWAY",
        &[Auth],
        "10s",
        // The revocation key lives as long as a token can still pass: 15 min + 10 s.
        Probe::Revocation {
            db: 0,
            prefix: "tenor:revoked",
            ttl: 910,
        },
        NOT_A_DURATION,
    ),
    start_only(
        "AUTH_JWKS_MIN_REFRESH",
        VERIFIERS,
        "5s",
        JWKS_CACHE,
        NOT_A_DURATION,
    ),
    start_only(
        "AUTH_JWKS_MAX_AGE",
        VERIFIERS,
        "2m",
        JWKS_CACHE,
        NOT_A_DURATION,
    ),
    // --- events --------------------------------------------------------------------------------
    start_only(
        "OUTBOX_POLL_INTERVAL",
        PRODUCERS,
        "250ms",
        RELAY,
        NOT_A_DURATION,
    ),
    start_only("OUTBOX_BATCH_SIZE", PRODUCERS, "100", RELAY, NOT_A_NUMBER),
    start_only(
        "OUTBOX_RETENTION",
        PRODUCERS,
        "3days",
        RELAY,
        NOT_A_DURATION,
    ),
    start_only(
        "CONSUMER_MAX_ATTEMPTS",
        CONSUMERS,
        "3",
        RETRIES,
        NOT_A_NUMBER,
    ),
    start_only(
        "CONSUMER_INITIAL_BACKOFF",
        CONSUMERS,
        "100ms",
        RETRIES,
        NOT_A_DURATION,
    ),
    start_only(
        "CONSUMER_MAX_BACKOFF",
        CONSUMERS,
        "5s",
        RETRIES,
        NOT_A_DURATION,
    ),
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
    },
    Setting {
        var: "AUTH_ACTIVE_SIGNING_KEY",
        services: &[Auth],
        good: "k2",
        with: &[("AUTH_SIGNING_KEYS", "k1={pem:1},k2={pem:2}")],
        probe: Probe::SigningKeys { kid: "k2", keys: 2 },
        bad: &["zqsecret"],
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
    // --- topics --------------------------------------------------------------------------------
    s(
        "AUTH_EVENTS_TOPIC",
        &[Auth],
        "{topic:auth-probe}",
        Probe::PublishesRegistrations,
        FREE_TEXT,
    ),
    s(
        "AUTH_EVENTS_TOPIC",
        &[User],
        "{shared-auth-topic}",
        Probe::ConsumesRegistrations,
        FREE_TEXT,
    ),
    start_only(
        "AUTH_EVENTS_TOPIC",
        &[Loan],
        "{topic:auth-loan}",
        "loan's live consumer reads it from the latest offset: the effect needs a revocation during a subscription",
        FREE_TEXT,
    ),
    start_only(
        "USER_EVENTS_TOPIC",
        &[Auth, Loan],
        "{topic:user-in}",
        TOPIC_IN,
        FREE_TEXT,
    ),
    start_only(
        "USER_EVENTS_TOPIC",
        &[User],
        "{topic:user-out}",
        "published topic: the effect needs a profile change after a registration",
        FREE_TEXT,
    ),
    start_only(
        "KYC_EVENTS_TOPIC",
        &[Kyc],
        "{topic:kyc-out}",
        TOPIC_OUT,
        FREE_TEXT,
    ),
    start_only(
        "KYC_EVENTS_TOPIC",
        &[Loan],
        "{topic:kyc-in}",
        TOPIC_IN,
        FREE_TEXT,
    ),
    start_only(
        "LOAN_EVENTS_TOPIC",
        &[Loan],
        "{topic:loan-out}",
        TOPIC_OUT,
        FREE_TEXT,
    ),
    start_only(
        "CREDIT_EVENTS_TOPIC",
        &[Loan],
        "{topic:credit-in}",
        TOPIC_IN,
        FREE_TEXT,
    ),
    // --- kyc -----------------------------------------------------------------------------------
    s(
        "KYC_OBJECT_STORE_URL",
        &[Kyc],
        "file://{dir:objects-probe}",
        Probe::ObjectDirectory,
        &["zqsecret"],
    ),
    start_only("KYC_MASTER_KEY", &[Kyc], "{key32}", KEYS, NOT_A_KEY),
    start_only("KYC_MASTER_KEY_ID", &[Kyc], "2026-07", KEYS, FREE_TEXT),
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
        "KYC_ABANDONED_UPLOAD_TTL",
        &[Kyc],
        "12h",
        KYC_TIMING,
        NOT_A_DURATION,
    ),
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
        "LOAN_DAILY_JOB_INTERVAL",
        &[Loan],
        "30m",
        LOAN_JOBS,
        NOT_A_DURATION,
    ),
];

/// `.env.example` settings that no service reads: `./dev`'s own (ports, cache, waits, tools)
/// and docker-compose's. The README rows of `./dev` and tests are recognised by their "used by"
/// column.
const NOT_SERVICE_VARIABLES: &[&str] = &[
    "TENOR_PG_PORT",
    "TENOR_REDIS_PORT",
    "TENOR_KAFKA_PORT",
    "TENOR_KAFKA_CONTROLLER_PORT",
    "TENOR_MONGO_PORT",
    "TENOR_CACHE_DIR",
    "TENOR_KAFKA_WAIT_SECONDS",
    "TENOR_SERVICE_WAIT_SECONDS",
    "TENOR_PG_BIN",
    "CARGO_TARGET_DIR",
    // Tests' superuser URL (per-test databases), not a service setting.
    "TENOR_PG_ADMIN_URL",
    // docker-compose.yml
    "TENOR_PG_USER",
    "TENOR_PG_PASSWORD",
    "TENOR_KAFKA_CLUSTER_ID",
    "TENOR_KAFKA_HEAP_OPTS",
];

/// Documented for services that do not exist in this repository yet: checked once they do.
const FUTURE_SERVICES: &[&str] = &["credit", "risk", "notification"];

// -------------------------------------------------------------------------------------------
// The documentation

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// One row of the README's configuration table: its variables and "used by" column.
#[derive(Debug)]
struct Row {
    vars: Vec<String>,
    used_by: String,
}

fn readme_rows() -> Vec<Row> {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let section = readme
        .split("\n## Configuration")
        .nth(1)
        .expect("README has a Configuration section");
    let section = section.split("\n## ").next().unwrap();
    let mut rows = Vec::new();
    for line in section.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split(" | ").collect();
        assert!(
            cells.len() >= 3,
            "configuration row with too few cells: {line}"
        );
        let mut vars: Vec<String> = Vec::new();
        for piece in cells[0].trim_start_matches('|').split(" / ") {
            let piece = piece.trim().trim_matches('`');
            // `X_A_B` / `_C_D`: a suffix replacing X's tail from where `_C` occurs (else the same
            // number of segments).
            let name = if let Some(tail) = piece
                .strip_prefix('…')
                .or(piece.starts_with('_').then_some(piece))
            {
                let first = vars.first().expect("a suffix after a full name").clone();
                let head = tail.split('_').find(|p| !p.is_empty()).unwrap();
                match first.find(&format!("_{head}")) {
                    Some(at) => format!("{}{tail}", &first[..at]),
                    None => {
                        let keep = first.split('_').count()
                            - tail.split('_').filter(|p| !p.is_empty()).count();
                        let prefix: Vec<&str> = first.split('_').take(keep).collect();
                        format!("{}{tail}", prefix.join("_"))
                    }
                }
            } else {
                piece.to_owned()
            };
            vars.push(name);
        }
        let used_by = cells[2].trim().to_owned();
        // `<SERVICE>_DATABASE_URL`: one per service named in "used by".
        if vars.len() == 1 && vars[0].starts_with("<SERVICE>") {
            let suffix = vars[0].trim_start_matches("<SERVICE>").to_owned();
            vars = used_by
                .split(',')
                .map(|s| format!("{}{suffix}", s.trim().trim_matches('`').to_uppercase()))
                .collect();
        }
        rows.push(Row { vars, used_by });
    }
    assert!(
        rows.len() > 20,
        "too few configuration rows found: {rows:?}"
    );
    rows
}

fn env_example_vars() -> BTreeSet<String> {
    let text = std::fs::read_to_string(repo_root().join(".env.example")).unwrap();
    text.lines()
        .filter_map(|line| {
            let line = line.trim_start_matches('#').trim();
            let (name, _) = line.split_once('=')?;
            (!name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'))
            .then(|| name.to_owned())
        })
        .collect()
}

/// The present services a "used by" cell names; `None` for rows that are not about the
/// subgraphs (router only, `./dev`, tests).
fn row_services(used_by: &str) -> Option<BTreeSet<Svc>> {
    let mut services = BTreeSet::new();
    let mut about_services = false;
    for part in used_by.split(',').map(|p| p.trim().trim_matches('`')) {
        let group: &[Svc] = match part {
            "all services" | "all subgraphs" | "PostgreSQL services" | "event producers" => ALL,
            "event consumers" => CONSUMERS,
            "router" | "./dev" | "tests" => &[],
            name if FUTURE_SERVICES.contains(&name) => {
                about_services = true;
                &[]
            }
            name => &[Svc::from_name(name)
                .unwrap_or_else(|| panic!("unknown \"used by\" entry {name:?} in the README"))],
        };
        about_services |= !group.is_empty();
        services.extend(group);
    }
    about_services.then_some(services)
}

#[test]
fn every_documented_service_variable_has_a_case() {
    let rows = readme_rows();
    let mut documented = BTreeSet::new();
    let mut problems = Vec::new();
    for row in &rows {
        let Some(row_services) = row_services(&row.used_by) else {
            // Router variables: router/tests. ./dev and tests: not read by services.
            documented.extend(row.vars.iter().cloned());
            continue;
        };
        let mut covered = BTreeSet::new();
        for var in &row.vars {
            documented.insert(var.clone());
            let cases: Vec<&Setting> = SETTINGS.iter().filter(|s| s.var == var).collect();
            let var_services: BTreeSet<Svc> = cases
                .iter()
                .flat_map(|s| s.services.iter().copied())
                .collect();
            if cases.is_empty() && !row_services.is_empty() {
                // A service variable of a future service only (CREDIT_DATABASE_URL) is fine.
                let future_only = var
                    .split('_')
                    .next()
                    .is_some_and(|head| FUTURE_SERVICES.contains(&head.to_lowercase().as_str()));
                if !future_only {
                    problems.push(format!("{var}: documented but has no case in SETTINGS"));
                }
            }
            for svc in &var_services {
                if !row_services.contains(svc) {
                    problems.push(format!(
                        "{var}: read by {} but the README's \"used by\" says {:?}",
                        svc.name(),
                        row.used_by
                    ));
                }
            }
            covered.extend(var_services);
        }
        for svc in row_services.difference(&covered) {
            problems.push(format!(
                "{:?}: the README says {} uses it, but no case has {} read it",
                row.vars,
                svc.name(),
                svc.name()
            ));
        }
    }
    for setting in SETTINGS {
        if !documented.contains(setting.var) {
            problems.push(format!(
                "{}: has a case but is not in the README",
                setting.var
            ));
        }
    }
    for var in env_example_vars() {
        if !documented.contains(&var) && !NOT_SERVICE_VARIABLES.contains(&var.as_str()) {
            problems.push(format!(
                "{var}: in .env.example but neither in the README's table nor a ./dev or docker-compose setting"
            ));
        }
    }
    for var in NOT_SERVICE_VARIABLES {
        if SETTINGS.iter().any(|s| s.var == *var) {
            problems.push(format!(
                "{var}: listed as not read by services but has a case"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// -------------------------------------------------------------------------------------------
// Running the services

/// What every start shares: databases, topics, keys, the shared auth and its customer.
struct World {
    run: String,
    dir: PathBuf,
    /// Empty for the bad-value test (configuration is read before anything connects).
    databases: BTreeMap<Svc, TestDatabase>,
    pems: Vec<PathBuf>,
    kyc_keys: [String; 3],
    topics: BTreeMap<&'static str, String>,
    shared_auth: Option<Running>,
    customer: Option<Customer>,
}

struct Customer {
    access_token: String,
}

fn binary(svc: Svc) -> PathBuf {
    tenor_harness::workspace_binary(&format!("tenor-{}", svc.name()))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn random_key() -> String {
    let bytes: [u8; 32] = rand::random();
    STANDARD.encode(bytes)
}

fn redis_with_db(db: u8) -> String {
    format!("{}/{db}", redis_url().trim_end_matches('/'))
}

async fn fresh_topic(name: &str, run: &str) -> String {
    let topic = format!("test.settings.{run}.{name}");
    let dlq = format!("{topic}.dlq");
    ensure_topics(&kafka_brokers(), &[(&topic, 1), (&dlq, 1)])
        .await
        .expect("creating topics (is the stack up? `./dev up`)");
    topic
}

impl World {
    /// Keys, directories and topics only: enough to start services that must refuse to.
    async fn bare() -> Self {
        Self::create(false).await
    }

    /// Also a database per service and the shared auth with a customer.
    async fn new() -> Self {
        Self::create(true).await
    }

    async fn create(full: bool) -> Self {
        let run = Uuid::new_v4().simple().to_string()[..12].to_owned();
        let dir = std::env::temp_dir().join(format!("tenor-settings-{run}"));
        std::fs::create_dir_all(&dir).unwrap();
        let mut pems = Vec::new();
        for n in 1..=2 {
            let pem = dir.join(format!("k{n}.pem"));
            std::fs::write(&pem, tenor_auth::keys::generate_pem()).unwrap();
            pems.push(pem);
        }
        let mut databases = BTreeMap::new();
        let mut topics = BTreeMap::new();
        if !full {
            for name in ["auth", "user", "kyc", "loan", "credit", "shared-auth"] {
                topics.insert(name, format!("test.settings.{run}.{name}"));
            }
            return Self {
                run,
                dir,
                databases,
                pems,
                kyc_keys: [random_key(), random_key(), random_key()],
                topics,
                shared_auth: None,
                customer: None,
            };
        }
        databases.insert(
            Auth,
            TestDatabase::new("settings_auth", || {
                vec![tenor_events::MIGRATIONS, tenor_auth::MIGRATIONS]
            })
            .await,
        );
        databases.insert(
            User,
            TestDatabase::new("settings_user", || {
                vec![tenor_events::MIGRATIONS, tenor_user::MIGRATIONS]
            })
            .await,
        );
        databases.insert(
            Kyc,
            TestDatabase::new("settings_kyc", || {
                vec![tenor_events::MIGRATIONS, tenor_kyc::MIGRATIONS]
            })
            .await,
        );
        databases.insert(
            Loan,
            TestDatabase::new("settings_loan", || {
                vec![tenor_events::MIGRATIONS, tenor_loan::MIGRATIONS]
            })
            .await,
        );
        for name in ["auth", "user", "kyc", "loan", "credit", "shared-auth"] {
            topics.insert(name, fresh_topic(name, &run).await);
        }
        let mut world = Self {
            run,
            dir,
            databases,
            pems,
            kyc_keys: [random_key(), random_key(), random_key()],
            topics,
            shared_auth: None,
            customer: None,
        };
        // The auth whose tokens the other services verify, with one customer.
        let mut env = world.base_env(Auth, free_port());
        env.insert(
            "AUTH_EVENTS_TOPIC".into(),
            world.topics["shared-auth"].clone(),
        );
        let auth = Running::start(Auth, env, "127.0.0.1").await.unwrap();
        let (access_token, _) = register_and_login(&auth).await.unwrap();
        world.customer = Some(Customer { access_token });
        world.shared_auth = Some(auth);
        world
    }

    fn jwks_url(&self) -> String {
        format!(
            "{}/.well-known/jwks.json",
            self.shared_auth.as_ref().unwrap().url
        )
    }

    /// What `./dev env` and `./dev up` give each service, with this test's databases, topics,
    /// keys and a free port.
    fn base_env(&self, svc: Svc, port: u16) -> BTreeMap<String, String> {
        let mut env = BTreeMap::new();
        let mut set = |k: &str, v: String| {
            env.insert(k.to_owned(), v);
        };
        set("PORT", port.to_string());
        set("KAFKA_BROKERS", kafka_brokers());
        set(
            &format!("{}_DATABASE_URL", svc.name().to_uppercase()),
            self.databases.get(&svc).map_or_else(
                || "postgres://tenor:tenor@127.0.0.1:1/unused".to_owned(),
                |db| db.url().to_owned(),
            ),
        );
        set("AUTH_EVENTS_TOPIC", self.topics["auth"].clone());
        set("USER_EVENTS_TOPIC", self.topics["user"].clone());
        set("KYC_EVENTS_TOPIC", self.topics["kyc"].clone());
        set("LOAN_EVENTS_TOPIC", self.topics["loan"].clone());
        set("CREDIT_EVENTS_TOPIC", self.topics["credit"].clone());
        if svc != Auth && self.shared_auth.is_some() {
            set("AUTH_JWKS_URL", self.jwks_url());
        }
        match svc {
            Auth => {
                set("REDIS_URL", redis_url());
                set(
                    "AUTH_SIGNING_KEYS",
                    format!("k1={}", self.pems[0].display()),
                );
                set("AUTH_ACTIVE_SIGNING_KEY", "k1".into());
            }
            Kyc => {
                set(
                    "KYC_OBJECT_STORE_URL",
                    format!("file://{}", self.dir.join("objects").display()),
                );
                set("KYC_PUBLIC_URL", format!("http://127.0.0.1:{port}"));
                set("KYC_MASTER_KEY", self.kyc_keys[0].clone());
                set("KYC_BLIND_INDEX_KEY", self.kyc_keys[1].clone());
                set("KYC_URL_SIGNING_KEY", self.kyc_keys[2].clone());
            }
            User | Loan => {}
        }
        env
    }

    /// `template` with its placeholders filled in.
    async fn fill(&self, template: &str, svc: Svc, port: u16, extra: &mut Extra) -> String {
        let mut out = String::new();
        let mut rest = template;
        while let Some(start) = rest.find('{') {
            out.push_str(&rest[..start]);
            let end = rest[start..].find('}').unwrap() + start;
            let key = &rest[start + 1..end];
            let value = match key.split_once(':') {
                None => match key {
                    "port" => port.to_string(),
                    "jwks" => self.jwks_url(),
                    "brokers" => kafka_brokers(),
                    "key32" => random_key(),
                    "shared-auth-topic" => self.topics["shared-auth"].clone(),
                    "db" => {
                        let db = TestDatabase::new("settings_empty", Vec::new).await;
                        // A valid non-default spelling of the same URL.
                        let url = db.url().replacen("postgres://", "postgresql://", 1);
                        extra.database = Some(db);
                        url
                    }
                    other => panic!("unknown placeholder {other}"),
                },
                Some(("topic", name)) => {
                    fresh_topic(&format!("{name}-{}", svc.name()), &self.run).await
                }
                Some(("redis-db", n)) => redis_with_db(n.parse().unwrap()),
                Some(("pem", n)) => self.pems[n.parse::<usize>().unwrap() - 1]
                    .display()
                    .to_string(),
                Some(("dir", name)) => {
                    let dir = self.dir.join(format!("{name}-{}", Uuid::new_v4().simple()));
                    extra.directory = Some(dir.clone());
                    dir.display().to_string()
                }
                Some((other, _)) => panic!("unknown placeholder {other}"),
            };
            if key.starts_with("topic:") {
                extra.topic = Some(value.clone());
            }
            out.push_str(&value);
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        out
    }
}

/// What filling a value created.
#[derive(Default)]
struct Extra {
    database: Option<TestDatabase>,
    directory: Option<PathBuf>,
    topic: Option<String>,
}

/// A service process, killed on drop.
struct Running {
    svc: Svc,
    child: Child,
    url: String,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Running {
    async fn spawn(svc: Svc, env: &BTreeMap<String, String>) -> (Child, PathBuf, PathBuf) {
        let id = Uuid::new_v4().simple();
        let stdout = std::env::temp_dir().join(format!("tenor-settings-{id}.out"));
        let stderr = std::env::temp_dir().join(format!("tenor-settings-{id}.err"));
        let child = Command::new(binary(svc))
            .env_clear()
            .envs(env)
            .current_dir(repo_root())
            .stdin(Stdio::null())
            .stdout(Stdio::from(std::fs::File::create(&stdout).unwrap()))
            .stderr(Stdio::from(std::fs::File::create(&stderr).unwrap()))
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("starting tenor-{}: {e}", svc.name()));
        (child, stdout, stderr)
    }

    /// Starts `svc` and waits until `/ready` answers 200 on `host`.
    async fn start(svc: Svc, env: BTreeMap<String, String>, host: &str) -> Result<Self, String> {
        let port = env["PORT"].clone();
        let (child, stdout, stderr) = Self::spawn(svc, &env).await;
        let mut running = Self {
            svc,
            child,
            url: format!("http://{host}:{port}"),
            stdout,
            stderr,
        };
        let client = http();
        for _ in 0..300 {
            if let Ok(Some(status)) = running.child.try_wait() {
                return Err(format!(
                    "tenor-{} exited with {status} before it was ready:\n{}",
                    svc.name(),
                    running.output()
                ));
            }
            if let Ok(response) = client.get(format!("{}/ready", running.url)).send().await
                && response.status().is_success()
            {
                return Ok(running);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(format!(
            "tenor-{} not ready after 30 s:\n{}",
            svc.name(),
            running.output()
        ))
    }

    fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    fn output(&self) -> String {
        let tail = |text: String| {
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(30)..].join("\n")
        };
        format!(
            "--- stdout (tail)\n{}\n--- stderr (tail)\n{}",
            tail(self.stdout()),
            tail(std::fs::read_to_string(&self.stderr).unwrap_or_default())
        )
    }

    /// SIGTERM (graceful: consumers leave their groups), then kill after 10 s.
    async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .await;
            if tokio::time::timeout(Duration::from_secs(10), self.child.wait())
                .await
                .is_err()
            {
                let _ = self.child.kill().await;
            }
        }
        let _ = std::fs::remove_file(&self.stdout);
        let _ = std::fs::remove_file(&self.stderr);
    }

    async fn gql(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        let mut request = http()
            .post(format!("{}/graphql", self.url))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        match request.send().await {
            Ok(response) => response.json().await.unwrap_or(Value::Null),
            Err(e) => json!({ "errors": [{ "message": e.to_string() }] }),
        }
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

fn error_codes(response: &Value) -> Vec<String> {
    response["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    e["extensions"]["code"]
                        .as_str()
                        .unwrap_or("NO_CODE")
                        .to_owned()
                })
                .collect()
        })
        .unwrap_or_default()
}

fn user_error_codes(payload: &Value) -> Vec<String> {
    payload["userErrors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["code"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap_or_default();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap_or_default())
        .unwrap_or(Value::Null)
}

fn header(token: &str) -> Value {
    let header = token.split('.').next().unwrap_or_default();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap_or_default())
        .unwrap_or(Value::Null)
}

fn seconds_between(from: &str, to: &str) -> Result<i64, String> {
    let parse = |t: &str| {
        chrono::DateTime::parse_from_rfc3339(t).map_err(|e| format!("timestamp {t:?}: {e}"))
    };
    Ok((parse(to)? - parse(from)?).num_seconds())
}

fn close(actual: i64, expected: i64, slack: i64) -> bool {
    (actual - expected).abs() <= slack
}

const PASSWORD: &str = "Harbour-Kite-Lantern-2719";

/// A new customer on `auth`: (access token, refresh token).
async fn register_and_login(auth: &Running) -> Result<(String, String), String> {
    let n: u64 = rand::random::<u64>() % 100_000_000;
    let email = format!("settings-{}@example.com", Uuid::new_v4().simple());
    let registered = auth
        .gql(
            "mutation($i: RegisterInput!) { register(input: $i) { userId userErrors { code } } }",
            json!({ "i": { "fullname": "Sari Wulandari", "email": email,
                            "phoneNumber": format!("0812{n:08}"), "password": PASSWORD } }),
            None,
        )
        .await;
    if registered["data"]["register"]["userId"].is_null() {
        return Err(format!("register failed: {registered}"));
    }
    let login = auth
        .gql(
            "mutation($i: LoginInput!) { login(input: $i) { tokens { accessToken refreshToken } userErrors { code } } }",
            json!({ "i": { "identifier": email, "password": PASSWORD } }),
            None,
        )
        .await;
    let tokens = &login["data"]["login"]["tokens"];
    match (
        tokens["accessToken"].as_str(),
        tokens["refreshToken"].as_str(),
    ) {
        (Some(access), Some(refresh)) => Ok((access.to_owned(), refresh.to_owned())),
        _ => Err(format!("login failed: {login}")),
    }
}

async fn eventually(
    what: &str,
    mut check: impl AsyncFnMut() -> Result<bool, String>,
) -> Result<(), String> {
    let mut last = String::new();
    for _ in 0..100 {
        match check().await {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(e) => last = e,
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("{what} not seen within 10 s {last}"))
}

/// A query that needs a verified token, per service.
async fn authenticated_query(running: &Running, token: &str) -> Value {
    let query = match running.svc {
        User => "{ me { id } }",
        Kyc => {
            "mutation { requestKycUpload(kind: DOCUMENT_FRONT) { upload { url } userErrors { code } } }"
        }
        Loan => "query($id: ID!) { loan(id: $id) { id } }",
        Auth => "{ mySessions(first: 1) { edges { node { id } } } }",
    };
    running
        .gql(
            query,
            json!({ "id": Uuid::now_v7().to_string() }),
            Some(token),
        )
        .await
}

async fn upload_link(running: &Running, token: &str) -> Result<Value, String> {
    let response = running
        .gql(
            "mutation { requestKycUpload(kind: DOCUMENT_FRONT) { upload { url expiresAt maxBytes } userErrors { code } } }",
            Value::Null,
            Some(token),
        )
        .await;
    let upload = &response["data"]["requestKycUpload"]["upload"];
    if upload.is_null() {
        return Err(format!("requestKycUpload failed: {response}"));
    }
    Ok(upload.clone())
}

async fn quote(running: &Running, amount: i64, tenor: i32) -> Value {
    let response = running
        .gql(
            "query($a: Int!, $t: Int!) { quoteLoan(amount: $a, tenorMonths: $t) { quote { totalInterest totalFee installments { amount } } userErrors { code } } }",
            json!({ "a": amount, "t": tenor }),
            None,
        )
        .await;
    response["data"]["quoteLoan"].clone()
}

async fn redis_ttl(db: u8, key: &str) -> Result<i64, String> {
    let client = redis::Client::open(redis_with_db(db)).map_err(|e| e.to_string())?;
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .map_err(|e| e.to_string())?;
    redis::cmd("TTL")
        .arg(key)
        .query_async(&mut conn)
        .await
        .map_err(|e| e.to_string())
}

/// Checks that the value took effect.
async fn probe(
    probe: Probe,
    running: &Running,
    world: &World,
    extra: &Extra,
) -> Result<(), String> {
    let shared_token = &world.customer.as_ref().unwrap().access_token;
    match probe {
        Probe::StartOnly(_) | Probe::Port => Ok(()),
        Probe::Host => {
            let other = running.url.replace("127.0.0.2", "127.0.0.1");
            match http().get(format!("{other}/health")).send().await {
                Ok(_) => Err(format!("also answers on {other}")),
                Err(_) => Ok(()),
            }
        }
        Probe::Migrated => {
            let url = extra.database.as_ref().unwrap().url().to_owned();
            // Retried: a connection can be refused transiently while the machine is loaded.
            eventually("migrations recorded in the given database", async || {
                let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                    .await
                    .map_err(|e| format!("connecting: {e:?}"))?;
                tokio::spawn(connection);
                let rows = client
                    .query("SELECT count(*) FROM __diesel_schema_migrations", &[])
                    .await
                    .map_err(|e| format!("the given database was not migrated: {e}"))?;
                Ok(rows[0].get::<_, i64>(0) > 0)
            })
            .await
        }
        Probe::PrettyLogs => {
            eventually("a log line", async || {
                Ok(!running.stdout().trim().is_empty())
            })
            .await?;
            let stdout = running.stdout();
            if stdout.lines().any(|l| l.trim_start().starts_with('{')) {
                Err(format!("JSON lines with LOG_FORMAT=pretty:\n{stdout}"))
            } else {
                Ok(())
            }
        }
        Probe::DebugLogs => {
            eventually("a DEBUG log line", async || {
                Ok(running.stdout().contains("\"level\":\"DEBUG\""))
            })
            .await
        }
        Probe::AcceptsSharedTokens => {
            let response = authenticated_query(running, shared_token).await;
            let codes = error_codes(&response);
            if codes.is_empty() && !response["data"].is_null() {
                Ok(())
            } else {
                Err(format!("the shared auth's token was refused: {response}"))
            }
        }
        Probe::RefusesSharedTokens => {
            let response = authenticated_query(running, shared_token).await;
            if error_codes(&response).contains(&"UNAUTHENTICATED".to_owned()) {
                Ok(())
            } else {
                Err(format!(
                    "a token for another issuer/audience was accepted: {response}"
                ))
            }
        }
        Probe::TokenClaim(claim, expected) => {
            let (access, _) = register_and_login(running).await?;
            let claims = claims(&access);
            if claims[claim] == expected {
                Ok(())
            } else {
                Err(format!(
                    "token claims {claims}: {claim} is not {expected:?}"
                ))
            }
        }
        Probe::TokenLifetime(seconds) => {
            let (access, _) = register_and_login(running).await?;
            let claims = claims(&access);
            let lifetime =
                claims["exp"].as_i64().unwrap_or(0) - claims["iat"].as_i64().unwrap_or(0);
            if lifetime == seconds {
                Ok(())
            } else {
                Err(format!(
                    "token lifetime {lifetime} s, expected {seconds} s: {claims}"
                ))
            }
        }
        Probe::SigningKeys { kid, keys } => {
            let (access, _) = register_and_login(running).await?;
            let header = header(&access);
            let jwks: Value = http()
                .get(format!("{}/.well-known/jwks.json", running.url))
                .send()
                .await
                .map_err(|e| e.to_string())?
                .json()
                .await
                .map_err(|e| e.to_string())?;
            let published = jwks["keys"].as_array().map_or(0, Vec::len);
            if header["kid"] == kid && published == keys {
                Ok(())
            } else {
                Err(format!(
                    "token header {header}, JWKS {jwks}: expected kid {kid} and {keys} keys"
                ))
            }
        }
        Probe::SessionLifetime(seconds) => {
            let (access, _) = register_and_login(running).await?;
            let response = running
                .gql(
                    "{ mySessions(first: 1) { edges { node { createdAt expiresAt } } } }",
                    Value::Null,
                    Some(&access),
                )
                .await;
            let node = &response["data"]["mySessions"]["edges"][0]["node"];
            let lifetime = seconds_between(
                node["createdAt"].as_str().unwrap_or_default(),
                node["expiresAt"].as_str().unwrap_or_default(),
            )?;
            if close(lifetime, seconds, 5) {
                Ok(())
            } else {
                Err(format!("session lifetime {lifetime} s: {response}"))
            }
        }
        Probe::StrictRefresh => {
            let (_, first) = register_and_login(running).await?;
            let refresh = async |token: &str| {
                running
                    .gql(
                        "mutation($r: String!) { refreshToken(refreshToken: $r) { tokens { refreshToken } userErrors { code } } }",
                        json!({ "r": token }),
                        None,
                    )
                    .await["data"]["refreshToken"]
                    .clone()
            };
            let rotated = refresh(&first).await;
            if rotated["tokens"].is_null() {
                return Err(format!("refresh failed: {rotated}"));
            }
            // With the default 10 s grace this retry would get tokens.
            let retried = refresh(&first).await;
            if retried["tokens"].is_null() && !user_error_codes(&retried).is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "the previous refresh token still worked: {retried}"
                ))
            }
        }
        Probe::BiometricChallengeLifetime(seconds) => {
            use p256::pkcs8::EncodePublicKey;
            let (access, _) = register_and_login(running).await?;
            let key = p256::ecdsa::SigningKey::random(&mut rand::rngs::OsRng);
            let public_key =
                STANDARD.encode(key.verifying_key().to_public_key_der().unwrap().as_bytes());
            let device_id = format!("android-{}", Uuid::new_v4().simple());
            let enrolled = running
                .gql(
                    "mutation($i: RegisterBiometricDeviceInput!) { registerBiometricDevice(input: $i) { device { deviceId } userErrors { code } } }",
                    json!({ "i": { "deviceId": device_id, "publicKey": public_key, "name": "Pixel 7" } }),
                    Some(&access),
                )
                .await;
            if enrolled["data"]["registerBiometricDevice"]["device"].is_null() {
                return Err(format!("enrolment failed: {enrolled}"));
            }
            let now = chrono::Utc::now().to_rfc3339();
            let challenge = running
                .gql(
                    "mutation($d: String!) { biometricChallenge(deviceId: $d) { nonce expiresAt userErrors { code } } }",
                    json!({ "d": device_id }),
                    None,
                )
                .await;
            let expires = challenge["data"]["biometricChallenge"]["expiresAt"]
                .as_str()
                .unwrap_or_default();
            let lifetime = seconds_between(&now, expires)?;
            if close(lifetime, seconds, 5) {
                Ok(())
            } else {
                Err(format!("challenge lifetime {lifetime} s: {challenge}"))
            }
        }
        Probe::Revocation { db, prefix, ttl } => {
            let (access, _) = register_and_login(running).await?;
            let sid = claims(&access)["sid"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let logout = running
                .gql("mutation { logout { ok } }", Value::Null, Some(&access))
                .await;
            if logout["data"]["logout"]["ok"] != true {
                return Err(format!("logout failed: {logout}"));
            }
            let key = format!("{prefix}:session:{sid}");
            let mut seen = -2;
            eventually(&format!("{key} in Redis database {db}"), async || {
                seen = redis_ttl(db, &key).await?;
                Ok(seen > 0)
            })
            .await?;
            if close(seen, ttl, 10) {
                Ok(())
            } else {
                Err(format!("{key} has TTL {seen} s, expected about {ttl} s"))
            }
        }
        Probe::PublishesRegistrations => {
            let topic = extra.topic.clone().unwrap();
            register_and_login(running).await?;
            let received =
                tenor_events::testing::read_until(&topic, Duration::from_secs(15), |r| {
                    !r.is_empty()
                })
                .await;
            if received.is_empty() {
                Err(format!("nothing published on {topic}"))
            } else {
                Ok(())
            }
        }
        Probe::ConsumesRegistrations => {
            eventually("the shared customer's profile", async || {
                let response = running
                    .gql("{ me { id } }", Value::Null, Some(shared_token))
                    .await;
                Ok(!response["data"]["me"]["id"].is_null())
            })
            .await
        }
        Probe::ObjectDirectory => {
            let dir = extra.directory.as_ref().unwrap();
            if dir.is_dir() {
                Ok(())
            } else {
                Err(format!("{} was not created", dir.display()))
            }
        }
        Probe::UploadLink(check) => {
            let upload = upload_link(running, shared_token).await?;
            let ok = match check {
                UploadCheck::UrlStartsWith(prefix) => upload["url"]
                    .as_str()
                    .unwrap_or_default()
                    .starts_with(prefix),
                UploadCheck::MaxBytes(bytes) => upload["maxBytes"] == bytes,
                UploadCheck::LifetimeSeconds(seconds) => close(
                    seconds_between(
                        &chrono::Utc::now().to_rfc3339(),
                        upload["expiresAt"].as_str().unwrap_or_default(),
                    )?,
                    seconds,
                    5,
                ),
            };
            if ok {
                Ok(())
            } else {
                Err(format!("{check:?} does not hold for {upload}"))
            }
        }
        Probe::QuoteRefused(amount, tenor, code) => {
            let payload = quote(running, amount, tenor).await;
            if user_error_codes(&payload) == [code] {
                Ok(())
            } else {
                Err(format!("quoteLoan({amount}, {tenor}): {payload}"))
            }
        }
        Probe::QuoteIs(amount, tenor, field, expected) => {
            let payload = quote(running, amount, tenor).await;
            if payload["quote"][field] == expected {
                Ok(())
            } else {
                Err(format!(
                    "quoteLoan({amount}, {tenor}).{field} is not {expected}: {payload}"
                ))
            }
        }
        Probe::InstallmentsRoundedTo(amount, tenor, unit) => {
            let payload = quote(running, amount, tenor).await;
            let installments: Vec<i64> = payload["quote"]["installments"]
                .as_array()
                .map(|a| a.iter().filter_map(|i| i["amount"].as_i64()).collect())
                .unwrap_or_default();
            let all_but_last = &installments[..installments.len().saturating_sub(1)];
            if !all_but_last.is_empty() && all_but_last.iter().all(|a| a % unit == 0) {
                Ok(())
            } else {
                Err(format!("installments not multiples of {unit}: {payload}"))
            }
        }
    }
}

/// One start with `setting` at its valid value on `svc`.
async fn good_case(world: &World, setting: &Setting, svc: Svc) -> Result<(), String> {
    let port = free_port();
    let mut env = world.base_env(svc, port);
    let mut extra = Extra::default();
    let value = world.fill(setting.good, svc, port, &mut extra).await;
    env.insert(setting.var.to_owned(), value.clone());
    for (var, template) in setting.with {
        let filled = world.fill(template, svc, port, &mut Extra::default()).await;
        env.insert((*var).to_owned(), filled);
    }
    let host = if setting.var == "HOST" {
        value.as_str()
    } else {
        "127.0.0.1"
    };
    let running = Running::start(svc, env, host).await?;
    let result = probe(setting.probe, &running, world, &extra).await;
    let result = result.map_err(|e| format!("{e}\n{}", running.output()));
    running.stop().await;
    result
}

/// One start with `setting` at an invalid value on `svc`: exit 2 at once, naming it.
async fn bad_case(world: &World, setting: &Setting, svc: Svc, bad: &str) -> Result<(), String> {
    assert!(
        bad.contains(MARK),
        "{}: bad value without the marker",
        setting.var
    );
    let mut env = world.base_env(svc, free_port());
    for (var, template) in setting.with {
        let filled = world.fill(template, svc, 0, &mut Extra::default()).await;
        env.insert((*var).to_owned(), filled);
    }
    env.insert(setting.var.to_owned(), bad.to_owned());
    let (mut child, stdout, stderr) = Running::spawn(svc, &env).await;
    let status = tokio::time::timeout(Duration::from_secs(15), child.wait()).await;
    let out = std::fs::read_to_string(&stdout).unwrap_or_default()
        + &std::fs::read_to_string(&stderr).unwrap_or_default();
    let _ = std::fs::remove_file(&stdout);
    let _ = std::fs::remove_file(&stderr);
    let Ok(status) = status else {
        let _ = child.kill().await;
        return Err(format!("still running 15 s after start:\n{out}"));
    };
    let status = status.map_err(|e| e.to_string())?;
    let mut problems = Vec::new();
    if status.code() != Some(2) {
        problems.push(format!("exit {status}, expected status 2"));
    }
    if !out.contains(&format!("{}:", setting.var)) {
        problems.push("the message does not name the variable".to_owned());
    }
    if out.to_lowercase().contains(MARK) {
        problems.push("the value is echoed".to_owned());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{}\n{out}", problems.join("; ")))
    }
}

/// How many services start at once (a 2-core machine shared with builds).
const CONCURRENCY: usize = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_setting_starts_each_service_that_reads_it_and_takes_effect() {
    tenor_platform::telemetry::install_tls_provider();
    let mut world = World::new().await;
    let cases: Vec<(&Setting, Svc)> = SETTINGS
        .iter()
        .flat_map(|setting| setting.services.iter().map(move |svc| (setting, *svc)))
        .collect();
    let started = std::time::Instant::now();
    let failures: Vec<String> = futures::stream::iter(cases)
        .map(|(setting, svc)| {
            let world = &world;
            async move {
                good_case(world, setting, svc)
                    .await
                    .err()
                    .map(|e| format!("{}={} on {}: {e}", setting.var, setting.good, svc.name()))
            }
        })
        .buffer_unordered(CONCURRENCY)
        .filter_map(|failure| async move { failure })
        .collect()
        .await;
    eprintln!("valid values: {:?}", started.elapsed());
    for setting in SETTINGS {
        if let Probe::StartOnly(why) = setting.probe {
            eprintln!("start-up only: {} ({why})", setting.var);
        }
    }
    if let Some(auth) = world.shared_auth.take() {
        auth.stop().await;
    }
    let _ = std::fs::remove_dir_all(&world.dir);
    assert!(
        failures.is_empty(),
        "{} setting(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_typed_setting_refuses_a_bad_value_naming_the_variable() {
    // No shared auth or customer needed: configuration is read before anything connects.
    let world = World::bare().await;
    let cases: Vec<(&Setting, Svc, &str)> = SETTINGS
        .iter()
        .flat_map(|setting| {
            setting
                .services
                .iter()
                .flat_map(move |svc| setting.bad.iter().map(move |bad| (setting, *svc, *bad)))
        })
        .collect();
    assert!(cases.len() > 50, "{} bad-value cases", cases.len());
    let dir = world.dir.clone();
    let failures: Vec<String> = futures::stream::iter(cases)
        .map(|(setting, svc, bad)| {
            let world = &world;
            async move {
                bad_case(world, setting, svc, bad)
                    .await
                    .err()
                    .map(|e| format!("{}={bad} on {}: {e}", setting.var, svc.name()))
            }
        })
        .buffer_unordered(4)
        .filter_map(|failure| async move { failure })
        .collect()
        .await;
    let _ = std::fs::remove_dir_all(dir);
    assert!(
        failures.is_empty(),
        "{} bad value(s) not refused properly:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
