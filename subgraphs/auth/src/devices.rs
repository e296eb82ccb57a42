//! Biometric devices: registration, challenges, signed login, revocation.

use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use tenor_platform::graphql::ClientInfo;
use tenor_platform::text::{TextPolicy, is_plain_token};
use uuid::Uuid;

use crate::accounts::MAX_DEVICE_TEXT_CHARS;
use crate::domain::biometric;
use crate::service::{AuthService, IssuedTokens, Outcome, PendingTokens, SessionOrigin, reject};
use crate::store::accounts;
use crate::store::devices::{self, Device};
use crate::store::sessions::Revoke;

fn valid_device_id(device_id: &str) -> bool {
    !device_id.is_empty()
        && device_id.len() <= MAX_DEVICE_TEXT_CHARS
        && device_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

fn device_id_invalid<T>() -> Outcome<T> {
    reject(
        "DEVICE_ID_INVALID",
        Some("deviceId"),
        "ID perangkat tidak valid. / Invalid device id.",
    )
}

pub struct Challenge {
    pub nonce: String,
    pub expires_at: DateTime<Utc>,
}

impl AuthService {
    /// Bind a device key to the signed-in user. A device re-registered by the same user gets
    /// its new key; a device registered to someone else is refused.
    pub async fn register_device(
        &self,
        user_id: Uuid,
        device_id: &str,
        public_key: &str,
        name: &str,
    ) -> Outcome<Device> {
        if !valid_device_id(device_id) {
            return device_id_invalid();
        }
        // The platform text policy; every refusal keeps the code DEVICE_NAME_INVALID.
        let Ok(name) = TextPolicy::single_line(MAX_DEVICE_TEXT_CHARS).clean("name", name) else {
            return reject(
                "DEVICE_NAME_INVALID",
                Some("name"),
                "Nama perangkat tidak valid. / Invalid device name.",
            );
        };
        let name = name.as_str();
        let Some(der) = biometric::parse_public_key(public_key) else {
            return reject(
                "BIOMETRIC_KEY_INVALID",
                Some("publicKey"),
                "Kunci publik harus P-256 (SPKI, base64). / The public key must be a base64 P-256 SPKI.",
            );
        };
        let mut conn = self.conn().await?;
        conn.transaction::<Outcome<Device>, diesel::result::Error, _>(async |conn| {
                if let Some(existing) = devices::active(conn, device_id).await? {
                    if existing.auth_id != user_id {
                        return Ok(reject(
                            "DEVICE_ALREADY_REGISTERED",
                            Some("deviceId"),
                            "Perangkat ini terdaftar pada akun lain. / This device is registered to another account.",
                        ));
                    }
                    devices::revoke(conn, existing.id).await?;
                }
                let device = devices::register(conn, user_id, device_id, name, &der).await?;
                accounts::set_biometric_enabled(conn, user_id, true).await?;
                Ok(Ok(device))
            })
            .await?
    }

    pub async fn challenge(&self, device_id: &str) -> Outcome<Challenge> {
        if !valid_device_id(device_id) {
            return device_id_invalid();
        }
        let mut conn = self.conn().await?;
        let Some(device) = devices::active(&mut conn, device_id).await? else {
            return reject(
                "DEVICE_NOT_REGISTERED",
                Some("deviceId"),
                "Login biometrik belum diaktifkan di perangkat ini. / Biometric login is not set up on this device.",
            );
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
    pub async fn biometric_login(
        &self,
        device_id: &str,
        nonce: &str,
        signature: &str,
        client: &ClientInfo,
    ) -> Outcome<IssuedTokens> {
        if !valid_device_id(device_id) {
            return device_id_invalid();
        }
        // Shapes first: a nonce or signature that cannot be one of ours is refused before the
        // database sees it (and before the challenge is consumed).
        if !is_plain_token(nonce, 128) {
            return reject(
                "CHALLENGE_INVALID",
                Some("nonce"),
                "Tantangan tidak valid atau kedaluwarsa, minta yang baru. / Challenge invalid or expired, request a new one.",
            );
        }
        if !is_plain_token(signature, 4096) {
            return reject(
                "BIOMETRIC_SIGNATURE_INVALID",
                Some("signature"),
                "Verifikasi biometrik gagal. / Biometric verification failed.",
            );
        }
        let mut conn = self.conn().await?;
        let Some(device) = devices::active(&mut conn, device_id).await? else {
            return reject(
                "DEVICE_NOT_REGISTERED",
                Some("deviceId"),
                "Perangkat tidak terdaftar. / Device not registered.",
            );
        };
        if nonce.len() > 128 || !devices::consume_challenge(&mut conn, nonce, device.id).await? {
            return reject(
                "CHALLENGE_INVALID",
                Some("nonce"),
                "Tantangan tidak valid atau kedaluwarsa, minta yang baru. / Challenge invalid or expired, request a new one.",
            );
        }
        let message = biometric::challenge_message(device_id, nonce);
        let (key, signature_owned) = (device.public_key.clone(), signature.to_owned());
        let valid = tokio::task::spawn_blocking(move || {
            biometric::verify(&key, &message, &signature_owned)
        })
        .await
        .map_err(anyhow::Error::from)?;
        let outcome = conn
            .transaction::<Outcome<PendingTokens>, diesel::result::Error, _>(async |conn| {
                accounts::record_attempt(
                    conn,
                    Some(device.auth_id),
                    client.ip.as_deref(),
                    valid,
                    "BIOMETRIC",
                )
                .await?;
                if !valid {
                    return Ok(reject(
                        "BIOMETRIC_SIGNATURE_INVALID",
                        Some("signature"),
                        "Verifikasi biometrik gagal. / Biometric verification failed.",
                    ));
                }
                let Some(account) = accounts::find(conn, device.auth_id).await? else {
                    return Ok(reject(
                        "DEVICE_NOT_REGISTERED",
                        Some("deviceId"),
                        "Perangkat tidak terdaftar. / Device not registered.",
                    ));
                };
                if account.status != "ACTIVE" {
                    return Ok(reject(
                        "ACCOUNT_BLOCKED",
                        None,
                        "Akun ini diblokir. / This account is blocked.",
                    ));
                }
                devices::touch(conn, device.id).await?;
                let origin = SessionOrigin {
                    method: "BIOMETRIC",
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
    pub async fn revoke_device(&self, user_id: Uuid, device_id: &str) -> Outcome<()> {
        if !valid_device_id(device_id) {
            return device_id_invalid();
        }
        let mut conn = self.conn().await?;
        let mut ended = Vec::new();
        let ended_ref = &mut ended;
        let outcome = conn
            .transaction::<Outcome<()>, diesel::result::Error, _>(async |conn| {
                let Some(device) = devices::active(conn, device_id)
                    .await?
                    .filter(|d| d.auth_id == user_id)
                else {
                    return Ok(reject(
                        "DEVICE_NOT_REGISTERED",
                        Some("deviceId"),
                        "Perangkat tidak ditemukan. / Device not found.",
                    ));
                };
                devices::revoke(conn, device.id).await?;
                *ended_ref = self
                    .revoke_sessions(
                        conn,
                        Revoke::Device {
                            auth_id: user_id,
                            device_id,
                        },
                        "DEVICE_REVOKED",
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

    pub async fn devices(&self, user_id: Uuid) -> Outcome<Vec<Device>> {
        let mut conn = self.conn().await?;
        Ok(devices::list(&mut conn, user_id).await?)
    }
}
