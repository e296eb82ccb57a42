//! Refresh-token rotation with reuse detection, logout, and the session list. Every ended
//! session is announced in the same transaction (`auth.session.revoked`, see
//! [`super::revocation`]), so its access tokens stop working at once, not when they expire.
//!
//! Every refresh consumes the presented token and issues its successor. Presenting a consumed
//! token again means it was copied: the whole session (the token family) is revoked
//! (OWASP ASVS 5.0 §10.4.5, RFC 9700). One exception keeps flaky mobile networks usable: within
//! a short grace period the *immediately previous* token may be exchanged again, once, as long
//! as its successor was never used; the unused successor is then retired. Refreshes of one
//! session run one at a time (the session row is locked), so parallel copies of a token get
//! at most the two exchanges and then revoke the session.

use chrono::Utc;
use diesel_async::AsyncConnection;
use tenor_platform::cursor::Cursor;
use tenor_platform::refusal::{ServiceError, refuse};
use uuid::Uuid;

use super::{AuthService, IssuedTokens, Outcome, PendingTokens};
use crate::domain::account::AccountStatus;
use crate::domain::refusal::AuthRefusal;
use crate::domain::session::RevokeReason;
use crate::domain::tokens::{hash_refresh_token, new_refresh_token};
use crate::events::publish;
use crate::store::accounts;
use crate::store::sessions::{self, Revoke, Revoked, Session};

impl AuthService {
    /// Exchange a refresh token for a new pair.
    #[tracing::instrument(skip_all)]
    pub async fn refresh(&self, refresh_token: &str) -> Outcome<IssuedTokens> {
        if refresh_token.len() > 256 {
            return refuse(AuthRefusal::InvalidRefreshToken);
        }
        let hash = hash_refresh_token(refresh_token);
        let grace =
            chrono::Duration::from_std(self.tokens.refresh_reuse_grace).expect("grace fits");
        let mut conn = self.conn().await?;
        let mut ended: Vec<Revoked> = Vec::new();
        let ended_ref = &mut ended;
        let outcome = conn
            .transaction::<Outcome<PendingTokens>, ServiceError, _>(async |conn| {
                let now = Utc::now();
                let Some((token, session)) = sessions::find_refresh_token(conn, &hash).await?
                else {
                    return Ok(refuse(AuthRefusal::InvalidRefreshToken));
                };
                if session.revoked_at.is_some() {
                    return Ok(refuse(AuthRefusal::SessionRevoked));
                }
                if session.expired_at <= now {
                    return Ok(refuse(AuthRefusal::SessionExpired));
                }
                let Some(account) = accounts::find(conn, session.auth_id).await? else {
                    return Ok(refuse(AuthRefusal::SessionEnded));
                };
                if account.status != AccountStatus::Active {
                    *ended_ref = self
                        .revoke_sessions(
                            conn,
                            Revoke::AllOf {
                                auth_id: account.auth_id,
                                except: None,
                            },
                            RevokeReason::AccountBlocked,
                        )
                        .await?;
                    return Ok(refuse(AuthRefusal::AccountBlocked));
                }
                if let Some(used_at) = token.used_at {
                    // Once: a token already exchanged twice (its first successor retired by
                    // the retry) is being replayed, however quickly.
                    let successors = sessions::children_of(conn, token.id).await?;
                    let [successor] = successors.as_slice() else {
                        return self.reused(conn, &session, ended_ref).await;
                    };
                    if successor.used_at.is_some() || now - used_at > grace {
                        return self.reused(conn, &session, ended_ref).await;
                    }
                    // The client lost the previous response: retire the successor it never saw.
                    sessions::mark_used(conn, successor.id, now).await?;
                } else {
                    sessions::mark_used(conn, token.id, now).await?;
                }
                let (refresh_token, new_hash) = new_refresh_token();
                sessions::add_refresh_token(conn, session.session_id, &new_hash, Some(token.id))
                    .await?;
                sessions::touch(conn, session.session_id, now).await?;
                Ok(Ok(PendingTokens {
                    user_id: account.auth_id,
                    session_id: session.session_id,
                    scopes: self.scopes_of(&account),
                    refresh_token,
                    session_expires_at: session.expired_at,
                }))
            })
            .await?;
        // Committed, even when the outcome is a refusal (reuse detected, account blocked).
        self.revoked(&ended).await;
        Ok(self.finish(outcome?).await?)
    }

    /// A consumed refresh token presented again: the token family is compromised, so the
    /// session ends (its access tokens with it).
    async fn reused(
        &self,
        conn: &mut diesel_async::AsyncPgConnection,
        session: &Session,
        ended: &mut Vec<Revoked>,
    ) -> Result<Outcome<PendingTokens>, ServiceError> {
        *ended = self
            .revoke_sessions(
                conn,
                Revoke::Session(session.session_id),
                RevokeReason::RefreshTokenReuse,
            )
            .await?;
        tracing::warn!(session_id = %session.session_id, user_id = %session.auth_id, "refresh token reuse: session revoked");
        Ok(refuse(AuthRefusal::RefreshTokenReused))
    }

    /// End one of the user's sessions; `true` when it was still live.
    #[tracing::instrument(skip_all, fields(%user_id, %session_id))]
    pub async fn logout(&self, user_id: Uuid, session_id: Uuid) -> Outcome<bool> {
        let mut conn = self.conn().await?;
        // Someone else's session and one that does not exist answer the same (issue 10).
        let session = sessions::find(&mut conn, session_id).await?;
        if session.is_none_or(|session| session.auth_id != user_id) {
            return refuse(AuthRefusal::SessionNotFound);
        }
        let ended = self
            .revoke_committed(&mut conn, Revoke::Session(session_id), RevokeReason::Logout)
            .await?;
        Ok(ended == 1)
    }

    /// End every session of the user; how many ended. Besides one `auth.session.revoked` per
    /// session, the action is announced once (`auth.sessions.ended`, with the count) so the
    /// borrower can be told.
    #[tracing::instrument(skip_all, fields(%user_id))]
    pub async fn logout_all(&self, user_id: Uuid) -> Outcome<usize> {
        let mut conn = self.conn().await?;
        let publisher = self.publisher();
        let reason = RevokeReason::LogoutAll;
        let ended = conn
            .transaction::<_, ServiceError, _>(async |conn| {
                let which = Revoke::AllOf {
                    auth_id: user_id,
                    except: None,
                };
                let ended = self.revoke_sessions(conn, which, reason).await?;
                publish::all_sessions_ended(conn, &publisher, user_id, &ended, reason).await?;
                Ok(ended)
            })
            .await?;
        self.revoked(&ended).await;
        Ok(ended.len())
    }

    /// The user's live sessions, newest first, after `after`.
    #[tracing::instrument(skip_all, fields(%user_id))]
    pub async fn active_sessions(
        &self,
        user_id: Uuid,
        after: Option<Cursor>,
        limit: i64,
    ) -> Outcome<Vec<Session>> {
        let mut conn = self.conn().await?;
        Ok(sessions::list_active(&mut conn, user_id, after, limit).await?)
    }
}
