//! The auth subgraph's GraphQL surface. Thin: it validates shapes, calls the use cases and maps
//! their outcomes to payloads (domain rejections → `userErrors`) or errors (auth/system).

use std::sync::Arc;
use tenor_platform::federation::authenticated;

use async_graphql::connection::{Connection, Edge, EmptyFields, query};
use async_graphql::{Context, EmptySubscription, ID, InputObject, Object, Schema, SimpleObject};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use tenor_platform::graphql::{CallerExt, UserError, internal_error};
use tenor_platform::text::{TextPolicy, TextProblem, is_plain_token};
use uuid::Uuid;

use crate::accounts::{MAX_DEVICE_TEXT_CHARS, Registration};
use crate::service::{AuthService, Failure, IssuedTokens};
use crate::store::devices::Device;
use crate::store::sessions::Session;

pub type AuthSchema = Schema<Query, Mutation, EmptySubscription>;

pub fn build(service: Arc<AuthService>) -> AuthSchema {
    Schema::build(Query, Mutation, EmptySubscription)
        .data(service)
        .enable_federation()
        .limit_depth(12)
        .finish()
}

fn service<'a>(ctx: &'a Context<'_>) -> &'a AuthService {
    ctx.data_unchecked::<Arc<AuthService>>()
}

/// Rejections become `userErrors`; anything else is an internal error.
fn user_errors(failure: Failure) -> async_graphql::Result<Vec<UserError>> {
    match failure {
        Failure::Rejected(errors) => Ok(errors),
        Failure::Internal(error) => Err(internal_error(format!("{error:#}"))),
    }
}

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
    tokens: Option<AuthTokens>,
    user_errors: Vec<UserError>,
}

fn auth_payload(outcome: Result<IssuedTokens, Failure>) -> async_graphql::Result<AuthPayload> {
    match outcome {
        Ok(tokens) => Ok(AuthPayload {
            tokens: Some(tokens.into()),
            user_errors: vec![],
        }),
        Err(failure) => Ok(AuthPayload {
            tokens: None,
            user_errors: user_errors(failure)?,
        }),
    }
}

#[derive(SimpleObject, Default)]
pub struct RegisterPayload {
    /// The new account's id (the same id in every context).
    user_id: Option<ID>,
    user_errors: Vec<UserError>,
}

#[derive(SimpleObject, Default)]
pub struct SimplePayload {
    ok: bool,
    user_errors: Vec<UserError>,
}

fn simple_payload(outcome: Result<bool, Failure>) -> async_graphql::Result<SimplePayload> {
    match outcome {
        Ok(ok) => Ok(SimplePayload {
            ok,
            user_errors: vec![],
        }),
        Err(failure) => Ok(SimplePayload {
            ok: false,
            user_errors: user_errors(failure)?,
        }),
    }
}

#[derive(InputObject)]
pub struct RegisterInput {
    fullname: String,
    email: String,
    /// Indonesian mobile number: 08…, 628… or +628….
    phone_number: String,
    password: String,
}

#[derive(InputObject)]
pub struct DeviceInput {
    /// A stable id of the app installation.
    id: String,
    /// Shown in the session list, e.g. "Pixel 7".
    name: Option<String>,
}

#[derive(InputObject)]
pub struct LoginInput {
    /// Email or phone number.
    identifier: String,
    password: String,
    device: Option<DeviceInput>,
}

#[derive(InputObject)]
pub struct ChangePasswordInput {
    current_password: String,
    new_password: String,
}

#[derive(InputObject)]
pub struct RegisterBiometricDeviceInput {
    device_id: String,
    /// P-256 public key, DER SubjectPublicKeyInfo, base64.
    public_key: String,
    name: String,
}

#[derive(InputObject)]
pub struct BiometricLoginInput {
    device_id: String,
    nonce: String,
    /// ECDSA P-256/SHA-256 signature (DER or raw r‖s, base64) over the UTF-8 bytes of
    /// `tenor-biometric-login:v1:<deviceId>:<nonce>`.
    signature: String,
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
    fn from(session: Session, current: Option<Uuid>) -> Self {
        Self {
            id: ID(session.session_id.to_string()),
            current: current == Some(session.session_id),
            device_id: session.device_id,
            device_name: session.device_name,
            user_agent: session.user_agent,
            ip_address: session.ip_address,
            auth_method: session.auth_method,
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
    device: Option<BiometricDevice>,
    user_errors: Vec<UserError>,
}

#[derive(SimpleObject, Default)]
pub struct BiometricChallengePayload {
    nonce: Option<String>,
    expires_at: Option<DateTime<Utc>>,
    user_errors: Vec<UserError>,
}

fn encode_cursor(session: &Session) -> String {
    URL_SAFE_NO_PAD.encode(format!(
        "{}|{}",
        session.created_at.timestamp_micros(),
        session.session_id
    ))
}

fn decode_cursor(cursor: &str) -> Option<(DateTime<Utc>, Uuid)> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
    let (micros, id) = raw.split_once('|')?;
    Some((
        DateTime::from_timestamp_micros(micros.parse().ok()?)?,
        id.parse().ok()?,
    ))
}

pub struct Query;

#[Object]
impl Query {
    /// The caller's live sessions, newest first.
    #[graphql(directive = authenticated::apply())]
    async fn my_sessions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, SessionInfo, EmptyFields, EmptyFields>> {
        let principal = ctx.principal()?.clone();
        let service = service(ctx);
        query(
            after,
            None,
            first,
            None,
            |after: Option<String>, _, first, _| async move {
                let limit = first.unwrap_or(20).clamp(1, 100) as i64;
                let cursor = match after {
                    Some(c) => Some(
                        decode_cursor(&c)
                            .ok_or_else(|| async_graphql::Error::new("invalid cursor"))?,
                    ),
                    None => None,
                };
                let mut rows = service
                    .active_sessions(principal.user_id, cursor, limit + 1)
                    .await
                    .map_err(|f| internal_error(f.to_string()))?;
                let has_next = rows.len() as i64 > limit;
                rows.truncate(limit as usize);
                let mut connection = Connection::new(cursor.is_some(), has_next);
                connection.edges.extend(rows.into_iter().map(|s| {
                    Edge::new(
                        encode_cursor(&s),
                        SessionInfo::from(s, principal.session_id),
                    )
                }));
                Ok::<_, async_graphql::Error>(connection)
            },
        )
        .await
    }

    #[graphql(directive = authenticated::apply())]
    async fn my_biometric_devices(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<BiometricDevice>> {
        let principal = ctx.principal()?;
        let devices = service(ctx)
            .devices(principal.user_id)
            .await
            .map_err(|f| internal_error(f.to_string()))?;
        Ok(devices.into_iter().map(Into::into).collect())
    }
}

pub struct Mutation;

#[Object]
impl Mutation {
    /// Create a customer account. Staff accounts are created by an operator, never here.
    async fn register(
        &self,
        ctx: &Context<'_>,
        input: RegisterInput,
    ) -> async_graphql::Result<RegisterPayload> {
        let outcome = service(ctx)
            .register(Registration {
                fullname: input.fullname,
                email: input.email,
                phone_number: input.phone_number,
                password: input.password,
            })
            .await;
        match outcome {
            Ok(id) => Ok(RegisterPayload {
                user_id: Some(ID(id.to_string())),
                user_errors: vec![],
            }),
            Err(failure) => Ok(RegisterPayload {
                user_id: None,
                user_errors: user_errors(failure)?,
            }),
        }
    }

    async fn login(
        &self,
        ctx: &Context<'_>,
        input: LoginInput,
    ) -> async_graphql::Result<AuthPayload> {
        let client = ctx.client_info();
        let refused = |code| {
            Ok(AuthPayload {
                tokens: None,
                user_errors: vec![UserError::new(
                    code,
                    Some("device"),
                    "Perangkat tidak valid. / Invalid device.",
                )],
            })
        };
        let (device_id, device_name) = match &input.device {
            Some(d) => (Some(d.id.as_str()), d.name.as_deref()),
            None => (None, None),
        };
        // The device id is an opaque token; the name is free text under the platform policy.
        if device_id.is_some_and(|d| !is_plain_token(d, MAX_DEVICE_TEXT_CHARS)) {
            return refused("DEVICE_ID_INVALID");
        }
        let device_name = match device_name {
            None => None,
            Some(name) => {
                match TextPolicy::single_line(MAX_DEVICE_TEXT_CHARS).clean("name", name) {
                    Ok(name) => Some(name),
                    Err(refusal) if refusal.is_invalid_characters() => {
                        return refused("DEVICE_NAME_INVALID");
                    }
                    Err(refusal) => match refusal.problem {
                        TextProblem::Required => None,
                        _ => return refused("DEVICE_ID_INVALID"),
                    },
                }
            }
        };
        auth_payload(
            service(ctx)
                .login(
                    &input.identifier,
                    input.password,
                    device_id,
                    device_name.as_deref(),
                    &client,
                )
                .await,
        )
    }

    /// Exchange a refresh token for a new pair; the presented token stops working.
    async fn refresh_token(
        &self,
        ctx: &Context<'_>,
        refresh_token: String,
    ) -> async_graphql::Result<AuthPayload> {
        auth_payload(service(ctx).refresh(&refresh_token).await)
    }

    /// End the caller's current session.
    #[graphql(directive = authenticated::apply())]
    async fn logout(&self, ctx: &Context<'_>) -> async_graphql::Result<SimplePayload> {
        let principal = ctx.principal()?;
        let Some(session) = principal.session_id else {
            return Ok(SimplePayload {
                ok: false,
                user_errors: vec![],
            });
        };
        simple_payload(service(ctx).logout(principal.user_id, session).await)
    }

    /// End every session of the caller, on every device.
    #[graphql(directive = authenticated::apply())]
    async fn logout_all_sessions(&self, ctx: &Context<'_>) -> async_graphql::Result<SimplePayload> {
        let principal = ctx.principal()?;
        simple_payload(
            service(ctx)
                .logout_all(principal.user_id)
                .await
                .map(|_| true),
        )
    }

    /// End one of the caller's sessions (e.g. a lost phone).
    #[graphql(directive = authenticated::apply())]
    async fn revoke_session(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<SimplePayload> {
        let principal = ctx.principal()?;
        let Ok(session) = id.parse::<Uuid>() else {
            return Ok(SimplePayload {
                ok: false,
                user_errors: vec![UserError::new(
                    "SESSION_NOT_FOUND",
                    Some("id"),
                    "Sesi tidak ditemukan. / Session not found.",
                )],
            });
        };
        simple_payload(service(ctx).logout(principal.user_id, session).await)
    }

    /// Change the password; every other session is ended.
    #[graphql(directive = authenticated::apply())]
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        input: ChangePasswordInput,
    ) -> async_graphql::Result<SimplePayload> {
        let principal = ctx.principal()?;
        simple_payload(
            service(ctx)
                .change_password(
                    principal.user_id,
                    principal.session_id,
                    input.current_password,
                    input.new_password,
                )
                .await
                .map(|()| true),
        )
    }

    /// Enable biometric login on this device (the caller is signed in on it).
    #[graphql(directive = authenticated::apply())]
    async fn register_biometric_device(
        &self,
        ctx: &Context<'_>,
        input: RegisterBiometricDeviceInput,
    ) -> async_graphql::Result<RegisterBiometricDevicePayload> {
        let principal = ctx.principal()?;
        match service(ctx)
            .register_device(
                principal.user_id,
                &input.device_id,
                &input.public_key,
                &input.name,
            )
            .await
        {
            Ok(device) => Ok(RegisterBiometricDevicePayload {
                device: Some(device.into()),
                user_errors: vec![],
            }),
            Err(failure) => Ok(RegisterBiometricDevicePayload {
                device: None,
                user_errors: user_errors(failure)?,
            }),
        }
    }

    /// A single-use nonce for `biometricLogin`, valid for a short time.
    async fn biometric_challenge(
        &self,
        ctx: &Context<'_>,
        device_id: String,
    ) -> async_graphql::Result<BiometricChallengePayload> {
        match service(ctx).challenge(&device_id).await {
            Ok(c) => Ok(BiometricChallengePayload {
                nonce: Some(c.nonce),
                expires_at: Some(c.expires_at),
                user_errors: vec![],
            }),
            Err(failure) => Ok(BiometricChallengePayload {
                user_errors: user_errors(failure)?,
                ..Default::default()
            }),
        }
    }

    async fn biometric_login(
        &self,
        ctx: &Context<'_>,
        input: BiometricLoginInput,
    ) -> async_graphql::Result<AuthPayload> {
        let client = ctx.client_info();
        auth_payload(
            service(ctx)
                .biometric_login(&input.device_id, &input.nonce, &input.signature, &client)
                .await,
        )
    }

    /// Disable biometric login on a device and end its sessions.
    #[graphql(directive = authenticated::apply())]
    async fn revoke_biometric_device(
        &self,
        ctx: &Context<'_>,
        device_id: String,
    ) -> async_graphql::Result<SimplePayload> {
        let principal = ctx.principal()?;
        simple_payload(
            service(ctx)
                .revoke_device(principal.user_id, &device_id)
                .await
                .map(|()| true),
        )
    }
}

/// The federation SDL of this subgraph.
pub fn build_sdl() -> String {
    let sdl = Schema::build(Query, Mutation, EmptySubscription)
        .enable_federation()
        .finish()
        .sdl_with_options(
            async_graphql::SDLExportOptions::new()
                .federation()
                .compose_directive(),
        );
    tenor_platform::federation::federation_sdl(sdl)
}
