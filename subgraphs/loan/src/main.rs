//! `tenor-loan`: the loan subgraph. `tenor-loan print-schema` prints its federation SDL.

fn main() -> anyhow::Result<()> {
    tenor_platform::runner::main::<tenor_loan::LoanSubgraph>()
}
