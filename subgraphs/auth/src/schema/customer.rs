//! What the app calls: registration, login (password and biometric), token refresh, the
//! caller's sessions and biometric devices.

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{Context, ID, Object};
use tenor_platform::cursor::{Cursor, PageRequest};
use tenor_platform::federation::authenticated;
use tenor_platform::graphql::{CallerExt, internal_error};
use tenor_platform::refusal::{payload, user_errors};
use uuid::Uuid;

use super::service;
use super::types::*;
use crate::service::{AuthRefusal, IssuedTokens, Outcome, Registration};

fn auth_payload(outcome: Outcome<IssuedTokens>) -> async_graphql::Result<AuthPayload> {
    let (tokens, user_errors) = payload(outcome)?;
    Ok(AuthPayload {
        tokens: tokens.map(Into::into),
        user_errors,
    })
}

fn simple_payload(outcome: Outcome<bool>) -> async_graphql::Result<SimplePayload> {
    let (ok, user_errors) = payload(outcome)?;
    Ok(SimplePayload {
        ok: ok.unwrap_or(false),
        user_errors,
    })
}

/// A query's value; its use cases never refuse, so anything else is the request's `INTERNAL`.
fn queried<T>(outcome: Outcome<T>) -> async_graphql::Result<T> {
    match payload(outcome)? {
        (Some(value), _) => Ok(value),
        (None, refused) => Err(internal_error(format!(
            "a query was refused: {:?}",
            refused.iter().map(|e| &e.code).collect::<Vec<_>>()
        ))),
    }
}

#[derive(Default)]
pub struct Query;

// Merged into the root `Query` with the data export's entity (`super::export`).
#[Object(name = "CustomerQuery")]
impl Query {
    /// The caller's live sessions, newest first.
    #[graphql(directive = authenticated::apply())]
    async fn my_sessions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<Cursor, SessionInfo, EmptyFields, EmptyFields>> {
        let principal = ctx.principal()?;
        let page = PageRequest::parse(first, after.as_deref())?;
        let mut rows = queried(
            service(ctx)
                .active_sessions(principal.user_id, page.after, page.fetch_limit())
                .await,
        )?;
        let has_next = rows.len() > page.first;
        rows.truncate(page.first);
        let mut connection = Connection::new(page.after.is_some(), has_next);
        connection.edges.extend(rows.into_iter().map(|session| {
            let cursor = Cursor {
                at: session.created_at,
                id: session.session_id,
            };
            Edge::new(cursor, SessionInfo::from(session, principal.session_id))
        }));
        Ok(connection)
    }

    #[graphql(directive = authenticated::apply())]
    async fn my_biometric_devices(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<BiometricDevice>> {
        let principal = ctx.principal()?;
        let devices = queried(service(ctx).devices(principal.user_id).await)?;
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
        let registration = Registration {
            fullname: input.fullname,
            email: input.email,
            phone_number: input.phone_number,
            password: input.password,
        };
        let (user_id, user_errors) = payload(service(ctx).register(registration).await)?;
        Ok(RegisterPayload {
            user_id: user_id.map(|id| ID(id.to_string())),
            user_errors,
        })
    }

    async fn login(
        &self,
        ctx: &Context<'_>,
        input: LoginInput,
    ) -> async_graphql::Result<AuthPayload> {
        let client = ctx.client_info();
        let (device_id, device_name) = match &input.device {
            Some(d) => (Some(d.id.as_str()), d.name.as_deref()),
            None => (None, None),
        };
        auth_payload(
            service(ctx)
                .login(
                    &input.identifier,
                    input.password,
                    device_id,
                    device_name,
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
            return Ok(SimplePayload::default());
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
        // An id that is not one of ours answers like one nobody has.
        let Ok(session) = id.parse::<Uuid>() else {
            return Ok(SimplePayload {
                ok: false,
                user_errors: user_errors(&[AuthRefusal::SessionNotFound]),
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
        let outcome = service(ctx)
            .register_device(
                principal.user_id,
                &input.device_id,
                &input.public_key,
                &input.name,
            )
            .await;
        let (device, user_errors) = payload(outcome)?;
        Ok(RegisterBiometricDevicePayload {
            device: device.map(Into::into),
            user_errors,
        })
    }

    /// A single-use nonce for `biometricLogin`, valid for a short time.
    async fn biometric_challenge(
        &self,
        ctx: &Context<'_>,
        device_id: String,
    ) -> async_graphql::Result<BiometricChallengePayload> {
        let (challenge, user_errors) = payload(service(ctx).challenge(&device_id).await)?;
        Ok(BiometricChallengePayload {
            nonce: challenge.as_ref().map(|c| c.nonce.clone()),
            expires_at: challenge.map(|c| c.expires_at),
            user_errors,
        })
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
