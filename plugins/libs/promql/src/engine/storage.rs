//! What the engine reads from: a [`Storage`] selects series by matchers and time range. The querier
//! implements it over the ingesters; tests and the conformance runner use [`MemoryStorage`].

use super::error::QueryError;
use super::value::{HistogramSample, Labels, Sample, Series};
use crate::{Matcher, MatcherOp};

/// A series as storage hands it over: its labels and its samples in time order (chunks decoded once).
pub type StoredSeries = Series;

/// A stream of series, pulled one at a time so storage can fetch in bounded batches.
pub type SeriesIter<'a> = Box<dyn Iterator<Item = Result<StoredSeries, QueryError>> + Send + 'a>;

/// A source of series for one query.
pub trait Storage: Sync {
    /// The series matching all `matchers` with their samples in `[start_ms, end_ms]` (both inclusive).
    /// Series come sorted by labels; series without samples in the range may be left out.
    fn select(
        &self,
        matchers: &[Matcher],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<SeriesIter<'_>, QueryError>;
}

/// A compiled matcher (regexes anchored as PromQL's are).
#[derive(Debug, Clone)]
pub struct CompiledMatcher {
    pub name: String,
    pub op: MatcherOp,
    pub value: String,
    regex: Option<std::sync::Arc<mimir_matcher::FastRegex>>,
}

impl CompiledMatcher {
    pub fn new(matcher: &Matcher) -> Result<CompiledMatcher, QueryError> {
        let regex = match matcher.op {
            MatcherOp::Regex | MatcherOp::NotRegex => {
                Some(mimir_matcher::compile(&matcher.value).map_err(|err| {
                    QueryError::BadData(format!("invalid regular expression: {err}"))
                })?)
            }
            _ => None,
        };
        Ok(CompiledMatcher {
            name: matcher.name.clone(),
            op: matcher.op,
            value: matcher.value.clone(),
            regex,
        })
    }

    /// Whether a label value (`""` when the label is absent) matches.
    pub fn matches(&self, value: &str) -> bool {
        match (self.op, &self.regex) {
            (MatcherOp::Equal, _) => value == self.value,
            (MatcherOp::NotEqual, _) => value != self.value,
            (MatcherOp::Regex, Some(re)) => re.is_match(value),
            (MatcherOp::NotRegex, Some(re)) => !re.is_match(value),
            _ => false,
        }
    }
}

/// An in-memory storage: what the conformance runner loads test data into.
#[derive(Debug, Default, Clone)]
pub struct MemoryStorage {
    series: std::collections::BTreeMap<Labels, StoredPoints>,
}

/// One series' data: floats with their start timestamps (0 when unknown), and histograms; both in
/// time order, never two points at one timestamp.
#[derive(Debug, Default, Clone)]
struct StoredPoints {
    floats: Vec<(Sample, i64)>,
    histograms: Vec<HistogramSample>,
}

impl MemoryStorage {
    pub fn new() -> MemoryStorage {
        MemoryStorage::default()
    }

    /// Adds samples to a series; samples are kept sorted by time, a later sample at the same time wins.
    pub fn append(&mut self, labels: Labels, samples: impl IntoIterator<Item = Sample>) {
        self.append_with_start_timestamps(labels, samples.into_iter().map(|s| (s, 0)));
    }

    /// [`MemoryStorage::append`] for samples with start timestamps (0 when unknown).
    pub fn append_with_start_timestamps(
        &mut self,
        labels: Labels,
        samples: impl IntoIterator<Item = (Sample, i64)>,
    ) {
        let entry = self.series.entry(labels).or_default();
        let before = entry.floats.len();
        entry.floats.extend(samples);
        let added: std::collections::HashSet<i64> =
            entry.floats[before..].iter().map(|(s, _)| s.t).collect();
        entry.histograms.retain(|h| !added.contains(&h.t));
        entry.floats.sort_by_key(|(s, _)| s.t);
        let mut deduped: Vec<(Sample, i64)> = Vec::with_capacity(entry.floats.len());
        for point in entry.floats.drain(..) {
            match deduped.last_mut() {
                Some(last) if last.0.t == point.0.t => *last = point,
                _ => deduped.push(point),
            }
        }
        entry.floats = deduped;
    }

    /// Adds native-histogram samples to a series; a later sample at the same time wins.
    pub fn append_histograms(
        &mut self,
        labels: Labels,
        samples: impl IntoIterator<Item = HistogramSample>,
    ) {
        let entry = self.series.entry(labels).or_default();
        let before = entry.histograms.len();
        entry.histograms.extend(samples);
        let added: std::collections::HashSet<i64> =
            entry.histograms[before..].iter().map(|h| h.t).collect();
        entry.floats.retain(|(s, _)| !added.contains(&s.t));
        entry.histograms.sort_by_key(|h| h.t);
        let mut deduped: Vec<HistogramSample> = Vec::with_capacity(entry.histograms.len());
        for point in entry.histograms.drain(..) {
            match deduped.last_mut() {
                Some(last) if last.t == point.t => *last = point,
                _ => deduped.push(point),
            }
        }
        entry.histograms = deduped;
    }

    /// Drops all data.
    pub fn clear(&mut self) {
        self.series.clear();
    }

    pub fn series_count(&self) -> usize {
        self.series.len()
    }
}

impl Storage for MemoryStorage {
    fn select(
        &self,
        matchers: &[Matcher],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<SeriesIter<'_>, QueryError> {
        let compiled = matchers
            .iter()
            .map(CompiledMatcher::new)
            .collect::<Result<Vec<_>, _>>()?;
        let iter = self.series.iter().filter_map(move |(labels, points)| {
            if !compiled.iter().all(|m| m.matches(labels.get(&m.name))) {
                return None;
            }
            let from = points.floats.partition_point(|(s, _)| s.t < start_ms);
            let to = points.floats.partition_point(|(s, _)| s.t <= end_ms);
            let floats = &points.floats[from..to.max(from)];
            let hfrom = points.histograms.partition_point(|h| h.t < start_ms);
            let hto = points.histograms.partition_point(|h| h.t <= end_ms);
            let histograms = &points.histograms[hfrom..hto.max(hfrom)];
            if floats.is_empty() && histograms.is_empty() {
                return None;
            }
            let start_ts = if floats.iter().any(|(_, st)| *st != 0) {
                floats.iter().map(|(_, st)| *st).collect()
            } else {
                Vec::new()
            };
            Some(Ok(Series {
                labels: labels.clone(),
                samples: floats.iter().map(|(s, _)| *s).collect(),
                start_ts,
                histograms: histograms.to_vec(),
            }))
        });
        Ok(Box::new(iter))
    }
}
