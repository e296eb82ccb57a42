//! Auth's part of the owner's data export (docs/conventions.md § Data-subject requests):
//! `mySignInData` — login identifiers, sessions, devices and sign-in attempts, never a secret. One of the root fields the app's `MyDataExport` operation asks for in one
//! request, next to the user subgraph's `myDataExport`. The field takes no id: it reads the
//! caller's own, from the verified token, so nobody can ask for another person's data.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use tenor_platform::federation::authenticated;
use tenor_platform::graphql::{CallerExt, internal_error};

use super::service;
use crate::service::export::AuthExport;

#[derive(Default)]
pub struct ExportQuery;

#[Object]
impl ExportQuery {
    /// Sign-in data of the signed-in owner (data export): identifiers, sessions, devices, attempts.
    /// Null for a deleted account.
    #[graphql(directive = authenticated::apply())]
    async fn my_sign_in_data(&self, ctx: &Context<'_>) -> Result<Option<SignInExport>> {
        let user_id = ctx.principal()?.user_id;
        let export = service(ctx)
            .export_of(user_id)
            .await
            .map_err(internal_error)?;
        Ok(export.map(SignInExport::from))
    }
}

#[derive(SimpleObject)]
pub struct SignInExport {
    /// The login identifiers.
    email: Option<String>,
    phone_number: Option<String>,
    /// ACTIVE, INACTIVE or BLOCKED.
    status: String,
    biometric_login_enabled: bool,
    password_changed_at: Option<DateTime<Utc>>,
    locked_until: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    /// Every session, newest first, with the device and network it was opened from.
    sessions: Vec<ExportedSession>,
    /// Devices bound for biometric login (their public keys are not shown).
    biometric_devices: Vec<ExportedBiometricDevice>,
    /// Devices the account signed in from, with when each was first seen.
    known_devices: Vec<ExportedKnownDevice>,
    /// Sign-in attempts (the security events), newest first.
    sign_in_attempts: Vec<ExportedSignInAttempt>,
}

#[derive(SimpleObject)]
pub struct ExportedSession {
    id: ID,
    device_id: Option<String>,
    device_name: Option<String>,
    user_agent: Option<String>,
    ip_address: Option<String>,
    /// PASSWORD or BIOMETRIC.
    method: String,
    created_at: DateTime<Utc>,
    last_used_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
    revoke_reason: Option<String>,
}

#[derive(SimpleObject)]
pub struct ExportedBiometricDevice {
    device_id: String,
    name: String,
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

#[derive(SimpleObject)]
pub struct ExportedKnownDevice {
    device_id: String,
    first_seen_at: DateTime<Utc>,
}

#[derive(SimpleObject)]
pub struct ExportedSignInAttempt {
    succeeded: bool,
    method: String,
    ip_address: Option<String>,
    attempted_at: DateTime<Utc>,
}

impl From<AuthExport> for SignInExport {
    fn from(e: AuthExport) -> Self {
        let a = e.account;
        Self {
            email: a.email,
            phone_number: a.phone_number,
            status: a.status.as_db().to_owned(),
            biometric_login_enabled: a.is_biometric_enabled,
            password_changed_at: a.password_changed_at,
            locked_until: a.locked_until,
            created_at: a.created_at,
            sessions: e
                .sessions
                .into_iter()
                .map(|s| ExportedSession {
                    id: ID(s.session_id.to_string()),
                    device_id: s.device_id,
                    device_name: s.device_name,
                    user_agent: s.user_agent,
                    ip_address: s.ip_address,
                    method: s.auth_method.as_db().to_owned(),
                    created_at: s.created_at,
                    last_used_at: s.last_used_at,
                    expires_at: s.expired_at,
                    revoked_at: s.revoked_at,
                    revoke_reason: s.revoke_reason.map(|r| r.as_db().to_owned()),
                })
                .collect(),
            biometric_devices: e
                .biometric_devices
                .into_iter()
                .map(|d| ExportedBiometricDevice {
                    device_id: d.device_id,
                    name: d.name,
                    created_at: d.created_at,
                    last_used_at: d.last_used_at,
                    revoked_at: d.revoked_at,
                })
                .collect(),
            known_devices: e
                .known_devices
                .into_iter()
                .map(|d| ExportedKnownDevice {
                    device_id: d.device_id,
                    first_seen_at: d.first_seen_at,
                })
                .collect(),
            sign_in_attempts: e
                .sign_in_attempts
                .into_iter()
                .map(|a| ExportedSignInAttempt {
                    succeeded: a.succeeded,
                    method: a.method,
                    ip_address: a.ip_address,
                    attempted_at: a.attempted_at,
                })
                .collect(),
        }
    }
}
