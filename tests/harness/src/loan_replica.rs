//! A second loan replica, as deployed: the `tenor-loan` binary as a child process on this
//! stack's database and topics. Loan replicas share the database and the consumer group; each
//! has its own live fan-out, so a router pointed at this one serves subscriptions from it while
//! the in-process replica keeps working. Benchmarks use it to read one replica's resident memory.

use tenor_platform::testing::kafka_brokers;

use crate::Subgraphs;
use crate::process::ServiceProcess;

impl Subgraphs {
    /// Starts `tenor-loan` (built next to the running binary) as a replica of this stack's loan.
    pub async fn loan_replica(&self) -> ServiceProcess {
        let env = [
            ("LOAN_DATABASE_URL", self.loan_db.url().to_owned()),
            ("KAFKA_BROKERS", kafka_brokers()),
            ("LOAN_EVENTS_TOPIC", self.topics.loan.clone()),
            ("CREDIT_EVENTS_TOPIC", self.topics.credit.clone()),
            ("KYC_EVENTS_TOPIC", self.topics.kyc.clone()),
            ("USER_EVENTS_TOPIC", self.topics.user.clone()),
            ("AUTH_EVENTS_TOPIC", self.topics.auth.clone()),
            (
                "AUTH_JWKS_URL",
                format!("{}/.well-known/jwks.json", self.auth_url),
            ),
            // The in-process replica's group (`router-test-<run>-tenor-loan`): the two share the
            // partitions as production replicas do, and the inbox (keyed by group) applies each
            // event once.
            (
                "CONSUMER_GROUP_PREFIX",
                format!("router-test-{}-", self.run()),
            ),
            ("CONSUMER_INITIAL_BACKOFF", "50ms".to_owned()),
        ];
        ServiceProcess::start(
            "loan",
            env.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        )
        .await
    }
}

impl Subgraphs {
    /// This stack's run id (the suffix of its topics, groups and Redis prefix).
    fn run(&self) -> &str {
        self.redis_prefix.trim_start_matches("tenor-test-")
    }
}
