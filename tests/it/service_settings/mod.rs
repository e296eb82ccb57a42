//! Every setting the README's "Configuration" table and `.env.example` document for the
//! subgraphs works: each one, set alone to a valid non-default value, lets each service that
//! reads it start (the real `tenor-<service>` binary, as deployed) and, where that is cheap to
//! observe, visibly takes effect; each typed one, set to garbage, stops the service at once with
//! exit status 2 and a message naming the variable without echoing the value.
//!
//! The documented names are read from the README and `.env.example`, so a newly documented
//! variable without an entry in [`settings`] fails this test. Router-only variables are covered
//! by `router/tests`; `./dev`, test and docker-compose settings are not read by any service.
//!
//! Needs the stack (`./dev up`) and the service binaries of this build: `cargo build -p
//! tenor-auth -p tenor-user -p tenor-kyc -p tenor-loan -p tenor-credit -p tenor-risk -p
//! tenor-notification --bins`.
//!
//! The table of settings is split by who reads them ([`shared`], [`auth`], [`kyc`], [`loan`],
//! [`credit`], [`risk`], [`notification`]);
//! [`documentation`] checks it against the README and `.env.example`; [`world`] and [`running`]
//! start the services, [`probes`] observe the effects and [`cases`] runs every case.

mod auth;
mod cases;
mod credit;
mod documentation;
mod kyc;
mod loan;
mod notification;
mod probes;
mod risk;
mod running;
mod shared;
mod world;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Svc {
    Auth,
    User,
    Kyc,
    Loan,
    Credit,
    Risk,
    Notification,
}

use Svc::*;

impl Svc {
    fn name(self) -> &'static str {
        match self {
            Auth => "auth",
            User => "user",
            Kyc => "kyc",
            Loan => "loan",
            Credit => "credit",
            Risk => "risk",
            Notification => "notification",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        ALL.iter().copied().find(|s| s.name() == name)
    }
}

const ALL: &[Svc] = &[Auth, User, Kyc, Loan, Credit, Risk, Notification];
/// The services on PostgreSQL (a pool, migrations, the PostgreSQL outbox); risk and
/// notification are on MongoDB.
const POSTGRES: &[Svc] = &[Auth, User, Kyc, Loan, Credit];
/// The services with an outbox relay (PostgreSQL's or, for risk and notification, MongoDB's).
const PRODUCERS: &[Svc] = ALL;
/// The services with a Kafka consumer runner (kyc only publishes).
const CONSUMERS: &[Svc] = &[Auth, User, Kyc, Loan, Credit, Risk, Notification];
/// The services that verify tokens against auth's JWKS (auth itself signs them).
const VERIFIERS: &[Svc] = &[User, Kyc, Loan, Credit, Risk, Notification];

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
    /// The PostgreSQL database given (fresh, empty) was migrated by the service.
    Migrated,
    /// The MongoDB database the service was given has the service's indexed collections (a
    /// MongoDB service has no migrations: it creates its indexes at start).
    MongoIndexed,
    /// stdout has log lines that are not JSON.
    PrettyLogs,
    /// stdout has DEBUG lines.
    DebugLogs,
    /// A token from the shared auth service is accepted (every verifier; risk, whose every
    /// field needs a staff scope, answers a verified customer `FORBIDDEN`, not
    /// `UNAUTHENTICATED`; notification counts the customer's unread inbox items).
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
    /// directory, `{mongo-url}` the stack's MongoDB with options, `{mongo-db}` a fresh MongoDB
    /// database name, `{rules}` a directory with an extra credit rule set, `{holidays}` a file
    /// with an extra holiday for notification, `{smtp}` the stack's Mailpit SMTP address
    /// (host:port).
    ///
    /// Bad values are filled too: `{broken-rules:TEXT}` is a directory with a credit rule file
    /// that does not parse, whose first line is the comment TEXT; `{broken-holidays:TEXT}` a
    /// holiday file that does not parse at TEXT.
    good: &'static str,
    /// Other variables that go with the value (e.g. a second key needs the key list).
    with: &'static [(&'static str, &'static str)],
    probe: Probe,
    /// Invalid values (each must contain [`MARK`]); empty for free text (names, topics,
    /// scopes), where any value is accepted.
    bad: &'static [&'static str],
    /// The invalid values are tried without the `with` variables: what is wrong with them is
    /// the companion's absence (an API key without its provider's URL).
    bad_alone: bool,
}

const NOT_A_NUMBER: &[&str] = &["zqsecret"];
const NOT_A_DURATION: &[&str] = &["15 zqsecret"];
const NOT_A_KEY: &[&str] = &["zqsecret"];
/// 64 characters: one more than a master key id may have (`Vault::from_env`).
const TOO_LONG_KEY_ID: &[&str] =
    &["zqsecretzqsecretzqsecretzqsecretzqsecretzqsecretzqsecretzqsecret"];
const FREE_TEXT: &[&str] = &[];
/// A `/` is not allowed in a Kafka group instance id (`CONSUMER_INSTANCE_ID`).
const NOT_AN_INSTANCE_ID: &[&str] = &["zqsecret/0"];

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
        bad_alone: false,
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

/// The documented service variables, each with the services that read it (in the order of the
/// README's table).
fn settings() -> impl Iterator<Item = &'static Setting> {
    [
        shared::GENERAL,
        auth::SETTINGS,
        shared::TOPICS,
        kyc::SETTINGS,
        loan::SETTINGS,
        credit::SETTINGS,
        risk::SETTINGS,
        notification::SETTINGS,
    ]
    .into_iter()
    .flatten()
}
