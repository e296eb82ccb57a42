//! `tenor-credit`: the credit subgraph. `tenor-credit print-schema` prints its federation SDL;
//! `tenor-credit replay <loan-id>|--all` re-runs stored automatic decisions.

use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: tenor_platform::Allocator = tenor_platform::Allocator;

fn main() -> anyhow::Result<ExitCode> {
    // `replay` is an operator's one-shot command, not the service: it needs only the database
    // URL (and the rules), so it is dispatched before the runner, which would insist on the
    // whole service configuration and bind a port.
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("replay") {
        return Ok(tenor_credit::replay::main(&args[2..]));
    }
    tenor_platform::runner::main::<tenor_credit::CreditSubgraph>()?;
    Ok(ExitCode::SUCCESS)
}
