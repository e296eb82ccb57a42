//! `live_caps`: how many GraphQL WebSockets one router replica holds open, in all and per user.
//!
//! The engine's own `traffic_shaping.router.max_long_lived_clients` does not bound WebSockets
//! (its slot is tied to the body of the 101 response, which is dropped as soon as the response
//! is sent; see docs/live-subscriptions.md), so without these caps one client could open sockets
//! until the router runs out of file descriptors.
//!
//! - Per router: a WebSocket upgrade takes a slot before the 101; over the cap it is refused with
//!   HTTP 503, `Retry-After` and `extensions.code = TOO_MANY_SUBSCRIPTIONS`. The slot is kept in
//!   the upgrade request's plugin context, which the engine keeps for exactly as long as the
//!   socket is open (every operation on the socket shares it), so closing the socket frees it.
//! - Per user: the first subscription a signed-in user starts on a socket takes one of that
//!   user's slots, held by the socket until it closes (further subscriptions on the same socket
//!   are free: a socket carries one user, from `connection_init`). Over the cap the subscription
//!   gets a GraphQL error with the same code and nothing is opened; the socket stays open (a
//!   plugin has no handle on the socket to close it, see the docs).
//!
//! The user is known only once the engine has verified the token, in `on_graphql_analysis` (the
//! engine verifies the token per operation, from `connection_init`'s headers). With inbound
//! dedupe switched on (`traffic_shaping.router.dedupe`, off in our config) the engine would skip
//! that hook for an operation identical to one in flight — same headers, document and variables
//! — so each socket gets a dedupe partition of its own: operations on different sockets never
//! join, and every socket's first subscription passes through here.
//!
//! Both counts are per replica, in memory: a replica's file descriptors and memory are what the
//! caps protect, and a count in memory cannot outlive the sockets it counts.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hive_router::PlanExecutionOutput;
use hive_router::executor::plugins::hooks::on_graphql_analysis::{
    OnGraphqlAnalysisHookPayload, OnGraphqlAnalysisHookResult,
};
use hive_router::executor::plugins::hooks::on_http_request::{
    OnHttpRequestHookFuture, OnHttpRequestHookPayload,
};
use hive_router::executor::plugins::hooks::on_plugin_init::{
    OnPluginInitPayload, OnPluginInitResult,
};
use hive_router::executor::plugins::plugin_trait::{RouterPlugin, StartHookPayload as _};
use hive_router::http::StatusCode;
use hive_router::query_planner::state::supergraph_state::OperationKind;
use serde::Deserialize;
use serde_with::{DisplayFromStr, PickFirst, serde_as};

use super::is_websocket_upgrade;
use super::rate_limit::claims_of;
use super::refusal::Refusal;

/// Numbers are accepted as strings too, as every plugin here does (`from_env` placeholders hand
/// plugins strings).
#[serde_as]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiveCapsConfig {
    /// Open GraphQL WebSockets one replica accepts.
    #[serde(default = "default_max_connections")]
    #[serde_as(as = "PickFirst<(_, DisplayFromStr)>")]
    pub max_connections: usize,
    /// WebSockets with a subscription one user may hold on one replica.
    #[serde(default = "default_max_connections_per_user")]
    #[serde_as(as = "PickFirst<(_, DisplayFromStr)>")]
    pub max_connections_per_user: usize,
}

/// Sized for 15 000 live subscriptions per replica (see docs/live-subscriptions.md for the file
/// descriptors that takes).
fn default_max_connections() -> usize {
    15_000
}

/// An app needs one or two (one per signed-in device and screen that listens).
fn default_max_connections_per_user() -> usize {
    10
}

const TOO_MANY_SUBSCRIPTIONS: &str = "TOO_MANY_SUBSCRIPTIONS";
/// Whole seconds a client refused by the router-wide cap should wait.
const RETRY_AFTER_SECS: u64 = 5;

pub struct LiveCapsPlugin {
    graphql_path: String,
    connections: Counter,
    per_user: UserCounters,
    /// Each socket's dedupe partition.
    sockets_opened: AtomicU64,
    /// Refusals since the last warning: a client hammering a full router is logged once in a
    /// while, not once per attempt.
    refusals: Refusals,
}

#[hive_router::async_trait]
impl RouterPlugin for LiveCapsPlugin {
    type Config = LiveCapsConfig;

    fn plugin_name() -> &'static str {
        "live_caps"
    }

    fn on_plugin_init(payload: OnPluginInitPayload<Self>) -> OnPluginInitResult<Self> {
        let config: LiveCapsConfig = payload.config()?;
        if config.max_connections == 0 || config.max_connections_per_user == 0 {
            return Err(
                "plugins.tenor.config.live_caps.config: max_connections and max_connections_per_user must be positive"
                    .into(),
            );
        }
        let graphql_path = payload.router_config().http.graphql_endpoint.clone();
        payload.initialize_plugin(LiveCapsPlugin {
            graphql_path,
            connections: Counter::new(config.max_connections),
            per_user: UserCounters::new(config.max_connections_per_user),
            sockets_opened: AtomicU64::new(0),
            refusals: Refusals::new(),
        })
    }

    fn on_http_request<'req>(
        &'req self,
        payload: OnHttpRequestHookPayload<'req>,
    ) -> OnHttpRequestHookFuture<'req> {
        Box::pin(async move {
            let request = &payload.router_http_request;
            if request.path() != self.graphql_path || !is_websocket_upgrade(request.headers()) {
                return payload.proceed();
            }
            let Some(slot) = self.connections.take() else {
                if let Some(refused) = self.refusals.sockets.due() {
                    tracing::warn!(
                        cap = self.connections.cap,
                        refused,
                        "live_caps: WebSockets refused, the router holds as many as it may"
                    );
                }
                return payload.end_with_response(
                    Refusal::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        TOO_MANY_SUBSCRIPTIONS,
                        "This server holds as many live connections as it can: retry later",
                    )
                    .header("retry-after", RETRY_AFTER_SECS.to_string())
                    .response(),
                );
            };
            payload.context.insert(LiveSocket {
                _slot: slot,
                user: Mutex::new(None),
            });
            payload
                .add_inbound_dedupe_partition(self.sockets_opened.fetch_add(1, Ordering::Relaxed));
            payload.proceed()
        })
    }

    /// The first hook every operation reaches once the engine has verified its token —
    /// subscriptions included (the engine runs `on_execute` for queries and mutations only).
    async fn on_graphql_analysis<'exec>(
        &'exec self,
        payload: &mut OnGraphqlAnalysisHookPayload<'exec>,
    ) -> OnGraphqlAnalysisHookResult {
        let subscription = matches!(
            payload.filtered_operation_for_plan.operation_kind,
            Some(OperationKind::Subscription)
        );
        if !subscription || !self.user_slot_refused(payload) {
            return OnGraphqlAnalysisHookResult::Proceed;
        }
        let body = serde_json::json!({ "errors": [{
            "message": "Too many live connections for this account: close one and retry",
            "extensions": { "code": TOO_MANY_SUBSCRIPTIONS },
        }] });
        OnGraphqlAnalysisHookResult::EndWithResponse(PlanExecutionOutput {
            body: body.to_string().into_bytes(),
            error_count: 1,
            status_code: StatusCode::TOO_MANY_REQUESTS,
        })
    }
}

impl LiveCapsPlugin {
    /// Takes the user's slot for this socket on its first subscription; true when the user has
    /// none left. Only WebSockets carry a [`LiveSocket`]: HTTP streaming subscriptions are
    /// counted by the engine itself (`max_long_lived_clients`).
    fn user_slot_refused(&self, payload: &OnGraphqlAnalysisHookPayload<'_>) -> bool {
        let Some(socket) = payload.context.get_ref::<LiveSocket>() else {
            return false;
        };
        let Some(claims) = claims_of(payload.client_request_details.jwt.as_ref()) else {
            return false;
        };
        let mut held = socket.user.lock().unwrap_or_else(|e| e.into_inner());
        if held.is_some() {
            return false;
        }
        match self.per_user.take(claims.sub) {
            Some(slot) => {
                *held = Some(slot);
                false
            }
            None => {
                if let Some(refused) = self.refusals.subscriptions.due() {
                    tracing::info!(
                        cap = self.per_user.cap,
                        refused,
                        "live_caps: subscriptions refused, users hold as many sockets as they may"
                    );
                }
                true
            }
        }
    }
}

struct Refusals {
    sockets: Tally,
    subscriptions: Tally,
}

impl Refusals {
    fn new() -> Self {
        Self {
            sockets: Tally::new(),
            subscriptions: Tally::new(),
        }
    }
}

/// Counts refusals, and says how many there were at most once every [`Tally::EVERY`].
struct Tally {
    count: AtomicU64,
    started: Instant,
    /// When the next report may be made, in ms since `started`.
    next_report_ms: AtomicU64,
}

impl Tally {
    const EVERY: Duration = Duration::from_secs(10);

    fn new() -> Self {
        Self {
            count: AtomicU64::new(0),
            started: Instant::now(),
            next_report_ms: AtomicU64::new(0),
        }
    }

    /// Counts one refusal; returns the count since the last report when a report is due.
    fn due(&self) -> Option<u64> {
        self.count.fetch_add(1, Ordering::Relaxed);
        let now_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let next = self.next_report_ms.load(Ordering::Relaxed);
        if now_ms < next {
            return None;
        }
        let every_ms = u64::try_from(Self::EVERY.as_millis()).unwrap_or(u64::MAX);
        // One thread wins the report; the others keep counting.
        self.next_report_ms
            .compare_exchange(
                next,
                now_ms.saturating_add(every_ms),
                Ordering::Relaxed,
                Ordering::Relaxed,
            )
            .ok()?;
        Some(self.count.swap(0, Ordering::Relaxed))
    }
}

/// In the plugin context of a WebSocket's upgrade request, so for as long as the socket is open.
struct LiveSocket {
    _slot: Slot,
    /// The user's slot, once the socket's first subscription by a signed-in user took it.
    user: Mutex<Option<UserSlot>>,
}

/// A count that never goes past its cap.
struct Counter {
    open: Arc<AtomicUsize>,
    cap: usize,
}

impl Counter {
    fn new(cap: usize) -> Self {
        Self {
            open: Arc::new(AtomicUsize::new(0)),
            cap,
        }
    }

    fn take(&self) -> Option<Slot> {
        self.open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |open| {
                (open < self.cap).then_some(open + 1)
            })
            .ok()
            .map(|_| Slot(self.open.clone()))
    }
}

/// One counted socket; dropping it gives the slot back.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

type UserTable = Arc<Mutex<HashMap<String, usize>>>;

/// Per-user counts; a user with no socket has no entry.
struct UserCounters {
    open: UserTable,
    cap: usize,
}

impl UserCounters {
    fn new(cap: usize) -> Self {
        Self {
            open: Arc::default(),
            cap,
        }
    }

    fn take(&self, user: &str) -> Option<UserSlot> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(user.to_owned()).or_default();
        if *count >= self.cap {
            return None;
        }
        *count += 1;
        Some(UserSlot {
            user: user.to_owned(),
            table: self.open.clone(),
        })
    }
}

/// One of a user's sockets; dropping it gives the slot back (and forgets a user left with none).
struct UserSlot {
    user: String,
    table: UserTable,
}

impl Drop for UserSlot {
    fn drop(&mut self) {
        let mut open = self.table.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&self.user) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.user);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_router_count_stops_at_its_cap_and_a_dropped_slot_frees_one() {
        let counter = Counter::new(2);
        let first = counter.take().unwrap();
        let _second = counter.take().unwrap();
        assert!(counter.take().is_none());
        drop(first);
        assert!(counter.take().is_some());
    }

    #[test]
    fn each_user_has_a_cap_of_their_own_and_leaves_no_entry_behind() {
        let users = UserCounters::new(1);
        let ann = users.take("ann").unwrap();
        assert!(users.take("ann").is_none());
        let bob = users.take("bob");
        assert!(bob.is_some());
        drop(ann);
        drop(bob);
        assert!(users.open.lock().unwrap().is_empty());
        assert!(users.take("ann").is_some());
    }

    #[test]
    fn refusals_are_reported_at_once_then_at_most_once_per_period() {
        let tally = Tally::new();
        assert_eq!(tally.due(), Some(1));
        assert_eq!(tally.due(), None);
        assert_eq!(tally.due(), None);
    }

    #[test]
    fn numbers_may_be_strings_and_default_to_production_sizes() {
        let config: LiveCapsConfig = serde_json::from_value(
            serde_json::json!({ "max_connections": "20000", "max_connections_per_user": 3 }),
        )
        .unwrap();
        assert_eq!(config.max_connections, 20_000);
        assert_eq!(config.max_connections_per_user, 3);
        let config: LiveCapsConfig = serde_json::from_value(serde_json::json!({})).unwrap();
        assert_eq!(config.max_connections, 15_000);
        assert_eq!(config.max_connections_per_user, 10);
    }
}
