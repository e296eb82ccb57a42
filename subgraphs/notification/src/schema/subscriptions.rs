//! Live inbox over WebSocket: `notificationReceived`, fed by the process's
//! [`LiveHub`](crate::events::live::LiveHub). Owner only; a subscription ends with
//! `UNAUTHENTICATED` when its token expires or its session is revoked (`auth.session.revoked`).

use std::collections::VecDeque;

use async_graphql::{Context, Result, Subscription as SubscriptionDerive};
use chrono::Utc;
use futures::{Stream, StreamExt};
use tenor_platform::graphql::{CallerExt, coded_error, internal_error};
use uuid::Uuid;

use super::types::Notification;
use crate::events::live::LiveHub;
use crate::service::NotificationService;

pub struct Subscription;

#[SubscriptionDerive]
impl Subscription {
    /// The caller's new notifications as they arrive. Ends with an `UNAUTHENTICATED` error when
    /// the access token expires.
    // It ends the same way when the token's session is revoked (`auth.session.revoked`).
    #[graphql(directive = tenor_platform::federation::authenticated::apply())]
    async fn notification_received(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = Result<Notification>> + use<>> {
        let principal = ctx.principal()?.clone();
        let service = ctx.data::<NotificationService>()?.clone();
        let hub = ctx.data::<LiveHub>()?.clone();
        // Watch for the session's revocation from here on; one already seen refuses at once.
        let revoked = hub.revoked_session(principal.session_id);
        if principal
            .session_id
            .is_some_and(|session| hub.is_revoked(session))
        {
            return Err(session_revoked());
        }
        let owner = principal.user_id;
        // Subscribed now, before returning, so nothing published after this point is missed.
        let mut told = Told::default();
        let items = hub
            .items_for(owner)
            .map_err(too_many)?
            .filter(move |added| futures::future::ready(told.is_news(added.item_id)))
            .filter_map(move |added| {
                let service = service.clone();
                // Boxed: inline, the MongoDB read's future would be part of every waiting
                // subscription (the stream lives as long as the socket), not only of the ones
                // reading an item.
                Box::pin(async move {
                    match service.inbox_item(owner, added.item_id).await {
                        Ok(Some(item)) => Some(Ok(Notification::from(item))),
                        Ok(None) => None,
                        Err(error) => Some(Err(internal_error(error))),
                    }
                })
            });
        let expires_in = (principal.expires_at - Utc::now())
            .to_std()
            .unwrap_or_default();
        let (why_tx, why_rx) = tokio::sync::oneshot::channel();
        // Pushes stop when the token expires or its session is revoked; the last item then says
        // why.
        let stop = async move {
            let why = tokio::select! {
                () = tokio::time::sleep(expires_in) => coded_error(
                    "UNAUTHENTICATED",
                    "access token has expired; subscribe again with a fresh token",
                ),
                () = revoked => session_revoked(),
            };
            let _ = why_tx.send(why);
        };
        let why = futures::stream::once(why_rx)
            .filter_map(|why| futures::future::ready(why.ok().map(Err)));
        Ok(items.take_until(stop).chain(why))
    }
}

/// The items a subscription pushed most recently. The hub's consumer commits every second, so
/// after its group is re-assigned (a broker restart) up to a second of items arrives again; the
/// borrower sees each item once. Recent ones suffice: a redelivery goes back that second only.
#[derive(Default)]
struct Told(VecDeque<Uuid>);

impl Told {
    const REMEMBERED: usize = 64;

    fn is_news(&mut self, item: Uuid) -> bool {
        if self.0.contains(&item) {
            return false;
        }
        if self.0.len() == Self::REMEMBERED {
            self.0.pop_front();
        }
        self.0.push_back(item);
        true
    }
}

fn session_revoked() -> async_graphql::Error {
    coded_error(
        "UNAUTHENTICATED",
        "the session of this access token has been ended; sign in again",
    )
}

/// The account holds as many live subscriptions here as it may (`LIVE_SUBSCRIPTIONS_PER_USER`).
fn too_many(refusal: tenor_events::live::TooManySubscriptions) -> async_graphql::Error {
    coded_error("TOO_MANY_SUBSCRIPTIONS", refusal.to_string())
}
