//! Risk's side of the data-subject request (docs/conventions.md § Data-subject requests):
//! `myRiskAssessmentData` gives the caller the bureau checks of their own loans — level and
//! the bureau's summary, never the raw report — and who read the raw report.

use std::time::Duration;

use serde_json::json;
use tenor_risk::testing::*;
use uuid::Uuid;

use crate::events_for;

const EXPORT: &str = "query MyDataExport { myRiskAssessmentData {
    assessments { loanId bureau outcome riskLevel bureauSummary { activePlatforms } }
    rawReportReads { actorId loanId } } }";

#[tokio::test]
async fn the_owner_exports_their_checks_and_who_read_the_raw_report() {
    let service = TestService::start().await;
    let borrower = Uuid::new_v4();
    let other = Uuid::new_v4();
    service.set_profile(borrower, &many_platforms()).await;
    let (loan, _) = service.submit_loan(borrower).await;
    let (their_loan, _) = service.submit_loan(other).await;
    events_for(&service, loan, 1, Duration::from_secs(20)).await;
    events_for(&service, their_loan, 1, Duration::from_secs(20)).await;
    // A staff member reads the raw report: the borrower sees that it was read, and by whom.
    let analyst = Uuid::new_v4();
    let read = service
        .risk_evaluations(
            Some(&service.token(analyst, "risk:read risk:raw:read")),
            &[loan],
            "id rawBureauReport",
            "RawFile",
        )
        .await;
    assert!(read["errors"].is_null(), "{read}");

    let token = service.token(borrower, "loan:apply kyc:submit");
    let response = service.client.query(Some(&token), EXPORT, json!({})).await;
    assert!(response["errors"].is_null(), "{response}");
    let export = &response["data"]["myRiskAssessmentData"];
    let assessments = export["assessments"].as_array().unwrap();
    assert_eq!(assessments.len(), 1, "{export}");
    assert_eq!(assessments[0]["loanId"], loan.to_string());
    assert_eq!(assessments[0]["bureau"], "simulated-slik");
    assert_eq!(assessments[0]["outcome"], "EVALUATED");
    assert!(assessments[0]["bureauSummary"]["activePlatforms"].as_i64() >= Some(3));
    assert_eq!(
        export["rawReportReads"],
        json!([{ "actorId": analyst.to_string(), "loanId": loan.to_string() }])
    );
    assert!(!response.to_string().contains(&their_loan.to_string()));
    // The raw report is not part of the schema of the export.
    let raw = service
        .client
        .query(
            Some(&token),
            "query { myRiskAssessmentData { assessments { rawBureauReport } } }",
            json!({}),
        )
        .await;
    assert!(raw["errors"].is_array(), "{raw}");
}
