//! What the benchmarks read about the processes they start, from `/proc` (Linux).

use std::time::Duration;

/// Resident memory of `pid`, in KiB.
pub fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no VmRSS for {pid}"))
}

/// CPU time `pid`'s live threads have used so far: the sum of each thread's `schedstat`
/// (nanoseconds on a CPU). A thread that has exited is no longer counted, so compare readings of
/// a process whose threads live long, as a router's workers do. Unlike throughput, which depends
/// on how two shared cores were divided between the router, the subgraphs, PostgreSQL and the
/// clients, CPU time per request is the router's own cost.
pub fn cpu_time(pid: u32) -> anyhow::Result<Duration> {
    let mut total = 0u64;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        // A thread may exit between listing and reading.
        let Ok(schedstat) = std::fs::read_to_string(task?.path().join("schedstat")) else {
            continue;
        };
        let on_cpu: u64 = schedstat
            .split_whitespace()
            .next()
            .and_then(|ns| ns.parse().ok())
            .ok_or_else(|| anyhow::anyhow!("unreadable schedstat for {pid}: {schedstat}"))?;
        total += on_cpu;
    }
    Ok(Duration::from_nanos(total))
}
