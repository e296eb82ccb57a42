//! Issue 10: every String (and ID) argument and input field of every mutation in the committed
//! supergraph, fed a table of hostile strings against the real subgraphs (started in-process by
//! the harness, no router). Each case must be refused with a userError or a clean GraphQL error
//! — never `INTERNAL`, never an HTTP 5xx — and must change no row in any service database
//! (nor any document of notification's MongoDB collections).
//!
//! The list of inputs comes from `schema/supergraph.graphql`, not from this file: a new
//! mutation argument of type String/ID without a valid-default recipe (in [`world`]) fails the
//! test.
//!
//! [`schema`] walks the inputs, [`hostile`] has the strings, [`world`] the accounts and a valid
//! recipe per mutation, [`rows`] the "nothing changed" check (PostgreSQL rows and
//! notification's MongoDB documents).

mod hostile;
mod rows;
mod schema;
mod world;

use serde_json::{Value, json};

use hostile::HOSTILE;
use rows::{settle, snapshot};
use schema::{Input, schema_inputs};
use world::setup;

fn value_at<'a>(args: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    let mut node = args;
    for key in path {
        node = node.get_mut(key.as_str())?;
    }
    Some(node)
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
    let mut before = snapshot(&world, &clients).await;

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
            let after = snapshot(&world, &clients).await;
            if after != before {
                let changed: Vec<&String> = after
                    .iter()
                    .filter(|(table, sum)| before.get(*table) != Some(*sum))
                    .map(|(table, _)| table)
                    .collect();
                failures.push(format!("{case}: rows changed in {changed:?}"));
                // Later cases are judged against the changed state: every failure is listed.
                before = after;
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
