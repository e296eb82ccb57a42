//! Issue 10: every String (and ID) argument and input field of every mutation in the committed
//! supergraph, fed a table of hostile strings against the real subgraphs (started in-process by
//! the harness, no router). Each case must be refused with a userError or a clean GraphQL error
//! — never `INTERNAL`, never an HTTP 5xx — and must change no row in any service database.
//!
//! The list of inputs comes from `schema/supergraph.graphql`, not from this file: a new
//! mutation argument of type String/ID without a valid-default recipe below fails the test.

use std::collections::BTreeMap;
use std::time::Duration;

use async_graphql_parser::types::{
    BaseType, InputValueDefinition, Type, TypeKind, TypeSystemDefinition,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use p256::ecdsa::SigningKey;
use p256::pkcs8::EncodePublicKey;
use serde_json::{Value, json};
use tenor_harness::journeys::fresh_nik;
use tenor_harness::{Account, PASSWORD, Subgraphs, eventually, post_graphql};
use uuid::Uuid;

/// Tables left out of the "no row changed" check, and why.
const UNCHECKED_TABLES: &[&str] = &[
    // Migration bookkeeping.
    "__diesel_schema_migrations",
    // Audit by design: a refused password login is recorded for throttling (per source
    // address), whatever the input. It is the only write a refused request may make.
    "login_attempts",
];

/// One input of one mutation: `path` is the argument and, inside input objects, the fields.
#[derive(Debug, Clone)]
struct Input {
    mutation: String,
    path: Vec<String>,
}

impl Input {
    fn name(&self) -> String {
        format!("{}({})", self.mutation, self.path.join("."))
    }
}

struct Mutation {
    name: String,
    /// (argument name, its type as written in the SDL).
    arguments: Vec<(String, String)>,
    payload_has_user_errors: bool,
}

/// The String/ID inputs of every mutation, walked from the schema.
fn schema_inputs() -> (Vec<Mutation>, Vec<Input>) {
    let path = tenor_harness::repo_root().join("schema/supergraph.graphql");
    let sdl = std::fs::read_to_string(path).unwrap();
    let document = async_graphql_parser::parse_schema(&sdl).unwrap();
    let mut types = BTreeMap::new();
    for definition in &document.definitions {
        if let TypeSystemDefinition::Type(t) = definition {
            types.insert(t.node.name.node.to_string(), t.node.kind.clone());
        }
    }
    let TypeKind::Object(mutation) = &types["Mutation"] else {
        panic!("no Mutation type");
    };
    let mut mutations = Vec::new();
    let mut inputs = Vec::new();
    for field in &mutation.fields {
        let field = &field.node;
        let name = field.name.node.to_string();
        let payload = base_name(&field.ty.node);
        let payload_has_user_errors = matches!(&types.get(&payload), Some(TypeKind::Object(o))
            if o.fields.iter().any(|f| f.node.name.node == "userErrors"));
        let mut arguments = Vec::new();
        for argument in &field.arguments {
            let argument = &argument.node;
            arguments.push((argument.name.node.to_string(), argument.ty.node.to_string()));
            walk(&types, &name, vec![], argument, &mut inputs);
        }
        mutations.push(Mutation {
            name,
            arguments,
            payload_has_user_errors,
        });
    }
    (mutations, inputs)
}

fn base_name(ty: &Type) -> String {
    match &ty.base {
        BaseType::Named(name) => name.to_string(),
        BaseType::List(inner) => base_name(inner),
    }
}

fn walk(
    types: &BTreeMap<String, TypeKind>,
    mutation: &str,
    mut path: Vec<String>,
    value: &InputValueDefinition,
    inputs: &mut Vec<Input>,
) {
    path.push(value.name.node.to_string());
    let named = base_name(&value.ty.node);
    match named.as_str() {
        "String" | "ID" => inputs.push(Input {
            mutation: mutation.to_owned(),
            path,
        }),
        _ => {
            if let Some(TypeKind::InputObject(object)) = types.get(&named) {
                for field in &object.fields {
                    walk(types, mutation, path.clone(), &field.node, inputs);
                }
            }
        }
    }
}

/// A hostile value made from the input's valid default (`carrier`).
struct Hostile {
    name: &'static str,
    make: fn(&str) -> String,
}

fn inserted(carrier: &str, bad: &str) -> String {
    let middle = carrier
        .char_indices()
        .nth(carrier.chars().count() / 2)
        .map_or(carrier.len(), |(i, _)| i);
    format!("{}{bad}{}", &carrier[..middle], &carrier[middle..])
}

const HOSTILE: &[Hostile] = &[
    Hostile {
        name: "NUL",
        make: |c| inserted(c, "\u{0}"),
    },
    Hostile {
        name: "SOH",
        make: |c| inserted(c, "\u{1}"),
    },
    Hostile {
        name: "BEL",
        make: |c| inserted(c, "\u{7}"),
    },
    Hostile {
        name: "ESC sequence",
        make: |c| inserted(c, "\u{1b}[2J"),
    },
    Hostile {
        name: "unit separator",
        make: |c| inserted(c, "\u{1f}"),
    },
    Hostile {
        name: "DEL",
        make: |c| inserted(c, "\u{7f}"),
    },
    Hostile {
        name: "C1 NEL",
        make: |c| inserted(c, "\u{85}"),
    },
    Hostile {
        name: "C1 CSI",
        make: |c| inserted(c, "\u{9b}"),
    },
    Hostile {
        name: "bidi override",
        make: |c| inserted(c, "\u{202e}"),
    },
    Hostile {
        name: "bidi isolate",
        make: |c| inserted(c, "\u{2066}"),
    },
    Hostile {
        name: "zero-width space",
        make: |c| inserted(c, "\u{200b}"),
    },
    Hostile {
        name: "tag character",
        make: |c| inserted(c, "\u{e0041}"),
    },
    Hostile {
        name: "BOM",
        make: |c| format!("\u{feff}{c}"),
    },
    Hostile {
        name: "noncharacter",
        make: |c| inserted(c, "\u{ffff}"),
    },
    Hostile {
        name: "line separator",
        make: |c| inserted(c, "\u{2028}"),
    },
    Hostile {
        name: "lone combining marks",
        make: |c| format!("\u{301}\u{302}{c}"),
    },
    Hostile {
        name: "10 000 characters",
        make: |_| "x".repeat(10_000),
    },
    Hostile {
        name: "1 MB",
        make: |_| "a".repeat(1 << 20),
    },
];

#[derive(Clone, Copy)]
enum Who {
    Anonymous,
    Customer,
    Submitter,
    UserAdmin,
    KycReviewer,
    LoanOperator,
}

struct World {
    stack: Subgraphs,
    customer: Account,
    tokens: BTreeMap<&'static str, String>,
    device_id: String,
    public_key: String,
    nonce: String,
    refresh_token: String,
    uploads: (String, String),
}

impl World {
    fn token(&self, who: Who) -> Option<&str> {
        let key = match who {
            Who::Anonymous => return None,
            Who::Customer => "customer",
            Who::Submitter => "submitter",
            Who::UserAdmin => "user_admin",
            Who::KycReviewer => "kyc_reviewer",
            Who::LoanOperator => "loan_operator",
        };
        Some(&self.tokens[key])
    }

    fn url(&self, mutation: &str) -> String {
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
    fn recipe(&self, mutation: &str, path: &[String]) -> Option<(Who, Value)> {
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
            _ => return None,
        })
    }
}

fn value_at<'a>(args: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    let mut node = args;
    for key in path {
        node = node.get_mut(key.as_str())?;
    }
    Some(node)
}

/// Every row of every table (but [`UNCHECKED_TABLES`]) of every service database, as one
/// checksum per table.
async fn snapshot(clients: &[(&'static str, tokio_postgres::Client)]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (service, client) in clients {
        let tables = client
            .query(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
                &[],
            )
            .await
            .unwrap();
        for row in tables {
            let table: String = row.get(0);
            if UNCHECKED_TABLES.contains(&table.as_str()) {
                continue;
            }
            // The relay stamps published_at on outbox rows in the background: not a change.
            let row_text = if table == "outbox_events" {
                "(t.id, t.event_id, t.topic, t.payload)::text"
            } else {
                "t::text"
            };
            let sum: String = client
                .query_one(
                    &format!(
                        "SELECT count(*)::text || ':' || coalesce(md5(string_agg(x, ',' ORDER BY x)), '') FROM (SELECT {row_text} AS x FROM \"{table}\" t) s"
                    ),
                    &[],
                )
                .await
                .unwrap()
                .get(0);
            out.insert(format!("{service}.{table}"), sum);
        }
    }
    out
}

async fn post(url: &str, query: &str, variables: &Value, token: Option<&str>) -> (u16, String) {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
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

async fn setup() -> World {
    let stack = Subgraphs::start().await;
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

/// Until every event is published and consumed: the customer's profile exists, their KYC is
/// verified in loan's projection, and no outbox row is pending.
async fn settle(world: &World, clients: &[(&'static str, tokio_postgres::Client)]) {
    let me = format!("{}/graphql", world.stack.user_url);
    let token = world.tokens["customer"].clone();
    eventually(async || {
        let response = post_graphql(&me, "{ me { id } }", json!({}), Some(&token)).await;
        !response["data"]["me"].is_null()
    })
    .await;
    let loan = &clients.iter().find(|(s, _)| *s == "loan").unwrap().1;
    let user = world.customer.user_id.to_string();
    eventually(async || {
        loan.query(
            "SELECT 1 FROM loan_kyc_eligibility WHERE user_id::text = $1 AND status = 'VERIFIED'",
            &[&user],
        )
        .await
        .is_ok_and(|rows| !rows.is_empty())
    })
    .await;
    eventually(async || {
        for (_, client) in clients {
            let pending: i64 = client
                .query_one(
                    "SELECT count(*) FROM outbox_events WHERE published_at IS NULL",
                    &[],
                )
                .await
                .unwrap()
                .get(0);
            if pending > 0 {
                return false;
            }
        }
        true
    })
    .await;
    // Consumers commit after the relay publishes: give them a moment to finish.
    tokio::time::sleep(Duration::from_secs(2)).await;
}

#[tokio::test]
async fn every_mutation_string_input_refuses_hostile_text_cleanly_and_changes_nothing() {
    let (mutations, inputs) = schema_inputs();
    assert!(inputs.len() > 20, "the walk found too little: {inputs:?}");
    let world = setup().await;

    // Every input needs a recipe with a valid default at its path: derived from the schema, so
    // a new String/ID argument fails here until it is covered.
    let uncovered: Vec<String> = inputs
        .iter()
        .filter(|input| {
            world
                .recipe(&input.mutation, &input.path)
                .is_none_or(|(_, mut args)| {
                    !value_at(&mut args, &input.path).is_some_and(|v| v.is_string())
                })
        })
        .map(Input::name)
        .collect();
    assert!(
        uncovered.is_empty(),
        "no valid-default recipe for {uncovered:?}"
    );

    let mut clients = Vec::new();
    for (service, url) in world.stack.database_urls() {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        clients.push((service, client));
    }
    settle(&world, &clients).await;
    let before = snapshot(&clients).await;

    let mut failures = Vec::new();
    let mut cases = 0;
    for input in &inputs {
        let mutation = mutations.iter().find(|m| m.name == input.mutation).unwrap();
        let definitions = mutation
            .arguments
            .iter()
            .map(|(name, ty)| format!("${name}: {ty}"))
            .collect::<Vec<_>>()
            .join(", ");
        let arguments = mutation
            .arguments
            .iter()
            .map(|(name, _)| format!("{name}: ${name}"))
            .collect::<Vec<_>>()
            .join(", ");
        let selection = if mutation.payload_has_user_errors {
            "__typename userErrors { code field }"
        } else {
            "__typename"
        };
        let query = format!(
            "mutation Walk({definitions}) {{ {}({arguments}) {{ {selection} }} }}",
            mutation.name
        );
        for hostile in HOSTILE {
            cases += 1;
            let (who, mut args) = world.recipe(&input.mutation, &input.path).unwrap();
            let slot = value_at(&mut args, &input.path).unwrap();
            let value = (hostile.make)(slot.as_str().unwrap());
            *slot = Value::String(value);
            let case = format!("{} with {}", input.name(), hostile.name);
            let (status, body) =
                post(&world.url(&mutation.name), &query, &args, world.token(who)).await;
            if status >= 500 {
                failures.push(format!("{case}: HTTP {status}"));
                continue;
            }
            let Ok(response) = serde_json::from_str::<Value>(&body) else {
                // A non-GraphQL 4xx (e.g. body too large) is a clean refusal too.
                assert!(status >= 400, "{case}: {status} {body:.200}");
                continue;
            };
            let codes: Vec<&str> = response["errors"]
                .as_array()
                .map(|e| {
                    e.iter()
                        .filter_map(|e| e["extensions"]["code"].as_str())
                        .collect()
                })
                .unwrap_or_default();
            if codes.iter().any(|c| c.starts_with("INTERNAL")) {
                failures.push(format!("{case}: {codes:?} {:.300}", body));
                continue;
            }
            let user_errors = response["data"][&mutation.name]["userErrors"]
                .as_array()
                .is_some_and(|e| !e.is_empty());
            let graphql_error = response["errors"].as_array().is_some_and(|e| !e.is_empty());
            if !user_errors && !graphql_error {
                failures.push(format!("{case}: accepted: {:.300}", body));
            }
            let after = snapshot(&clients).await;
            if after != before {
                let changed: Vec<&String> = after
                    .iter()
                    .filter(|(table, sum)| before.get(*table) != Some(*sum))
                    .map(|(table, _)| table)
                    .collect();
                failures.push(format!("{case}: rows changed in {changed:?}"));
                // Later cases would compare against the changed state: stop here.
                panic!("{}", failures.join("\n"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {cases} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!(
        "{cases} hostile cases over {} inputs: all refused cleanly",
        inputs.len()
    );
}
