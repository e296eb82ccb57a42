//! `tenor-credit replay <loan-id>` / `replay --all`: recompute each stored automatic decision
//! from its stored inputs with its stored rules version, and say whether the outcome, combined
//! score and reason codes match what was decided. An auditor's check that a decision can be
//! explained, and a tripwire for a rule set edited after it was used.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;
use tenor_platform::config::Env;
use tenor_platform::db::{DbConfig, PgPool};
use uuid::Uuid;

use crate::domain::RuleBook;
use crate::domain::decision::{DecisionInputs, decide};
use crate::service::deciding::outcome_text;
use crate::store::decisions::{self, DecisionRow};

/// Which decisions to replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Loan(Uuid),
    All,
}

/// One replayed decision.
#[derive(Debug, Clone, PartialEq)]
pub struct Replayed {
    pub decision_id: Uuid,
    pub loan_id: Uuid,
    pub rules_version: String,
    pub inputs: serde_json::Value,
    /// `OUTCOME score [codes]` as stored.
    pub stored: String,
    /// The same, recomputed; or why it could not be.
    pub recomputed: String,
    pub matches: bool,
}

/// Replay the automatic decisions of `target` with the rules of `book`.
pub async fn replay(
    pool: &PgPool,
    book: &RuleBook,
    target: Target,
) -> anyhow::Result<Vec<Replayed>> {
    let mut conn = pool
        .get()
        .await
        .context("connecting to the credit database")?;
    let loan = match target {
        Target::Loan(id) => Some(id),
        Target::All => None,
    };
    let rows = decisions::automatic(&mut conn, loan).await?;
    Ok(rows.into_iter().map(|row| replay_one(book, row)).collect())
}

fn replay_one(book: &RuleBook, row: DecisionRow) -> Replayed {
    let stored = summary(&row.outcome, row.combined_score, &row.reason_codes);
    let recomputed = match (
        book.version(&row.rules_version),
        serde_json::from_value::<DecisionInputs>(row.inputs.clone()),
    ) {
        (None, _) => format!("rules version {} unknown", row.rules_version),
        (_, Err(error)) => format!("stored inputs unreadable: {error}"),
        (Some(rules), Ok(inputs)) => match decide(rules, &inputs) {
            None => "no decision (inputs incomplete)".to_owned(),
            Some(d) => summary(outcome_text(d.outcome), d.combined_score, &d.reason_codes),
        },
    };
    Replayed {
        decision_id: row.id,
        loan_id: row.loan_id,
        rules_version: row.rules_version,
        inputs: row.inputs,
        matches: stored == recomputed,
        stored,
        recomputed,
    }
}

fn summary(outcome: &str, score: Option<i32>, codes: &[String]) -> String {
    let score = score.map_or("-".to_owned(), |s| s.to_string());
    format!("{outcome} {score} [{}]", codes.join(","))
}

/// The report as printed: inputs → outcome, MATCH / MISMATCH per decision.
pub fn report(replayed: &[Replayed]) -> String {
    let mut out = String::new();
    for r in replayed {
        let verdict = if r.matches { "MATCH" } else { "MISMATCH" };
        let _ = writeln!(
            out,
            "{verdict} loan {} decision {} rules {}\n  inputs: {}\n  stored: {}\n  replay: {}",
            r.loan_id, r.decision_id, r.rules_version, r.inputs, r.stored, r.recomputed
        );
    }
    let mismatches = replayed.iter().filter(|r| !r.matches).count();
    let _ = writeln!(
        out,
        "{} decision(s) replayed, {mismatches} mismatch(es)",
        replayed.len()
    );
    out
}

/// The subcommand: `args` are what follows `replay`. Exit 0 only when every decision matches
/// (and there was at least one to replay for a single loan); 2 on a usage or configuration error.
pub fn main(args: &[String]) -> ExitCode {
    let target = match args {
        [flag] if flag == "--all" => Target::All,
        [id] => match id.parse() {
            Ok(id) => Target::Loan(id),
            Err(_) => return usage(),
        },
        _ => return usage(),
    };
    let mut env = Env::from_process();
    let db = DbConfig::from_env(&mut env, "CREDIT_DATABASE_URL");
    let book = match env.maybe::<std::path::PathBuf>("CREDIT_RULES_DIR") {
        None => RuleBook::compiled(),
        Some(dir) => RuleBook::with_dir(&dir).unwrap_or_else(|problem| {
            env.fail("CREDIT_RULES_DIR", problem);
            RuleBook::compiled()
        }),
    };
    let (db, book) = match env.finish((db, book)) {
        Ok(config) => config,
        Err(errors) => {
            eprintln!("tenor-credit replay: {errors}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("tenor-credit replay: {error}");
            return ExitCode::FAILURE;
        }
    };
    let replayed = runtime.block_on(async {
        let pool = tenor_platform::db::pool(&db)?;
        replay(&pool, &book, target).await
    });
    match replayed {
        Ok(replayed) => {
            print!("{}", report(&replayed));
            let all_match = replayed.iter().all(|r| r.matches);
            if all_match && !(replayed.is_empty() && matches!(target, Target::Loan(_))) {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(error) => {
            eprintln!("tenor-credit replay: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn usage() -> ExitCode {
    eprintln!("usage: tenor-credit replay <loan-id> | tenor-credit replay --all");
    ExitCode::from(2)
}
