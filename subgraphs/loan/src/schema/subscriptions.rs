//! Live status over WebSocket: `loanStatusChanged`, fed by the process's
//! [`LiveHub`](crate::events::live::LiveHub). A subscription ends with `UNAUTHENTICATED` when its
//! token expires or its session is revoked (`auth.session.revoked`).
//!
//! A subscription opens with the current status of the loans it watches (`snapshot: true`):
//! a phone that lost its connection while a decision was made subscribes again and learns the
//! outcome from the first message. The hub is subscribed to *before* the loans are read, so a
//! change made in between is never lost; it may then arrive after a snapshot that already shows
//! it. Each subscription remembers, per loan, the instant of the last status it told
//! ([`Told`]), and drops a change at or before it: the app sees each status once and in order,
//! whether the repeat comes from that race or from Kafka redelivering an event.

use std::collections::HashMap;

use async_graphql::{Context, ID, Result, Subscription as SubscriptionDerive};
use chrono::{DateTime, SubsecRound, Utc};
use futures::{Stream, StreamExt};
use tenor_platform::graphql::{CallerExt, coded_error, internal_error};
use uuid::Uuid;

use super::loaders::LoansById;
use super::types::LoanStatusChange;
use crate::events::live::{LiveHub, StatusChange};
use crate::service::Loans;

pub struct Subscription;

#[SubscriptionDerive]
impl Subscription {
    /// Status changes of one of the caller's loans, or of all of them when `loanId` is omitted.
    /// Starts with the current status of that loan (or of the caller's
    /// 20 most recent loans) marked `snapshot: true`, then each change as it
    /// happens. Owner only. Ends with an `UNAUTHENTICATED` error when the access token expires.
    // It ends the same way when the token's session is revoked (`auth.session.revoked`).
    #[graphql(directive = tenor_platform::federation::authenticated::apply())]
    async fn loan_status_changed(
        &self,
        ctx: &Context<'_>,
        loan_id: Option<ID>,
    ) -> Result<impl Stream<Item = Result<LoanStatusChange>> + use<>> {
        let principal = ctx.principal()?.clone();
        let loans = ctx.data::<Loans>()?;
        let hub = ctx.data::<LiveHub>()?.clone();
        let by_id = ctx.data::<LoansById>()?.clone();
        // Watch for the session's revocation from here on; one already seen refuses at once.
        let revoked = hub.revoked_session(principal.session_id);
        if principal
            .session_id
            .is_some_and(|session| hub.is_revoked(session))
        {
            return Err(session_revoked());
        }
        // Subscribe before reading the snapshot so nothing published after this point is missed.
        let owner = principal.user_id;
        let live = hub.items_for(owner).map_err(too_many)?;
        // Boxed: async-graphql keeps this resolver's future in the subscription's allocation for
        // as long as the subscription lives, sized for its largest state — the SQL read, about
        // 2 KiB per subscription, held by 15 000 sockets long after the read is done.
        let (only, current) = Box::pin(snapshot_of(loans, owner, loan_id)).await?;
        let mut told = Told::snapshot(&current);
        let snapshot = futures::stream::iter(
            current
                .into_iter()
                .map(|loan| Ok(LoanStatusChange::current(loan))),
        );
        // Every subscriber of a loan reads it when its change arrives: through the shared loader
        // those reads are one batch, one query (and the schedule for `outstanding` another).
        let changes = live
            .filter(move |event| {
                let watched = only.is_none_or(|id| id == event.loan_id) && told.is_news(event);
                futures::future::ready(watched)
            })
            .then(move |event| {
                let by_id = by_id.clone();
                // Boxed for the same reason: inline, the loader's future would be part of every
                // waiting subscription, not only of the ones reading a change.
                Box::pin(async move {
                    let loan = by_id
                        .load_one(event.loan_id)
                        .await
                        .map_err(internal_error)?
                        .ok_or_else(|| internal_error("loan of a status event is missing"))?;
                    Ok(LoanStatusChange::new(event, loan))
                })
            });
        let expires_in = (principal.expires_at - Utc::now())
            .to_std()
            .unwrap_or_default();
        // Pushes stop when the token expires or its session is revoked; the last item then
        // says why.
        let (why_tx, why_rx) = tokio::sync::oneshot::channel();
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
        Ok(snapshot.chain(changes).take_until(stop).chain(why))
    }
}

/// The loans a subscription opens with: `loan_id` alone if it is the owner's, or the owner's
/// most recent ones; `loan_id` also becomes the only loan watched.
async fn snapshot_of(
    loans: &Loans,
    owner: Uuid,
    loan_id: Option<ID>,
) -> Result<(Option<Uuid>, Vec<crate::domain::Loan>)> {
    match loan_id {
        None => {
            let mut mine = loans.loans_of(owner).await.map_err(internal_error)?;
            mine.truncate(SNAPSHOT_LOANS);
            Ok((None, mine))
        }
        Some(id) => {
            let forbidden = || coded_error("FORBIDDEN", "not your loan");
            let id: Uuid = id.parse().map_err(|_| forbidden())?;
            let loan = loans.find(id).await.map_err(internal_error)?;
            // Someone else's loan and a loan that does not exist look the same.
            match loan {
                Some(loan) if loan.user_id == owner => Ok((Some(id), vec![loan])),
                _ => Err(forbidden()),
            }
        }
    }
}

/// Per loan, when the status this subscription last told changed. A loan's `updated_at` moves
/// only with its status, in the same transaction that writes the change's event with the same
/// instant, so a snapshot and the change it shows carry one time.
struct Told(HashMap<Uuid, DateTime<Utc>>);

impl Told {
    fn snapshot(loans: &[crate::domain::Loan]) -> Self {
        Self(loans.iter().map(|l| (l.id, l.updated_at)).collect())
    }

    /// Whether `change` is later than what this subscriber already knows of its loan (and if
    /// so, remember it). PostgreSQL keeps microseconds, the event nanoseconds: compare at the
    /// coarser one.
    fn is_news(&mut self, change: &StatusChange) -> bool {
        let at = change.changed_at.trunc_subsecs(6);
        match self.0.get(&change.loan_id) {
            Some(known) if at <= *known => false,
            _ => {
                self.0.insert(change.loan_id, at);
                true
            }
        }
    }
}

/// How many of a borrower's loans (most recent first) the all-loans subscription opens with:
/// every loan that can still change is among a borrower's latest (one open loan at a time).
const SNAPSHOT_LOANS: usize = 20;

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
