//! The accounts, tokens, device, challenge and uploads every case draws on, and a valid recipe
//! for each mutation into which one hostile value is put.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use p256::ecdsa::SigningKey;
use p256::pkcs8::EncodePublicKey;
use serde_json::{Value, json};
use tenor_harness::journeys::fresh_nik;
use tenor_harness::{Account, PASSWORD, Subgraphs, post_graphql};
use uuid::Uuid;

#[derive(Clone, Copy)]
pub(super) enum Who {
    Anonymous,
    Customer,
    Submitter,
    UserAdmin,
    KycReviewer,
    LoanOperator,
    CreditOfficer,
    NotificationAdmin,
}

pub(super) struct World {
    pub(super) stack: Subgraphs,
    pub(super) customer: Account,
    pub(super) tokens: BTreeMap<&'static str, String>,
    device_id: String,
    public_key: String,
    nonce: String,
    refresh_token: String,
    uploads: (String, String),
}

impl World {
    pub(super) fn token(&self, who: Who) -> Option<&str> {
        let key = match who {
            Who::Anonymous => return None,
            Who::Customer => "customer",
            Who::Submitter => "submitter",
            Who::UserAdmin => "user_admin",
            Who::KycReviewer => "kyc_reviewer",
            Who::LoanOperator => "loan_operator",
            Who::CreditOfficer => "credit_officer",
            Who::NotificationAdmin => "notification_admin",
        };
        Some(&self.tokens[key])
    }

    pub(super) fn url(&self, mutation: &str) -> String {
        if let "recordManualScore" | "decideLoan" | "requestHumanReview" = mutation {
            let credit = &self.stack.deciders.as_ref().expect("credit runs").credit;
            return credit.graphql_url();
        }
        if let "markNotificationRead"
        | "markAllNotificationsRead"
        | "createNotificationTemplateVersion"
        | "previewNotificationTemplate"
        | "activateNotificationTemplateVersion" = mutation
        {
            let notification = self.stack.notification.as_ref().expect("notification runs");
            return notification.process.graphql_url();
        }
        let base = match mutation {
            "requestKycUpload" | "submitKyc" | "reviewKyc" => &self.stack.kyc_url,
            "applyLoan" | "cancelLoan" | "disburseLoan" | "payInstallment" => &self.stack.loan_url,
            "updateProfile" | "deleteMyAccount" | "blockUser" | "unblockUser" => {
                &self.stack.user_url
            }
            _ => &self.stack.auth_url,
        };
        format!("{base}/graphql")
    }

    /// The valid arguments of `mutation` (fresh where a success would be unique), when the
    /// value at `path` is the one under test. `None`: no recipe (the test fails).
    pub(super) fn recipe(&self, mutation: &str, path: &[String]) -> Option<(Who, Value)> {
        let fresh = Uuid::new_v4().simple().to_string();
        let n = Uuid::new_v4().as_u128();
        let unknown = Uuid::now_v7().to_string();
        Some(match mutation {
            "register" => (
                Who::Anonymous,
                json!({ "input": {
                    "fullname": "Siti Rahayu",
                    "email": format!("walk{}@example.id", n % 1_000_000_000_000),
                    "phoneNumber": format!("0813{:08}", n % 100_000_000),
                    "password": PASSWORD,
                } }),
            ),
            // A refused identifier or password is tried on an account that does not exist (a
            // wrong password on a real one legitimately counts towards its lockout); the device
            // fields with the real account and password, so nothing but them is wrong.
            "login" => {
                let identifier = if path.get(1).is_some_and(|p| p == "device") {
                    self.customer.identifier.clone()
                } else {
                    format!("nobody{}@example.id", n % 1_000_000_000)
                };
                (
                    Who::Anonymous,
                    json!({ "input": {
                        "identifier": identifier,
                        "password": PASSWORD,
                        "device": { "id": "walk-device-1", "name": "Pixel 7" },
                    } }),
                )
            }
            "refreshToken" => (
                Who::Anonymous,
                json!({ "refreshToken": self.refresh_token }),
            ),
            "revokeSession" => (Who::Customer, json!({ "id": unknown })),
            "changePassword" => (
                Who::Customer,
                json!({ "input": { "currentPassword": PASSWORD, "newPassword": "teh manis di sore hari" } }),
            ),
            "registerBiometricDevice" => (
                Who::Customer,
                json!({ "input": { "deviceId": format!("android-{fresh}"), "publicKey": self.public_key, "name": "Pixel 7" } }),
            ),
            "biometricChallenge" => (Who::Anonymous, json!({ "deviceId": self.device_id })),
            "biometricLogin" => (
                Who::Anonymous,
                json!({ "input": {
                    "deviceId": self.device_id,
                    "nonce": self.nonce,
                    "signature": STANDARD.encode([7u8; 64]),
                } }),
            ),
            "revokeBiometricDevice" => (Who::Customer, json!({ "deviceId": self.device_id })),
            "submitKyc" => (
                Who::Submitter,
                json!({ "input": {
                    "documentType": "KTP",
                    "documentNumber": fresh_nik(),
                    "documentUploadId": self.uploads.0,
                    "selfieUploadId": self.uploads.1,
                } }),
            ),
            "reviewKyc" => (
                Who::KycReviewer,
                json!({ "kycId": unknown, "decision": "REJECT", "reason": "blurry photo" }),
            ),
            "applyLoan" => (
                Who::Customer,
                json!({ "amount": 2_000_000, "tenorMonths": 3, "purpose": "modal usaha warung", "idempotencyKey": format!("walk-{fresh}") }),
            ),
            "cancelLoan" => (Who::Customer, json!({ "id": unknown })),
            "disburseLoan" => (Who::LoanOperator, json!({ "id": unknown })),
            "payInstallment" => (
                Who::Customer,
                json!({ "loanId": unknown, "amount": 100_000, "idempotencyKey": format!("pay-{fresh}") }),
            ),
            "updateProfile" => (
                Who::Customer,
                json!({ "input": { "fullname": "Siti Rahayu Putri" } }),
            ),
            "blockUser" => (
                Who::UserAdmin,
                json!({ "id": self.customer.user_id, "reason": "fraud review" }),
            ),
            "unblockUser" => (Who::UserAdmin, json!({ "id": self.customer.user_id })),
            "recordManualScore" => (
                Who::CreditOfficer,
                json!({ "input": { "loanId": unknown, "score": 650, "reason": "payslips checked" } }),
            ),
            "decideLoan" => (
                Who::CreditOfficer,
                json!({ "input": { "loanId": unknown, "decision": "APPROVE",
                    "reasonCode": "INCOME_VERIFIED", "note": "payslips checked" } }),
            ),
            "requestHumanReview" => (
                Who::Customer,
                json!({ "input": { "loanId": unknown, "note": "saya sudah melunasi" } }),
            ),
            "markNotificationRead" => (Who::Customer, json!({ "input": { "id": unknown } })),
            // A valid new version of a template that exists, so that only the value under test
            // is wrong; previewing the same with a time zone.
            "createNotificationTemplateVersion" => (
                Who::NotificationAdmin,
                json!({ "input": template_version() }),
            ),
            "previewNotificationTemplate" => {
                let mut input = template_version();
                input["timeZone"] = json!("WITA");
                (Who::NotificationAdmin, json!({ "input": input }))
            }
            // The version seeded at start-up: activating it again would be valid.
            "activateNotificationTemplateVersion" => (
                Who::NotificationAdmin,
                json!({ "input": { "eventType": "loan.approved.v1", "channel": "SMS",
                    "language": "ID", "version": 1 } }),
            ),
            _ => return None,
        })
    }
}

/// A template version notification accepts: a known event, channel and language, a title and a
/// body using the event's variables.
fn template_version() -> Value {
    json!({
        "eventType": "loan.approved.v1",
        "channel": "SMS",
        "language": "ID",
        "title": "Pinjaman disetujui",
        "body": "Halo {{ name }}, pinjaman {{ amount | rupiah }} Anda disetujui.",
    })
}

/// A document and selfie the simulated vendor verifies, uploaded for `token`: the upload ids.
async fn upload_pair(stack: &Subgraphs, token: &str) -> (String, String) {
    let (document, selfie) = tenor_harness::journeys::matching_images();
    let mut ids = Vec::new();
    for (kind, bytes) in [("DOCUMENT_FRONT", document), ("SELFIE", selfie)] {
        let response = post_graphql(
            &format!("{}/graphql", stack.kyc_url),
            "mutation($k: KycUploadKind!) { requestKycUpload(kind: $k) { upload { uploadId url } } }",
            json!({ "k": kind }),
            Some(token),
        )
        .await;
        let upload = &response["data"]["requestKycUpload"]["upload"];
        let put = reqwest::Client::new()
            .put(
                upload["url"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{response}")),
            )
            .body(bytes)
            .send()
            .await
            .unwrap();
        assert_eq!(put.status(), 200);
        ids.push(upload["uploadId"].as_str().unwrap().to_owned());
    }
    (ids[0].clone(), ids[1].clone())
}

pub(super) async fn setup() -> World {
    // Credit, risk and notification too: their mutations are walked like every other.
    let stack = Subgraphs::start_deciding().await;
    let customer = stack.customer().await;
    let submitter = stack.customer().await;
    let mut tokens = BTreeMap::new();
    let customer_token = stack.token(&customer).await;
    tokens.insert("customer", customer_token.clone());
    tokens.insert("submitter", stack.token(&submitter).await);
    for (key, scope) in [
        ("user_admin", "user:admin"),
        ("kyc_reviewer", "kyc:review"),
        ("loan_operator", "loan:operate"),
        ("credit_officer", "credit:decide"),
        ("notification_admin", "notification:admin"),
    ] {
        let staff = stack.staff(&[scope]).await;
        tokens.insert(key, stack.token(&staff).await);
    }
    let refresh = stack.customer().await;
    let login = post_graphql(
        &format!("{}/graphql", stack.auth_url),
        tenor_harness::LOGIN,
        json!({ "i": { "identifier": refresh.identifier, "password": refresh.password } }),
        None,
    )
    .await;
    let refresh_token = login["data"]["login"]["tokens"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();

    // The customer: KYC verified (so applyLoan's purpose reaches the insert), a biometric
    // device with an open challenge.
    let (document, selfie) = upload_pair(&stack, &customer_token).await;
    let submitted = post_graphql(
        &format!("{}/graphql", stack.kyc_url),
        "mutation($i: SubmitKycInput!) { submitKyc(input: $i) { userErrors { code } } }",
        json!({ "i": { "documentType": "KTP", "documentNumber": fresh_nik(), "documentUploadId": document, "selfieUploadId": selfie } }),
        Some(&customer_token),
    )
    .await;
    assert_eq!(
        submitted["data"]["submitKyc"]["userErrors"],
        json!([]),
        "{submitted}"
    );
    let key = SigningKey::random(&mut rand::rngs::OsRng);
    let public_key = STANDARD.encode(key.verifying_key().to_public_key_der().unwrap().as_bytes());
    let device_id = format!("android-{}", Uuid::new_v4().simple());
    let enrolled = post_graphql(
        &format!("{}/graphql", stack.auth_url),
        "mutation($i: RegisterBiometricDeviceInput!) { registerBiometricDevice(input: $i) { userErrors { code } } }",
        json!({ "i": { "deviceId": device_id, "publicKey": public_key, "name": "Pixel 7" } }),
        Some(&customer_token),
    )
    .await;
    assert_eq!(
        enrolled["data"]["registerBiometricDevice"]["userErrors"],
        json!([]),
        "{enrolled}"
    );
    let challenge = post_graphql(
        &format!("{}/graphql", stack.auth_url),
        "mutation($d: String!) { biometricChallenge(deviceId: $d) { nonce } }",
        json!({ "d": device_id }),
        None,
    )
    .await;
    let nonce = challenge["data"]["biometricChallenge"]["nonce"]
        .as_str()
        .unwrap()
        .to_owned();
    let submitter_token = tokens["submitter"].clone();
    let uploads = upload_pair(&stack, &submitter_token).await;

    World {
        stack,
        customer,
        tokens,
        device_id,
        public_key,
        nonce,
        refresh_token,
        uploads,
    }
}
