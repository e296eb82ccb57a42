//! The raw bureau report is stored only encrypted, bound to its evaluation, and never reaches
//! the logs — not when it is stored, not when staff read it.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tenor_platform::vault::{CryptoError, Key32, Vault};
use tenor_risk::crypto::open_report;
use tenor_risk::store::SealedReport;
use tenor_risk::testing::*;
use uuid::Uuid;

use crate::events_for;

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

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// A file whose strings appear nowhere else: a lender and a product only this test uses.
fn distinctive() -> BureauProfile {
    let mut profile = borderline();
    profile.facilities[0].lender = "Koperasi Simpan Pinjam Melati Rahasia".into();
    profile.facilities[0].kind = "KREDIT_RAHASIA_UJI".into();
    profile
}

// A current-thread runtime: the service's tasks run on this thread, so the thread-local
// subscriber sees their logs without installing a process-wide one.
#[tokio::test]
async fn the_raw_report_is_encrypted_at_rest_and_kept_out_of_the_logs() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    // With a single registered dispatcher, tracing-core decides a callsite's interest from the
    // default of whichever thread reaches it first — another test's thread, without a
    // subscriber, would switch the callsite off for good. A second dispatcher makes it ask
    // every dispatcher instead.
    let _second = tracing::Dispatch::new(tracing_subscriber::registry());

    let service = TestService::start().await;
    let user = Uuid::new_v4();
    service.set_profile(user, &distinctive()).await;
    let (loan, _) = service.submit_loan(user).await;
    assert_eq!(
        events_for(&service, loan, 1, Duration::from_secs(20))
            .await
            .len(),
        1
    );

    // The stored bytes hold none of the report's strings.
    let stored = service.evaluation_bytes(loan).await;
    assert_eq!(stored.len(), 1);
    for secret in [
        "Koperasi Simpan Pinjam Melati Rahasia",
        "KREDIT_RAHASIA_UJI",
        "SLIK-",
    ] {
        assert!(!contains(&stored[0], secret), "{secret} stored in clear");
    }
    // It opens with the master key, bound to its own evaluation id only.
    let document = &service.evaluation_documents(loan).await[0];
    let raw = document.get_document("raw_score").unwrap();
    assert_eq!(raw.get_str("key_id").unwrap(), "risk-1");
    let sealed = SealedReport {
        key_id: "risk-1".into(),
        ciphertext: raw.get_binary_generic("ciphertext").unwrap().clone(),
    };
    let vault = Vault::new("risk-1", service.master_key.parse::<Key32>().unwrap());
    let evaluation_id: Uuid = document.get_str("_id").unwrap().parse().unwrap();
    let opened = open_report(&vault, evaluation_id, &sealed).unwrap();
    let report: serde_json::Value = serde_json::from_str(&opened).unwrap();
    assert_eq!(
        report["facilities"][0]["lender"],
        "Koperasi Simpan Pinjam Melati Rahasia"
    );
    assert_eq!(
        open_report(&vault, Uuid::now_v7(), &sealed),
        Err(CryptoError::Authentication),
        "moved to another evaluation, it does not open"
    );

    // Staff read it: logged as a read, the content stays out of the log.
    let token = service.token(Uuid::new_v4(), "risk:read risk:raw:read");
    let response = service
        .risk_evaluations(Some(&token), &[loan], "rawBureauReport", "RawFile")
        .await;
    let text = response["data"]["_entities"][0]["riskEvaluations"][0]["rawBureauReport"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(text.contains("Koperasi Simpan Pinjam Melati Rahasia"));

    let logs = captured.0.lock().unwrap().clone();
    assert!(
        contains(&logs, "risk evaluation recorded"),
        "the capture works: {}",
        String::from_utf8_lossy(&logs[..logs.len().min(3000)])
    );
    assert!(
        contains(&logs, "raw bureau report read"),
        "the read is logged: {}",
        String::from_utf8_lossy(&logs[logs.len().saturating_sub(4000)..])
    );
    for secret in [
        "Koperasi Simpan Pinjam Melati Rahasia",
        "KREDIT_RAHASIA_UJI",
        "SLIK-",
        service.master_key.as_str(),
    ] {
        assert!(!contains(&logs, secret), "{secret} reached the logs");
    }
}
