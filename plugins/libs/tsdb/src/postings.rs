//! The inverted index: label name → label value → sorted series refs.
//!
//! [`Postings::select`] resolves matchers the way Prometheus' `PostingsForMatchers` does: matchers
//! that reject the empty string contribute the union of the postings of the values they accept,
//! and these sets are intersected; matchers that accept the empty string (and so accept series
//! without the label) subtract the series whose value they reject. With no positive matcher the
//! selection starts from all series.

use std::collections::BTreeMap;
use std::ops::Bound;
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
        self.select_with(matchers, None)
    }

    /// [`Postings::select`], where `labels_of` (when given) returns a series' labels so that a
    /// matcher whose values would have to be scanned is checked on the candidates' own labels
    /// instead when there are few enough of them. Refs without labels are then left out.
    ///
    /// Each matcher is resolved to the postings lists of the values it selects: for a matcher
    /// that rejects `""` the values it accepts (the series must be in one of those lists), for
    /// one that accepts `""` the values it rejects (the series must be in none). Exact values
    /// (`=`, `!=`, regexes that are finite sets) are looked up; other regexes scan only the
    /// values that start with their literal prefix. The smallest accepted set becomes the
    /// candidates, and every further matcher only marks candidates, never building a union.
    pub fn select_with<'l>(
        &self,
        matchers: &[Matcher],
        labels_of: Option<&dyn Fn(SeriesRef) -> Option<&'l Labels>>,
    ) -> Vec<SeriesRef> {
        self.select_costed(matchers, labels_of, LABEL_CHECK_COST)
    }

    /// [`Postings::select_with`] with the cost of a label check relative to a value scanned.
    fn select_costed<'l>(
        &self,
        matchers: &[Matcher],
        labels_of: Option<&dyn Fn(SeriesRef) -> Option<&'l Labels>>,
        label_check_cost: usize,
    ) -> Vec<SeriesRef> {
        let mut plans: Vec<Plan<'_, '_>> = Vec::with_capacity(matchers.len());
        for matcher in matchers {
            let positive = !matcher.matches_empty();
            let Some(values) = self.index.get(matcher.name()) else {
                if positive {
                    // No series has the label, and the matcher needs a value.
                    return Vec::new();
                }
                continue;
            };
            let source = Source::of(matcher, positive);
            let lists = match &source {
                Source::Values(exact) => {
                    let lists = Self::lookup(values, exact, matcher, positive);
                    if positive && lists.is_empty() {
                        return Vec::new();
                    }
                    Some(lists)
                }
                Source::Scan(_) => None,
            };
            plans.push(Plan {
                matcher,
                positive,
                values,
                source,
                lists,
            });
        }
        // The cheapest first: looked-up positive sets by size, then positive scans by how many
        // values they read, then the negative matchers.
        plans.sort_by_key(|plan| plan.order());
        let mut plans = plans.into_iter().peekable();
        let mut candidates = match plans.peek() {
            Some(plan) if plan.positive => {
                let mut plan = plans.next().expect("peeked");
                let lists = plan.take_lists();
                if lists.is_empty() {
                    return Vec::new();
                }
                union(&lists)
            }
            _ => self.all.clone(),
        };
        for mut plan in plans {
            if candidates.is_empty() {
                break;
            }
            if let (None, Some(labels_of)) = (&plan.lists, labels_of)
                && candidates.len().saturating_mul(label_check_cost) < plan.values.len()
            {
                // Fewer candidates than values to scan: look at the candidates instead.
                retain_by_labels(&mut candidates, labels_of, plan.matcher);
                continue;
            }
            let lists = plan.take_lists();
            if plan.positive {
                if lists.is_empty() {
                    return Vec::new();
                }
                mark_and_retain(&mut candidates, &lists, true);
            } else if !lists.is_empty() {
                mark_and_retain(&mut candidates, &lists, false);
            }
        }
        candidates
    }

    /// The lists of `exact` values that the matcher selects (accepts when `positive`, rejects
    /// otherwise).
    fn lookup<'p>(
        values: &'p BTreeMap<Arc<str>, Vec<SeriesRef>>,
        exact: &[&str],
        matcher: &Matcher,
        positive: bool,
    ) -> Vec<&'p [SeriesRef]> {
        exact
            .iter()
            .filter(|v| matcher.matches(v) == positive)
            .filter_map(|v| values.get(*v))
            .map(Vec::as_slice)
            .collect()
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
}

/// A candidate is checked on its labels rather than by scanning a label's values when the
/// candidates times this are fewer than the values. Both are bound by cache misses: a label check
/// costs a hash lookup, the label set and the value; a scanned value, its string and, when
/// selected, its postings list (measured on the 100k-series bench in `benches/head.rs`).
const LABEL_CHECK_COST: usize = 2;

/// Where the values a matcher selects come from.
enum Source<'m> {
    /// These exact values (some may not exist).
    Values(Vec<&'m str>),
    /// The values starting with this prefix (all for `""`), each tested.
    Scan(&'m str),
}

impl<'m> Source<'m> {
    /// For a positive matcher the values it accepts, otherwise the values it rejects.
    fn of(matcher: &'m Matcher, positive: bool) -> Source<'m> {
        let regex_set = || {
            matcher
                .regex()
                .and_then(|re| re.set_matches())
                .map(|set| set.iter().map(String::as_str).collect())
        };
        let regex_prefix = || matcher.regex().map_or("", |re| re.literal_prefix());
        match (matcher.op(), positive) {
            // `=v`, or `!=v` rejecting `v`.
            (MatchOp::Equal, true) | (MatchOp::NotEqual, false) => {
                Source::Values(vec![matcher.value()])
            }
            // `=~re` accepting, or `!~re` rejecting, what the regex matches.
            (MatchOp::RegexMatch, true) | (MatchOp::RegexNoMatch, false) => match regex_set() {
                Some(set) => Source::Values(set),
                None => Source::Scan(regex_prefix()),
            },
            _ => Source::Scan(""),
        }
    }
}

/// One matcher on its way to being applied.
struct Plan<'p, 'm> {
    matcher: &'m Matcher,
    positive: bool,
    /// The label's values.
    values: &'p BTreeMap<Arc<str>, Vec<SeriesRef>>,
    source: Source<'m>,
    /// The selected values' lists, once resolved.
    lists: Option<Vec<&'p [SeriesRef]>>,
}

impl<'p> Plan<'p, '_> {
    /// Sort key: lower is applied earlier.
    fn order(&self) -> (u8, usize) {
        match (&self.lists, self.positive) {
            (Some(lists), true) => (0, lists.iter().map(|l| l.len()).sum()),
            (None, true) => (1, self.values.len()),
            (Some(_), false) => (2, 0),
            (None, false) => (3, self.values.len()),
        }
    }

    /// The selected values' lists, scanning now if needed.
    fn take_lists(&mut self) -> Vec<&'p [SeriesRef]> {
        if let Some(lists) = self.lists.take() {
            return lists;
        }
        let prefix = match self.source {
            Source::Scan(prefix) => prefix,
            Source::Values(_) => "",
        };
        let (matcher, positive) = (self.matcher, self.positive);
        self.values
            .range::<str, _>((Bound::Included(prefix), Bound::Unbounded))
            .take_while(|(value, _)| value.starts_with(prefix))
            .filter(|(value, _)| matcher.matches(value) == positive)
            .map(|(_, refs)| refs.as_slice())
            .collect()
    }
}

/// The sorted, deduplicated union of sorted lists.
fn union(lists: &[&[SeriesRef]]) -> Vec<SeriesRef> {
    match lists {
        [] => Vec::new(),
        [one] => one.to_vec(),
        _ => {
            let mut out: Vec<SeriesRef> = lists.concat();
            out.sort_unstable();
            out.dedup();
            out
        }
    }
}

/// Keeps the candidates whose labels satisfy `matcher`, dropping refs without labels.
///
/// Each candidate's check reads memory nothing else touches (its index entry, its label set,
/// its value), so a loop over candidates one by one waits on a cache miss after a cache miss. In
/// batches, every step is done for the whole batch before the next, and the batch's misses are in
/// flight together.
fn retain_by_labels<'l>(
    candidates: &mut Vec<SeriesRef>,
    labels_of: &dyn Fn(SeriesRef) -> Option<&'l Labels>,
    matcher: &Matcher,
) {
    const BATCH: usize = 32;
    let mut keep = Vec::with_capacity(candidates.len());
    let mut labels: Vec<Option<&Labels>> = Vec::with_capacity(BATCH);
    let mut values: Vec<Option<&str>> = Vec::with_capacity(BATCH);
    for batch in candidates.chunks(BATCH) {
        labels.clear();
        labels.extend(batch.iter().map(|r| labels_of(*r)));
        values.clear();
        values.extend(
            labels
                .iter()
                .map(|l| l.map(|l| l.get_or_empty(matcher.name()))),
        );
        keep.extend(values.iter().map(|v| v.is_some_and(|v| matcher.matches(v))));
    }
    let mut keep = keep.into_iter();
    candidates.retain(|_| keep.next() == Some(true));
}

/// Keeps the candidates that are in some list (`keep_listed`) or in none (`!keep_listed`).
fn mark_and_retain(candidates: &mut Vec<SeriesRef>, lists: &[&[SeriesRef]], keep_listed: bool) {
    let mut listed = vec![false; candidates.len()];
    for list in lists {
        mark(candidates, list, &mut listed);
    }
    let mut flags = listed.into_iter();
    candidates.retain(|_| flags.next() == Some(keep_listed));
}

/// Sets `listed[i]` for each `candidates[i]` in `list` (both sorted): binary searches from the
/// shorter side when one is much shorter, a merge otherwise.
fn mark(candidates: &[SeriesRef], list: &[SeriesRef], listed: &mut [bool]) {
    let (Some(first), Some(last)) = (list.first(), list.last()) else {
        return;
    };
    let start = candidates.partition_point(|c| c < first);
    let end = start + candidates[start..].partition_point(|c| c <= last);
    let (cands, listed) = (&candidates[start..end], &mut listed[start..end]);
    if cands.is_empty() {
        return;
    }
    if list.len() * 8 <= cands.len() {
        let mut from = 0;
        for r in list {
            match cands[from..].binary_search(r) {
                Ok(i) => {
                    listed[from + i] = true;
                    from += i + 1;
                }
                Err(i) => from += i,
            }
            if from >= cands.len() {
                break;
            }
        }
    } else if cands.len() * 8 <= list.len() {
        let mut from = 0;
        for (i, c) in cands.iter().enumerate() {
            match list[from..].binary_search(c) {
                Ok(j) => {
                    listed[i] = true;
                    from += j + 1;
                }
                Err(j) => from += j,
            }
        }
    } else {
        let (mut i, mut j) = (0, 0);
        while i < cands.len() && j < list.len() {
            match cands[i].cmp(&list[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    listed[i] = true;
                    i += 1;
                    j += 1;
                }
            }
        }
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

    #[test]
    fn set_and_prefix_regexes_and_label_checks() {
        let p = fixture();
        assert_eq!(
            select(&p, &[(RegexMatch, "job", "api|web|nope")]),
            [1, 2, 3, 4]
        );
        assert_eq!(select(&p, &[(RegexMatch, "job", "x.*")]), [5]);
        assert_eq!(select(&p, &[(RegexMatch, "job", "a[p]i|x.+")]), [1, 2, 5]);
        assert_eq!(select(&p, &[(RegexNoMatch, "job", "a.*|")]), [3, 4, 5]);
        assert_eq!(
            select(
                &p,
                &[(Equal, "__name__", "up"), (RegexNoMatch, "env", "p.*")]
            ),
            [2, 3, 5]
        );
        let labels: std::collections::HashMap<SeriesRef, Labels> = [
            (1, vec![("__name__", "up"), ("job", "api"), ("env", "prod")]),
            (2, vec![("__name__", "up"), ("job", "api"), ("env", "dev")]),
            (3, vec![("__name__", "up"), ("job", "web")]),
            (
                4,
                vec![("__name__", "errors"), ("job", "web"), ("env", "prod")],
            ),
            (5, vec![("__name__", "up"), ("job", "xapi")]),
        ]
        .into_iter()
        .map(|(r, pairs)| (r, Labels::from_pairs(pairs)))
        .collect();
        let labels_of = |r: SeriesRef| labels.get(&r);
        let matchers = [
            Matcher::new(Equal, "job", "api").unwrap(),
            Matcher::new(RegexMatch, "env", ".*d.*").unwrap(),
        ];
        assert_eq!(p.select_costed(&matchers, Some(&labels_of), 0), [1, 2]);
        assert_eq!(p.select_with(&matchers, Some(&labels_of)), [1, 2]);
    }

    mod proptests {
        use proptest::prelude::*;

        use super::*;

        const NAMES: [&str; 3] = ["a", "b", "c"];
        const VALUES: [&str; 6] = ["x", "y", "xy", "yx", "x1", "10"];
        const PATTERNS: [&str; 16] = [
            "x", "x|y", "x.*", ".*x", ".*", ".+", "", "x|", "y.*|10", "[xy]", "x[0-9]+", "(x|y)y?",
            ".*y.*", "1.*|", "(?i)X", "[^x].*",
        ];

        fn op() -> impl Strategy<Value = MatchOp> {
            prop::sample::select(vec![Equal, NotEqual, RegexMatch, RegexNoMatch])
        }

        fn matcher() -> impl Strategy<Value = Matcher> {
            (
                op(),
                prop::sample::select(NAMES.to_vec()),
                0..PATTERNS.len(),
            )
                .prop_map(|(op, name, i)| {
                    let value = match op {
                        Equal | NotEqual => VALUES.get(i).copied().unwrap_or(""),
                        RegexMatch | RegexNoMatch => PATTERNS[i],
                    };
                    Matcher::new(op, name, value).unwrap()
                })
        }

        fn series() -> impl Strategy<Value = Vec<Labels>> {
            let labels = prop::collection::btree_map(
                prop::sample::select(NAMES.to_vec()),
                prop::sample::select(VALUES.to_vec()),
                0..=3,
            )
            .prop_map(Labels::from_pairs);
            prop::collection::vec(labels, 0..40)
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(1000))]

            #[test]
            fn select_is_a_filter_over_all_series(
                series in series(),
                matchers in prop::collection::vec(matcher(), 0..4),
                check_labels in prop::sample::select(vec![None, Some(0), Some(LABEL_CHECK_COST)]),
            ) {
                let mut p = Postings::new();
                let mut by_ref = std::collections::HashMap::new();
                for (i, labels) in series.iter().enumerate() {
                    // Leave gaps in the refs.
                    let r = 2 * i as SeriesRef + 1;
                    p.add(r, labels);
                    by_ref.insert(r, labels.clone());
                }
                let expected: Vec<SeriesRef> = (0..series.len())
                    .map(|i| 2 * i as SeriesRef + 1)
                    .filter(|r| crate::matcher::matches_all(&matchers, &by_ref[r]))
                    .collect();
                let labels_of = |r: SeriesRef| by_ref.get(&r);
                let got = match check_labels {
                    Some(cost) => p.select_costed(&matchers, Some(&labels_of), cost),
                    None => p.select(&matchers),
                };
                prop_assert_eq!(got, expected);
            }
        }
    }
}
