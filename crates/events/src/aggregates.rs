//! One event of an aggregate at a time: [`EventConsumer`](crate::EventConsumer) applies events
//! of different keys side by side, and holds an event back while an earlier one of its key is
//! being applied, so each aggregate's events keep the order they were published in.

use std::collections::{HashMap, VecDeque};

/// The keys being applied, each with the messages waiting behind it.
#[derive(Debug)]
pub struct KeyQueues<M> {
    busy: HashMap<Vec<u8>, VecDeque<M>>,
    waiting: usize,
}

impl<M> Default for KeyQueues<M> {
    fn default() -> Self {
        Self {
            busy: HashMap::new(),
            waiting: 0,
        }
    }
}

impl<M> KeyQueues<M> {
    /// `Some(message)` when it may start now (nothing of its key runs), `None` when it waits.
    pub fn admit(&mut self, key: Vec<u8>, message: M) -> Option<M> {
        match self.busy.get_mut(&key) {
            Some(queue) => {
                queue.push_back(message);
                self.waiting += 1;
                None
            }
            None => {
                self.busy.insert(key, VecDeque::new());
                Some(message)
            }
        }
    }

    /// The running message of `key` finished: the next one of that key, to start now.
    pub fn finish(&mut self, key: &[u8]) -> Option<M> {
        let queue = self.busy.get_mut(key)?;
        match queue.pop_front() {
            Some(next) => {
                self.waiting -= 1;
                Some(next)
            }
            None => {
                self.busy.remove(key);
                None
            }
        }
    }

    /// Messages held back behind their key.
    pub fn waiting(&self) -> usize {
        self.waiting
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_runs_one_message_at_a_time_in_arrival_order() {
        let mut queues = KeyQueues::default();
        assert_eq!(queues.admit(b"loan-1".to_vec(), 1), Some(1));
        assert_eq!(queues.admit(b"loan-1".to_vec(), 2), None);
        assert_eq!(queues.admit(b"loan-1".to_vec(), 3), None);
        assert_eq!(queues.waiting(), 2);
        assert_eq!(queues.finish(b"loan-1"), Some(2));
        assert_eq!(queues.finish(b"loan-1"), Some(3));
        assert_eq!(queues.finish(b"loan-1"), None);
        assert_eq!(queues.waiting(), 0);
        assert_eq!(
            queues.admit(b"loan-1".to_vec(), 4),
            Some(4),
            "the key is free"
        );
    }

    #[test]
    fn other_keys_start_at_once() {
        let mut queues = KeyQueues::default();
        assert_eq!(queues.admit(b"loan-1".to_vec(), 1), Some(1));
        assert_eq!(queues.admit(b"loan-2".to_vec(), 2), Some(2));
        assert_eq!(queues.admit(b"loan-1".to_vec(), 3), None);
        assert_eq!(queues.finish(b"loan-2"), None);
        assert_eq!(queues.finish(b"loan-1"), Some(3));
    }
}
