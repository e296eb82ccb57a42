//! Biometric devices: registration, challenges, signed login, revocation.

use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use tenor_platform::graphql::ClientInfo;
use tenor_platform::refusal::{ServiceError, refuse};
use tenor_platform::text::is_plain_token;
use uuid::Uuid;

use super::{AuthService, IssuedTokens, Outcome, PendingTokens, SessionOrigin};
use crate::domain::account::AccountStatus;
use crate::domain::biometric;
use crate::domain::device::{device_name, valid_device_id};
use crate::domain::refusal::AuthRefusal;
use crate::domain::session::{AuthMethod, RevokeReason};
use crate::events::publish;
use crate::store::accounts;
use crate::store::devices::{self, Device};
use crate::store::sessions::Revoke;

/// A single-use nonce for a biometric login.
pub struct Challenge {
    pub nonce: String,
    pub expires_at: DateTime<Utc>,
}

impl AuthService {
    /// Bind a device key to the signed-in user. A device re-registered by the same user gets
    /// its new key; a device registered to someone else is refused. Every key bound is
    /// announced (`auth.biometric.enrolled`) in the same transaction.
    #[tracing::instrument(skip_all, fields(%user_id, device_id))]
    pub async fn register_device(
        &self,
        user_id: Uuid,
        device_id: &str,
        public_key: &str,
        name: &str,
    ) -> Outcome<Device> {
        if !valid_device_id(device_id) {
            return refuse(AuthRefusal::DeviceIdInvalid);
        }
        tracing::Span::current().record("device_id", device_id);
        let name = match device_name(name) {
            Ok(name) => name,
            Err(refusal) => return refuse(refusal),
        };
        let Some(der) = biometric::parse_public_key(public_key) else {
            return refuse(AuthRefusal::BiometricKeyInvalid);
        };
        let mut conn = self.conn().await?;
        let publisher = self.publisher();
        conn.transaction::<Outcome<Device>, ServiceError, _>(async |conn| {
            if let Some(existing) = devices::active(conn, device_id).await? {
                if existing.auth_id != user_id {
                    return Ok(refuse(AuthRefusal::DeviceAlreadyRegistered));
                }
                devices::revoke(conn, existing.id).await?;
            }
            let device = devices::register(conn, user_id, device_id, &name, &der).await?;
            accounts::set_biometric_enabled(conn, user_id, true).await?;
            publish::biometric_enrolled(conn, &publisher, &device).await?;
            Ok(Ok(device))
        })
        .await?
    }

    /// A fresh challenge for a device with biometric login.
    #[tracing::instrument(skip_all, fields(device_id))]
    pub async fn challenge(&self, device_id: &str) -> Outcome<Challenge> {
        if !valid_device_id(device_id) {
            return refuse(AuthRefusal::DeviceIdInvalid);
        }
        tracing::Span::current().record("device_id", device_id);
        let mut conn = self.conn().await?;
        let Some(device) = devices::active(&mut conn, device_id).await? else {
            return refuse(AuthRefusal::BiometricNotSetUp);
        };
        let nonce = biometric::new_nonce();
        let ttl =
            chrono::Duration::from_std(self.tokens.biometric_challenge_ttl).expect("ttl fits");
        let expires_at = Utc::now() + ttl;
        devices::add_challenge(&mut conn, &nonce, device.id, expires_at).await?;
        Ok(Challenge { nonce, expires_at })
    }

    /// Log in with a signature over a fresh challenge. The challenge is consumed before the
    /// signature is checked, so each nonce allows exactly one try.
    #[tracing::instrument(skip_all, fields(device_id))]
    pub async fn biometric_login(
        &self,
        device_id: &str,
        nonce: &str,
        signature: &str,
        client: &ClientInfo,
    ) -> Outcome<IssuedTokens> {
        if !valid_device_id(device_id) {
            return refuse(AuthRefusal::DeviceIdInvalid);
        }
        tracing::Span::current().record("device_id", device_id);
        // Shapes first: a nonce or signature that cannot be one of ours is refused before the
        // database sees it (and before the challenge is consumed).
        if !is_plain_token(nonce, 128) {
            return refuse(AuthRefusal::ChallengeInvalid);
        }
        if !is_plain_token(signature, 4096) {
            return refuse(AuthRefusal::BiometricSignatureInvalid);
        }
        let mut conn = self.conn().await?;
        let Some(device) = devices::active(&mut conn, device_id).await? else {
            return refuse(AuthRefusal::DeviceNotRegistered);
        };
        if nonce.len() > 128 || !devices::consume_challenge(&mut conn, nonce, device.id).await? {
            return refuse(AuthRefusal::ChallengeInvalid);
        }
        let message = biometric::challenge_message(device_id, nonce);
        let (key, signature_owned) = (device.public_key.clone(), signature.to_owned());
        let valid = tokio::task::spawn_blocking(move || {
            biometric::verify(&key, &message, &signature_owned)
        })
        .await
        .map_err(anyhow::Error::from)?;
        let outcome = conn
            .transaction::<Outcome<PendingTokens>, ServiceError, _>(async |conn| {
                accounts::record_attempt(
                    conn,
                    Some(device.auth_id),
                    client.ip.as_deref(),
                    valid,
                    AuthMethod::Biometric,
                )
                .await?;
                if !valid {
                    return Ok(refuse(AuthRefusal::BiometricSignatureInvalid));
                }
                let Some(account) = accounts::find(conn, device.auth_id).await? else {
                    return Ok(refuse(AuthRefusal::DeviceNotRegistered));
                };
                if account.status != AccountStatus::Active {
                    return Ok(refuse(AuthRefusal::AccountBlocked));
                }
                devices::touch(conn, device.id).await?;
                let origin = SessionOrigin {
                    method: AuthMethod::Biometric,
                    device_id: Some(device_id),
                    device_name: Some(&device.name),
                    user_agent: client.user_agent.as_deref(),
                    ip: client.ip.as_deref(),
                };
                Ok(Ok(self.open_session(conn, &account, &origin).await?))
            })
            .await?;
        Ok(self.finish(outcome?).await?)
    }

    /// Remove a device's key and end every session opened on it.
    #[tracing::instrument(skip_all, fields(%user_id, device_id))]
    pub async fn revoke_device(&self, user_id: Uuid, device_id: &str) -> Outcome<()> {
        if !valid_device_id(device_id) {
            return refuse(AuthRefusal::DeviceIdInvalid);
        }
        tracing::Span::current().record("device_id", device_id);
        let mut conn = self.conn().await?;
        let mut ended = Vec::new();
        let ended_ref = &mut ended;
        let outcome = conn
            .transaction::<Outcome<()>, ServiceError, _>(async |conn| {
                let Some(device) = devices::active(conn, device_id)
                    .await?
                    .filter(|d| d.auth_id == user_id)
                else {
                    return Ok(refuse(AuthRefusal::DeviceNotFound));
                };
                devices::revoke(conn, device.id).await?;
                *ended_ref = self
                    .revoke_sessions(
                        conn,
                        Revoke::Device {
                            auth_id: user_id,
                            device_id,
                        },
                        RevokeReason::DeviceRevoked,
                    )
                    .await?;
                if devices::count_active(conn, user_id).await? == 0 {
                    accounts::set_biometric_enabled(conn, user_id, false).await?;
                }
                Ok(Ok(()))
            })
            .await?;
        self.revoked(&ended).await;
        outcome
    }

    /// The user's registered biometric devices, newest first.
    #[tracing::instrument(skip_all, fields(%user_id))]
    pub async fn devices(&self, user_id: Uuid) -> Outcome<Vec<Device>> {
        let mut conn = self.conn().await?;
        Ok(devices::list(&mut conn, user_id).await?)
    }
}
