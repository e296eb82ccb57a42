//! Settings notification reads besides the shared ones (Kafka, logging, the listening address,
//! token verification, the consumer, the outbox relay's poll and batch, in [`super::shared`]):
//! its MongoDB database and Redis keys, the topics it consumes and publishes, the delivery
//! worker, the channels (SMTP and the HTTP providers) and the holidays of quiet hours.

use super::Svc::*;
use super::{FREE_TEXT, NOT_A_DURATION, NOT_A_NUMBER, Probe, Setting, s, start_only};

const REDIS: &str = "dedupe and rate-limit keys are written only when an event is handled (tenor-notification's delivery_flow and rate_limit tests)";
const TOPIC_IN: &str = "consumed topic: the effect needs an event from another service (tenor-notification's event_sources test)";
const WORKER: &str = "the delivery worker's timing shows only with a failing or slow provider (tenor-notification's retries and crash tests)";
const RATE: &str = "the limit shows only with more messages to one borrower than it allows (tenor-notification's rate_limit test)";
const EMAIL: &str = "email goes out only for an event whose template has one (tenor-notification's delivery_flow and channels tests)";
const PROVIDER: &str =
    "a provider is called only for an event on its channel (tenor-notification's channels tests)";
/// A provider URL nothing listens on: set, the channel is configured; it is never called here.
const NOWHERE: &str = "http://127.0.0.1:9/send";

/// An API key goes with its provider's URL; alone it is refused (nothing would use it).
const fn api_key(var: &'static str, url: &'static [(&'static str, &'static str)]) -> Setting {
    Setting {
        var,
        services: &[Notification],
        good: "probe-key",
        with: url,
        probe: Probe::StartOnly(PROVIDER),
        bad: &["zqsecret"],
        bad_alone: true,
    }
}

pub(super) static SETTINGS: &[Setting] = &[
    // --- notification --------------------------------------------------------------------------
    s(
        "MONGODB_URL",
        &[Notification],
        "{mongo-url}",
        Probe::MongoIndexed,
        &["zqsecret"],
    ),
    s(
        "NOTIFICATION_MONGODB_DATABASE",
        &[Notification],
        "{mongo-db}",
        Probe::MongoIndexed,
        FREE_TEXT,
    ),
    start_only(
        "REDIS_URL",
        &[Notification],
        "{redis-db:7}",
        REDIS,
        &["zqsecret"],
    ),
    start_only(
        "NOTIFICATION_REDIS_PREFIX",
        &[Notification],
        "staging:notification",
        REDIS,
        FREE_TEXT,
    ),
    start_only(
        "OUTBOX_LEASE",
        &[Notification],
        "90s",
        "a relay's claim on the announcements shows only when a relay dies holding it",
        NOT_A_DURATION,
    ),
    // --- the topics it consumes and publishes --------------------------------------------------
    start_only(
        "LOAN_EVENTS_TOPIC",
        &[Notification],
        "{topic:loan-in}",
        TOPIC_IN,
        FREE_TEXT,
    ),
    start_only(
        "KYC_EVENTS_TOPIC",
        &[Notification],
        "{topic:kyc-in}",
        TOPIC_IN,
        FREE_TEXT,
    ),
    start_only(
        "AUTH_EVENTS_TOPIC",
        &[Notification],
        "{topic:auth-in}",
        "consumed twice (notifications, and the live feed's revocations): the effect needs a security event (tenor-notification's event_sources and live tests)",
        FREE_TEXT,
    ),
    start_only(
        "USER_EVENTS_TOPIC",
        &[Notification],
        "{topic:user-in}",
        "the contact projection needs a profile event (tenor-notification's projection test)",
        FREE_TEXT,
    ),
    start_only(
        "CREDIT_EVENTS_TOPIC",
        &[Notification],
        "{topic:credit-in}",
        TOPIC_IN,
        FREE_TEXT,
    ),
    start_only(
        "NOTIFICATION_EVENTS_TOPIC",
        &[Notification],
        "{topic:notification-out}",
        "published, and read back by every replica's live feed: the effect needs an inbox item (tenor-notification's live test)",
        FREE_TEXT,
    ),
    // --- the delivery worker -------------------------------------------------------------------
    start_only(
        "NOTIFICATION_MAX_ATTEMPTS",
        &[Notification],
        "3",
        WORKER,
        NOT_A_NUMBER,
    ),
    start_only(
        "NOTIFICATION_RETRY_INITIAL",
        &[Notification],
        "500ms",
        WORKER,
        NOT_A_DURATION,
    ),
    start_only(
        "NOTIFICATION_RETRY_MAX",
        &[Notification],
        "1m",
        WORKER,
        NOT_A_DURATION,
    ),
    start_only(
        "NOTIFICATION_USER_RATE_LIMIT",
        &[Notification],
        "50",
        RATE,
        NOT_A_NUMBER,
    ),
    start_only(
        "NOTIFICATION_USER_RATE_WINDOW",
        &[Notification],
        "30m",
        RATE,
        NOT_A_DURATION,
    ),
    start_only(
        "NOTIFICATION_SEND_TIMEOUT",
        &[Notification],
        "5s",
        WORKER,
        NOT_A_DURATION,
    ),
    start_only(
        "NOTIFICATION_CLAIM_LEASE",
        &[Notification],
        "45s",
        WORKER,
        NOT_A_DURATION,
    ),
    start_only(
        "NOTIFICATION_WORKER_POLL",
        &[Notification],
        "500ms",
        WORKER,
        NOT_A_DURATION,
    ),
    start_only(
        "NOTIFICATION_WORKER_CONCURRENCY",
        &[Notification],
        "4",
        WORKER,
        NOT_A_NUMBER,
    ),
    start_only(
        "NOTIFICATION_DEDUPE_TTL",
        &[Notification],
        "3days",
        "the dedupe key shows only with a redelivered event (tenor-notification's delivery_flow test)",
        NOT_A_DURATION,
    ),
    // --- channels ------------------------------------------------------------------------------
    start_only(
        "NOTIFICATION_SMTP_URL",
        &[Notification],
        "smtp://{smtp}?tls=opportunistic",
        EMAIL,
        // Not a URL; not SMTP (a password in it is not shown); an unknown TLS mode.
        &[
            "zqsecret",
            "http://user:zqsecret@mail.example.id",
            "smtp://mail.example.id:587?tls=zqsecret",
        ],
    ),
    start_only(
        "NOTIFICATION_EMAIL_FROM",
        &[Notification],
        "Tenor Pengingat <pengingat@tenor.example.id>",
        EMAIL,
        &["zqsecret", "Tenor <zqsecret>"],
    ),
    start_only(
        "NOTIFICATION_SMTP_TIMEOUT",
        &[Notification],
        "5s",
        EMAIL,
        NOT_A_DURATION,
    ),
    start_only(
        "NOTIFICATION_SMS_URL",
        &[Notification],
        NOWHERE,
        PROVIDER,
        &["zqsecret", "ftp://zqsecret.example.id/send"],
    ),
    start_only(
        "NOTIFICATION_WHATSAPP_URL",
        &[Notification],
        NOWHERE,
        PROVIDER,
        &["zqsecret", "ftp://zqsecret.example.id/send"],
    ),
    start_only(
        "NOTIFICATION_PUSH_URL",
        &[Notification],
        NOWHERE,
        PROVIDER,
        &["zqsecret", "ftp://zqsecret.example.id/send"],
    ),
    api_key(
        "NOTIFICATION_SMS_API_KEY",
        &[("NOTIFICATION_SMS_URL", NOWHERE)],
    ),
    api_key(
        "NOTIFICATION_WHATSAPP_API_KEY",
        &[("NOTIFICATION_WHATSAPP_URL", NOWHERE)],
    ),
    api_key(
        "NOTIFICATION_PUSH_API_KEY",
        &[("NOTIFICATION_PUSH_URL", NOWHERE)],
    ),
    start_only(
        "NOTIFICATION_SMS_PROVIDER",
        &[Notification],
        "zenziva",
        "the name is recorded with each attempt at an SMS (tenor-notification's channels tests)",
        FREE_TEXT,
    ),
    start_only(
        "NOTIFICATION_WHATSAPP_PROVIDER",
        &[Notification],
        "meta-cloud",
        "the name is recorded with each attempt at a WhatsApp message",
        FREE_TEXT,
    ),
    start_only(
        "NOTIFICATION_PUSH_PROVIDER",
        &[Notification],
        "fcm-staging",
        "the name is recorded with each attempt at a push",
        FREE_TEXT,
    ),
    start_only(
        "NOTIFICATION_PROVIDER_TIMEOUT",
        &[Notification],
        "3s",
        PROVIDER,
        NOT_A_DURATION,
    ),
    // --- quiet hours ---------------------------------------------------------------------------
    start_only(
        "NOTIFICATION_HOLIDAYS_FILE",
        &[Notification],
        "{holidays}",
        "a holiday holds back only reminders and collection messages (tenor-notification's schedule and quiet_hours tests)",
        // A file that cannot be read; one that does not parse at the marker (neither the path
        // nor the file's text may be shown).
        &["/nonexistent/zqsecret.toml", "{broken-holidays:zqsecret}"],
    ),
];
