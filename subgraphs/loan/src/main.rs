//! `tenor-loan`: the loan subgraph. `tenor-loan print-schema` prints its federation SDL.

#[global_allocator]
static ALLOCATOR: tenor_platform::Allocator = tenor_platform::Allocator;

fn main() -> anyhow::Result<()> {
    tenor_platform::runner::main::<tenor_loan::LoanSubgraph>()
}
