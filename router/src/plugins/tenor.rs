//! `plugins.tenor`: the one plugin the engine runs, dispatching to Tenor's plugins in order.
//!
//! Why one: hive-router 0.2 calls every hook of every registered plugin on every request — about
//! a dozen hooks, more per subgraph fetch — each through a boxed future that the hook's payload
//! is moved into and out of. With ten plugins registered, that machinery was a good part of
//! tenor-router's extra CPU per request against the stock engine (docs/benchmarks.md § router:
//! about 10 points of it for the dashboard and the mutation). Here each of our plugins is called
//! only at the hooks it implements.
//!
//! Each plugin keeps its own block, `plugins.tenor.config.<name>: { enabled, config }`, read by
//! its own `on_plugin_init` exactly as when the engine ran it, and the order below is the order
//! they run in (see [`super`] for why it matters). A hook behaves as the engine's loop over
//! separate plugins would: the first plugin that answers ends the hook and the ones after it do
//! not run; end callbacks run in reverse order, and one that answers ends them.

use std::ops::ControlFlow;

use hive_router::background_tasks::BackgroundTasksManager;
use hive_router::config::HiveRouterConfig;
use hive_router::executor::plugins::hooks::on_graphql_analysis::{
    OnGraphqlAnalysisHookPayload, OnGraphqlAnalysisHookResult,
};
use hive_router::executor::plugins::hooks::on_graphql_error::{
    OnGraphQLErrorHookPayload, OnGraphQLErrorHookResult,
};
use hive_router::executor::plugins::hooks::on_graphql_params::{
    OnGraphQLParamsStartHookPayload, OnGraphQLParamsStartHookResult,
};
use hive_router::executor::plugins::hooks::on_graphql_parse::{
    OnGraphQLParseHookResult, OnGraphQLParseStartHookPayload,
};
use hive_router::executor::plugins::hooks::on_graphql_validation::{
    OnGraphQLValidationStartHookPayload, OnGraphQLValidationStartHookResult,
};
use hive_router::executor::plugins::hooks::on_http_request::{
    OnHttpRequestHookFuture, OnHttpRequestHookPayload,
};
use hive_router::executor::plugins::hooks::on_plugin_init::{
    OnPluginInitPayload, OnPluginInitResult,
};
use hive_router::executor::plugins::hooks::on_subgraph_execute::{
    OnSubgraphExecuteStartHookPayload, OnSubgraphExecuteStartHookResult,
};
use hive_router::executor::plugins::plugin_trait::{
    EndControlFlow, EndHookResult, RouterPlugin, StartControlFlow, StartHookPayload as _,
    StartHookResult,
};
use serde::Deserialize;

use super::bearer_scheme::BearerSchemePlugin;
use super::client_ip::ClientIpPlugin;
use super::error_codes::ErrorCodesPlugin;
use super::json_guard::JsonGuardPlugin;
use super::known_paths::KnownPathsPlugin;
use super::kyc_links::KycLinksPlugin;
use super::live_caps::LiveCapsPlugin;
use super::operation_checks::OperationChecksPlugin;
use super::oversized_bodies::OversizedBodiesPlugin;
use super::rate_limit::RateLimitPlugin;
use super::request_id::RequestIdPlugin;
use super::worker_watchdog::WorkerWatchdogPlugin;
use crate::graphiql::GraphiqlPlugin;

/// One plugin's block: `enabled` (default true) and its own `config`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Block {
    #[serde(default = "enabled_by_default")]
    enabled: bool,
    #[serde(default = "empty_config")]
    config: serde_json::Value,
}

fn enabled_by_default() -> bool {
    true
}

fn empty_config() -> serde_json::Value {
    serde_json::Value::Object(serde_json::Map::new())
}

/// `plugins.tenor.config`: a block per plugin; a plugin without one is off. An unknown name is
/// refused, so a misspelt block cannot silently turn a protection off.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenorConfig {
    worker_watchdog: Option<Block>,
    graphiql: Option<Block>,
    client_ip: Option<Block>,
    request_id: Option<Block>,
    bearer_scheme: Option<Block>,
    kyc_links: Option<Block>,
    known_paths: Option<Block>,
    live_caps: Option<Block>,
    rate_limit: Option<Block>,
    oversized_bodies: Option<Block>,
    json_guard: Option<Block>,
    operation_checks: Option<Block>,
    error_codes: Option<Block>,
}

/// Tenor's plugins in the order they run; `None` where switched off.
pub struct TenorPlugin {
    // Before anything else: every request proves its worker alive.
    worker_watchdog: Option<WorkerWatchdogPlugin>,
    // It answers /graphiql itself (static files, no GraphQL), so nothing after it runs.
    graphiql: Option<GraphiqlPlugin>,
    client_ip: Option<ClientIpPlugin>,
    request_id: Option<RequestIdPlugin>,
    // Before the engine's JWT lookup reads the Authorization header.
    bearer_scheme: Option<BearerSchemePlugin>,
    // KYC's signed links (`/kyc/*`), passed on to the KYC service; no GraphQL after it.
    kyc_links: Option<KycLinksPlugin>,
    // Everything `/graphiql` and `/kyc/` did not take that is not the router's: a JSON 404 (no
    // Redis round trip for a scanner's paths), and wrong methods on the GraphQL path.
    known_paths: Option<KnownPathsPlugin>,
    // WebSockets over the per-router cap are refused before they cost a Redis round trip.
    live_caps: Option<LiveCapsPlugin>,
    rate_limit: Option<RateLimitPlugin>,
    oversized_bodies: Option<OversizedBodiesPlugin>,
    // Hostile JSON is refused before the engine parses it (after the IP limit took a token).
    json_guard: Option<JsonGuardPlugin>,
    operation_checks: Option<OperationChecksPlugin>,
    error_codes: Option<ErrorCodesPlugin>,
}

/// Initialises one plugin from its block, as the engine would: its own `on_plugin_init` with its
/// own config; errors name the plugin.
fn init<P: RouterPlugin>(
    block: Option<Block>,
    router_config: &HiveRouterConfig,
) -> Result<Option<P>, Box<dyn std::error::Error>> {
    let Some(block) = block.filter(|block| block.enabled) else {
        return Ok(None);
    };
    // None of Tenor's plugins registers a background task; one that did would need the engine's
    // manager, which a plugin cannot reach from here.
    let mut tasks = BackgroundTasksManager::new();
    P::on_plugin_init(OnPluginInitPayload::new(
        &block.config,
        router_config,
        &mut tasks,
    ))
    .map_err(|e| format!("{}: {e}", P::plugin_name()).into())
}

/// Calls `hook` on each of `plugins` that is on, in order, through a [`Chain`]; returns from
/// the enclosing function (or async block) with the hook's result.
macro_rules! run_hook {
    ($self:ident, $hook:ident, $payload:ident, [$($plugin:ident),*]) => {{
        let mut chain = Chain::default();
        let mut payload = $payload;
        $(
            if let Some(plugin) = &$self.$plugin {
                match chain.step(RouterPlugin::$hook(plugin, payload).await) {
                    ControlFlow::Continue(next) => payload = next,
                    ControlFlow::Break(answer) => return answer,
                }
            }
        )*
        chain.finish(payload)
    }};
}

#[hive_router::async_trait]
impl RouterPlugin for TenorPlugin {
    type Config = TenorConfig;

    fn plugin_name() -> &'static str {
        "tenor"
    }

    fn on_plugin_init(payload: OnPluginInitPayload<Self>) -> OnPluginInitResult<Self> {
        let config: TenorConfig = payload.config()?;
        let router = payload.router_config();
        payload.initialize_plugin(TenorPlugin {
            worker_watchdog: init(config.worker_watchdog, router)?,
            graphiql: init(config.graphiql, router)?,
            client_ip: init(config.client_ip, router)?,
            request_id: init(config.request_id, router)?,
            bearer_scheme: init(config.bearer_scheme, router)?,
            kyc_links: init(config.kyc_links, router)?,
            known_paths: init(config.known_paths, router)?,
            live_caps: init(config.live_caps, router)?,
            rate_limit: init(config.rate_limit, router)?,
            oversized_bodies: init(config.oversized_bodies, router)?,
            json_guard: init(config.json_guard, router)?,
            operation_checks: init(config.operation_checks, router)?,
            error_codes: init(config.error_codes, router)?,
        })
    }

    fn on_http_request<'req>(
        &'req self,
        payload: OnHttpRequestHookPayload<'req>,
    ) -> OnHttpRequestHookFuture<'req> {
        Box::pin(async move {
            run_hook!(
                self,
                on_http_request,
                payload,
                [
                    worker_watchdog,
                    graphiql,
                    client_ip,
                    request_id,
                    bearer_scheme,
                    kyc_links,
                    known_paths,
                    live_caps,
                    rate_limit,
                    oversized_bodies
                ]
            )
        })
    }

    async fn on_graphql_params<'exec>(
        &'exec self,
        payload: OnGraphQLParamsStartHookPayload<'exec>,
    ) -> OnGraphQLParamsStartHookResult<'exec> {
        run_hook!(
            self,
            on_graphql_params,
            payload,
            [json_guard, operation_checks]
        )
    }

    async fn on_graphql_parse<'exec>(
        &'exec self,
        payload: OnGraphQLParseStartHookPayload<'exec>,
    ) -> OnGraphQLParseHookResult<'exec> {
        run_hook!(self, on_graphql_parse, payload, [operation_checks])
    }

    async fn on_graphql_validation<'exec>(
        &'exec self,
        payload: OnGraphQLValidationStartHookPayload<'exec>,
    ) -> OnGraphQLValidationStartHookResult<'exec> {
        match &self.operation_checks {
            Some(plugin) => RouterPlugin::on_graphql_validation(plugin, payload).await,
            None => payload.proceed(),
        }
    }

    async fn on_graphql_analysis<'exec>(
        &'exec self,
        payload: &mut OnGraphqlAnalysisHookPayload<'exec>,
    ) -> OnGraphqlAnalysisHookResult {
        if let Some(plugin) = &self.live_caps
            && let answer @ OnGraphqlAnalysisHookResult::EndWithResponse(_) =
                RouterPlugin::on_graphql_analysis(plugin, payload).await
        {
            return answer;
        }
        if let Some(plugin) = &self.rate_limit {
            return RouterPlugin::on_graphql_analysis(plugin, payload).await;
        }
        OnGraphqlAnalysisHookResult::Proceed
    }

    async fn on_subgraph_execute<'exec>(
        &'exec self,
        payload: OnSubgraphExecuteStartHookPayload<'exec>,
    ) -> OnSubgraphExecuteStartHookResult<'exec> {
        run_hook!(self, on_subgraph_execute, payload, [client_ip, request_id])
    }

    fn on_graphql_error<'req>(
        &'req self,
        payload: OnGraphQLErrorHookPayload<'req>,
    ) -> OnGraphQLErrorHookResult<'req> {
        match &self.error_codes {
            Some(plugin) => RouterPlugin::on_graphql_error(plugin, payload),
            None => payload,
        }
    }

    async fn on_shutdown<'exec>(&'exec self) {
        if let Some(plugin) = &self.worker_watchdog {
            RouterPlugin::on_shutdown(plugin).await;
        }
    }
}

type EndCallback<'exec, E, R> = Box<dyn FnOnce(E) -> EndHookResult<E, R> + Send + 'exec>;

/// One hook across several plugins: what the engine's loop over plugins does, for ours.
struct Chain<'exec, E, R> {
    ends: Vec<EndCallback<'exec, E, R>>,
}

impl<E, R> Default for Chain<'_, E, R> {
    fn default() -> Self {
        Self { ends: Vec::new() }
    }
}

impl<'exec, E: 'exec, R: 'exec> Chain<'exec, E, R> {
    /// One plugin's result: the payload for the next plugin (keeping its end callback), or its
    /// answer, which ends the hook (end callbacks gathered so far do not run, as in the engine).
    fn step<P>(
        &mut self,
        result: StartHookResult<'exec, P, E, R>,
    ) -> ControlFlow<StartHookResult<'exec, P, E, R>, P> {
        match result.control_flow {
            StartControlFlow::Proceed => ControlFlow::Continue(result.payload),
            StartControlFlow::OnEnd(callback) => {
                self.ends.push(callback);
                ControlFlow::Continue(result.payload)
            }
            answer @ StartControlFlow::EndWithResponse(_) => ControlFlow::Break(StartHookResult {
                payload: result.payload,
                control_flow: answer,
            }),
        }
    }

    /// Every plugin proceeded: one end callback running theirs in reverse order.
    fn finish<P>(self, payload: P) -> StartHookResult<'exec, P, E, R> {
        let control_flow = if self.ends.is_empty() {
            StartControlFlow::Proceed
        } else {
            let ends = self.ends;
            StartControlFlow::OnEnd(Box::new(move |end| run_in_reverse(ends, end)))
        };
        StartHookResult {
            payload,
            control_flow,
        }
    }
}

fn run_in_reverse<E, R>(ends: Vec<EndCallback<'_, E, R>>, mut end: E) -> EndHookResult<E, R> {
    for callback in ends.into_iter().rev() {
        let result = callback(end);
        match result.control_flow {
            EndControlFlow::Proceed => end = result.payload,
            EndControlFlow::EndWithResponse(_) => return result,
        }
    }
    EndHookResult {
        payload: end,
        control_flow: EndControlFlow::Proceed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Log = Vec<&'static str>;

    /// A plugin's start result that proceeds and, at the end, logs `name` (or answers).
    fn ending(
        payload: u32,
        name: &'static str,
        answer: bool,
    ) -> StartHookResult<'static, u32, Log, &'static str> {
        StartHookResult {
            payload: payload + 1,
            control_flow: StartControlFlow::OnEnd(Box::new(move |mut log: Log| {
                log.push(name);
                EndHookResult {
                    payload: log,
                    control_flow: if answer {
                        EndControlFlow::EndWithResponse(name)
                    } else {
                        EndControlFlow::Proceed
                    },
                }
            })),
        }
    }

    fn run_end(
        result: StartHookResult<'static, u32, Log, &'static str>,
    ) -> EndHookResult<Log, &'static str> {
        match result.control_flow {
            StartControlFlow::OnEnd(callback) => callback(Vec::new()),
            _ => panic!("expected one end callback"),
        }
    }

    /// Two plugins that proceed with end callbacks; the second's answers if `second_answers`.
    fn first_then_second(second_answers: bool) -> StartHookResult<'static, u32, Log, &'static str> {
        let mut chain = Chain::default();
        let ControlFlow::Continue(payload) = chain.step(ending(0, "first", false)) else {
            panic!("proceeded")
        };
        let ControlFlow::Continue(payload) = chain.step(ending(payload, "second", second_answers))
        else {
            panic!("proceeded")
        };
        chain.finish(payload)
    }

    #[test]
    fn payloads_pass_on_and_end_callbacks_run_in_reverse_as_one() {
        let finished = first_then_second(false);
        assert_eq!(finished.payload, 2);
        let end = run_end(finished);
        assert_eq!(end.payload, ["second", "first"]);
        assert!(matches!(end.control_flow, EndControlFlow::Proceed));
    }

    #[test]
    fn an_end_callback_that_answers_stops_the_ones_before_it() {
        let end = run_end(first_then_second(true));
        assert_eq!(end.payload, ["second"]);
        assert!(matches!(
            end.control_flow,
            EndControlFlow::EndWithResponse("second")
        ));
    }

    #[test]
    fn an_answer_ends_the_hook_and_drops_the_end_callbacks_so_far() {
        let mut chain = Chain::default();
        let ControlFlow::Continue(payload) = chain.step(ending(0, "first", false)) else {
            panic!("proceeded")
        };
        let answered = chain.step(StartHookResult {
            payload,
            control_flow: StartControlFlow::EndWithResponse("refused"),
        });
        let ControlFlow::Break(answer) = answered else {
            panic!("the answer ends the hook")
        };
        assert!(matches!(
            answer.control_flow,
            StartControlFlow::EndWithResponse("refused")
        ));
    }

    #[test]
    fn nothing_to_run_at_the_end_proceeds_plainly() {
        let chain: Chain<'_, Log, &str> = Chain::default();
        assert!(matches!(
            chain.finish(7u32).control_flow,
            StartControlFlow::Proceed
        ));
    }

    #[test]
    fn a_misspelt_plugin_block_is_refused_and_a_switched_off_one_is_off() {
        let refused = serde_json::from_value::<TenorConfig>(serde_json::json!({
            "rate_limits": { "enabled": true, "config": {} }
        }));
        assert!(refused.unwrap_err().to_string().contains("rate_limits"));

        let config: TenorConfig = serde_json::from_value(serde_json::json!({
            "rate_limit": { "enabled": false, "config": { "redis_url": "not even checked" } },
            "request_id": {}
        }))
        .unwrap();
        assert!(config.rate_limit.is_some_and(|block| !block.enabled));
        let request_id = config.request_id.expect("present");
        assert!(request_id.enabled && request_id.config.as_object().is_some_and(|c| c.is_empty()));
        assert!(config.client_ip.is_none());
    }
}
