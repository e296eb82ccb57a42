//! `/health`, `/ready` and `/metrics` over real HTTP.

use tenor_platform::http::{Readiness, check, ops_router};

async fn serve(readiness: Readiness) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, ops_router(readiness)).await.unwrap() });
    base
}

#[tokio::test]
async fn ready_reports_each_dependency_and_503s_when_one_is_down() {
    tenor_platform::crypto::install_providers();
    let healthy = Readiness::new().with(check("postgres", || async { Ok(()) }));
    let base = serve(healthy).await;
    let response = reqwest::get(format!("{base}/ready")).await.unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["checks"]["postgres"], "ok");

    let degraded = Readiness::new()
        .with(check("postgres", || async { Ok(()) }))
        .with(check("kafka", || async {
            Err("broker unreachable".to_owned())
        }));
    let base = serve(degraded).await;
    let response = reqwest::get(format!("{base}/ready")).await.unwrap();
    assert_eq!(response.status(), 503);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["checks"]["kafka"]["error"], "broker unreachable");

    // Liveness does not depend on dependencies.
    let response = reqwest::get(format!("{base}/health")).await.unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn metrics_are_rendered_in_prometheus_format() {
    tenor_platform::crypto::install_providers();
    let _ = tenor_platform::telemetry::metrics_handle();
    metrics::counter!("tenor_test_requests_total").increment(3);
    let base = serve(Readiness::new()).await;
    let text = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("tenor_test_requests_total 3"), "{text}");
}
