//! `tenor-notification`: the notification subgraph. `tenor-notification print-schema` prints its
//! federation SDL; otherwise it serves until SIGTERM (the shared runner owns start-up and
//! shutdown).

#[global_allocator]
static ALLOCATOR: tenor_platform::Allocator = tenor_platform::Allocator;

fn main() -> anyhow::Result<()> {
    tenor_platform::runner::main::<tenor_notification::NotificationSubgraph>()
}
