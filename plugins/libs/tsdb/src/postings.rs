//! The inverted index: label name → label value → sorted series refs.
//!
//! [`Postings::select`] resolves matchers the way Prometheus' `PostingsForMatchers` does: matchers
//! that reject the empty string contribute the union of the postings of the values they accept,
//! and these sets are intersected; matchers that accept the empty string (and so accept series
//! without the label) subtract the series whose value they reject. With no positive matcher the
//! selection starts from all series.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::labels::Labels;
use crate::matcher::{MatchOp, Matcher};

/// Identifies a series within one head. Assigned increasing from 1; 0 means "no series".
pub type SeriesRef = u64;

/// Label name → value → sorted refs, plus the sorted list of every ref.
#[derive(Debug, Default)]
pub struct Postings {
    index: BTreeMap<Arc<str>, BTreeMap<Arc<str>, Vec<SeriesRef>>>,
    all: Vec<SeriesRef>,
}

impl Postings {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Indexes `series_ref` under each of its labels.
    pub fn add(&mut self, series_ref: SeriesRef, labels: &Labels) {
        insert_sorted(&mut self.all, series_ref);
        for label in labels {
            let values = self.index.entry(Arc::clone(&label.name)).or_default();
            let refs = values.entry(Arc::clone(&label.value)).or_default();
            insert_sorted(refs, series_ref);
        }
    }

    /// Removes `series_ref`, dropping values and names left without series.
    pub fn remove(&mut self, series_ref: SeriesRef, labels: &Labels) {
        remove_sorted(&mut self.all, series_ref);
        for label in labels {
            let Some(values) = self.index.get_mut(&*label.name) else {
                continue;
            };
            if let Some(refs) = values.get_mut(&*label.value) {
                remove_sorted(refs, series_ref);
                if refs.is_empty() {
                    values.remove(&*label.value);
                }
            }
            if values.is_empty() {
                self.index.remove(&*label.name);
            }
        }
    }

    /// Every indexed ref, sorted.
    pub fn all(&self) -> &[SeriesRef] {
        &self.all
    }

    /// The sorted refs of series matching every matcher (all series for no matchers).
    pub fn select(&self, matchers: &[Matcher]) -> Vec<SeriesRef> {
        let mut intersect: Vec<Vec<SeriesRef>> = Vec::new();
        let mut subtract: Vec<Vec<SeriesRef>> = Vec::new();
        for matcher in matchers {
            if matcher.matches_empty() {
                // Series without the label match; series whose value is rejected do not.
                let rejected = self.union_where(matcher.name(), |v| !matcher.matches(v));
                if !rejected.is_empty() {
                    subtract.push(rejected);
                }
            } else {
                let accepted = self.accepted(matcher);
                if accepted.is_empty() {
                    return Vec::new();
                }
                intersect.push(accepted);
            }
        }
        // Intersect the smallest sets first so the running result shrinks fast.
        intersect.sort_by_key(Vec::len);
        let mut sets = intersect.into_iter();
        let mut result = match sets.next() {
            Some(first) => first,
            None => self.all.clone(),
        };
        for set in sets {
            result = intersect_sorted(&result, &set);
        }
        for set in subtract {
            result = subtract_sorted(&result, &set);
        }
        result
    }

    /// Label names in use, sorted.
    pub fn label_names(&self) -> Vec<String> {
        self.index.keys().map(|name| name.to_string()).collect()
    }

    /// How many values `name` has.
    pub fn value_count(&self, name: &str) -> usize {
        self.index.get(name).map_or(0, BTreeMap::len)
    }

    /// Values in use for `name`, sorted.
    pub fn label_values(&self, name: &str) -> Vec<String> {
        self.index
            .get(name)
            .map(|values| values.keys().map(|v| v.to_string()).collect())
            .unwrap_or_default()
    }

    /// Refs of series a matcher that rejects `""` accepts.
    fn accepted(&self, matcher: &Matcher) -> Vec<SeriesRef> {
        if matcher.op() == MatchOp::Equal {
            return self
                .index
                .get(matcher.name())
                .and_then(|values| values.get(matcher.value()))
                .cloned()
                .unwrap_or_default();
        }
        self.union_where(matcher.name(), |v| matcher.matches(v))
    }

    /// The union of the postings of `name`'s values that satisfy `keep`.
    fn union_where(&self, name: &str, keep: impl Fn(&str) -> bool) -> Vec<SeriesRef> {
        let Some(values) = self.index.get(name) else {
            return Vec::new();
        };
        let mut lists = values
            .iter()
            .filter(|(value, _)| keep(value))
            .map(|(_, refs)| refs);
        let Some(first) = lists.next() else {
            return Vec::new();
        };
        let mut union = first.clone();
        let mut needs_sort = false;
        for refs in lists {
            union.extend_from_slice(refs);
            needs_sort = true;
        }
        if needs_sort {
            union.sort_unstable();
            union.dedup();
        }
        union
    }
}

fn insert_sorted(refs: &mut Vec<SeriesRef>, series_ref: SeriesRef) {
    // Refs are assigned increasing, so this is almost always a push.
    match refs.last() {
        Some(last) if *last >= series_ref => {
            if let Err(pos) = refs.binary_search(&series_ref) {
                refs.insert(pos, series_ref);
            }
        }
        _ => refs.push(series_ref),
    }
}

fn remove_sorted(refs: &mut Vec<SeriesRef>, series_ref: SeriesRef) {
    if let Ok(pos) = refs.binary_search(&series_ref) {
        refs.remove(pos);
    }
}

fn intersect_sorted(a: &[SeriesRef], b: &[SeriesRef]) -> Vec<SeriesRef> {
    let mut out = Vec::with_capacity(a.len().min(b.len()));
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

fn subtract_sorted(a: &[SeriesRef], b: &[SeriesRef]) -> Vec<SeriesRef> {
    let mut out = Vec::with_capacity(a.len());
    let mut j = 0;
    for &r in a {
        while j < b.len() && b[j] < r {
            j += 1;
        }
        if j >= b.len() || b[j] != r {
            out.push(r);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::MatchOp::{Equal, NotEqual, RegexMatch, RegexNoMatch};

    /// 1: up{job="api", env="prod"}   2: up{job="api", env="dev"}
    /// 3: up{job="web"}               4: errors{job="web", env="prod"}
    /// 5: up{job="xapi"}
    fn fixture() -> Postings {
        let mut p = Postings::new();
        let series: [&[(&str, &str)]; 5] = [
            &[("__name__", "up"), ("job", "api"), ("env", "prod")],
            &[("__name__", "up"), ("job", "api"), ("env", "dev")],
            &[("__name__", "up"), ("job", "web")],
            &[("__name__", "errors"), ("job", "web"), ("env", "prod")],
            &[("__name__", "up"), ("job", "xapi")],
        ];
        for (i, pairs) in series.iter().enumerate() {
            p.add(
                i as SeriesRef + 1,
                &Labels::from_pairs(pairs.iter().copied()),
            );
        }
        p
    }

    fn select(p: &Postings, matchers: &[(MatchOp, &str, &str)]) -> Vec<SeriesRef> {
        let matchers: Vec<Matcher> = matchers
            .iter()
            .map(|(op, name, value)| Matcher::new(*op, *name, *value).unwrap())
            .collect();
        p.select(&matchers)
    }

    #[test]
    fn equal_and_not_equal() {
        let p = fixture();
        assert_eq!(select(&p, &[(Equal, "job", "api")]), [1, 2]);
        assert_eq!(
            select(&p, &[(Equal, "__name__", "up"), (NotEqual, "job", "api")]),
            [3, 5]
        );
        assert_eq!(
            select(&p, &[(Equal, "job", "nope")]),
            Vec::<SeriesRef>::new()
        );
    }

    #[test]
    fn regex_match_and_no_match_are_anchored() {
        let p = fixture();
        assert_eq!(select(&p, &[(RegexMatch, "job", "api")]), [1, 2]);
        assert_eq!(select(&p, &[(RegexMatch, "job", ".*api")]), [1, 2, 5]);
        assert_eq!(
            select(
                &p,
                &[(Equal, "__name__", "up"), (RegexNoMatch, "job", "api|web")]
            ),
            [5]
        );
    }

    #[test]
    fn matchers_that_accept_empty_select_series_without_the_label() {
        let p = fixture();
        // env="" : series without env.
        assert_eq!(select(&p, &[(Equal, "env", "")]), [3, 5]);
        // env!="" : series with env.
        assert_eq!(select(&p, &[(NotEqual, "env", "")]), [1, 2, 4]);
        // env=~".*" : everything; env=~".+" : only with env.
        assert_eq!(select(&p, &[(RegexMatch, "env", ".*")]), [1, 2, 3, 4, 5]);
        assert_eq!(select(&p, &[(RegexMatch, "env", ".+")]), [1, 2, 4]);
        // env=~"prod|" : prod or absent.
        assert_eq!(select(&p, &[(RegexMatch, "env", "prod|")]), [1, 3, 4, 5]);
        // env!="prod" keeps series without env.
        assert_eq!(select(&p, &[(NotEqual, "env", "prod")]), [2, 3, 5]);
        // A label no series has: ="" matches all, !="" none.
        assert_eq!(select(&p, &[(Equal, "zone", "")]), [1, 2, 3, 4, 5]);
        assert_eq!(
            select(&p, &[(NotEqual, "zone", "")]),
            Vec::<SeriesRef>::new()
        );
    }

    #[test]
    fn no_matchers_select_everything() {
        assert_eq!(select(&fixture(), &[]), [1, 2, 3, 4, 5]);
    }

    #[test]
    fn names_values_and_removal() {
        let mut p = fixture();
        assert_eq!(p.label_names(), ["__name__", "env", "job"]);
        assert_eq!(p.label_values("job"), ["api", "web", "xapi"]);
        p.remove(
            4,
            &Labels::from_pairs([("__name__", "errors"), ("job", "web"), ("env", "prod")]),
        );
        assert_eq!(p.label_values("__name__"), ["up"]);
        assert_eq!(select(&p, &[(Equal, "env", "prod")]), [1]);
        assert_eq!(p.all(), [1, 2, 3, 5]);
        p.remove(
            1,
            &Labels::from_pairs([("__name__", "up"), ("job", "api"), ("env", "prod")]),
        );
        assert_eq!(p.label_values("env"), ["dev"]);
    }

    #[test]
    fn refs_added_out_of_order_stay_sorted() {
        let mut p = Postings::new();
        let labels = Labels::from_pairs([("a", "1")]);
        for r in [5, 2, 9, 2] {
            p.add(r, &labels);
        }
        assert_eq!(p.all(), [2, 5, 9]);
        assert_eq!(select(&p, &[(Equal, "a", "1")]), [2, 5, 9]);
    }
}
