//! Settings several services read: databases, Kafka, logging, the listening address, token
//! verification, the outbox relay and consumers, and the topics each service publishes or
//! consumes. MongoDB's settings are risk's ([`super::risk`]).

use super::Svc::*;
use super::{
    ALL, CONSUMERS, FREE_TEXT, NOT_A_DURATION, NOT_A_NUMBER, NOT_AN_INSTANCE_ID, POSTGRES,
    PRODUCERS, Probe, Setting, VERIFIERS, s, start_only,
};

const POOL: &str = "pool size/wait are internal to the process";
const JWKS_CACHE: &str = "refetch timing of the JWKS cache needs key rotation over minutes";
const RELAY: &str =
    "relay timing/batching/retention are internal; the effect needs an outbox backlog";
const RETRIES: &str = "retries show only with a failing handler";
const LEEWAY: &str = "tolerance on `exp` shows only with an expired token";
const TOPIC_IN: &str = "consumed topic: the effect needs an event from another service";
const TOPIC_OUT: &str =
    "published topic: the effect needs a business flow (KYC submission, loan application)";
const DECISION_OUT: &str = "published topic: a decision needs a submitted loan and risk's answer (tests/it/credit_decisions.rs)";
const EVALUATION_OUT: &str = "published topic: an evaluation needs a submitted loan and a bureau call (tests/it/credit_decisions.rs)";

/// Read by every service or by every service of a kind.
pub(super) static GENERAL: &[Setting] = &[
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
    s(
        "CREDIT_DATABASE_URL",
        &[Credit],
        "{db}",
        Probe::Migrated,
        &["zqsecret"],
    ),
    start_only("DB_MAX_CONNECTIONS", POSTGRES, "4", POOL, NOT_A_NUMBER),
    start_only("DB_ACQUIRE_TIMEOUT", POSTGRES, "3s", POOL, NOT_A_DURATION),
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
    start_only(
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        ALL,
        "http://127.0.0.1:9/v1/traces",
        "spans leave in the background; tests/it/tracing.rs finds them in Jaeger",
        &["zqsecret", "grpc://zqsecret:4317"],
    ),
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
    // Neither default: 500 rows (PostgreSQL), 100 documents (risk).
    start_only("OUTBOX_BATCH_SIZE", PRODUCERS, "200", RELAY, NOT_A_NUMBER),
    start_only("OUTBOX_RETENTION", POSTGRES, "3days", RELAY, NOT_A_DURATION),
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
        "CONSUMER_SESSION_TIMEOUT",
        CONSUMERS,
        "15s",
        "shows only when a consumer dies without leaving its group",
        NOT_A_DURATION,
    ),
    start_only(
        "CONSUMER_CONCURRENCY",
        CONSUMERS,
        "2",
        "shows only as throughput when many aggregates' events arrive at once",
        NOT_A_NUMBER,
    ),
    start_only(
        "LIVE_SUBSCRIPTIONS_PER_USER",
        &[Loan, Notification],
        "5",
        "shows only with more live subscriptions of one user than the cap (loan's live tests)",
        NOT_A_NUMBER,
    ),
    start_only(
        "CONSUMER_INSTANCE_ID",
        CONSUMERS,
        "replica-0",
        "static membership shows only when a member rejoins or leaves its group",
        NOT_AN_INSTANCE_ID,
    ),
    start_only(
        "CONSUMER_GROUP_PREFIX",
        CONSUMERS,
        "staging-",
        "the group name shows only in Kafka's group list",
        FREE_TEXT,
    ),
    start_only(
        "CONSUMER_MAX_BACKOFF",
        CONSUMERS,
        "5s",
        RETRIES,
        NOT_A_DURATION,
    ),
];

/// The topics each service publishes or consumes.
pub(super) static TOPICS: &[Setting] = &[
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
        &[Credit],
        "{topic:auth-credit}",
        TOPIC_IN,
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
        &[Auth, Kyc, Loan, Credit],
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
        &[Loan, Credit],
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
        "LOAN_EVENTS_TOPIC",
        &[User, Credit, Risk],
        "{topic:loan-in}",
        TOPIC_IN,
        FREE_TEXT,
    ),
    start_only(
        "CREDIT_EVENTS_TOPIC",
        &[Loan],
        "{topic:credit-in}",
        TOPIC_IN,
        FREE_TEXT,
    ),
    start_only(
        "CREDIT_EVENTS_TOPIC",
        &[Credit],
        "{topic:credit-out}",
        DECISION_OUT,
        FREE_TEXT,
    ),
    start_only(
        "RISK_EVENTS_TOPIC",
        &[Credit],
        "{topic:risk-in}",
        TOPIC_IN,
        FREE_TEXT,
    ),
    start_only(
        "RISK_EVENTS_TOPIC",
        &[Risk],
        "{topic:risk-out}",
        EVALUATION_OUT,
        FREE_TEXT,
    ),
];
