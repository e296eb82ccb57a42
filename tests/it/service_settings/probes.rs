//! What shows that a value took effect: one check per [`Probe`].

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use uuid::Uuid;

use super::Svc::*;
use super::running::{
    Running, claims, close, error_codes, eventually, header, http, register_and_login,
    seconds_between, user_error_codes,
};
use super::world::{Extra, World, mongo_database, redis_with_db};
use super::{Probe, UploadCheck};

/// A query that needs a verified token, per service.
async fn authenticated_query(running: &Running, token: &str) -> Value {
    let query = match running.svc {
        User => "{ me { id } }",
        Kyc => {
            "mutation { requestKycUpload(kind: DOCUMENT_FRONT) { upload { url } userErrors { code } } }"
        }
        Loan => "query($id: ID!) { loan(id: $id) { id } }",
        Auth => "{ mySessions(first: 1) { edges { node { id } } } }",
        // An unknown loan: a userError, nothing stored.
        Credit => {
            "mutation($id: ID!) { requestHumanReview(input: { loanId: $id }) { review { loanId } userErrors { code } } }"
        }
        // Staff only (`risk:raw:read`): a verified customer is FORBIDDEN.
        Risk => "query($id: ID!) { riskAccessLog(loanId: $id) { nodes { id } } }",
        // The customer's own inbox (empty): only a verified caller gets a count.
        Notification => "{ unreadNotificationCount }",
    };
    running
        .gql(
            query,
            json!({ "id": Uuid::now_v7().to_string() }),
            Some(token),
        )
        .await
}

async fn upload_link(running: &Running, token: &str) -> Result<Value, String> {
    let response = running
        .gql(
            "mutation { requestKycUpload(kind: DOCUMENT_FRONT) { upload { url expiresAt maxBytes } userErrors { code } } }",
            Value::Null,
            Some(token),
        )
        .await;
    let upload = &response["data"]["requestKycUpload"]["upload"];
    if upload.is_null() {
        return Err(format!("requestKycUpload failed: {response}"));
    }
    Ok(upload.clone())
}

async fn quote(running: &Running, amount: i64, tenor: i32) -> Value {
    let response = running
        .gql(
            "query($a: Int!, $t: Int!) { quoteLoan(amount: $a, tenorMonths: $t) { quote { totalInterest totalFee installments { amount } } userErrors { code } } }",
            json!({ "a": amount, "t": tenor }),
            None,
        )
        .await;
    response["data"]["quoteLoan"].clone()
}

async fn redis_ttl(db: u8, key: &str) -> Result<i64, String> {
    let client = redis::Client::open(redis_with_db(db)).map_err(|e| e.to_string())?;
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .map_err(|e| e.to_string())?;
    redis::cmd("TTL")
        .arg(key)
        .query_async(&mut conn)
        .await
        .map_err(|e| e.to_string())
}

/// Checks that the value took effect.
pub(super) async fn probe(
    probe: Probe,
    running: &Running,
    world: &World,
    extra: &Extra,
) -> Result<(), String> {
    let shared_token = &world.customer.as_ref().unwrap().access_token;
    match probe {
        Probe::StartOnly(_) | Probe::Port => Ok(()),
        Probe::Host => {
            let other = running.url.replace("127.0.0.2", "127.0.0.1");
            match http().get(format!("{other}/health")).send().await {
                Ok(_) => Err(format!("also answers on {other}")),
                Err(_) => Ok(()),
            }
        }
        Probe::Migrated => {
            let url = extra.database.as_ref().unwrap().url().to_owned();
            // Retried: a connection can be refused transiently while the machine is loaded.
            eventually("migrations recorded in the given database", async || {
                let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                    .await
                    .map_err(|e| format!("connecting: {e:?}"))?;
                tokio::spawn(connection);
                let rows = client
                    .query("SELECT count(*) FROM __diesel_schema_migrations", &[])
                    .await
                    .map_err(|e| format!("the given database was not migrated: {e}"))?;
                Ok(rows[0].get::<_, i64>(0) > 0)
            })
            .await
        }
        Probe::MongoIndexed => {
            let name = extra.mongo_database.clone().unwrap();
            let db = mongo_database(&name).await?;
            let expected: &[&str] = match running.svc {
                Notification => &["notifications", "notification_inbox", "templates"],
                _ => &["raw_access_log", "risk_evaluations", "risk_requests"],
            };
            let mut seen = Vec::new();
            eventually(
                &format!("{}'s collections in database {name}", running.svc.name()),
                async || {
                    seen = db
                        .list_collection_names()
                        .await
                        .map_err(|e| format!("listing collections: {e}"))?;
                    Ok(expected.iter().all(|c| seen.iter().any(|s| s == c)))
                },
            )
            .await
            .map_err(|e| format!("{e}; collections: {seen:?}"))
        }
        Probe::PrettyLogs => {
            eventually("a log line", async || {
                Ok(!running.stdout().trim().is_empty())
            })
            .await?;
            let stdout = running.stdout();
            if stdout.lines().any(|l| l.trim_start().starts_with('{')) {
                Err(format!("JSON lines with LOG_FORMAT=pretty:\n{stdout}"))
            } else {
                Ok(())
            }
        }
        Probe::DebugLogs => {
            eventually("a DEBUG log line", async || {
                Ok(running.stdout().contains("\"level\":\"DEBUG\""))
            })
            .await
        }
        Probe::AcceptsSharedTokens => {
            let response = authenticated_query(running, shared_token).await;
            let codes = error_codes(&response);
            let verified = match running.svc {
                // The scope check comes after verification: FORBIDDEN means the token passed.
                Risk => codes == ["FORBIDDEN"],
                _ => codes.is_empty() && !response["data"].is_null(),
            };
            if verified {
                Ok(())
            } else {
                Err(format!("the shared auth's token was refused: {response}"))
            }
        }
        Probe::RefusesSharedTokens => {
            let response = authenticated_query(running, shared_token).await;
            if error_codes(&response).contains(&"UNAUTHENTICATED".to_owned()) {
                Ok(())
            } else {
                Err(format!(
                    "a token for another issuer/audience was accepted: {response}"
                ))
            }
        }
        Probe::TokenClaim(claim, expected) => {
            let (access, _) = register_and_login(running).await?;
            let claims = claims(&access);
            if claims[claim] == expected {
                Ok(())
            } else {
                Err(format!(
                    "token claims {claims}: {claim} is not {expected:?}"
                ))
            }
        }
        Probe::TokenLifetime(seconds) => {
            let (access, _) = register_and_login(running).await?;
            let claims = claims(&access);
            let lifetime =
                claims["exp"].as_i64().unwrap_or(0) - claims["iat"].as_i64().unwrap_or(0);
            if lifetime == seconds {
                Ok(())
            } else {
                Err(format!(
                    "token lifetime {lifetime} s, expected {seconds} s: {claims}"
                ))
            }
        }
        Probe::SigningKeys { kid, keys } => {
            let (access, _) = register_and_login(running).await?;
            let header = header(&access);
            let jwks: Value = http()
                .get(format!("{}/.well-known/jwks.json", running.url))
                .send()
                .await
                .map_err(|e| e.to_string())?
                .json()
                .await
                .map_err(|e| e.to_string())?;
            let published = jwks["keys"].as_array().map_or(0, Vec::len);
            if header["kid"] == kid && published == keys {
                Ok(())
            } else {
                Err(format!(
                    "token header {header}, JWKS {jwks}: expected kid {kid} and {keys} keys"
                ))
            }
        }
        Probe::SessionLifetime(seconds) => {
            let (access, _) = register_and_login(running).await?;
            let response = running
                .gql(
                    "{ mySessions(first: 1) { edges { node { createdAt expiresAt } } } }",
                    Value::Null,
                    Some(&access),
                )
                .await;
            let node = &response["data"]["mySessions"]["edges"][0]["node"];
            let lifetime = seconds_between(
                node["createdAt"].as_str().unwrap_or_default(),
                node["expiresAt"].as_str().unwrap_or_default(),
            )?;
            if close(lifetime, seconds, 5) {
                Ok(())
            } else {
                Err(format!("session lifetime {lifetime} s: {response}"))
            }
        }
        Probe::StrictRefresh => {
            let (_, first) = register_and_login(running).await?;
            let refresh = async |token: &str| {
                running
                    .gql(
                        "mutation($r: String!) { refreshToken(refreshToken: $r) { tokens { refreshToken } userErrors { code } } }",
                        json!({ "r": token }),
                        None,
                    )
                    .await["data"]["refreshToken"]
                    .clone()
            };
            let rotated = refresh(&first).await;
            if rotated["tokens"].is_null() {
                return Err(format!("refresh failed: {rotated}"));
            }
            // With the default 10 s grace this retry would get tokens.
            let retried = refresh(&first).await;
            if retried["tokens"].is_null() && !user_error_codes(&retried).is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "the previous refresh token still worked: {retried}"
                ))
            }
        }
        Probe::BiometricChallengeLifetime(seconds) => {
            use p256::pkcs8::EncodePublicKey;
            let (access, _) = register_and_login(running).await?;
            let key = p256::ecdsa::SigningKey::random(&mut rand::rngs::OsRng);
            let public_key =
                STANDARD.encode(key.verifying_key().to_public_key_der().unwrap().as_bytes());
            let device_id = format!("android-{}", Uuid::new_v4().simple());
            let enrolled = running
                .gql(
                    "mutation($i: RegisterBiometricDeviceInput!) { registerBiometricDevice(input: $i) { device { deviceId } userErrors { code } } }",
                    json!({ "i": { "deviceId": device_id, "publicKey": public_key, "name": "Pixel 7" } }),
                    Some(&access),
                )
                .await;
            if enrolled["data"]["registerBiometricDevice"]["device"].is_null() {
                return Err(format!("enrolment failed: {enrolled}"));
            }
            let now = chrono::Utc::now().to_rfc3339();
            let challenge = running
                .gql(
                    "mutation($d: String!) { biometricChallenge(deviceId: $d) { nonce expiresAt userErrors { code } } }",
                    json!({ "d": device_id }),
                    None,
                )
                .await;
            let expires = challenge["data"]["biometricChallenge"]["expiresAt"]
                .as_str()
                .unwrap_or_default();
            let lifetime = seconds_between(&now, expires)?;
            if close(lifetime, seconds, 5) {
                Ok(())
            } else {
                Err(format!("challenge lifetime {lifetime} s: {challenge}"))
            }
        }
        Probe::Revocation { db, prefix, ttl } => {
            let (access, _) = register_and_login(running).await?;
            let sid = claims(&access)["sid"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let logout = running
                .gql("mutation { logout { ok } }", Value::Null, Some(&access))
                .await;
            if logout["data"]["logout"]["ok"] != true {
                return Err(format!("logout failed: {logout}"));
            }
            let key = format!("{prefix}:session:{sid}");
            let mut seen = -2;
            eventually(&format!("{key} in Redis database {db}"), async || {
                seen = redis_ttl(db, &key).await?;
                Ok(seen > 0)
            })
            .await?;
            if close(seen, ttl, 10) {
                Ok(())
            } else {
                Err(format!("{key} has TTL {seen} s, expected about {ttl} s"))
            }
        }
        Probe::PublishesRegistrations => {
            let topic = extra.topic.clone().unwrap();
            register_and_login(running).await?;
            let received =
                tenor_events::testing::read_until(&topic, Duration::from_secs(15), |r| {
                    !r.is_empty()
                })
                .await;
            if received.is_empty() {
                Err(format!("nothing published on {topic}"))
            } else {
                Ok(())
            }
        }
        Probe::ConsumesRegistrations => {
            eventually("the shared customer's profile", async || {
                let response = running
                    .gql("{ me { id } }", Value::Null, Some(shared_token))
                    .await;
                Ok(!response["data"]["me"]["id"].is_null())
            })
            .await
        }
        Probe::ObjectDirectory => {
            let dir = extra.directory.as_ref().unwrap();
            if dir.is_dir() {
                Ok(())
            } else {
                Err(format!("{} was not created", dir.display()))
            }
        }
        Probe::UploadLink(check) => {
            let upload = upload_link(running, shared_token).await?;
            let ok = match check {
                UploadCheck::UrlStartsWith(prefix) => upload["url"]
                    .as_str()
                    .unwrap_or_default()
                    .starts_with(prefix),
                UploadCheck::MaxBytes(bytes) => upload["maxBytes"] == bytes,
                UploadCheck::LifetimeSeconds(seconds) => close(
                    seconds_between(
                        &chrono::Utc::now().to_rfc3339(),
                        upload["expiresAt"].as_str().unwrap_or_default(),
                    )?,
                    seconds,
                    5,
                ),
            };
            if ok {
                Ok(())
            } else {
                Err(format!("{check:?} does not hold for {upload}"))
            }
        }
        Probe::QuoteRefused(amount, tenor, code) => {
            let payload = quote(running, amount, tenor).await;
            if user_error_codes(&payload) == [code] {
                Ok(())
            } else {
                Err(format!("quoteLoan({amount}, {tenor}): {payload}"))
            }
        }
        Probe::QuoteIs(amount, tenor, field, expected) => {
            let payload = quote(running, amount, tenor).await;
            if payload["quote"][field] == expected {
                Ok(())
            } else {
                Err(format!(
                    "quoteLoan({amount}, {tenor}).{field} is not {expected}: {payload}"
                ))
            }
        }
        Probe::InstallmentsRoundedTo(amount, tenor, unit) => {
            let payload = quote(running, amount, tenor).await;
            let installments: Vec<i64> = payload["quote"]["installments"]
                .as_array()
                .map(|a| a.iter().filter_map(|i| i["amount"].as_i64()).collect())
                .unwrap_or_default();
            let all_but_last = &installments[..installments.len().saturating_sub(1)];
            if !all_but_last.is_empty() && all_but_last.iter().all(|a| a % unit == 0) {
                Ok(())
            } else {
                Err(format!("installments not multiples of {unit}: {payload}"))
            }
        }
    }
}
