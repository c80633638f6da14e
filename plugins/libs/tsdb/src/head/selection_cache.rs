//! Selections kept for the next query with the same matchers, while the index is unchanged.
//!
//! Dashboards ask the same selectors again and again; resolving the matchers, cloning the label
//! sets and sorting them is most of what a small query costs the head. A selection depends only on
//! the index, so it stays exact for as long as no series is created or removed: the index counts
//! those changes (its generation), an entry is used only at the generation it was taken, and any
//! change makes every entry stale. VictoriaMetrics' tag-filters cache works the same way; Mimir's
//! head postings-for-matchers cache instead keeps results for a fixed TTL, which can hide a
//! series created meanwhile.

use std::collections::VecDeque;
use std::sync::Arc;

use parking_lot::Mutex;

use super::Selection;
use crate::matcher::{MatchOp, Matcher};

/// Most selections kept per head.
const MAX_ENTRIES: usize = 64;
/// Most series all kept selections hold together (about 24 bytes each).
const MAX_SERIES: usize = 2_000_000;

/// The matchers of a selection, sorted so that their order does not matter.
type Key = Vec<(String, MatchOp, String)>;

#[derive(Debug, Default)]
pub(super) struct SelectionCache {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Oldest first.
    entries: VecDeque<(Key, u64, Arc<Selection>)>,
    series: usize,
}

pub(super) fn key(matchers: &[Matcher]) -> Key {
    let mut key: Key = matchers
        .iter()
        .map(|m| (m.name().to_string(), m.op(), m.value().to_string()))
        .collect();
    key.sort_unstable_by(|a, b| (&a.0, a.1 as u8, &a.2).cmp(&(&b.0, b.1 as u8, &b.2)));
    key
}

impl SelectionCache {
    /// The selection kept for `key` at index generation `generation`.
    pub(super) fn get(&self, key: &Key, generation: u64) -> Option<Arc<Selection>> {
        let mut inner = self.inner.lock();
        let at = inner
            .entries
            .iter()
            .position(|(k, g, _)| *g == generation && k == key)?;
        // Most recently used last.
        let entry = inner.entries.remove(at)?;
        let selection = Arc::clone(&entry.2);
        inner.entries.push_back(entry);
        Some(selection)
    }

    /// Keeps `selection`, taken at `generation`, dropping entries of other generations and the
    /// least recently used beyond the bounds.
    pub(super) fn put(&self, key: Key, generation: u64, selection: Arc<Selection>) {
        if selection.len() > MAX_SERIES / 4 {
            return;
        }
        let mut inner = self.inner.lock();
        let inner = &mut *inner;
        inner
            .entries
            .retain(|(k, g, _)| *g == generation && *k != key);
        inner.entries.push_back((key, generation, selection));
        inner.series = inner.entries.iter().map(|(_, _, s)| s.len()).sum();
        while inner.entries.len() > MAX_ENTRIES || inner.series > MAX_SERIES {
            let Some((_, _, dropped)) = inner.entries.pop_front() else {
                break;
            };
            inner.series -= dropped.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_serve_only_their_generation_and_stay_bounded() {
        let cache = SelectionCache::default();
        let k = key(&[Matcher::equal("a", "1"), Matcher::equal("b", "2")]);
        // Matcher order does not matter.
        assert_eq!(
            k,
            key(&[Matcher::equal("b", "2"), Matcher::equal("a", "1")])
        );
        cache.put(k.clone(), 7, Arc::new(Selection::default()));
        assert!(cache.get(&k, 7).is_some());
        assert!(cache.get(&k, 8).is_none());
        for i in 0..(MAX_ENTRIES + 5) {
            cache.put(
                key(&[Matcher::equal("n", i.to_string())]),
                8,
                Arc::new(Selection::default()),
            );
        }
        // Generation 7's entry went with the first put at 8; the oldest of 8 were pushed out.
        assert!(cache.get(&k, 7).is_none());
        assert_eq!(cache.inner.lock().entries.len(), MAX_ENTRIES);
        assert!(cache.get(&key(&[Matcher::equal("n", "0")]), 8).is_none());
        assert!(
            cache
                .get(
                    &key(&[Matcher::equal("n", (MAX_ENTRIES + 4).to_string())]),
                    8
                )
                .is_some()
        );
    }
}
