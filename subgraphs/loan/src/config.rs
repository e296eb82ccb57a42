//! The loan service's settings, all from environment variables (defaults suit `./dev up`).

use std::time::Duration;

use tenor_contracts::topics;
use tenor_events::kafka::KafkaConfig;
use tenor_events::{ConsumerConfig, RelayConfig};
use tenor_platform::auth::VerifierConfig;
use tenor_platform::config::{Env, HumanDuration};
use tenor_platform::db::DbConfig;

use crate::domain::product::{ABSOLUTE_MAX_AMOUNT, CostCap, InterestMethod, Product};
use crate::events::CONSUMER_GROUP;
use crate::service::MovementSettings;

#[derive(Debug, Clone)]
pub struct LoanConfig {
    pub db: DbConfig,
    pub kafka: KafkaConfig,
    /// Where this service publishes (`LOAN_EVENTS_TOPIC`, default `loan.events`).
    pub loan_events_topic: String,
    pub credit_events_topic: String,
    pub kyc_events_topic: String,
    pub user_events_topic: String,
    /// Read by the live consumer only (`auth.session.revoked` ends subscriptions).
    pub auth_events_topic: String,
    pub product: Product,
    pub cost_cap: CostCap,
    /// Applications one borrower may make in any 24 hours (`LOAN_APPLICATIONS_PER_DAY`, at
    /// least 1; default 3).
    pub applications_per_day: u32,
    /// Reminder `loan.installment.due` goes out this many days before the due date.
    pub reminder_days_before: u32,
    /// How often the due/overdue job runs (it is idempotent, so more often is harmless).
    pub daily_job_interval: Duration,
    /// When unfinished payouts and collections are taken over (`LOAN_MOVEMENT_RESUME_AFTER`,
    /// default 30s) and how often that is checked (`LOAN_MOVEMENT_RESUME_EVERY`, default 5s).
    pub movements: MovementSettings,
    /// `loanStatusChanged` subscriptions one account may hold on this replica
    /// (`LIVE_SUBSCRIPTIONS_PER_USER`, 20).
    pub live_subscriptions_per_user: usize,
    pub verifier: VerifierConfig,
    pub relay: RelayConfig,
    pub consumer: ConsumerConfig,
}

impl LoanConfig {
    /// `LOAN_DATABASE_URL` and `KAFKA_BROKERS` are required; everything else has a default.
    /// The product is checked against the cost cap here: a product that could exceed it stops
    /// the service at startup with the reason.
    pub fn from_env(env: &mut Env) -> Self {
        let db = DbConfig::from_env(env, "LOAN_DATABASE_URL");
        let kafka = KafkaConfig::from_env(env, "tenor-loan");
        let loan_events_topic: String = env.optional("LOAN_EVENTS_TOPIC", topics::LOAN.to_owned());
        let credit_events_topic: String =
            env.optional("CREDIT_EVENTS_TOPIC", topics::CREDIT.to_owned());
        let kyc_events_topic: String = env.optional("KYC_EVENTS_TOPIC", topics::KYC.to_owned());
        let user_events_topic: String = env.optional("USER_EVENTS_TOPIC", topics::USER.to_owned());
        let auth_events_topic: String = env.optional("AUTH_EVENTS_TOPIC", topics::AUTH.to_owned());
        let consumer = ConsumerConfig::from_env(
            env,
            kafka.clone(),
            CONSUMER_GROUP,
            &[&credit_events_topic, &kyc_events_topic, &user_events_topic],
        );
        let method: String = env.optional("LOAN_INTEREST_METHOD", "ANNUITY".to_owned());
        let method = method.parse::<InterestMethod>().unwrap_or_else(|problem| {
            env.fail("LOAN_INTEREST_METHOD", problem);
            InterestMethod::Annuity
        });
        let product = Product {
            min_amount: env.optional("LOAN_MIN_AMOUNT", 500_000i64),
            max_amount: env.optional("LOAN_MAX_AMOUNT", ABSOLUTE_MAX_AMOUNT),
            min_tenor_months: env.optional("LOAN_MIN_TENOR_MONTHS", 1u32),
            max_tenor_months: env.optional("LOAN_MAX_TENOR_MONTHS", 12u32),
            method,
            monthly_rate_ppm: env.optional("LOAN_MONTHLY_RATE_PPM", 40_000i64),
            admin_fee_ppm: env.optional("LOAN_ADMIN_FEE_PPM", 10_000i64),
            rounding_unit: env.optional("LOAN_ROUNDING_UNIT", 100i64),
        };
        let cap_text: String = env.optional("LOAN_COST_CAP_BANDS", "1:3000,6:2000".to_owned());
        let cost_cap = CostCap::parse(&cap_text).unwrap_or_else(|problem| {
            env.fail("LOAN_COST_CAP_BANDS", problem);
            // The documented default, so the product is not also refused against a made-up cap.
            CostCap::parse("1:3000,6:2000").expect("valid fallback")
        });
        if let Err(error) = product.validate(&cost_cap) {
            env.fail("LOAN_MONTHLY_RATE_PPM", error.to_string());
        }
        let applications_per_day = env.optional("LOAN_APPLICATIONS_PER_DAY", 3u32);
        if applications_per_day == 0 {
            env.fail("LOAN_APPLICATIONS_PER_DAY", "must be at least 1".to_owned());
        }
        Self {
            db,
            kafka,
            loan_events_topic,
            credit_events_topic,
            kyc_events_topic,
            user_events_topic,
            auth_events_topic,
            product,
            cost_cap,
            applications_per_day,
            reminder_days_before: env.optional("LOAN_REMINDER_DAYS_BEFORE", 3u32),
            daily_job_interval: env
                .optional(
                    "LOAN_DAILY_JOB_INTERVAL",
                    HumanDuration(Duration::from_secs(3600)),
                )
                .into(),
            movements: MovementSettings {
                resume_after: env
                    .optional(
                        "LOAN_MOVEMENT_RESUME_AFTER",
                        HumanDuration(MovementSettings::default().resume_after),
                    )
                    .into(),
                resume_every: env
                    .optional(
                        "LOAN_MOVEMENT_RESUME_EVERY",
                        HumanDuration(MovementSettings::default().resume_every),
                    )
                    .into(),
            },
            live_subscriptions_per_user: tenor_events::live::subscriptions_per_user(env),
            verifier: VerifierConfig::from_env(env),
            relay: RelayConfig::from_env(env),
            consumer,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_required_variables() {
        let mut env = Env::from_pairs([("KAFKA_BROKERS", "127.0.0.1:29092")]);
        let config = LoanConfig::from_env(&mut env);
        assert_eq!(config.loan_events_topic, "loan.events");
        assert_eq!(config.auth_events_topic, "auth.events");
        assert_eq!(
            config.consumer.topics,
            ["credit.events", "kyc.events", "user.events"]
        );
        assert_eq!(config.consumer.group_id, "tenor-loan");
        assert_eq!(config.product.max_amount, 12_000_000);
        assert_eq!(config.movements, MovementSettings::default());
        assert_eq!(
            env.finish(config).unwrap_err().vars(),
            ["LOAN_DATABASE_URL"]
        );
    }

    #[test]
    fn the_daily_application_limit_is_at_least_one() {
        let base = [
            ("LOAN_DATABASE_URL", "postgres://x/y"),
            ("KAFKA_BROKERS", "k:1"),
        ];
        let mut env = Env::from_pairs(base);
        let config = LoanConfig::from_env(&mut env);
        assert_eq!(env.finish(config).unwrap().applications_per_day, 3);
        let mut env = Env::from_pairs([base[0], base[1], ("LOAN_APPLICATIONS_PER_DAY", "0")]);
        let config = LoanConfig::from_env(&mut env);
        assert_eq!(
            env.finish(config).unwrap_err().vars(),
            ["LOAN_APPLICATIONS_PER_DAY"]
        );
    }

    #[test]
    fn a_product_above_the_cost_cap_stops_startup() {
        let mut env = Env::from_pairs([
            ("LOAN_DATABASE_URL", "postgres://x/y"),
            ("KAFKA_BROKERS", "k:1"),
            ("LOAN_MONTHLY_RATE_PPM", "100000"),
        ]);
        let config = LoanConfig::from_env(&mut env);
        let errors = env.finish(config).unwrap_err();
        assert_eq!(errors.vars(), ["LOAN_MONTHLY_RATE_PPM"]);
        assert!(errors.to_string().contains("exceeds the cap"), "{errors}");
    }

    #[test]
    fn an_amount_above_the_legal_maximum_stops_startup() {
        let mut env = Env::from_pairs([
            ("LOAN_DATABASE_URL", "postgres://x/y"),
            ("KAFKA_BROKERS", "k:1"),
            ("LOAN_MAX_AMOUNT", "12000001"),
        ]);
        let config = LoanConfig::from_env(&mut env);
        assert!(env.finish(config).is_err());
    }
}
