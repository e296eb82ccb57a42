//! `tenor-user`: the user subgraph. `tenor-user print-schema` prints its federation SDL; anything
//! else serves it (tenor_platform::runner).

#[global_allocator]
static ALLOCATOR: tenor_platform::Allocator = tenor_platform::Allocator;

fn main() -> anyhow::Result<()> {
    tenor_platform::runner::main::<tenor_user::UserSubgraph>()
}
