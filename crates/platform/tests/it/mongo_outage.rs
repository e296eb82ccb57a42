//! A MongoDB service notes when its server cannot be reached, and when it can again, from the
//! driver's own monitoring (`tenor_platform::mongo`): its failing requests then answer
//! `SERVICE_UNAVAILABLE` (`tenor_platform::outage`). The only test in this binary that touches
//! the process-wide flag.

use mongodb::bson::doc;
use tenor_platform::mongo::{MongoConfig, database};
use tenor_platform::outage::database_unreachable;
use tenor_platform::testing::{mongodb_url, wait_for};

fn config(url: String) -> MongoConfig {
    MongoConfig {
        url,
        database: "tenor_outage_test".to_owned(),
    }
}

#[tokio::test]
async fn a_server_that_cannot_be_reached_is_noted_and_one_that_answers_clears_it() {
    // Nothing listens on port 1.
    let gone = database(&config("mongodb://127.0.0.1:1/".to_owned()))
        .await
        .unwrap();
    let refused = gone.run_command(doc! { "ping": 1 }).await;
    assert!(refused.is_err(), "{refused:?}");
    assert!(database_unreachable(), "after {refused:?}");
    gone.client().clone().shutdown().await;

    let there = database(&config(mongodb_url())).await.unwrap();
    there.run_command(doc! { "ping": 1 }).await.unwrap();
    assert!(
        wait_for(async || !database_unreachable()).await,
        "the server answered, yet it is still noted unreachable"
    );
}
