//! Every submitted loan gets decided, with no test producer anywhere: a borrower applies through
//! the router, risk asks the (simulated) bureau, credit scores and decides by its rules, loan
//! applies the decision, and the borrower's `loanStatusChanged` subscription shows it. What the
//! bureau says about each borrower is chosen through the simulated bureau's sandbox.
//!
//! Also: staff decide what the rules refer; a killed risk or credit process decides each loan
//! exactly once after its restart; a redelivered event changes nothing; every automatic decision
//! replays to the same outcome (`tenor-credit replay --all`).

use std::time::Duration;

use serde_json::{Value, json};
use tenor_contracts::credit::CreditDecisionMadeV1;
use tenor_contracts::loan::LoanSubmittedV1;
use tenor_contracts::risk::RiskEvaluatedV1;
use tenor_events::Envelope;
use tenor_events::testing::read_events;
use tenor_harness::deciders::{BureauProfile, bureau};
use tenor_harness::journeys::{apply_when_eligible, eligible_customer};
use tenor_harness::ws::{self, Live};
use tenor_harness::{RouterStack, eventually};
use uuid::Uuid;

const WATCH: &str = "subscription Watch { loanStatusChanged { status previousStatus reason loan { id reasonCodes decisionReason } } }";
const QUEUE: &str =
    "query Queue { creditReviewQueue(first: 100) { nodes { loanId queueReason } } }";
const DECIDE: &str = "mutation Decide($input: DecideLoanInput!) { decideLoan(input: $input) { userErrors { code message } } }";

/// A borrower holding a live subscription, with the bureau file `profile`.
struct Borrower {
    token: String,
    socket: Live,
}

async fn borrower(stack: &RouterStack, profile: &BureauProfile) -> Borrower {
    let (account, token) = eligible_customer(stack).await;
    stack.deciders().bureau_file(account.user_id, profile).await;
    let mut socket = ws::connect(&stack.router).await;
    ws::init(&mut socket, Some(&token)).await;
    ws::send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": WATCH } }),
    )
    .await;
    Borrower {
        token,
        socket: Live::new(socket),
    }
}

/// The next status change pushed to `borrower`, or `None` when none comes `within`.
async fn pushed(borrower: &mut Borrower, within: Duration) -> Option<Value> {
    match borrower.socket.next(within).await {
        Some(Ok(message)) => {
            assert_eq!(message["type"], "next", "{message}");
            Some(message["payload"]["data"]["loanStatusChanged"].clone())
        }
        Some(Err(code)) => panic!("the router closed the subscription ({code})"),
        None => None,
    }
}

/// The SUBMITTED push of `borrower`'s application, then the decision's push.
async fn apply_and_watch(stack: &RouterStack, borrower: &mut Borrower) -> (String, Option<Value>) {
    let applied = apply_when_eligible(stack, &borrower.token, &Uuid::new_v4().to_string()).await;
    let loan = applied["loan"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("applied: {applied}"))
        .to_owned();
    let submitted = pushed(borrower, Duration::from_secs(20)).await.unwrap();
    assert_eq!(submitted["status"], "SUBMITTED", "{submitted}");
    let decided = pushed(borrower, Duration::from_secs(20)).await;
    (loan, decided)
}

async fn in_queue(stack: &RouterStack, staff: &str, loan: &str) -> Option<String> {
    let queue = stack.gql(QUEUE, json!({}), Some(staff)).await;
    queue["data"]["creditReviewQueue"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("queue: {queue}"))
        .iter()
        .find(|n| n["loanId"] == loan)
        .map(|n| n["queueReason"].as_str().unwrap_or_default().to_owned())
}

async fn decide(stack: &RouterStack, staff: &str, loan: &str, decision: &str) -> Value {
    let response = stack
        .gql(
            DECIDE,
            json!({ "input": { "loanId": loan, "decision": decision,
                "reasonCode": "MANUAL_REVIEW", "note": "checked payslips" } }),
            Some(staff),
        )
        .await;
    response["data"]["decideLoan"].clone()
}

/// The decision events credit published for `loan`.
async fn decisions_of(
    stack: &RouterStack,
    loan: &str,
    at_least: usize,
) -> Vec<CreditDecisionMadeV1> {
    let of_loan = |events: &[Envelope]| -> Vec<CreditDecisionMadeV1> {
        events
            .iter()
            .filter_map(|e| e.decode::<CreditDecisionMadeV1>().ok())
            .filter(|d| d.loan_id.to_string() == loan)
            .collect()
    };
    let events = read_events(
        &stack.subgraphs.topics.credit,
        Duration::from_secs(10),
        |events| of_loan(events).len() > at_least,
    )
    .await;
    of_loan(&events)
}

async fn assert_replay_matches(stack: &RouterStack) {
    let (matched, output) = stack.deciders().replay_all().await;
    assert!(matched, "tenor-credit replay --all:\n{output}");
    assert!(output.contains("MATCH"), "{output}");
    assert!(!output.contains("MISMATCH"), "{output}");
}

/// What a case's bureau file leads to.
enum Expect {
    /// Decided by the rules: the status pushed and the reason code the loan carries.
    Automatic(&'static str, Option<&'static str>),
    /// Referred to the manual queue; staff decide (APPROVE / REJECT).
    Staff(&'static str),
}

#[tokio::test]
async fn each_outcome_reaches_the_borrower_through_the_router() {
    let stack = RouterStack::start_deciding().await;
    let staff_account = stack.staff(&["credit:decide", "risk:read"]).await;
    let staff = stack.router.login(&staff_account).await;

    let cases = [
        (
            "clean",
            bureau::clean(),
            Expect::Automatic("APPROVED", None),
        ),
        (
            "delinquent",
            bureau::delinquent(),
            Expect::Automatic("REJECTED", Some("BUREAU_DELINQUENT")),
        ),
        (
            "many platforms",
            bureau::many_platforms(),
            Expect::Automatic("REJECTED", Some("TOO_MANY_PLATFORMS")),
        ),
        (
            "low score",
            bureau::low_score(),
            Expect::Automatic("REJECTED", Some("SCORE_BELOW_THRESHOLD")),
        ),
        ("borderline", bureau::borderline(), Expect::Staff("APPROVE")),
        (
            "bureau down",
            bureau::unavailable(),
            Expect::Staff("REJECT"),
        ),
    ];
    let runs = cases.into_iter().map(|(name, profile, expect)| {
        let stack = &stack;
        let staff = &staff;
        async move {
            let mut borrower = borrower(stack, &profile).await;
            let (loan, decided) = apply_and_watch(stack, &mut borrower).await;
            match expect {
                Expect::Automatic(status, code) => {
                    let decided = decided.unwrap_or_else(|| panic!("{name}: no decision"));
                    assert_eq!(decided["status"], status, "{name}: {decided}");
                    assert_eq!(decided["previousStatus"], "SUBMITTED", "{name}");
                    if let Some(code) = code {
                        let codes = decided["loan"]["reasonCodes"].to_string();
                        assert!(codes.contains(code), "{name}: {decided}");
                        assert!(
                            decided["loan"]["decisionReason"].is_string(),
                            "{name}: the borrower reads why: {decided}"
                        );
                    }
                }
                Expect::Staff(by_staff) => {
                    assert!(
                        decided.is_none(),
                        "{name}: decided without staff: {decided:?}"
                    );
                    let mut queued = None;
                    eventually(async || {
                        queued = in_queue(stack, staff, &loan).await;
                        queued.is_some()
                    })
                    .await;
                    let payload = decide(stack, staff, &loan, by_staff).await;
                    assert_eq!(payload["userErrors"], json!([]), "{name}: {payload}");
                    let pushed = pushed(&mut borrower, Duration::from_secs(20))
                        .await
                        .unwrap_or_else(|| panic!("{name}: staff decision not pushed"));
                    let expected = if by_staff == "APPROVE" {
                        "APPROVED"
                    } else {
                        "REJECTED"
                    };
                    assert_eq!(pushed["status"], expected, "{name}: {pushed}");
                    // Deciding again is refused and changes nothing.
                    let again = decide(stack, staff, &loan, "APPROVE").await;
                    let again = again["userErrors"].to_string();
                    assert!(again.contains("ALREADY_DECIDED"), "{name}: {again}");
                }
            }
            let decisions = decisions_of(stack, &loan, 1).await;
            assert_eq!(decisions.len(), 1, "{name}: one decision per loan");
            assert!(
                pushed(&mut borrower, Duration::from_millis(500))
                    .await
                    .is_none(),
                "{name}: one push per decision"
            );
        }
    });
    futures::future::join_all(runs).await;
    assert_replay_matches(&stack).await;
}

#[tokio::test]
async fn killed_deciders_decide_each_loan_exactly_once_after_restart() {
    let mut stack = RouterStack::start_deciding().await;
    let mut borrowers = Vec::new();
    for _ in 0..4 {
        borrowers.push(borrower(&stack, &bureau::clean()).await);
    }

    // Risk dies first (SIGKILL), then credit, while applications keep arriving.
    let deciders = stack.subgraphs.deciders.as_mut().unwrap();
    deciders.risk.kill().await;
    let mut loans = Vec::new();
    for (i, borrower) in borrowers.iter_mut().enumerate() {
        if i == 2 {
            let deciders = stack.subgraphs.deciders.as_mut().unwrap();
            deciders.credit.kill().await;
        }
        let applied =
            apply_when_eligible(&stack, &borrower.token, &Uuid::new_v4().to_string()).await;
        loans.push(applied["loan"]["id"].as_str().unwrap().to_owned());
        let submitted = pushed(borrower, Duration::from_secs(20)).await.unwrap();
        assert_eq!(submitted["status"], "SUBMITTED");
        assert!(
            pushed(borrower, Duration::from_millis(300)).await.is_none(),
            "decided while risk is down"
        );
    }

    // Each restarts under its instance id (static membership) and takes its partitions back at
    // once: the killed members never left their groups, and their 45 s sessions would outlast
    // the 30 s wait below.
    let deciders = stack.subgraphs.deciders.as_mut().unwrap();
    deciders.credit.restart().await;
    deciders.risk.restart().await;
    for (borrower, loan) in borrowers.iter_mut().zip(&loans) {
        let decided = pushed(borrower, Duration::from_secs(30))
            .await
            .unwrap_or_else(|| panic!("loan {loan} not decided after the restart"));
        assert_eq!(decided["status"], "APPROVED", "{decided}");
        assert!(pushed(borrower, Duration::from_millis(300)).await.is_none());
        assert_eq!(decisions_of(&stack, loan, 1).await.len(), 1, "loan {loan}");
    }
    assert_replay_matches(&stack).await;
}

#[tokio::test]
async fn redelivered_submissions_and_answers_make_no_second_evaluation_decision_or_push() {
    let stack = RouterStack::start_deciding().await;
    let mut borrower = borrower(&stack, &bureau::clean()).await;
    let (loan, decided) = apply_and_watch(&stack, &mut borrower).await;
    assert_eq!(decided.unwrap()["status"], "APPROVED");

    // The same CloudEvent again (a redelivery), and a copy with a new event id (a producer that
    // retried after a lost acknowledgement): neither risk nor credit acts twice.
    let topic = &stack.subgraphs.topics.loan;
    let submitted = read_events(topic, Duration::from_secs(10), |events| {
        events.iter().any(|e| e.is::<LoanSubmittedV1>())
    })
    .await
    .into_iter()
    .find(|e| e.is::<LoanSubmittedV1>())
    .unwrap();
    tenor_events::testing::publish(topic, &submitted).await;
    let event: LoanSubmittedV1 = submitted.decode().unwrap();
    let copy = Envelope::new("/tenor/loan", loan.clone(), &event, None).unwrap();
    tenor_events::testing::publish(topic, &copy).await;
    // And risk's answer again, both ways: credit has decided already and stays decided.
    let risk_topic = &stack.subgraphs.topics.risk;
    let evaluated = read_events(risk_topic, Duration::from_secs(10), |events| {
        events.iter().any(|e| e.is::<RiskEvaluatedV1>())
    })
    .await
    .into_iter()
    .find(|e| e.is::<RiskEvaluatedV1>())
    .unwrap();
    tenor_events::testing::publish(risk_topic, &evaluated).await;
    let answer: RiskEvaluatedV1 = evaluated.decode().unwrap();
    let copy = Envelope::new("/tenor/risk", loan.clone(), &answer, None).unwrap();
    tenor_events::testing::publish(risk_topic, &copy).await;

    assert!(
        pushed(&mut borrower, Duration::from_secs(3))
            .await
            .is_none(),
        "a second push"
    );
    assert_eq!(decisions_of(&stack, &loan, 1).await.len(), 1);
    let evaluations = stack
        .deciders()
        .risk_db
        .collection::<mongodb::bson::Document>("risk_evaluations")
        .count_documents(mongodb::bson::doc! { "loan_id": &loan })
        .await
        .unwrap();
    assert_eq!(evaluations, 1);
    assert_replay_matches(&stack).await;
}

#[tokio::test]
async fn the_raw_bureau_report_is_not_plaintext_in_the_store_or_the_logs() {
    let stack = RouterStack::start_deciding().await;
    let mut borrower = borrower(&stack, &bureau::clean()).await;
    let (loan, decided) = apply_and_watch(&stack, &mut borrower).await;
    assert_eq!(decided.unwrap()["status"], "APPROVED");

    // Staff allowed to read the decrypted report take its unique inquiry reference.
    let staff_account = stack
        .staff(&["loan:operate", "risk:read", "risk:raw:read"])
        .await;
    let staff = stack.router.login(&staff_account).await;
    let read = stack
        .gql(
            "query Raw($id: ID!) { loan(id: $id) { riskEvaluations { rawKeyId rawBureauReport } } }",
            json!({ "id": loan }),
            Some(&staff),
        )
        .await;
    let evaluation = &read["data"]["loan"]["riskEvaluations"][0];
    let raw: Value = serde_json::from_str(evaluation["rawBureauReport"].as_str().unwrap())
        .unwrap_or_else(|e| panic!("{e}: {read}"));
    let reference = raw["reference"].as_str().unwrap().to_owned();
    assert!(reference.starts_with("SLIK-"), "{raw}");
    assert!(evaluation["rawKeyId"].is_string(), "{read}");

    // What risk stored, decoded: the loan id is there (the control: the right document), the
    // report's reference is in no string and no binary field.
    let stored = stack
        .deciders()
        .risk_db
        .collection::<mongodb::bson::Document>("risk_evaluations")
        .find_one(mongodb::bson::doc! { "loan_id": &loan })
        .await
        .unwrap()
        .expect("the evaluation");
    let texts = stored_texts(&mongodb::bson::Bson::Document(stored));
    assert!(texts.iter().any(|t| t.contains(&loan)), "{texts:?}");
    assert!(
        !texts.iter().any(|t| t.contains(&reference)),
        "the raw report is stored readable"
    );

    // What the store under the local MongoDB-compatible server holds, as its operator sees it:
    // FerretDB keeps each MongoDB database as a PostgreSQL schema of the same name, one table
    // per collection, each document as JSON in `_jsonb`.
    let store_url = std::env::var("TENOR_FERRETDB_STORE_URL")
        .expect("TENOR_FERRETDB_STORE_URL (eval \"$(./dev env)\")");
    let (store, connection) = tokio_postgres::connect(&store_url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let schema = stack.deciders().risk_db.name().to_owned();
    let tables = store
        .query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = $1",
            &[&schema],
        )
        .await
        .unwrap();
    assert!(
        !tables.is_empty(),
        "no schema {schema} in the FerretDB store"
    );
    let mut rows = Vec::new();
    for table in tables {
        let table: String = table.get(0);
        let query = format!("SELECT _jsonb::text FROM \"{schema}\".\"{table}\"");
        for row in store.query(&query, &[]).await.unwrap() {
            rows.push(row.get::<_, String>(0));
        }
    }
    assert!(rows.iter().any(|r| r.contains(&loan)), "{rows:?}");
    assert!(
        !rows.iter().any(|r| r.contains(&reference)),
        "the raw report is readable in the FerretDB store"
    );
    assert!(
        !stack.deciders().risk.log().contains(&reference),
        "the raw report is in risk's log"
    );
}

/// Every string of a stored value, and every binary field read as text (lossily): where a
/// plaintext report would show.
fn stored_texts(value: &mongodb::bson::Bson) -> Vec<String> {
    use mongodb::bson::Bson;
    match value {
        Bson::String(s) => vec![s.clone()],
        Bson::Binary(b) => vec![String::from_utf8_lossy(&b.bytes).into_owned()],
        Bson::Document(d) => d.values().flat_map(stored_texts).collect(),
        Bson::Array(a) => a.iter().flat_map(stored_texts).collect(),
        _ => vec![],
    }
}

#[tokio::test]
async fn a_human_review_of_an_automatic_rejection_is_decided_by_staff_and_pushed() {
    let stack = RouterStack::start_deciding().await;
    let mut borrower = borrower(&stack, &bureau::low_score()).await;
    let (loan, decided) = apply_and_watch(&stack, &mut borrower).await;
    assert_eq!(decided.unwrap()["status"], "REJECTED");

    const REVIEW: &str = "mutation RequestHumanReview($input: RequestHumanReviewInput!) { requestHumanReview(input: $input) { review { loanId status } userErrors { code } } }";
    let input = json!({ "input": { "loanId": loan, "note": "Saya sudah melunasi kartu kredit" } });

    // Someone else cannot ask for it: their request looks like one for an unknown loan.
    let (_, stranger) = eligible_customer(&stack).await;
    let theirs = stack.gql(REVIEW, input.clone(), Some(&stranger)).await;
    let theirs = theirs["data"]["requestHumanReview"].clone();
    assert!(theirs["review"].is_null(), "{theirs}");
    assert!(
        theirs["userErrors"].to_string().contains("NOT_FOUND"),
        "{theirs}"
    );

    let requested = stack
        .gql(REVIEW, input.clone(), Some(&borrower.token))
        .await;
    let requested = &requested["data"]["requestHumanReview"];
    assert_eq!(requested["userErrors"], json!([]), "{requested}");
    assert_eq!(requested["review"]["status"], "REQUESTED", "{requested}");
    let again = stack.gql(REVIEW, input, Some(&borrower.token)).await;
    assert!(
        again["data"]["requestHumanReview"]["userErrors"]
            .to_string()
            .contains("REVIEW_ALREADY_REQUESTED"),
        "{again}"
    );

    let staff_account = stack.staff(&["credit:decide"]).await;
    let staff = stack.router.login(&staff_account).await;
    let mut queued = None;
    eventually(async || {
        queued = in_queue(&stack, &staff, &loan).await;
        queued.is_some()
    })
    .await;
    let payload = decide(&stack, &staff, &loan, "APPROVE").await;
    assert_eq!(payload["userErrors"], json!([]), "{payload}");

    let pushed = pushed(&mut borrower, Duration::from_secs(20))
        .await
        .expect("the review's decision is pushed");
    assert_eq!(pushed["status"], "APPROVED", "{pushed}");
    assert_eq!(pushed["previousStatus"], "REJECTED", "{pushed}");
    let decisions = decisions_of(&stack, &loan, 2).await;
    assert_eq!(decisions.len(), 2, "the automatic rejection and the review");
    assert_eq!(
        decisions[1].reviews_decision,
        Some(decisions[0].decision_id)
    );
    assert_replay_matches(&stack).await;
}
