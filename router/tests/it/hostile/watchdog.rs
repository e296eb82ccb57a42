//! The worker watchdog through the real binary: a wedged worker takes the process down, a
//! stopping router or a briefly blocked worker does not.

use std::time::{Duration, Instant};

use serde_json::json;

use super::{assert_healthy, ws, ws_connect};
use crate::common::{Router, Subgraphs, free_port, set, yaml};

/// A router whose worker stops running must die (and be restarted), not keep answering /health
/// from its other workers.
#[tokio::test]
async fn a_wedged_worker_takes_the_process_down() {
    let subgraphs = Subgraphs::start().await;
    let mut config = subgraphs.router_config(free_port());
    set(
        &mut config,
        "plugins.tenor.config.worker_watchdog.config.stall_after",
        yaml(json!("2s")),
    );
    set(
        &mut config,
        "plugins.tenor.config.worker_watchdog.config.test_faults",
        yaml(json!(true)),
    );
    let router = Router::start(&config).await;
    assert_healthy(&router).await;

    let wedge = reqwest::Client::new()
        .post(router.graphql_url())
        .header("content-type", "application/json")
        .header("x-tenor-test-fault", "wedge")
        .body(r#"{"query":"{ __typename }"}"#)
        .timeout(Duration::from_secs(10))
        .send();
    let started = Instant::now();
    let (status, log) = tokio::join!(async { drop(wedge.await) }, router.exit()).1;
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    assert!(!status.success(), "{status:?}");
    assert!(log.contains("a worker has not run for too long"), "{log}");
}

/// Stopping is not wedging: on SIGTERM the router drains and exits 0, however long its workers
/// have been stopped while it does.
#[tokio::test]
async fn a_stopped_router_exits_cleanly_without_the_watchdog() {
    let subgraphs = Subgraphs::start().await;
    let mut config = subgraphs.router_config(free_port());
    set(
        &mut config,
        "plugins.tenor.config.worker_watchdog.config.stall_after",
        yaml(json!("1s")),
    );
    let router = Router::start(&config).await;
    assert_healthy(&router).await; // every worker has its heartbeat
    // Open connections make the drain take a while: an app's subscription socket, and a
    // keep-alive HTTP connection.
    let mut socket = ws_connect(&router).await;
    ws::init(&mut socket, None).await;
    let keep_alive = reqwest::Client::new();
    keep_alive
        .get(format!("{}/health", router.url))
        .send()
        .await
        .unwrap();
    let (status, log) = router.terminate().await;
    drop((socket, keep_alive));
    assert!(status.success(), "{status:?}\n{log}");
    assert!(!log.contains("a worker has not run for too long"), "{log}");
}

/// A worker blocked for a moment is not a wedge: the router stays up, and its other worker keeps
/// serving meanwhile.
#[tokio::test]
async fn a_briefly_blocked_worker_is_not_a_wedge() {
    let subgraphs = Subgraphs::start().await;
    let mut config = subgraphs.router_config(free_port());
    set(
        &mut config,
        "plugins.tenor.config.worker_watchdog.config.stall_after",
        yaml(json!("3s")),
    );
    set(
        &mut config,
        "plugins.tenor.config.worker_watchdog.config.test_faults",
        yaml(json!(true)),
    );
    let router = Router::start(&config).await;
    let blocked = reqwest::Client::new()
        .post(router.graphql_url())
        .header("content-type", "application/json")
        .header("x-tenor-test-fault", "block=1500")
        .body(r#"{"query":"{ __typename }"}"#)
        .send();
    let (response, ()) = tokio::join!(blocked, async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_healthy(&router).await;
    });
    assert_eq!(response.unwrap().status(), 200);
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_healthy(&router).await;
}
