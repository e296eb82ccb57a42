//! What every subgraph's DataLoaders share: a list of N parents must cost one query per field,
//! not N (docs/conventions.md § API conventions), and tests prove it by counting batches.

use std::sync::atomic::{AtomicUsize, Ordering};

/// How many batches a subgraph's loaders ran; tests assert that N keys cost one.
#[derive(Debug, Default)]
pub struct LoaderStats {
    batches: AtomicUsize,
}

impl LoaderStats {
    /// Called by a loader at the start of each batch.
    pub fn record_batch(&self) {
        self.batches.fetch_add(1, Ordering::SeqCst);
    }

    pub fn batches(&self) -> usize {
        self.batches.load(Ordering::SeqCst)
    }
}
