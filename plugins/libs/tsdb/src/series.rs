//! One series in memory: its in-order XOR chunks, its out-of-order store and the append rules.
//!
//! In-order samples go to a list of [`XorChunk`]s; the last one is open and a new one is cut
//! every [`SAMPLES_PER_CHUNK`] samples. Each chunk keeps its time range so reads skip chunks
//! outside the query. Out-of-order samples (accepted inside the window) go to a sorted map and
//! are merged with the chunks when read. Native histogram samples sit beside them in a map by
//! timestamp, each as its encoded bytes (see the crate docs). The head serialises access through
//! its stripe locks.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::chunk::{SAMPLES_PER_CHUNK, XorChunk};
use crate::error::AppendError;
use crate::labels::Labels;

/// What happened to an accepted sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendOutcome {
    /// Newer than every sample of the series: appended to its open chunk.
    InOrder,
    /// Older than the series' newest sample but inside the out-of-order window: stored apart
    /// and merged at query time.
    OutOfOrder,
    /// Same timestamp and bit-identical value as an existing sample: nothing changed.
    Duplicate,
}

#[derive(Debug)]
struct MemChunk {
    chunk: XorChunk,
    min_t: i64,
    max_t: i64,
}

#[derive(Debug)]
pub(crate) struct MemSeries {
    pub(crate) labels: Labels,
    /// In-order chunks, oldest first, non-overlapping; the last one is open.
    chunks: Vec<MemChunk>,
    /// Bits of the newest in-order value, for the duplicate check at the newest timestamp.
    last_value_bits: u64,
    /// Out-of-order samples by timestamp.
    ooo: BTreeMap<i64, f64>,
    /// Native histogram samples by timestamp (in order or not), each an encoded `Histogram`
    /// message without its timestamp.
    histograms: BTreeMap<i64, Arc<[u8]>>,
    /// Created but not yet given a sample; spared by one truncation so the creator can append.
    pub(crate) pending: bool,
}

impl MemSeries {
    pub(crate) fn new(labels: Labels) -> Self {
        Self {
            labels,
            chunks: Vec::new(),
            last_value_bits: 0,
            ooo: BTreeMap::new(),
            histograms: BTreeMap::new(),
            pending: true,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.chunks.is_empty() && self.ooo.is_empty() && self.histograms.is_empty()
    }

    /// The newest in-order timestamp, float or histogram: what a new sample of either kind must
    /// be after to be in order.
    pub(crate) fn max_t(&self) -> Option<i64> {
        let floats = self.chunks.last().map(|c| c.max_t);
        let histograms = self.histograms.keys().next_back().copied();
        floats.max(histograms)
    }

    /// The oldest timestamp held, in-order or not, float or histogram.
    pub(crate) fn min_t(&self) -> Option<i64> {
        [
            self.chunks.first().map(|c| c.min_t),
            self.ooo.keys().next().copied(),
            self.histograms.keys().next().copied(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Appends a native histogram sample (`h`: its encoded `Histogram` message without the
    /// timestamp, in one canonical encoding so that equal histograms have equal bytes) with the
    /// same rules as [`MemSeries::append`], floats and histograms sharing one time line: a sample
    /// at or before the series' newest sample of either kind is out of order, and a timestamp
    /// taken by the other kind is a duplicate timestamp.
    pub(crate) fn append_histogram(
        &mut self,
        t: i64,
        h: &[u8],
        head_max_t: i64,
        ooo_window_ms: i64,
    ) -> Result<AppendOutcome, AppendError> {
        let Some(max_t) = self.max_t() else {
            return Ok(self.insert_histogram(t, h, AppendOutcome::InOrder));
        };
        if t > max_t {
            return Ok(self.insert_histogram(t, h, AppendOutcome::InOrder));
        }
        let duplicate = |existing: Option<&Arc<[u8]>>| match existing {
            Some(existing) if **existing == *h => Ok(AppendOutcome::Duplicate),
            _ => Err(AppendError::DuplicateTimestamp {
                timestamp: t,
                labels: self.labels.clone(),
            }),
        };
        if t == max_t {
            return duplicate(self.histograms.get(&t));
        }
        self.check_out_of_order(t, max_t, head_max_t, ooo_window_ms)?;
        if self.histograms.contains_key(&t)
            || self.in_order_value_at(t).is_some()
            || self.ooo.contains_key(&t)
        {
            return duplicate(self.histograms.get(&t));
        }
        Ok(self.insert_histogram(t, h, AppendOutcome::OutOfOrder))
    }

    fn insert_histogram(&mut self, t: i64, h: &[u8], outcome: AppendOutcome) -> AppendOutcome {
        self.histograms.insert(t, Arc::from(h));
        self.pending = false;
        outcome
    }

    /// Refuses an out-of-order sample at `t` (`max_t` being the series' newest) when there is no
    /// window or it is too old for it.
    fn check_out_of_order(
        &self,
        t: i64,
        max_t: i64,
        head_max_t: i64,
        ooo_window_ms: i64,
    ) -> Result<(), AppendError> {
        if ooo_window_ms <= 0 {
            return Err(AppendError::OutOfOrder {
                timestamp: t,
                labels: self.labels.clone(),
            });
        }
        if t < head_max_t.max(max_t).saturating_sub(ooo_window_ms) {
            return Err(AppendError::TooOldSample {
                timestamp: t,
                labels: self.labels.clone(),
                window_ms: ooo_window_ms,
            });
        }
        Ok(())
    }

    /// Histogram samples with `mint <= t <= maxt`, sorted by time, appended to `out`.
    pub(crate) fn histograms_in_into(&self, mint: i64, maxt: i64, out: &mut Vec<(i64, Arc<[u8]>)>) {
        if mint > maxt {
            return;
        }
        out.extend(
            self.histograms
                .range(mint..=maxt)
                .map(|(t, h)| (*t, Arc::clone(h))),
        );
    }

    /// Applies Prometheus' `appendable` rules. `head_max_t` is the newest timestamp of the whole
    /// head: the out-of-order window is measured from it, as in Prometheus.
    pub(crate) fn append(
        &mut self,
        t: i64,
        v: f64,
        head_max_t: i64,
        ooo_window_ms: i64,
    ) -> Result<AppendOutcome, AppendError> {
        let Some(max_t) = self.max_t() else {
            return self.append_in_order(t, v);
        };
        if t > max_t {
            return self.append_in_order(t, v);
        }
        if self.histograms.contains_key(&t) {
            // A float where a histogram is: never the same sample.
            return Err(AppendError::DuplicateTimestamp {
                timestamp: t,
                labels: self.labels.clone(),
            });
        }
        if t == max_t {
            return self.check_duplicate(t, self.last_value_bits, v);
        }
        self.check_out_of_order(t, max_t, head_max_t, ooo_window_ms)?;
        if let Some(existing) = self.in_order_value_at(t) {
            return self.check_duplicate(t, existing.to_bits(), v);
        }
        if let Some(existing) = self.ooo.get(&t) {
            return self.check_duplicate(t, existing.to_bits(), v);
        }
        self.ooo.insert(t, v);
        self.pending = false;
        Ok(AppendOutcome::OutOfOrder)
    }

    fn check_duplicate(
        &self,
        t: i64,
        existing_bits: u64,
        v: f64,
    ) -> Result<AppendOutcome, AppendError> {
        if existing_bits == v.to_bits() {
            return Ok(AppendOutcome::Duplicate);
        }
        Err(AppendError::DuplicateTimestamp {
            timestamp: t,
            labels: self.labels.clone(),
        })
    }

    fn append_in_order(&mut self, t: i64, v: f64) -> Result<AppendOutcome, AppendError> {
        let needs_cut = self
            .chunks
            .last()
            .is_none_or(|c| c.chunk.num_samples() >= SAMPLES_PER_CHUNK);
        if needs_cut {
            if let Some(closed) = self.chunks.last_mut() {
                closed.chunk.shrink_to_fit();
            }
            self.chunks.push(MemChunk {
                chunk: XorChunk::new(),
                min_t: t,
                max_t: t,
            });
        }
        if let Some(open) = self.chunks.last_mut() {
            open.chunk.append(t, v)?;
            open.max_t = t;
        }
        self.last_value_bits = v.to_bits();
        self.pending = false;
        Ok(AppendOutcome::InOrder)
    }

    /// The in-order value at exactly `t`, decoding at most one chunk.
    fn in_order_value_at(&self, t: i64) -> Option<f64> {
        let idx = self.chunks.partition_point(|c| c.max_t < t);
        let candidate = self.chunks.get(idx).filter(|c| c.min_t <= t)?;
        candidate
            .chunk
            .iter()
            .find(|(sample_t, _)| *sample_t == t)
            .map(|(_, v)| v)
    }

    /// Samples with `mint <= t <= maxt`, in-order and out-of-order merged, sorted by time.
    pub(crate) fn samples_in(&self, mint: i64, maxt: i64) -> Vec<(i64, f64)> {
        let mut out = Vec::new();
        self.samples_in_into(mint, maxt, &mut out);
        out
    }

    /// [`MemSeries::samples_in`] appended to `out`, so a caller can reuse one buffer.
    pub(crate) fn samples_in_into(&self, mint: i64, maxt: i64, out: &mut Vec<(i64, f64)>) {
        if mint > maxt {
            return;
        }
        let start = out.len();
        for c in self.chunks_overlapping(mint, maxt) {
            let fully_inside = mint <= c.min_t && c.max_t <= maxt;
            let samples = c.chunk.iter();
            out.reserve(samples.size_hint().1.unwrap_or(0));
            if fully_inside {
                out.extend(samples);
            } else {
                out.extend(samples.filter(|(t, _)| mint <= *t && *t <= maxt));
            }
        }
        let mut ooo = self
            .ooo
            .range(mint..=maxt)
            .map(|(t, v)| (*t, *v))
            .peekable();
        if ooo.peek().is_some() {
            let in_order = out.split_off(start);
            out.extend(merge_by_time(in_order, ooo));
        }
    }

    /// The in-order chunks overlapping `mint..=maxt`, their encoded bytes appended to `bytes` and
    /// each one's `(start, end)` in it to `ranges` (oldest first; a chunk may hold samples outside
    /// the range), and the out-of-order samples in the range appended to `ooo`. Copies bytes,
    /// decodes nothing.
    pub(crate) fn chunks_in_into(
        &self,
        mint: i64,
        maxt: i64,
        bytes: &mut Vec<u8>,
        ranges: &mut Vec<(usize, usize)>,
        ooo: &mut Vec<(i64, f64)>,
    ) {
        if mint > maxt {
            return;
        }
        for c in self.chunks_overlapping(mint, maxt) {
            let start = bytes.len();
            bytes.extend_from_slice(c.chunk.bytes());
            ranges.push((start, bytes.len()));
        }
        ooo.extend(self.ooo.range(mint..=maxt).map(|(t, v)| (*t, *v)));
    }

    /// Whether any sample falls in `mint..=maxt`, decoding only chunks that straddle a bound.
    pub(crate) fn has_samples_in(&self, mint: i64, maxt: i64) -> bool {
        if mint > maxt {
            return false;
        }
        if self.ooo.range(mint..=maxt).next().is_some()
            || self.histograms.range(mint..=maxt).next().is_some()
        {
            return true;
        }
        self.chunks_overlapping(mint, maxt).any(|c| {
            (mint <= c.min_t && c.max_t <= maxt)
                || c.chunk.iter().any(|(t, _)| mint <= t && t <= maxt)
        })
    }

    fn chunks_overlapping(&self, mint: i64, maxt: i64) -> impl Iterator<Item = &MemChunk> {
        let first = self.chunks.partition_point(|c| c.max_t < mint);
        self.chunks[first..]
            .iter()
            .take_while(move |c| c.min_t <= maxt)
    }

    /// Drops chunks and out-of-order samples entirely older than `t`.
    pub(crate) fn truncate_before(&mut self, t: i64) {
        let keep_from = self.chunks.partition_point(|c| c.max_t < t);
        self.chunks.drain(..keep_from);
        self.ooo = self.ooo.split_off(&t);
        self.histograms = self.histograms.split_off(&t);
    }
}

/// Merges two time-sorted sample runs; on equal timestamps the in-order sample wins (the append
/// rules keep that from happening).
fn merge_by_time(
    in_order: Vec<(i64, f64)>,
    ooo: impl Iterator<Item = (i64, f64)>,
) -> Vec<(i64, f64)> {
    let mut ooo = ooo.peekable();
    if ooo.peek().is_none() {
        return in_order;
    }
    let mut out = Vec::with_capacity(in_order.len());
    for sample in in_order {
        while let Some(next) = ooo.next_if(|(t, _)| *t < sample.0) {
            out.push(next);
        }
        // Drop an out-of-order duplicate of this timestamp.
        ooo.next_if(|(t, _)| *t == sample.0);
        out.push(sample);
    }
    out.extend(ooo);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series() -> MemSeries {
        MemSeries::new(Labels::from_pairs([("__name__", "s")]))
    }

    #[test]
    fn chunks_are_cut_every_120_samples() {
        let mut s = series();
        for t in 0..250 {
            s.append(t, t as f64, t, 0).unwrap();
        }
        let sizes: Vec<usize> = s.chunks.iter().map(|c| c.chunk.num_samples()).collect();
        assert_eq!(sizes, [120, 120, 10]);
        assert_eq!((s.chunks[1].min_t, s.chunks[1].max_t), (120, 239));
    }

    #[test]
    fn reads_merge_out_of_order_samples_and_respect_bounds() {
        let mut s = series();
        for t in [10, 20, 30, 40] {
            s.append(t, 1.0, 40, 100).unwrap();
        }
        assert_eq!(s.append(25, 2.0, 40, 100), Ok(AppendOutcome::OutOfOrder));
        assert_eq!(s.append(5, 2.0, 40, 100), Ok(AppendOutcome::OutOfOrder));
        let times: Vec<i64> = s.samples_in(5, 30).iter().map(|(t, _)| *t).collect();
        assert_eq!(times, [5, 10, 20, 25, 30]);
        assert!(s.has_samples_in(21, 26));
        assert!(!s.has_samples_in(31, 39));
        assert!(s.samples_in(40, 10).is_empty());
    }

    #[test]
    fn out_of_order_duplicates_check_in_order_data_too() {
        let mut s = series();
        for t in [10, 20, 30] {
            s.append(t, t as f64, 30, 100).unwrap();
        }
        assert_eq!(s.append(20, 20.0, 30, 100), Ok(AppendOutcome::Duplicate));
        assert!(matches!(
            s.append(20, 21.0, 30, 100),
            Err(AppendError::DuplicateTimestamp { timestamp: 20, .. })
        ));
        s.append(15, 1.0, 30, 100).unwrap();
        assert_eq!(s.append(15, 1.0, 30, 100), Ok(AppendOutcome::Duplicate));
        assert!(s.append(15, 2.0, 30, 100).is_err());
    }

    #[test]
    fn truncation_drops_whole_chunks_only() {
        let mut s = series();
        for t in 0..240 {
            s.append(t, 0.0, t, 0).unwrap();
        }
        s.truncate_before(200);
        assert_eq!(s.min_t(), Some(120));
        s.truncate_before(240);
        assert!(s.is_empty());
    }
}
