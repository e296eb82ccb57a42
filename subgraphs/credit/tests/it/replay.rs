//! `tenor-credit replay`: every stored automatic decision recomputes to itself from its stored
//! inputs and rules version; a tampered input shows as a MISMATCH.

use std::process::Command;

use diesel_async::RunQueryDsl;
use tenor_credit::replay::{self, Target};
use tenor_credit::testing::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stored_decisions_replay_and_tampering_shows() {
    let service = TestService::start().await;
    let mut loans = vec![];
    for risk in [780, 420, 600] {
        let user = service.verified_borrower().await;
        let loan = service.submit_loan(user, 5_000_000, 6).await;
        service.risk_evaluated(&loan, risk, 1, 1).await;
        service.decided(loan.loan_id).await;
        loans.push(loan.loan_id);
    }
    let replayed = service.replay_all().await;
    assert_eq!(replayed.len(), 3);
    assert!(
        replayed.iter().all(|r| r.matches),
        "{}",
        replay::report(&replayed)
    );
    let report = replay::report(&replayed);
    assert!(report.contains("MATCH loan"), "{report}");
    assert!(report.contains("0 mismatch(es)"), "{report}");

    let (status, out) = replay_command(&service, &["--all"]);
    assert_eq!(status, Some(0), "{out}");
    assert!(
        out.contains("3 decision(s) replayed, 0 mismatch(es)"),
        "{out}"
    );

    // Someone edits the stored bureau score of the approval.
    let approved = loans[0];
    let mut conn = service.db.pool().get().await.unwrap();
    diesel::sql_query(
        "UPDATE credit_decisions SET inputs = jsonb_set(inputs, '{risk,normalized_score}', '420') \
         WHERE loan_id = $1",
    )
    .bind::<diesel::sql_types::Uuid, _>(approved)
    .execute(&mut conn)
    .await
    .unwrap();
    let rules = config_from_pairs(service.env_pairs()).rules;
    let one = replay::replay(&service.db.pool(), &rules, Target::Loan(approved))
        .await
        .unwrap();
    assert_eq!(one.len(), 1);
    assert!(!one[0].matches);
    assert!(one[0].stored.starts_with("APPROVE"), "{:?}", one[0]);
    assert!(one[0].recomputed.starts_with("REJECT"), "{:?}", one[0]);
    assert!(replay::report(&one).starts_with("MISMATCH"));
    let all = service.replay_all().await;
    assert_eq!(all.iter().filter(|r| !r.matches).count(), 1);

    let (status, out) = replay_command(&service, &[&approved.to_string()]);
    assert_eq!(status, Some(1), "{out}");
    assert!(out.starts_with("MISMATCH"), "{out}");
    let (status, out) = replay_command(&service, &[&loans[1].to_string()]);
    assert_eq!(status, Some(0), "{out}");
    assert!(out.starts_with("MATCH"), "{out}");
}

#[test]
fn the_replay_command_refuses_bad_usage_and_configuration() {
    let binary = env!("CARGO_BIN_EXE_tenor-credit");
    let usage = Command::new(binary)
        .args(["replay", "not-a-loan"])
        .output()
        .unwrap();
    assert_eq!(usage.status.code(), Some(2));
    let unconfigured = Command::new(binary)
        .args(["replay", "--all"])
        .env_remove("CREDIT_DATABASE_URL")
        .output()
        .unwrap();
    assert_eq!(unconfigured.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unconfigured.stderr).contains("CREDIT_DATABASE_URL"));
}

#[test]
fn a_bad_operator_rule_set_stops_the_service_with_exit_2() {
    let dir = std::env::temp_dir().join(format!("credit-rules-it-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("2027.toml"), "version = \"2027\"\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_tenor-credit"))
        .env("CREDIT_DATABASE_URL", "postgres://u:p@127.0.0.1:1/none")
        .env("KAFKA_BROKERS", "127.0.0.1:1")
        .env("CREDIT_RULES_DIR", &dir)
        .env("PORT", "0")
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("CREDIT_RULES_DIR") && stderr.contains("2027.toml"),
        "{stderr}"
    );
}

/// Run `tenor-credit replay <args>` against the test's database; exit status and stdout.
fn replay_command(service: &TestService, args: &[&str]) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_tenor-credit"))
        .arg("replay")
        .args(args)
        .env("CREDIT_DATABASE_URL", service.db.url())
        .env_remove("CREDIT_RULES_DIR")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    (output.status.code(), format!("{stdout}{stderr}"))
}
