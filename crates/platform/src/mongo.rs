//! MongoDB (FerretDB locally): client, readiness, and whether the server can be reached
//! ([`crate::outage`]).
//!
//! The local server has no multi-document transactions and no change streams
//! (see docs/conventions.md § Events): services built on it keep each state change and
//! its outgoing event in one document and make idempotency a unique index.

use std::sync::Arc;
use std::time::Duration;

use mongodb::bson::doc;
use mongodb::event::EventHandler;
use mongodb::event::sdam::SdamEvent;
use mongodb::options::ClientOptions;

use crate::config::Env;
use crate::http::{ReadinessCheck, check};

#[derive(Debug, Clone)]
pub struct MongoConfig {
    pub url: String,
    pub database: String,
}

impl MongoConfig {
    /// `MONGODB_URL` (required: `mongodb://…` or `mongodb+srv://…`) and `<db_var>` (the
    /// database name, default given). A malformed URL stops the service at start like every
    /// other bad setting, not at its first connection.
    pub fn from_env(env: &mut Env, db_var: &str, default_db: &str) -> Self {
        let url: String = env.required("MONGODB_URL");
        // Empty: `required` has already reported it missing.
        let well_formed = ["mongodb://", "mongodb+srv://"]
            .iter()
            .any(|scheme| url.starts_with(scheme));
        if !url.is_empty() && !well_formed {
            env.fail(
                "MONGODB_URL",
                "must start with mongodb:// or mongodb+srv://".into(),
            );
        }
        let database: String = env.optional(db_var, default_db.to_owned());
        if !is_database_name(&database) {
            env.fail(
                db_var,
                "must be a MongoDB database name: 1–63 letters, digits, `_` or `-`".into(),
            );
        }
        Self { url, database }
    }
}

/// MongoDB refuses `/\. "$` and NUL in a database name and caps it at 64 bytes; FerretDB maps
/// the name to a PostgreSQL schema (63). Tenor's names are plain words, so the check is the
/// plain subset, and a typo stops the service at start instead of at its first index.
fn is_database_name(name: &str) -> bool {
    (1..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

pub async fn database(config: &MongoConfig) -> mongodb::error::Result<mongodb::Database> {
    let mut options = ClientOptions::parse(&config.url).await?;
    options.app_name = Some("tenor".to_owned());
    options.server_selection_timeout = Some(Duration::from_secs(5));
    // The driver's monitor checks the server every 10 s, and at once when an operation finds
    // no server: what it finds is what `crate::outage` reports.
    options.sdam_event_handler = Some(EventHandler::callback(|event| match event {
        SdamEvent::ServerHeartbeatSucceeded(_) => crate::outage::note_database(true),
        SdamEvent::ServerHeartbeatFailed(_) => crate::outage::note_database(false),
        _ => {}
    }));
    let client = mongodb::Client::with_options(options)?;
    Ok(client.database(&config.database))
}

pub fn readiness(db: mongodb::Database) -> Arc<dyn ReadinessCheck> {
    check("mongodb", move || {
        let db = db.clone();
        async move {
            db.run_command(doc! { "ping": 1 })
                .await
                .map(|_| ())
                .map_err(|e| e.kind.to_string())
        }
    })
}

#[cfg(test)]
mod database_name_tests {
    use super::is_database_name;

    #[test]
    fn plain_names_pass_and_path_like_or_long_ones_do_not() {
        for good in ["tenor_risk", "tenor-notification", "test_risk_0a1b", "A1"] {
            assert!(is_database_name(good), "{good}");
        }
        let long = "a".repeat(64);
        for bad in ["", "zq/secret", "a.b", "a b", "a$b", "tenor\\x", &long] {
            assert!(!is_database_name(bad), "{bad}");
        }
    }
}
