//! Staff accounts exist only through the operator command, with the scopes it was given.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::json;
use tenor_auth::testing::*;

#[tokio::test]
async fn create_staff_makes_an_account_whose_tokens_carry_its_scopes() {
    let auth = TestAuth::start(&[]).await;
    let settings = base_settings(
        &auth.db,
        &format!("k1={}", auth.keys_dir.join("k1.pem").display()),
        "k1",
        &auth.auth_topic,
        &auth.user_topic,
    );
    let run = |email: &str, password: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tenor-auth"))
            .args([
                "create-staff",
                "--email",
                email,
                "--fullname",
                "Budi Santoso",
                "--scopes",
                "kyc:review kyc:pii:read",
            ])
            .env_clear()
            .envs(settings.iter().cloned())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{password}\n").as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };

    let weak = run("weak@tenor.id", "password");
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("PASSWORD_TOO_COMMON"));

    let output = run("Budi.Ops@Tenor.id", "staff passphrase for review desk");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let staff_id = String::from_utf8(output.stdout).unwrap().trim().to_owned();

    let login = auth
        .login("budi.ops@tenor.id", "staff passphrase for review desk")
        .await;
    assert_eq!(login["tokens"]["userId"], staff_id);
    let token = login["tokens"]["accessToken"].as_str().unwrap();
    let claims = jsonwebtoken::dangerous::insecure_decode::<serde_json::Value>(token)
        .unwrap()
        .claims;
    assert_eq!(claims["scope"], "kyc:review kyc:pii:read");

    // register never grants staff scopes.
    let (email, phone) = identity();
    auth.register(&email, &phone, PASSWORD).await;
    let customer = auth.login(&email, PASSWORD).await;
    let claims = jsonwebtoken::dangerous::insecure_decode::<serde_json::Value>(
        customer["tokens"]["accessToken"].as_str().unwrap(),
    )
    .unwrap()
    .claims;
    assert_eq!(claims["scope"], "loan:apply kyc:submit");
}

#[tokio::test]
async fn change_password_checks_the_current_one_and_ends_other_sessions() {
    let auth = TestAuth::start(&[]).await;
    let (email, phone) = identity();
    auth.register(&email, &phone, PASSWORD).await;
    let here = auth.login(&email, PASSWORD).await;
    let elsewhere = auth.login(&email, PASSWORD).await;
    let access = here["tokens"]["accessToken"].as_str().unwrap();
    let change = |current: &'static str, new: &'static str| {
        auth.gql(
            "mutation($i: ChangePasswordInput!) { changePassword(input: $i) { ok userErrors { code field } } }",
            json!({ "i": { "currentPassword": current, "newPassword": new } }),
            Some(access),
        )
    };
    assert_eq!(
        codes(
            &change("not my password", "teh manis hangat sekali").await["data"]["changePassword"]
        ),
        vec!["INVALID_CREDENTIALS"]
    );
    assert_eq!(
        codes(&change(PASSWORD, "12345678").await["data"]["changePassword"]),
        vec!["PASSWORD_TOO_COMMON"]
    );
    assert_eq!(
        change(PASSWORD, "teh manis hangat sekali").await["data"]["changePassword"]["ok"],
        true
    );

    assert_eq!(
        codes(
            &auth
                .refresh(elsewhere["tokens"]["refreshToken"].as_str().unwrap())
                .await
        ),
        vec!["SESSION_REVOKED"]
    );
    assert_eq!(
        codes(
            &auth
                .refresh(here["tokens"]["refreshToken"].as_str().unwrap())
                .await
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        codes(&auth.login(&email, PASSWORD).await),
        vec!["INVALID_CREDENTIALS"]
    );
    assert_eq!(
        codes(&auth.login(&email, "teh manis hangat sekali").await),
        Vec::<String>::new()
    );
}
