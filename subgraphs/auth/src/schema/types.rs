//! The GraphQL types of the auth subgraph: payloads, inputs and the objects they carry, and how
//! service values become them.

use async_graphql::{ID, InputObject, SimpleObject};
use chrono::{DateTime, Utc};
use tenor_platform::graphql::UserError;
use uuid::Uuid;

use crate::service::IssuedTokens;
use crate::store::devices::Device;
use crate::store::sessions::Session;

#[derive(SimpleObject)]
pub struct AuthTokens {
    /// Short-lived ES256 JWT for `Authorization: Bearer`.
    access_token: String,
    access_token_expires_at: DateTime<Utc>,
    /// Opaque, single use: exchange it with `refreshToken` for a new pair.
    refresh_token: String,
    /// The session ends here regardless of activity.
    session_expires_at: DateTime<Utc>,
    token_type: String,
    user_id: ID,
    session_id: ID,
}

impl From<IssuedTokens> for AuthTokens {
    fn from(t: IssuedTokens) -> Self {
        Self {
            access_token: t.access_token,
            access_token_expires_at: t.access_token_expires_at,
            refresh_token: t.refresh_token,
            session_expires_at: t.session_expires_at,
            token_type: "Bearer".into(),
            user_id: ID(t.user_id.to_string()),
            session_id: ID(t.session_id.to_string()),
        }
    }
}

#[derive(SimpleObject, Default)]
pub struct AuthPayload {
    pub tokens: Option<AuthTokens>,
    pub user_errors: Vec<UserError>,
}

#[derive(SimpleObject, Default)]
pub struct RegisterPayload {
    /// The new account's id (the same id in every context).
    pub user_id: Option<ID>,
    pub user_errors: Vec<UserError>,
}

#[derive(SimpleObject, Default)]
pub struct SimplePayload {
    pub ok: bool,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct RegisterInput {
    pub fullname: String,
    pub email: String,
    /// Indonesian mobile number: 08…, 628… or +628….
    pub phone_number: String,
    pub password: String,
}

#[derive(InputObject)]
pub struct DeviceInput {
    /// A stable id of the app installation.
    pub id: String,
    /// Shown in the session list, e.g. "Pixel 7".
    pub name: Option<String>,
}

#[derive(InputObject)]
pub struct LoginInput {
    /// Email or phone number.
    pub identifier: String,
    pub password: String,
    pub device: Option<DeviceInput>,
}

#[derive(InputObject)]
pub struct ChangePasswordInput {
    pub current_password: String,
    pub new_password: String,
}

#[derive(InputObject)]
pub struct RegisterBiometricDeviceInput {
    pub device_id: String,
    /// P-256 public key, DER SubjectPublicKeyInfo, base64.
    pub public_key: String,
    pub name: String,
}

#[derive(InputObject)]
pub struct BiometricLoginInput {
    pub device_id: String,
    pub nonce: String,
    /// ECDSA P-256/SHA-256 signature (DER or raw r‖s, base64) over the UTF-8 bytes of
    /// `tenor-biometric-login:v1:<deviceId>:<nonce>`.
    pub signature: String,
}

#[derive(SimpleObject)]
pub struct SessionInfo {
    id: ID,
    device_id: Option<String>,
    device_name: Option<String>,
    user_agent: Option<String>,
    ip_address: Option<String>,
    /// PASSWORD or BIOMETRIC.
    auth_method: String,
    created_at: DateTime<Utc>,
    last_used_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    /// The session of the token making this request.
    current: bool,
}

impl SessionInfo {
    /// `current`: the session of the token making the request.
    pub fn from(session: Session, current: Option<Uuid>) -> Self {
        Self {
            id: ID(session.session_id.to_string()),
            current: current == Some(session.session_id),
            device_id: session.device_id,
            device_name: session.device_name,
            user_agent: session.user_agent,
            ip_address: session.ip_address,
            auth_method: session.auth_method.as_db().to_owned(),
            created_at: session.created_at,
            last_used_at: session.last_used_at,
            expires_at: session.expired_at,
        }
    }
}

#[derive(SimpleObject)]
pub struct BiometricDevice {
    device_id: String,
    name: String,
    registered_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
}

impl From<Device> for BiometricDevice {
    fn from(d: Device) -> Self {
        Self {
            device_id: d.device_id,
            name: d.name,
            registered_at: d.created_at,
            last_used_at: d.last_used_at,
        }
    }
}

#[derive(SimpleObject, Default)]
pub struct RegisterBiometricDevicePayload {
    pub device: Option<BiometricDevice>,
    pub user_errors: Vec<UserError>,
}

#[derive(SimpleObject, Default)]
pub struct BiometricChallengePayload {
    pub nonce: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub user_errors: Vec<UserError>,
}
