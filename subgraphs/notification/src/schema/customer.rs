//! What the mobile app calls: the signed-in borrower's inbox. Owner only, by construction: every
//! query filters on the caller's id, so someone else's item looks like one that does not exist.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, InputObject, Object, Result};
use tenor_platform::cursor::{Cursor, PageRequest};
use tenor_platform::graphql::{CallerExt, internal_error};
use tenor_platform::refusal::{Failure, payload};
use uuid::Uuid;

use super::service;
use super::types::{MarkAllNotificationsReadPayload, MarkNotificationReadPayload, Notification};
use crate::service::inbox::not_found;

#[derive(Default)]
pub struct CustomerQuery;

#[Object]
impl CustomerQuery {
    /// The caller's notifications, newest first; only the unread ones with `unreadOnly`.
    /// `first` is 1–100 (default 20).
    #[graphql(directive = tenor_platform::federation::authenticated::apply())]
    async fn my_notifications(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        unread_only: Option<bool>,
    ) -> Result<Connection<Cursor, Notification>> {
        let user = ctx.principal()?.user_id;
        let page = PageRequest::parse(first, after.as_deref())?;
        let mut items = service(ctx)
            .inbox_page(user, unread_only.unwrap_or(false), page)
            .await
            .map_err(internal_error)?;
        let has_next = items.len() > page.first;
        items.truncate(page.first);
        let mut connection = Connection::new(page.after.is_some(), has_next);
        connection.edges.extend(items.into_iter().map(|item| {
            let cursor = Cursor {
                at: item.created_at,
                id: item.id,
            };
            Edge::new(cursor, Notification::from(item))
        }));
        Ok(connection)
    }

    /// How many of the caller's notifications are unread.
    #[graphql(directive = tenor_platform::federation::authenticated::apply())]
    async fn unread_notification_count(&self, ctx: &Context<'_>) -> Result<i32> {
        let user = ctx.principal()?.user_id;
        let count = service(ctx)
            .unread_count(user)
            .await
            .map_err(internal_error)?;
        Ok(i32::try_from(count).unwrap_or(i32::MAX))
    }
}

#[derive(InputObject)]
pub struct MarkNotificationReadInput {
    pub id: ID,
}

#[derive(Default)]
pub struct CustomerMutation;

#[Object]
impl CustomerMutation {
    /// Mark one of the caller's notifications read (`NOT_FOUND` for any other id).
    #[graphql(directive = tenor_platform::federation::authenticated::apply())]
    async fn mark_notification_read(
        &self,
        ctx: &Context<'_>,
        input: MarkNotificationReadInput,
    ) -> Result<MarkNotificationReadPayload> {
        let user = ctx.principal()?.user_id;
        let outcome = match input.id.parse::<Uuid>() {
            Ok(id) => service(ctx).mark_read(user, id).await,
            Err(_) => Err(Failure::refused(not_found())),
        };
        let (item, user_errors) = payload(outcome)?;
        Ok(MarkNotificationReadPayload {
            notification: item.map(Notification::from),
            user_errors,
        })
    }

    /// Mark every notification of the caller read.
    #[graphql(directive = tenor_platform::federation::authenticated::apply())]
    async fn mark_all_notifications_read(
        &self,
        ctx: &Context<'_>,
    ) -> Result<MarkAllNotificationsReadPayload> {
        let user = ctx.principal()?.user_id;
        let (count, user_errors) = payload(service(ctx).mark_all_read(user).await)?;
        Ok(MarkAllNotificationsReadPayload {
            marked_count: count.map(|c| i32::try_from(c).unwrap_or(i32::MAX)),
            user_errors,
        })
    }
}
