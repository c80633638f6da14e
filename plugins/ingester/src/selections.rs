//! The series selections of queries that are paging through a tenant's head.
//!
//! A querier reads a selection a page at a time, each page a call that names where the previous one
//! ended. Resolving the matchers and sorting the series again for every page would cost a page as
//! much as the whole selection; so when a page leaves more to read, its [`Selection`] is kept here
//! for the next page, and dropped with the last one, when it is [`TTL`] old, or when
//! [`CAPACITY`] newer ones pushed it out. A page that finds nothing kept takes the selection anew,
//! which gives the same series, so eviction costs time, never answers.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mimir_proto::ingester::LabelMatcher;
use mimir_tsdb::Selection;
use parking_lot::Mutex;

/// Selections kept per tenant: enough for the queries of a busy dashboard paging at once.
pub const CAPACITY: usize = 16;

/// How long a selection waits for its next page.
pub const TTL: Duration = Duration::from_secs(60);

/// What a query selects: its matchers and time range.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub matchers: Vec<LabelMatcher>,
    pub start_ms: i64,
    pub end_ms: i64,
}

#[derive(Default)]
pub struct Selections {
    kept: Mutex<VecDeque<(Key, Instant, Arc<Selection>)>>,
}

impl Selections {
    /// The selection kept for `key`, if it is younger than [`TTL`].
    pub fn get(&self, key: &Key) -> Option<Arc<Selection>> {
        let mut kept = self.kept.lock();
        kept.retain(|(_, taken, _)| taken.elapsed() < TTL);
        kept.iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, _, selection)| Arc::clone(selection))
    }

    /// Keeps `selection` for the next page of `key`, replacing what was kept for it.
    pub fn keep(&self, key: Key, selection: Arc<Selection>) {
        let mut kept = self.kept.lock();
        kept.retain(|(k, _, _)| *k != key);
        if kept.len() == CAPACITY {
            kept.pop_front();
        }
        kept.push_back((key, Instant::now(), selection));
    }

    /// Drops what was kept for `key` (its last page was read).
    pub fn forget(&self, key: &Key) {
        self.kept.lock().retain(|(k, _, _)| k != key);
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.kept.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(start_ms: i64) -> Key {
        Key {
            matchers: Vec::new(),
            start_ms,
            end_ms: 10,
        }
    }

    #[test]
    fn kept_until_forgotten_replaced_or_pushed_out() {
        let selections = Selections::default();
        selections.keep(key(0), Arc::new(Selection::default()));
        assert!(selections.get(&key(0)).is_some());
        assert!(selections.get(&key(1)).is_none());
        selections.keep(key(0), Arc::new(Selection::default()));
        assert_eq!(selections.len(), 1);
        selections.forget(&key(0));
        assert!(selections.get(&key(0)).is_none());
        for start in 0..=CAPACITY as i64 {
            selections.keep(key(start), Arc::new(Selection::default()));
        }
        assert_eq!(selections.len(), CAPACITY);
        assert!(selections.get(&key(0)).is_none());
        assert!(selections.get(&key(CAPACITY as i64)).is_some());
    }
}
