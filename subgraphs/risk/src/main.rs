//! `tenor-risk`: the risk subgraph. `tenor-risk print-schema` prints its federation SDL;
//! otherwise it serves until SIGTERM (the shared runner owns start-up and shutdown).

#[global_allocator]
static ALLOCATOR: tenor_platform::Allocator = tenor_platform::Allocator;

fn main() -> anyhow::Result<()> {
    tenor_platform::runner::main::<tenor_risk::RiskSubgraph>()
}
