//! The owner's copy of what auth holds about them (right of access, UU PDP Pasal 32;
//! docs/conventions.md § Data-subject requests): the login identifiers, every session with the
//! device and network it came from, biometric devices, devices seen, and sign-in attempts (the
//! security events). No secret leaves: password hashes, refresh-token hashes, biometric public
//! keys and nonces are not read.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use tenor_platform::refusal::ServiceError;
use uuid::Uuid;

use super::AuthService;
use crate::domain::account::{AccountKind, AccountStatus};
use crate::store::schema::{biometric_devices, known_devices, login_attempts, users_auth};
use crate::store::sessions::{self, Session};

/// At most this many sign-in attempts in one export, newest first.
pub const EXPORT_ATTEMPT_LIMIT: i64 = 1000;

#[derive(Debug, Queryable)]
pub struct ExportedAccount {
    pub email: Option<String>,
    pub phone_number: Option<String>,
    pub kind: AccountKind,
    pub status: AccountStatus,
    pub is_biometric_enabled: bool,
    pub locked_until: Option<DateTime<Utc>>,
    pub password_changed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Queryable)]
pub struct ExportedBiometricDevice {
    pub device_id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Queryable)]
pub struct ExportedKnownDevice {
    pub device_id: String,
    pub first_seen_at: DateTime<Utc>,
}

#[derive(Debug, Queryable)]
pub struct ExportedAttempt {
    pub succeeded: bool,
    pub method: String,
    pub ip_address: Option<String>,
    pub attempted_at: DateTime<Utc>,
}

/// What auth holds about one account; `None` when there is no such account or it was deleted
/// (its identifiers and credentials are gone; the rest no longer belongs to a person the API
/// knows).
#[derive(Debug)]
pub struct AuthExport {
    pub account: ExportedAccount,
    pub sessions: Vec<Session>,
    pub biometric_devices: Vec<ExportedBiometricDevice>,
    pub known_devices: Vec<ExportedKnownDevice>,
    pub sign_in_attempts: Vec<ExportedAttempt>,
}

impl AuthService {
    #[tracing::instrument(skip(self))]
    pub async fn export_of(&self, user: Uuid) -> Result<Option<AuthExport>, ServiceError> {
        let mut conn = self.conn().await?;
        let account: Option<ExportedAccount> = users_auth::table
            .find(user)
            .select((
                users_auth::email,
                users_auth::phone_number,
                users_auth::kind,
                users_auth::status,
                users_auth::is_biometric_enabled,
                users_auth::locked_until,
                users_auth::password_changed_at,
                users_auth::created_at,
            ))
            .first(&mut conn)
            .await
            .optional()?;
        let Some(account) = account.filter(|a| a.status != AccountStatus::Deleted) else {
            return Ok(None);
        };
        let sessions = sessions::all_of(&mut conn, user).await?;
        let biometric_devices = biometric_devices::table
            .filter(biometric_devices::auth_id.eq(user))
            .order(biometric_devices::created_at.desc())
            .select((
                biometric_devices::device_id,
                biometric_devices::name,
                biometric_devices::created_at,
                biometric_devices::last_used_at,
                biometric_devices::revoked_at,
            ))
            .load(&mut conn)
            .await?;
        let known_devices = known_devices::table
            .filter(known_devices::auth_id.eq(user))
            .order(known_devices::first_seen_at.desc())
            .select((known_devices::device_id, known_devices::first_seen_at))
            .load(&mut conn)
            .await?;
        let sign_in_attempts = login_attempts::table
            .filter(login_attempts::auth_id.eq(user))
            .order((
                login_attempts::attempted_at.desc(),
                login_attempts::id.desc(),
            ))
            .limit(EXPORT_ATTEMPT_LIMIT)
            .select((
                login_attempts::succeeded,
                login_attempts::method,
                login_attempts::ip_address,
                login_attempts::attempted_at,
            ))
            .load(&mut conn)
            .await?;
        Ok(Some(AuthExport {
            account,
            sessions,
            biometric_devices,
            known_devices,
            sign_in_attempts,
        }))
    }
}
