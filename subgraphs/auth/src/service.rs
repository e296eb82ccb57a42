//! The auth service's state and the plumbing its use cases share: transactions, token issuing,
//! typed rejections.

use std::sync::Arc;

use chrono::Utc;
use diesel_async::AsyncPgConnection;
use tenor_contracts::sources;
use tenor_events::Publisher;
use tenor_platform::db::PgPool;
use tenor_platform::graphql::UserError;
use uuid::Uuid;

use crate::config::TokenPolicy;
use crate::domain::throttle::ThrottlePolicy;
use crate::domain::tokens::{AccessTokenSigner, new_refresh_token};
use crate::revocation::{self, RevocationCache};
use crate::store::accounts::Account;
use crate::store::sessions::{self, NewSession, Revoke, Revoked};

/// A use case's failure: a domain rejection for `userErrors`, or something unexpected.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("rejected: {0:?}")]
    Rejected(Vec<UserError>),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<diesel::result::Error> for Failure {
    fn from(error: diesel::result::Error) -> Self {
        Self::Internal(error.into())
    }
}

pub type Outcome<T> = Result<T, Failure>;

pub fn reject<T>(code: &str, field: Option<&str>, message: impl Into<String>) -> Outcome<T> {
    Err(Failure::Rejected(vec![UserError::new(
        code, field, message,
    )]))
}

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
    pub method: &'a str,
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
    pub async fn conn(&self) -> anyhow::Result<tenor_platform::db::PgConn> {
        self.pool
            .get()
            .await
            .map_err(|e| anyhow::anyhow!("database pool: {e}"))
    }

    /// Where auth's events go (`auth.events`), through the outbox.
    pub fn publisher(&self) -> Publisher {
        Publisher::new(sources::AUTH, self.auth_events_topic.clone())
    }

    /// Revoke sessions and announce each one (`auth.session.revoked`), inside the caller's
    /// transaction. Call [`AuthService::revoked`] with the result once it committed.
    pub async fn revoke_sessions(
        &self,
        conn: &mut AsyncPgConnection,
        which: Revoke<'_>,
        reason: &str,
    ) -> diesel::QueryResult<Vec<Revoked>> {
        revocation::revoke_sessions(conn, &self.publisher(), which, reason).await
    }

    /// After the revocation committed: put the sessions in the Redis revocation set now, so the
    /// router refuses their tokens from the next request on (best effort; the events make it
    /// certain).
    pub async fn revoked(&self, revoked: &[Revoked]) {
        if let Some(cache) = &self.revocations {
            let sessions: Vec<Uuid> = revoked.iter().map(|r| r.session_id).collect();
            cache.mark_best_effort(&sessions).await;
        }
    }

    /// Scopes an account's tokens carry.
    pub fn scopes_of(&self, account: &Account) -> Vec<String> {
        if account.kind == "STAFF" {
            account.scopes.clone()
        } else {
            self.tokens.customer_scopes.clone()
        }
    }

    /// Open a session with its first refresh token (inside the caller's transaction).
    pub async fn open_session(
        &self,
        conn: &mut AsyncPgConnection,
        account: &Account,
        origin: &SessionOrigin<'_>,
    ) -> diesel::QueryResult<PendingTokens> {
        let session_id = Uuid::now_v7();
        let session_expires_at = Utc::now()
            + chrono::Duration::from_std(self.tokens.session_ttl).expect("session TTL fits");
        sessions::create(
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
        let (refresh_token, hash) = new_refresh_token();
        sessions::add_refresh_token(conn, session_id, &hash, None).await?;
        Ok(PendingTokens {
            user_id: account.auth_id,
            session_id,
            scopes: self.scopes_of(account),
            refresh_token,
            session_expires_at,
        })
    }

    /// Sign the access token on the blocking pool, after the session is committed.
    pub async fn finish(&self, pending: PendingTokens) -> anyhow::Result<IssuedTokens> {
        let signer = self.signer.clone();
        let (user, session, scopes) = (pending.user_id, pending.session_id, pending.scopes);
        let access =
            tokio::task::spawn_blocking(move || signer.sign(user, session, &scopes, Utc::now()))
                .await?;
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
