//! No password, access token or refresh token appears in the logs, even at debug level, across
//! a whole journey including failures. (It installs the process-wide subscriber: see main.rs.)

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::json;
use tenor_auth::testing::*;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn secrets_never_reach_the_logs() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .json()
        .with_env_filter("debug")
        .with_writer(move || writer.clone())
        .init();

    let auth = TestAuth::start(&[("AUTH_REFRESH_REUSE_GRACE", "0s")]).await;
    let (email, phone) = identity();
    let wrong = "salah-kata-sandi-rahasia";
    auth.register(&email, &phone, PASSWORD).await;
    auth.login(&email, wrong).await;
    let login = auth.login(&email, PASSWORD).await;
    let access = login["tokens"]["accessToken"].as_str().unwrap().to_owned();
    let refresh = login["tokens"]["refreshToken"].as_str().unwrap().to_owned();
    let next = auth.refresh(&refresh).await["tokens"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    auth.refresh(&refresh).await; // reuse: logged as a warning
    auth.gql(
        "mutation($i: ChangePasswordInput!) { changePassword(input: $i) { ok } }",
        json!({ "i": { "currentPassword": wrong, "newPassword": "teh manis hangat sekali" } }),
        Some(&access),
    )
    .await;
    auth.gql("mutation { logout { ok } }", json!({}), Some(&access))
        .await;

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("account registered"),
        "the capture works: {}",
        &logs[..logs.len().min(500)]
    );
    assert!(logs.contains("refresh token reuse"), "reuse is logged");
    for secret in [
        PASSWORD,
        wrong,
        "teh manis hangat sekali",
        &access,
        &refresh,
        &next,
    ] {
        assert!(!logs.contains(secret), "a secret leaked into the logs");
    }
    // Not even fragments of tokens (a JWT's signature part, the refresh token body).
    let signature = access.rsplit('.').next().unwrap();
    assert!(!logs.contains(signature));
    assert!(!logs.contains(&refresh[3..]));
}
