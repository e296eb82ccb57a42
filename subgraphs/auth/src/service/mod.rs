//! The auth use cases, one file per group: [`accounts`] (registration, password change, staff
//! accounts), [`login`] (password login), [`sessions`] (refresh, logout, the session list),
//! [`devices`] (biometric devices and login), [`revocation`] (ending sessions at once).
//!
//! This file holds the service's state and the plumbing the use cases share: connections,
//! opening a session and issuing its tokens. Every use case returns an [`Outcome`]: its value,
//! an [`AuthRefusal`] list for `userErrors`, or a `ServiceError`.

pub mod accounts;
pub mod devices;
pub mod export;
pub mod login;
pub mod revocation;
pub mod sessions;

use std::sync::Arc;

use chrono::Utc;
use diesel_async::AsyncPgConnection;
use tenor_contracts::identity::DeviceRegisteredV1;
use tenor_events::Publisher;
use tenor_platform::db::{PgConn, PgPool};
use tenor_platform::refusal::ServiceError;
use uuid::Uuid;

use crate::config::TokenPolicy;
use crate::domain::account::AccountKind;
pub use crate::domain::refusal::AuthRefusal;
use crate::domain::session::AuthMethod;
use crate::domain::throttle::ThrottlePolicy;
use crate::domain::tokens::{AccessTokenSigner, new_refresh_token};
use crate::events::publish;
use crate::store::accounts::Account;
use crate::store::known_devices;
use crate::store::revocations::RevocationCache;
use crate::store::sessions::{NewSession, add_refresh_token, create as create_session};

pub use accounts::Registration;
pub use devices::Challenge;

/// What every auth use case returns.
pub type Outcome<T> = tenor_platform::refusal::Outcome<T, AuthRefusal>;

pub struct AuthService {
    pub pool: PgPool,
    pub signer: Arc<AccessTokenSigner>,
    pub tokens: TokenPolicy,
    pub throttle: ThrottlePolicy,
    pub auth_events_topic: String,
    /// The Redis revocation set, written right after a revocation commits (the fast path;
    /// `None` leaves it all to the `auth.session.revoked` consumer).
    pub revocations: Option<Arc<RevocationCache>>,
}

/// What a successful login or refresh hands to the client.
#[derive(Debug, Clone)]
pub struct IssuedTokens {
    pub user_id: Uuid,
    pub session_id: Uuid,
    pub access_token: String,
    pub access_token_expires_at: chrono::DateTime<Utc>,
    pub refresh_token: String,
    pub session_expires_at: chrono::DateTime<Utc>,
}

/// How a new session was opened, and from where.
pub struct SessionOrigin<'a> {
    pub method: AuthMethod,
    pub device_id: Option<&'a str>,
    pub device_name: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub ip: Option<&'a str>,
}

/// A refresh token created inside the caller's transaction; the access token is signed after
/// commit (see [`AuthService::finish`]).
pub struct PendingTokens {
    pub user_id: Uuid,
    pub session_id: Uuid,
    pub scopes: Vec<String>,
    pub refresh_token: String,
    pub session_expires_at: chrono::DateTime<Utc>,
}

impl AuthService {
    pub async fn conn(&self) -> Result<PgConn, ServiceError> {
        Ok(self.pool.get().await?)
    }

    /// Where auth's events go (`auth.events`), through the outbox.
    pub fn publisher(&self) -> Publisher {
        publish::publisher(&self.auth_events_topic)
    }

    /// Scopes an account's tokens carry.
    pub fn scopes_of(&self, account: &Account) -> Vec<String> {
        if account.kind == AccountKind::Staff {
            account.scopes.clone()
        } else {
            self.tokens.customer_scopes.clone()
        }
    }

    /// Open a session with its first refresh token (inside the caller's transaction). The
    /// account's first session on a device announces the device (`auth.device.registered`).
    pub async fn open_session(
        &self,
        conn: &mut AsyncPgConnection,
        account: &Account,
        origin: &SessionOrigin<'_>,
    ) -> Result<PendingTokens, ServiceError> {
        let session_id = Uuid::now_v7();
        let now = Utc::now();
        let session_expires_at =
            now + chrono::Duration::from_std(self.tokens.session_ttl).expect("session TTL fits");
        create_session(
            conn,
            NewSession {
                session_id,
                auth_id: account.auth_id,
                device_id: origin.device_id,
                device_name: origin.device_name,
                user_agent: origin.user_agent,
                ip_address: origin.ip,
                auth_method: origin.method,
                expired_at: session_expires_at,
            },
        )
        .await?;
        if let Some(device_id) = origin.device_id
            && known_devices::remember(conn, account.auth_id, device_id).await?
        {
            let event = DeviceRegisteredV1 {
                user_id: account.auth_id,
                device_id: device_id.to_owned(),
                device_name: origin.device_name.unwrap_or(device_id).to_owned(),
                registered_at: now,
            };
            publish::device_registered(conn, &self.publisher(), &event).await?;
        }
        let (refresh_token, hash) = new_refresh_token();
        add_refresh_token(conn, session_id, &hash, None).await?;
        Ok(PendingTokens {
            user_id: account.auth_id,
            session_id,
            scopes: self.scopes_of(account),
            refresh_token,
            session_expires_at,
        })
    }

    /// Sign the access token on the blocking pool, after the session is committed.
    pub async fn finish(&self, pending: PendingTokens) -> Result<IssuedTokens, ServiceError> {
        let signer = self.signer.clone();
        let (user, session, scopes) = (pending.user_id, pending.session_id, pending.scopes);
        let access =
            tokio::task::spawn_blocking(move || signer.sign(user, session, &scopes, Utc::now()))
                .await
                .map_err(anyhow::Error::from)?;
        Ok(IssuedTokens {
            user_id: pending.user_id,
            session_id: pending.session_id,
            access_token: access.token,
            access_token_expires_at: access.expires_at,
            refresh_token: pending.refresh_token,
            session_expires_at: pending.session_expires_at,
        })
    }
}
