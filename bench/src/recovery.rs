//! Recovery: after the Kafka broker restarts, how long until every consumer consumes again, and
//! until a decision published right after reaches its borrower's subscription.
//!
//! Starts the stack as `tenor-bench loan` does (auth, user, kyc, loan in this process, the
//! release router), prepares one borrower with a SUBMITTED loan and a `loanStatusChanged`
//! subscription through the router, notes the consumer groups that read this stack's topics
//! (each group's members and their assigned partitions), then restarts the broker with
//! `--restart` (by default `./dev kafka-restart`, run from the repository's root). As soon as the
//! broker answers again it publishes a probe (a CloudEvent of a type nobody handles: every
//! consumer skips it and moves on) to each topic a group reads, and the borrower's credit
//! decision. A group has resumed when its committed offset passes its probe on every topic it
//! reads (consumers commit every second: that second is part of the figure); the subscription
//! has resumed when APPROVED arrives. Each replica's live hub commits every second as well, so
//! its group is timed like the others.
//!
//! This restarts the stack's only broker: every other client of it (other benchmarks, tests)
//! sees the outage too.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::Offset;
use rdkafka::TopicPartitionList;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde_json::json;
use tenor_harness::journeys::eligible_customer;
use tenor_harness::{RouterStack, repo_root, set, yaml};
use tenor_platform::testing::kafka_brokers;
use uuid::Uuid;

use crate::hops::apply;
use crate::live::{Changes, status_changes, subscribe, wait_until_loan_knows};

#[derive(clap::Args)]
pub struct Options {
    /// The shell command that restarts the broker, run from the repository's root.
    #[arg(long, default_value = "./dev kafka-restart")]
    restart: String,
    /// How long to wait for each consumer after the broker is back.
    #[arg(long, default_value_t = 90)]
    timeout_seconds: u64,
}

const WATCH: &str = "subscription Watch { loanStatusChanged { status loan { id } } }";
/// issue 15's goal and the reference measured before it (decision → subscription).
const GOAL: Duration = Duration::from_secs(5);
const REFERENCE: Duration = Duration::from_millis(18_900);

/// A consumer group reading this stack's topics, and those topics' partitions.
struct Group {
    name: String,
    partitions: Vec<(String, i32)>,
}

pub async fn run(options: Options) -> anyhow::Result<()> {
    println!(
        "recovery benchmark — restarts the broker with `{}`",
        options.restart
    );
    let stack = RouterStack::start_with(|config| {
        set(
            config,
            "plugins.tenor.config.rate_limit.config.per_ip",
            yaml(json!({ "capacity": 1_000_000, "refill_per_second": 1_000_000.0 })),
        );
    })
    .await;
    let (user_id, loan, mut changes) = submitted_loan(&stack).await?;
    let topics = stack_topics(&stack);
    let groups = groups_reading(&topics).await?;
    anyhow::ensure!(!groups.is_empty(), "no consumer group reads {topics:?}");
    println!("  groups reading this stack's topics:");
    for group in &groups {
        let read: Vec<&str> = group.partitions.iter().map(|(t, _)| t.as_str()).collect();
        println!("    {} ← {}", group.name, read.join(", "));
    }

    println!("  restarting the broker…");
    let restart_started = Instant::now();
    let mut restart = tokio::process::Command::new("bash")
        .arg("-c")
        .arg(&options.restart)
        .current_dir(repo_root())
        .stdout(std::process::Stdio::null())
        .spawn()?;
    let down = wait_for_broker(false, Duration::from_secs(60)).await?;
    let back = wait_for_broker(true, Duration::from_secs(600)).await?;
    println!(
        "  broker down {:.1} s after the restart began, back {:.1} s later",
        (down - restart_started).as_secs_f64(),
        (back - down).as_secs_f64()
    );

    // Right after the broker is back, as a user would: a fresh producer, the probes, the decision.
    let producer = tenor_events::kafka::producer(&tenor_events::testing::kafka_config())?;
    let probes = publish_probes(&producer, &groups).await?;
    let decision = crate::live::approval(user_id, loan)?;
    let key = loan.to_string();
    producer
        .send(
            FutureRecord::to(&stack.subgraphs.topics.credit)
                .key(&key)
                .payload(&decision.to_bytes()),
            Duration::from_secs(30),
        )
        .await
        .map_err(|(e, _)| anyhow::anyhow!("publishing the decision: {e}"))?;
    let timeout = Duration::from_secs(options.timeout_seconds);
    // A replica's live hub commits its position every second too (tenor_events::live), so it is
    // timed like every group; the subscription below times what its borrower sees.
    let (resumed, pushed) = tokio::join!(
        resumed_groups(&groups, probes, timeout),
        approved(&mut changes, timeout)
    );
    let restarted = restart.wait().await?;

    println!();
    println!(
        "after the broker came back (goal ≤ {:.1} s, reference {:.1} s):",
        GOAL.as_secs_f64(),
        REFERENCE.as_secs_f64()
    );
    let figure = |at: Option<Instant>| match at {
        Some(at) => {
            let took = at.saturating_duration_since(back);
            let verdict = if took <= GOAL { "met" } else { "missed" };
            format!("{:>6.1} s  {verdict}", took.as_secs_f64())
        }
        None => format!("not within {} s  missed", timeout.as_secs()),
    };
    for (group, at) in groups.iter().zip(&resumed) {
        println!("  group {:<52} consumes again  {}", group.name, figure(*at));
    }
    println!(
        "  {:<58} reaches the subscription  {}",
        "decision published right after",
        figure(pushed)
    );
    println!("  (group figures include up to 1 s of auto-commit interval)");
    if !restarted.success() {
        println!("  the restart command failed: {restarted}");
    }
    Ok(())
}

/// A borrower with a SUBMITTED loan watched through the router: the user, the loan, the changes.
async fn submitted_loan(stack: &RouterStack) -> anyhow::Result<(Uuid, Uuid, Changes)> {
    let (account, token) = eligible_customer(stack).await;
    wait_until_loan_knows(stack, &token).await?;
    let mut changes = status_changes(subscribe(stack, &token, WATCH).await?);
    let loan = apply(stack, &token).await?;
    let submitted = tokio::time::timeout(Duration::from_secs(30), changes.recv())
        .await
        .map_err(|_| anyhow::anyhow!("no SUBMITTED within 30 s"))?;
    anyhow::ensure!(
        submitted.is_some_and(|c| c.value["status"] == "SUBMITTED"),
        "the subscription did not open with SUBMITTED"
    );
    Ok((account.user_id, loan, changes))
}

fn stack_topics(stack: &RouterStack) -> Vec<String> {
    let t = &stack.subgraphs.topics;
    [
        &t.auth,
        &t.user,
        &t.kyc,
        &t.loan,
        &t.credit,
        &t.risk,
        &t.notification,
    ]
    .into_iter()
    .cloned()
    .collect()
}

fn client(group: Option<&str>) -> anyhow::Result<BaseConsumer> {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", kafka_brokers())
        // The observer must not be what is slow to notice the broker is back.
        .set("reconnect.backoff.max.ms", "200");
    if let Some(group) = group {
        config.set("group.id", group);
    }
    Ok(config.create()?)
}

/// The groups with a member assigned a partition of `topics`, and those partitions.
async fn groups_reading(topics: &[String]) -> anyhow::Result<Vec<Group>> {
    let topics = topics.to_vec();
    // Members get their assignment a moment after the stack is up: wait until every consumer
    // this stack starts has one (loan's live hub reads two topics, everyone else one or more).
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let topics = topics.clone();
        let groups = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<Group>> {
            let list = client(None)?
                .client()
                .fetch_group_list(None, Duration::from_secs(10))?;
            Ok(list
                .groups()
                .iter()
                .filter_map(|group| {
                    let mut partitions: Vec<(String, i32)> = group
                        .members()
                        .iter()
                        .filter_map(|m| m.assignment())
                        .flat_map(assigned_partitions)
                        .filter(|(topic, _)| topics.contains(topic))
                        .collect();
                    partitions.sort();
                    partitions.dedup();
                    (!partitions.is_empty()).then(|| Group {
                        name: group.name().to_owned(),
                        partitions,
                    })
                })
                .collect())
        })
        .await??;
        if groups.iter().any(|g| g.name.starts_with("tenor-loan-live")) || Instant::now() > deadline
        {
            let mut groups = groups;
            groups.sort_by(|a, b| a.name.cmp(&b.name));
            return Ok(groups);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The (topic, partition) pairs of a consumer-protocol assignment (Kafka's
/// ConsumerProtocolAssignment: version i16, then topics as an i32 count of { i16-length name,
/// i32 count of i32 partitions }, then user data we do not need).
fn assigned_partitions(bytes: &[u8]) -> Vec<(String, i32)> {
    let mut at = 2; // version
    let mut take = |n: usize| {
        let slice = bytes.get(at..at + n);
        at += n;
        slice
    };
    let mut found = Vec::new();
    let Some(count) = take(4).map(|b| i32::from_be_bytes(b.try_into().unwrap())) else {
        return found;
    };
    for _ in 0..count.max(0) {
        let Some(len) = take(2).map(|b| i16::from_be_bytes(b.try_into().unwrap())) else {
            return found;
        };
        let Some(name) = take(len.max(0) as usize) else {
            return found;
        };
        let topic = String::from_utf8_lossy(name).into_owned();
        let Some(partitions) = take(4).map(|b| i32::from_be_bytes(b.try_into().unwrap())) else {
            return found;
        };
        for _ in 0..partitions.max(0) {
            let Some(p) = take(4).map(|b| i32::from_be_bytes(b.try_into().unwrap())) else {
                return found;
            };
            found.push((topic.clone(), p));
        }
    }
    found
}

/// Waits until the broker answers a metadata request (`up`) or stops answering (`!up`).
async fn wait_for_broker(up: bool, limit: Duration) -> anyhow::Result<Instant> {
    let deadline = Instant::now() + limit;
    loop {
        let answers = tokio::task::spawn_blocking(|| {
            client(None).is_ok_and(|c| {
                c.fetch_metadata(None, Duration::from_millis(500))
                    .is_ok_and(|m| !m.brokers().is_empty())
            })
        })
        .await?;
        if answers == up {
            return Ok(Instant::now());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the broker did not {} within {} s",
            if up { "come back" } else { "stop" },
            limit.as_secs()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One probe per partition the groups read; the offset each landed at.
async fn publish_probes(
    producer: &FutureProducer,
    groups: &[Group],
) -> anyhow::Result<BTreeMap<(String, i32), i64>> {
    let mut probes = BTreeMap::new();
    for (topic, partition) in groups.iter().flat_map(|g| g.partitions.iter()) {
        if probes.contains_key(&(topic.clone(), *partition)) {
            continue;
        }
        let (key, probe) = crate::live::probe("recovery");
        // A broker that just came back may still be loading partitions: try again meanwhile.
        let deadline = Instant::now() + Duration::from_secs(300);
        let delivery = loop {
            let sent = producer
                .send(
                    FutureRecord::to(topic)
                        .partition(*partition)
                        .key(&key)
                        .payload(&probe),
                    Duration::from_secs(30),
                )
                .await;
            match sent {
                Ok(delivery) => break delivery,
                Err((e, _)) if Instant::now() > deadline => {
                    anyhow::bail!("publishing a probe to {topic}: {e}")
                }
                Err(_) => {}
            }
        };
        probes.insert((topic.clone(), *partition), delivery.offset);
    }
    Ok(probes)
}

/// A partition a group reads and the offset of the probe published to it.
type Probe = (String, i32, i64);

/// For each group, when its committed offsets passed every probe on what it reads (`None`:
/// not within `timeout`).
async fn resumed_groups(
    groups: &[Group],
    probes: BTreeMap<(String, i32), i64>,
    timeout: Duration,
) -> Vec<Option<Instant>> {
    let watched: Vec<(String, Vec<Probe>)> = groups
        .iter()
        .map(|g| {
            let wanted = g
                .partitions
                .iter()
                .map(|(t, p)| (t.clone(), *p, probes[&(t.clone(), *p)]))
                .collect();
            (g.name.clone(), wanted)
        })
        .collect();
    tokio::task::spawn_blocking(move || {
        let clients: Vec<Option<BaseConsumer>> = watched
            .iter()
            .map(|(name, _)| client(Some(name)).ok())
            .collect();
        let mut resumed: Vec<Option<Instant>> = vec![None; watched.len()];
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline && resumed.iter().any(Option::is_none) {
            for (i, ((_, wanted), consumer)) in watched.iter().zip(&clients).enumerate() {
                let Some(consumer) = consumer else { continue };
                if resumed[i].is_some() {
                    continue;
                }
                let mut tpl = TopicPartitionList::new();
                for (topic, partition, _) in wanted {
                    tpl.add_partition(topic, *partition);
                }
                let Ok(committed) = consumer.committed_offsets(tpl, Duration::from_secs(1)) else {
                    continue;
                };
                let passed = wanted.iter().all(|(topic, partition, probe)| {
                    committed
                        .find_partition(topic, *partition)
                        .is_some_and(|p| matches!(p.offset(), Offset::Offset(o) if o > *probe))
                });
                if passed {
                    resumed[i] = Some(Instant::now());
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        resumed
    })
    .await
    .unwrap_or_default()
}

/// When APPROVED arrived on the subscription (`None`: not within `timeout`).
async fn approved(changes: &mut Changes, timeout: Duration) -> Option<Instant> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let change = tokio::time::timeout_at(deadline, changes.recv())
            .await
            .ok()??;
        if change.value["status"] == "APPROVED" {
            return Some(change.at);
        }
    }
}
