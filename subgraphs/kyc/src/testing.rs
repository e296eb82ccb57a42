//! Test support (feature `test-support`): this subgraph running in-process against the stack's
//! PostgreSQL and Kafka, with a local object directory — each test gets its own database,
//! topic, object directory, keys and token issuer — plus images that land the simulated
//! vendor's score where a test needs it. Used by this crate's `tests/it`.
//!
//! (About 400 lines: start/restart, the upload-and-submit steps and the waits read best as one
//! `TestService`.)

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tenor_events::Envelope;
use tenor_events::kafka::ensure_topics;
use tenor_platform::config::Env;
pub use tenor_platform::testing::{GraphqlClient, error_code, user_error_codes};
use tenor_platform::testing::{TestDatabase, TestIssuer, kafka_brokers};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::KycConfig;
use crate::crypto::Key32;
use crate::schema::LoaderStats;
use crate::vendor::{KycVerifier, SimulatedKycVendor};

pub const CUSTOMER_SCOPES: &str = "loan:apply kyc:submit";
/// A NIK that passes every structural rule (Kab. Bogor, born 12-03-1990, male).
pub const NIK: &str = "3201011203900001";

/// A fresh database with the outbox/inbox and KYC migrations applied.
pub async fn database() -> TestDatabase {
    tenor_events::testing::service_database("kyc", crate::MIGRATIONS).await
}

/// One running KYC service and everything it was started with.
pub struct TestService {
    pub db: TestDatabase,
    pub issuer: TestIssuer,
    pub topic: String,
    /// The `user.events` this service consumes (a deleted account erases its KYC data).
    pub user_topic: String,
    pub objects_dir: PathBuf,
    pub base_url: String,
    /// GraphQL as the router would send it (`/graphql` of this service).
    pub client: GraphqlClient,
    pub loader_stats: Arc<LoaderStats>,
    extra_env: Vec<(String, String)>,
    keys: [String; 3],
    /// Plain HTTP, for the signed upload/download URLs.
    pub http: reqwest::Client,
    shutdown: CancellationToken,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl TestService {
    pub async fn start() -> Self {
        Self::start_with(&[], Arc::new(SimulatedKycVendor)).await
    }

    /// With extra environment variables (e.g. a short URL lifetime) and a vendor.
    pub async fn start_with(extra_env: &[(&str, &str)], vendor: Arc<dyn KycVerifier>) -> Self {
        tenor_platform::crypto::install_providers();
        let db = database().await;
        let issuer = TestIssuer::start().await;
        let run = Uuid::new_v4().simple();
        let topic = format!("test.{run}.kyc.events");
        let user_topic = format!("test.{run}.user.events");
        ensure_topics(&kafka_brokers(), &[(&topic, 1), (&user_topic, 1)])
            .await
            .expect("creating the test topic (is the stack up? `./dev up`)");
        let objects_dir = std::env::temp_dir().join(format!("tenor-kyc-test-{run}"));
        let keys = [
            Key32::random().to_base64(),
            Key32::random().to_base64(),
            Key32::random().to_base64(),
        ];
        let mut service = Self {
            db,
            issuer,
            topic,
            user_topic,
            objects_dir,
            base_url: String::new(),
            // Pointed at the real port by `launch`, once the listener is bound.
            client: GraphqlClient::new("http://127.0.0.1:0"),
            loader_stats: Arc::default(),
            extra_env: extra_env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            keys,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            shutdown: CancellationToken::new(),
            task: None,
        };
        service.launch(vendor).await;
        service
    }

    fn config(&self) -> KycConfig {
        let mut pairs: Vec<(String, String)> = vec![
            ("KYC_DATABASE_URL".into(), self.db.url().to_owned()),
            ("KAFKA_BROKERS".into(), kafka_brokers()),
            ("KYC_EVENTS_TOPIC".into(), self.topic.clone()),
            ("USER_EVENTS_TOPIC".into(), self.user_topic.clone()),
            // Its own consumer group per test: parallel tests must not rebalance one group.
            (
                "CONSUMER_GROUP_PREFIX".into(),
                format!("test-{}-", self.user_topic),
            ),
            ("CONSUMER_INITIAL_BACKOFF".into(), "50ms".into()),
            (
                "KYC_OBJECT_STORE_URL".into(),
                format!("file://{}", self.objects_dir.display()),
            ),
            ("KYC_MASTER_KEY".into(), self.keys[0].clone()),
            ("KYC_BLIND_INDEX_KEY".into(), self.keys[1].clone()),
            ("KYC_URL_SIGNING_KEY".into(), self.keys[2].clone()),
            ("DB_MAX_CONNECTIONS".into(), "6".into()),
            ("KYC_VERIFICATION_POLL_INTERVAL".into(), "200ms".into()),
            ("KYC_EXPIRY_CHECK_INTERVAL".into(), "200ms".into()),
        ];
        pairs.extend(self.extra_env.iter().cloned());
        let mut env = Env::from_pairs(pairs);
        let config = KycConfig::from_env(&mut env);
        let mut config = env.finish(config).expect("test configuration");
        config.verifier = self.issuer.verifier_config();
        config.loader_stats = self.loader_stats.clone();
        config
    }

    async fn launch(&mut self, vendor: Arc<dyn KycVerifier>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        self.base_url = format!("http://{}", listener.local_addr().unwrap());
        self.client = GraphqlClient::new(&self.base_url);
        self.extra_env.retain(|(k, _)| k != "KYC_PUBLIC_URL");
        self.extra_env
            .push(("KYC_PUBLIC_URL".into(), self.base_url.clone()));
        let config = self.config();
        self.shutdown = CancellationToken::new();
        self.task = Some(tokio::spawn(crate::run_with_vendor(
            config,
            vendor,
            listener,
            self.shutdown.clone(),
        )));
        self.wait_ready().await;
    }

    /// Override an environment variable for the next [`Self::restart`].
    pub fn set_env(&mut self, var: &str, value: &str) {
        self.extra_env.retain(|(k, _)| k != var);
        self.extra_env.push((var.to_owned(), value.to_owned()));
    }

    /// The base64 master key the service was started with.
    pub fn master_key(&self) -> &str {
        &self.keys[0]
    }

    /// Stop the service (as a crash would, between requests) and start it again on the same
    /// database, object store and keys, with `vendor`.
    pub async fn restart(&mut self, vendor: Arc<dyn KycVerifier>) {
        self.shutdown.cancel();
        self.task.take().unwrap().await.unwrap().unwrap();
        self.launch(vendor).await;
    }

    async fn wait_ready(&self) {
        for _ in 0..300 {
            if let Ok(response) = self
                .http
                .get(format!("{}/ready", self.base_url))
                .send()
                .await
                && response.status().is_success()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the kyc service did not become ready");
    }

    pub fn customer_token(&self, user: Uuid) -> String {
        self.issuer.token(user, CUSTOMER_SCOPES)
    }

    pub fn token(&self, user: Uuid, scopes: &str) -> String {
        self.issuer.token(user, scopes)
    }

    /// `requestKycUpload` → the upload id and URL.
    pub async fn request_upload(&self, token: &str, kind: &str) -> (String, String) {
        let response = self
            .client
            .query(
                Some(token),
                "mutation($kind: KycUploadKind!) { requestKycUpload(kind: $kind) {
                    upload { uploadId url method expiresAt maxBytes }
                    userErrors { code field message } } }",
                json!({ "kind": kind }),
            )
            .await;
        let upload = &response["data"]["requestKycUpload"]["upload"];
        assert_eq!(upload["method"], "PUT", "{response}");
        (
            upload["uploadId"].as_str().unwrap().to_owned(),
            upload["url"].as_str().unwrap().to_owned(),
        )
    }

    /// PUT raw bytes to a signed URL: status and JSON body.
    pub async fn put(&self, url: &str, bytes: Vec<u8>) -> (u16, Value) {
        let response = self.http.put(url).body(bytes).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Both images uploaded; their upload ids.
    pub async fn upload_pair(
        &self,
        token: &str,
        document: Vec<u8>,
        selfie: Vec<u8>,
    ) -> (String, String) {
        let (document_id, document_url) = self.request_upload(token, "DOCUMENT_FRONT").await;
        let (selfie_id, selfie_url) = self.request_upload(token, "SELFIE").await;
        assert_eq!(self.put(&document_url, document).await.0, 200);
        assert_eq!(self.put(&selfie_url, selfie).await.0, 200);
        (document_id, selfie_id)
    }

    /// `submitKyc`; the payload.
    pub async fn submit(
        &self,
        token: &str,
        document_type: &str,
        number: &str,
        document_upload: &str,
        selfie_upload: &str,
    ) -> Value {
        let response = self
            .client
            .query(
                Some(token),
                "mutation($input: SubmitKycInput!) { submitKyc(input: $input) {
                    kyc { id status documentType documentNumberMasked submittedAt }
                    userErrors { code field message } } }",
                json!({ "input": {
                    "documentType": document_type,
                    "documentNumber": number,
                    "documentUploadId": document_upload,
                    "selfieUploadId": selfie_upload,
                } }),
            )
            .await;
        response["data"]["submitKyc"].clone()
    }

    /// Upload a pair scoring in `band` and submit a KTP with `nik`; the kyc id.
    pub async fn submit_scoring(&self, token: &str, nik: &str, band: Band) -> String {
        let (document, selfie) = images_in(band);
        let (d, s) = self.upload_pair(token, document, selfie).await;
        let payload = self.submit(token, "KTP", nik, &d, &s).await;
        assert_eq!(payload["userErrors"], json!([]), "{payload}");
        payload["kyc"]["id"].as_str().unwrap().to_owned()
    }

    /// `User.kyc` through `_entities`, as the router asks for it.
    pub async fn user_kyc(&self, token: &str, user: Uuid, fields: &str) -> Value {
        self.client
            .query(
                Some(token),
                &format!(
                    "query($reps: [_Any!]!) {{ _entities(representations: $reps) {{
                    ... on User {{ kyc {{ {fields} }} }} }} }}"
                ),
                json!({ "reps": [{ "__typename": "User", "id": user }] }),
            )
            .await
    }

    /// Wait until the user's latest KYC waits for a reviewer; its `id status awaitingManualReview`.
    pub async fn wait_until_in_review(&self, user: Uuid) -> Value {
        let token = self.customer_token(user);
        for _ in 0..150 {
            let response = self
                .user_kyc(&token, user, "id status awaitingManualReview")
                .await;
            let kyc = &response["data"]["_entities"][0]["kyc"];
            if kyc["awaitingManualReview"] == true {
                return kyc.clone();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{user}'s KYC never reached manual review");
    }

    /// Wait until the user's latest KYC has `status`.
    pub async fn wait_status(&self, user: Uuid, status: &str) -> Value {
        let token = self.customer_token(user);
        let mut last = Value::Null;
        for _ in 0..150 {
            last = self
                .user_kyc(&token, user, "id status documentNumberMasked rejectionReason rejectionReasonCode awaitingManualReview expiresAt decidedAt")
                .await;
            if last["data"]["_entities"][0]["kyc"]["status"] == status {
                return last["data"]["_entities"][0]["kyc"].clone();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("KYC of {user} never reached {status}: {last}");
    }

    /// Publish `envelope` on the user topic, as user's outbox relay does.
    pub async fn publish_user_event(&self, envelope: &Envelope) {
        tenor_events::testing::publish(&self.user_topic, envelope).await;
    }

    /// Events on the KYC topic, read from the beginning until `done` or a timeout.
    pub async fn events(&self, done: impl FnMut(&[Envelope]) -> bool) -> Vec<Envelope> {
        tenor_events::testing::read_events(&self.topic, Duration::from_secs(20), done).await
    }

    /// How many rows `sql` (a `SELECT count(*) AS n …`) counts.
    pub async fn count(&self, sql: &str) -> i64 {
        use diesel::sql_types::BigInt;
        use diesel_async::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let mut conn = self.db.pool().get().await.unwrap();
        diesel::sql_query(sql)
            .get_result::<Count>(&mut conn)
            .await
            .unwrap()
            .n
    }
}

impl Drop for TestService {
    fn drop(&mut self) {
        self.shutdown.cancel();
        let _ = std::fs::remove_dir_all(&self.objects_dir);
    }
}

/// A real 1280×960 PNG photo (it decodes in full, as uploads must), then `tag` after its end
/// chunk: the simulated vendor scores the bytes, so tags make images that score differently.
pub fn png(tag: &[u8]) -> Vec<u8> {
    static PHOTO: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    tagged(PHOTO.get_or_init(|| encode_png(1280, 960)), tag)
}

/// A real 960×1280 portrait JPEG photo, then `tag` after its end marker.
pub fn jpeg(tag: &[u8]) -> Vec<u8> {
    static PHOTO: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    tagged(PHOTO.get_or_init(|| encode_jpeg(960, 1280)), tag)
}

fn tagged(photo: &[u8], tag: &[u8]) -> Vec<u8> {
    [photo, tag].concat()
}

/// A smooth grey gradient: compresses like a photo's background, not like a blank page.
fn gradient(width: usize, height: usize) -> Vec<u8> {
    (0..height)
        .flat_map(|y| (0..width).flat_map(move |x| [(x / 8) as u8, (y / 8) as u8, 128]))
        .collect()
}

/// A PNG of `width`×`height` (8-bit RGB).
pub fn encode_png(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().expect("PNG header");
    writer
        .write_image_data(&gradient(width as usize, height as usize))
        .expect("PNG data");
    writer.finish().expect("PNG end");
    bytes
}

/// A baseline JPEG of `width`×`height`.
pub fn encode_jpeg(width: u16, height: u16) -> Vec<u8> {
    let mut bytes = Vec::new();
    jpeg_encoder::Encoder::new(&mut bytes, 80)
        .encode(
            &gradient(width.into(), height.into()),
            width,
            height,
            jpeg_encoder::ColorType::Rgb,
        )
        .expect("JPEG");
    bytes
}

/// A PNG signature and IHDR chunk declaring `width`×`height`, then `rest` — a header only,
/// for the checks that read nothing else (a whole-image check refuses it).
pub fn png_header_of(width: u32, height: u32, rest: &[u8]) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    bytes.extend_from_slice(&width.to_be_bytes());
    bytes.extend_from_slice(&height.to_be_bytes());
    bytes.extend_from_slice(b"\x08\x02\0\0\0");
    bytes.extend_from_slice(rest);
    bytes
}

/// A JPEG header (JFIF, then a baseline frame declaring `width`×`height`), then `rest` — a
/// header only, like [`png_header_of`].
pub fn jpeg_header_of(width: u16, height: u16, rest: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
    bytes.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    // SOF0: length 17, 8-bit samples, height, width, three components.
    bytes.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x11, 0x08]);
    bytes.extend_from_slice(&height.to_be_bytes());
    bytes.extend_from_slice(&width.to_be_bytes());
    bytes.extend_from_slice(&[0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01]);
    bytes.extend_from_slice(rest);
    bytes
}

/// Where the simulated vendor's face-match score should land (default thresholds 0.85/0.5).
#[derive(Debug, Clone, Copy)]
pub enum Band {
    /// ≥ 0.85: verified automatically.
    Approve,
    /// 0.5 ≤ score < 0.85: manual review.
    Borderline,
    /// < 0.5: rejected automatically.
    Reject,
}

/// A (document, selfie) pair whose simulated score lands in `band`, unique per call: the
/// selfie's trailing bytes are varied until the score fits (see `SimulatedKycVendor`).
pub fn images_in(band: Band) -> (Vec<u8>, Vec<u8>) {
    let document = png(format!("document-{}", Uuid::new_v4()).as_bytes());
    let selfie = selfie_for(&document, band);
    (document, selfie)
}

/// A selfie that scores in `band` against `document`.
pub fn selfie_for(document: &[u8], band: Band) -> Vec<u8> {
    let base = format!("selfie-{}", Uuid::new_v4());
    for i in 0u32.. {
        let selfie = jpeg(format!("{base}-{i}").as_bytes());
        let score = SimulatedKycVendor::face_match_score(document, &selfie);
        let fits = match band {
            Band::Approve => score >= 0.85,
            Band::Borderline => (0.5..0.85).contains(&score),
            Band::Reject => score < 0.5,
        };
        if fits {
            return selfie;
        }
    }
    unreachable!()
}
