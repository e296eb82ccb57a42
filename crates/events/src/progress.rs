//! How far a consumer may commit when it handles a partition's messages out of order.
//!
//! [`EventConsumer`](crate::EventConsumer) applies messages with different keys side by side,
//! so offset 7 may finish before offset 5. Kafka stores one offset per partition: "every
//! message before this one is done". [`Progress`] keeps, per partition, the offsets received but
//! not yet finished, and says how far the committed offset may move: up to just before the
//! oldest unfinished one. A crash then redelivers every unfinished message (and perhaps some
//! finished ones, which the idempotent handlers absorb), never skips one.

use std::collections::{BTreeMap, HashMap};

/// Received-but-unfinished offsets of each partition a consumer reads.
#[derive(Debug, Default)]
pub struct Progress {
    partitions: HashMap<(String, i32), Partition>,
}

#[derive(Debug, Default)]
struct Partition {
    /// Offset → how many deliveries of it are in flight (a partition handed back to this
    /// consumer after a rebalance can deliver an offset again while its first copy runs).
    unfinished: BTreeMap<i64, usize>,
    /// The highest offset received.
    highest: Option<i64>,
}

impl Progress {
    /// `offset` of `topic`/`partition` was received and is about to be handled.
    pub fn received(&mut self, topic: &str, partition: i32, offset: i64) {
        let part = self
            .partitions
            .entry((topic.to_owned(), partition))
            .or_default();
        *part.unfinished.entry(offset).or_default() += 1;
        part.highest = Some(part.highest.map_or(offset, |h| h.max(offset)));
    }

    /// `offset` is finished (applied or dead-lettered). Returns the last offset of the
    /// partition whose messages, and all before it, are finished: what may be committed. `None`
    /// while the oldest received message is still unfinished.
    pub fn finished(&mut self, topic: &str, partition: i32, offset: i64) -> Option<i64> {
        let part = self.partitions.get_mut(&(topic.to_owned(), partition))?;
        if let Some(count) = part.unfinished.get_mut(&offset) {
            *count -= 1;
            if *count == 0 {
                part.unfinished.remove(&offset);
            }
        }
        let done_through = match part.unfinished.first_key_value() {
            Some((&oldest, _)) => oldest - 1,
            None => part.highest?,
        };
        (done_through >= 0).then_some(done_through)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_commit_waits_for_the_oldest_unfinished_message() {
        let mut progress = Progress::default();
        for offset in 5..=8 {
            progress.received("t", 0, offset);
        }
        assert_eq!(progress.finished("t", 0, 7), Some(4), "5 and 6 still run");
        assert_eq!(progress.finished("t", 0, 6), Some(4), "5 still runs");
        assert_eq!(progress.finished("t", 0, 5), Some(7), "8 still runs");
        assert_eq!(progress.finished("t", 0, 8), Some(8));
    }

    #[test]
    fn nothing_is_committable_until_offset_0_finishes() {
        let mut progress = Progress::default();
        progress.received("t", 0, 0);
        progress.received("t", 0, 1);
        assert_eq!(progress.finished("t", 0, 1), None);
        assert_eq!(progress.finished("t", 0, 0), Some(1));
    }

    #[test]
    fn partitions_and_topics_move_independently() {
        let mut progress = Progress::default();
        progress.received("t", 0, 10);
        progress.received("t", 1, 3);
        progress.received("u", 0, 1);
        assert_eq!(progress.finished("t", 1, 3), Some(3));
        assert_eq!(progress.finished("u", 0, 1), Some(1));
        // Partition 0 of t is untouched by the others.
        progress.received("t", 0, 11);
        assert_eq!(progress.finished("t", 0, 11), Some(9));
    }

    #[test]
    fn a_redelivered_offset_holds_the_commit_until_its_second_copy_finishes() {
        let mut progress = Progress::default();
        progress.received("t", 0, 4);
        progress.received("t", 0, 5);
        // The partition comes back after a rebalance and 4 is delivered again.
        progress.received("t", 0, 4);
        assert_eq!(progress.finished("t", 0, 4), Some(3), "one copy of 4 runs");
        assert_eq!(progress.finished("t", 0, 5), Some(3));
        assert_eq!(progress.finished("t", 0, 4), Some(5));
    }

    #[test]
    fn an_offset_never_received_moves_nothing() {
        let mut progress = Progress::default();
        assert_eq!(progress.finished("t", 0, 3), None);
        progress.received("t", 0, 3);
        assert_eq!(progress.finished("t", 0, 2), Some(2), "3 still runs");
    }
}
