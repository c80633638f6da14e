//! The engine's [`Storage`] over the ingesters. Every series lives on `replication_factor`
//! ingesters, so a select asks every healthy ingester of the ring and merges their answers: each
//! ingester streams its matching series in label order, a page (`-ingester.query-batch-series`
//! series) at a time; the streams are merged by labels, and the replicas of one series become one
//! series whose samples are the union of theirs by timestamp. Pages are fetched only when a stream
//! runs dry, so memory stays bounded by one page per ingester plus what the engine keeps.
//!
//! The engine is synchronous and runs on a blocking thread; the ingester calls are async, so the
//! storage holds the plugin runtime's handle and blocks on them.

use std::collections::VecDeque;
use std::time::{Duration, SystemTime};

use mimir_ingester_client::IngesterClient;
use mimir_plugin_sdk::{CallMeta, Error, ErrorCode};
use std::sync::Arc;

use mimir_promql::engine::histogram::{CounterResetHint, FloatHistogram, Span};
use mimir_promql::engine::{
    HistogramSample, Labels, QueryError, Sample, SeriesIter, Storage, StoredSeries,
};
use mimir_promql::{Matcher, MatcherOp};
use mimir_proto::Message as _;
use mimir_proto::ingester::{
    BucketSpan, Histogram, LabelMatcher, QueryRequest, Series as WireSeries, histogram,
    label_matcher,
};
use mimir_proto::wire::{self, Reader, WireError};
use mimir_ring::Ring;

/// The ingesters a read asks, and how many of them may fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadSet {
    /// Bus addresses of the healthy ingesters.
    pub addrs: Vec<String>,
    pub max_errors: usize,
}

/// Every healthy instance of the ring, and how many may fail: with replication factor `rf`, a
/// quorum (`rf/2 + 1`) of each series' replicas must answer, so `rf - quorum` instances may be
/// missing or fail (Mimir's replication set for reads).
pub fn read_set(
    ring: &Ring,
    replication_factor: usize,
    now_ms: i64,
    heartbeat_timeout_ms: i64,
) -> Result<ReadSet, Error> {
    if ring.is_empty() {
        return Err(Error::unavailable(
            "empty ring: no ingester has joined it yet",
        ));
    }
    let healthy = ring.healthy_instances(now_ms, heartbeat_timeout_ms);
    let unhealthy = ring.len() - healthy.len();
    let quorum = replication_factor / 2 + 1;
    let max_errors = replication_factor.saturating_sub(quorum);
    if unhealthy > max_errors || healthy.is_empty() {
        return Err(Error::unavailable(format!(
            "too many unhealthy instances in the ring: {unhealthy} of {} ingesters are not ACTIVE or missed their heartbeat",
            ring.len()
        )));
    }
    Ok(ReadSet {
        addrs: healthy.into_iter().map(|(_, addr)| addr).collect(),
        max_errors: max_errors - unhealthy,
    })
}

/// A PromQL matcher as the ingester takes it.
pub fn wire_matcher(matcher: &Matcher) -> LabelMatcher {
    let kind = match matcher.op {
        MatcherOp::Equal => label_matcher::Type::Eq,
        MatcherOp::NotEqual => label_matcher::Type::Neq,
        MatcherOp::Regex => label_matcher::Type::Re,
        MatcherOp::NotRegex => label_matcher::Type::Nre,
    };
    LabelMatcher {
        r#type: kind as i32,
        name: matcher.name.clone(),
        value: matcher.value.clone(),
    }
}

fn text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// A page of `QueryStream` for the range `mint..=maxt`: the encoded `QueryResponse` read straight
/// into engine series (labels and samples go from the reply's bytes to the engine's types with no
/// message in between), and the next page's cursor. Chunks are decoded here, once, keeping their
/// samples in the range; a series left with no sample is dropped. Fields the message does not have
/// are skipped, as prost skips them.
pub fn decode_page(
    bytes: &[u8],
    mint: i64,
    maxt: i64,
) -> Result<(Vec<StoredSeries>, Vec<u8>), WireError> {
    let mut series = Vec::new();
    let mut cursor = Vec::new();
    let mut reader = Reader::new(bytes);
    while !reader.is_empty() {
        match reader.key()? {
            (1, wire::LEN) => {
                let one = decode_series(reader.len_delimited()?, mint, maxt)?;
                if !one.samples.is_empty() || !one.histograms.is_empty() {
                    series.push(one);
                }
            }
            (2, wire::LEN) => cursor = reader.len_delimited()?.to_vec(),
            (field, wire_type) => reader.skip(field, wire_type, wire::RECURSION_LIMIT)?,
        }
    }
    Ok((series, cursor))
}

fn decode_series(bytes: &[u8], mint: i64, maxt: i64) -> Result<StoredSeries, WireError> {
    let mut pairs = Vec::with_capacity(8);
    let mut samples = Vec::new();
    let mut chunk_samples: Vec<(i64, f64)> = Vec::new();
    let mut histograms = Vec::new();
    // The packed columns (`timestamp_deltas_ms`, `values`), zipped once both are read.
    let mut timestamps: Vec<i64> = Vec::new();
    let mut values: Vec<f64> = Vec::new();
    let mut reader = Reader::new(bytes);
    while !reader.is_empty() {
        match reader.key()? {
            (1, wire::LEN) => pairs.push(decode_label(reader.len_delimited()?)?),
            (2, wire::LEN) => samples.push(decode_sample(reader.len_delimited()?)?),
            (4, wire::LEN) => {
                let message = Histogram::decode(reader.len_delimited()?)
                    .map_err(|_| WireError("malformed histogram"))?;
                histograms.push(HistogramSample {
                    t: message.timestamp,
                    h: Arc::new(float_histogram(&message)?),
                    st: 0,
                });
            }
            (4, _) => return Err(WireError("invalid wire type")),
            (14, wire::LEN) => {
                let mut packed = Reader::new(reader.len_delimited()?);
                let mut t = timestamps.last().copied().unwrap_or(0);
                timestamps.reserve(bytes.len() / 10);
                while !packed.is_empty() {
                    let zigzag = packed.varint()?;
                    let delta = (zigzag >> 1) as i64 ^ -((zigzag & 1) as i64);
                    t = t.wrapping_add(delta);
                    timestamps.push(t);
                }
            }
            // One unpacked element.
            (14, wire::VARINT) => {
                let zigzag = reader.varint()?;
                let delta = (zigzag >> 1) as i64 ^ -((zigzag & 1) as i64);
                let t = timestamps.last().copied().unwrap_or(0);
                timestamps.push(t.wrapping_add(delta));
            }
            (15, wire::LEN) => {
                let packed = reader.len_delimited()?;
                if packed.len() % 8 != 0 {
                    return Err(WireError("buffer underflow"));
                }
                values.extend(
                    packed
                        .chunks_exact(8)
                        .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes"))),
                );
            }
            (15, wire::FIXED64) => values.push(f64::from_le_bytes(reader.fixed64()?)),
            (16, wire::LEN) => {
                mimir_tsdb::decode_chunk_into(
                    reader.len_delimited()?,
                    mint,
                    maxt,
                    &mut chunk_samples,
                )
                .map_err(|_| WireError("malformed chunk"))?;
            }
            (14..=16, _) => return Err(WireError("invalid wire type")),
            (field, wire_type) => reader.skip(field, wire_type, wire::RECURSION_LIMIT - 1)?,
        }
    }
    if timestamps.len() != values.len() {
        return Err(WireError("timestamps and values differ in number"));
    }
    if !timestamps.is_empty() {
        samples.reserve(timestamps.len());
        samples.extend(
            timestamps
                .into_iter()
                .zip(values)
                .map(|(t, v)| Sample { t, v }),
        );
    }
    if !chunk_samples.is_empty() {
        // In-order samples from the chunks, out-of-order ones from the columns: merged by time.
        let in_order = chunk_samples
            .into_iter()
            .map(|(t, v)| Sample { t, v })
            .collect();
        samples = merge_samples(in_order, samples);
    }
    Ok(StoredSeries {
        labels: labels_from_pairs(pairs),
        samples,
        // Ingesters keep no start timestamps.
        start_ts: Vec::new(),
        histograms,
    })
}

/// A `Histogram` message as the engine's histogram, as Prometheus' `HistogramProtoToFloatHistogram`
/// makes it: an integer histogram's bucket deltas become absolute counts, a float histogram's
/// counts are taken as they are. Spans that do not cover the buckets are malformed (ingesters
/// refuse such histograms).
pub fn float_histogram(message: &Histogram) -> Result<FloatHistogram, WireError> {
    let float = matches!(message.count, Some(histogram::Count::CountFloat(_)));
    let count = match message.count {
        Some(histogram::Count::CountInt(count)) => count as f64,
        Some(histogram::Count::CountFloat(count)) => count,
        None => 0.0,
    };
    let zero_count = match message.zero_count {
        Some(histogram::ZeroCount::ZeroCountInt(count)) => count as f64,
        Some(histogram::ZeroCount::ZeroCountFloat(count)) => count,
        None => 0.0,
    };
    let buckets = |deltas: &[i64], counts: &[f64]| -> Vec<f64> {
        if float {
            return counts.to_vec();
        }
        let mut absolute = 0i64;
        deltas
            .iter()
            .map(|delta| {
                absolute = absolute.wrapping_add(*delta);
                absolute as f64
            })
            .collect()
    };
    let spans = |spans: &[BucketSpan], buckets: usize| -> Result<Vec<Span>, WireError> {
        let spans: Vec<Span> = spans
            .iter()
            .map(|span| Span::new(span.offset, span.length))
            .collect();
        let covered: u64 = spans.iter().map(|span| u64::from(span.length)).sum();
        if covered != buckets as u64 {
            return Err(WireError("histogram spans do not match its buckets"));
        }
        Ok(spans)
    };
    let positive_buckets = buckets(&message.positive_deltas, &message.positive_counts);
    let negative_buckets = buckets(&message.negative_deltas, &message.negative_counts);
    Ok(FloatHistogram {
        counter_reset_hint: match histogram::ResetHint::try_from(message.reset_hint) {
            Ok(histogram::ResetHint::Yes) => CounterResetHint::CounterReset,
            Ok(histogram::ResetHint::No) => CounterResetHint::NotCounterReset,
            Ok(histogram::ResetHint::Gauge) => CounterResetHint::Gauge,
            Ok(histogram::ResetHint::Unknown) | Err(_) => CounterResetHint::Unknown,
        },
        schema: message.schema,
        zero_threshold: message.zero_threshold,
        zero_count,
        count,
        sum: message.sum,
        positive_spans: spans(&message.positive_spans, positive_buckets.len())?,
        negative_spans: spans(&message.negative_spans, negative_buckets.len())?,
        positive_buckets,
        negative_buckets,
        custom_values: message.custom_values.clone(),
    })
}

fn decode_label(bytes: &[u8]) -> Result<(String, String), WireError> {
    let (mut name, mut value) = (String::new(), String::new());
    let mut reader = Reader::new(bytes);
    while !reader.is_empty() {
        match reader.key()? {
            (1, wire::LEN) => name = text(reader.len_delimited()?),
            (2, wire::LEN) => value = text(reader.len_delimited()?),
            (field, wire_type) => reader.skip(field, wire_type, wire::RECURSION_LIMIT - 2)?,
        }
    }
    Ok((name, value))
}

fn decode_sample(bytes: &[u8]) -> Result<Sample, WireError> {
    let mut sample = Sample { t: 0, v: 0.0 };
    let mut reader = Reader::new(bytes);
    while !reader.is_empty() {
        match reader.key()? {
            (1, wire::FIXED64) => sample.v = f64::from_le_bytes(reader.fixed64()?),
            (2, wire::VARINT) => sample.t = reader.varint()? as i64,
            (1 | 2, _) => return Err(WireError("invalid wire type")),
            (field, wire_type) => reader.skip(field, wire_type, wire::RECURSION_LIMIT - 2)?,
        }
    }
    Ok(sample)
}

/// An ingester's label pairs as an engine label set.
pub fn engine_labels(series: &WireSeries) -> Labels {
    labels_from_pairs(
        series
            .labels
            .iter()
            .map(|l| (text(&l.name), text(&l.value)))
            .collect(),
    )
}

/// Label pairs as an engine label set; ingesters send them sorted and without empty values, which
/// is checked, not trusted.
fn labels_from_pairs(pairs: Vec<(String, String)>) -> Labels {
    if pairs.windows(2).all(|w| w[0].0 < w[1].0) && pairs.iter().all(|(_, v)| !v.is_empty()) {
        Labels::from_sorted(pairs)
    } else {
        Labels::new(pairs)
    }
}

/// Merges the samples of two replicas of a series: the union by timestamp (the first wins when
/// both have one).
pub fn merge_samples(a: Vec<Sample>, b: Vec<Sample>) -> Vec<Sample> {
    merge_by_time(a, b, |sample| sample.t)
}

/// The union by timestamp of two time-sorted runs (the first wins when both have one).
fn merge_by_time<T: Clone>(a: Vec<T>, b: Vec<T>, time: impl Fn(&T) -> i64) -> Vec<T> {
    if b.is_empty() {
        return a;
    }
    if a.is_empty() {
        return b;
    }
    if a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| time(x) == time(y)) {
        return a;
    }
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match time(&a[i]).cmp(&time(&b[j])) {
            std::cmp::Ordering::Less => {
                out.push(a[i].clone());
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j].clone());
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push(a[i].clone());
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// One page of a stream: series in label order and the next page's cursor (empty at the end).
pub type Page = (Vec<StoredSeries>, Vec<u8>);

/// Where the merge gets pages from: one stream per ingester.
pub trait PageSource: Send {
    /// Fetches the next page of each `(stream, cursor)`, concurrently where possible. A page is
    /// the series (in label order) and the cursor of the next page (empty at the end).
    fn fetch(&mut self, requests: &[(usize, Vec<u8>)]) -> Vec<Result<Page, Error>>;
}

struct Stream {
    buffer: VecDeque<StoredSeries>,
    /// The next page's cursor; `None` once the stream ended or failed.
    next: Option<Vec<u8>>,
}

/// The k-way merge of the ingesters' streams, deduplicating replicas.
pub struct MergeIter<S> {
    source: S,
    streams: Vec<Stream>,
    failures: usize,
    max_errors: usize,
    failed: bool,
}

impl<S: PageSource> MergeIter<S> {
    pub fn new(source: S, streams: usize, max_errors: usize) -> MergeIter<S> {
        MergeIter {
            source,
            streams: (0..streams)
                .map(|_| Stream {
                    buffer: VecDeque::new(),
                    next: Some(Vec::new()),
                })
                .collect(),
            failures: 0,
            max_errors,
            failed: false,
        }
    }

    /// Fetches a page for every stream that ran dry and has more.
    fn refill(&mut self) -> Result<(), QueryError> {
        let requests: Vec<(usize, Vec<u8>)> = self
            .streams
            .iter()
            .enumerate()
            .filter(|(_, s)| s.buffer.is_empty())
            .filter_map(|(i, s)| s.next.clone().map(|cursor| (i, cursor)))
            .collect();
        if requests.is_empty() {
            return Ok(());
        }
        let replies = self.source.fetch(&requests);
        for ((index, _), reply) in requests.iter().zip(replies) {
            let stream = &mut self.streams[*index];
            match reply {
                Ok((series, next)) => {
                    stream.buffer.extend(series);
                    stream.next = (!next.is_empty()).then_some(next);
                }
                Err(error) => {
                    stream.buffer.clear();
                    stream.next = None;
                    self.failures += 1;
                    if self.failures > self.max_errors {
                        return Err(storage_error(&error));
                    }
                    tracing::warn!(%error, "an ingester failed during a query; its replicas answer for it");
                }
            }
        }
        Ok(())
    }

    fn next_series(&mut self) -> Result<Option<StoredSeries>, QueryError> {
        // A stream whose buffer is empty but has more pages must be refilled before the smallest
        // head is known. Pages are never empty unless the stream ends, but loop to be safe.
        loop {
            self.refill()?;
            if self
                .streams
                .iter()
                .all(|s| !s.buffer.is_empty() || s.next.is_none())
            {
                break;
            }
        }
        // The stream whose next series sorts first; then every other stream with the same series.
        let Some(first) = self
            .streams
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.buffer.front().map(|series| (i, &series.labels)))
            .min_by(|a, b| a.1.cmp(b.1))
            .map(|(i, _)| i)
        else {
            return Ok(None);
        };
        let Some(mut merged) = self.streams[first].buffer.pop_front() else {
            return Ok(None);
        };
        for (index, stream) in self.streams.iter_mut().enumerate() {
            if index == first
                || stream
                    .buffer
                    .front()
                    .is_none_or(|series| series.labels != merged.labels)
            {
                continue;
            }
            if let Some(replica) = stream.buffer.pop_front() {
                let samples = std::mem::take(&mut merged.samples);
                merged.samples = merge_samples(samples, replica.samples);
                let histograms = std::mem::take(&mut merged.histograms);
                merged.histograms = merge_by_time(histograms, replica.histograms, |h| h.t);
                // Start timestamps no longer line up with the merged samples (ingesters keep none).
                merged.start_ts.clear();
            }
        }
        Ok(Some(merged))
    }
}

impl<S: PageSource> Iterator for MergeIter<S> {
    type Item = Result<StoredSeries, QueryError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        match self.next_series() {
            Ok(series) => series.map(Ok),
            Err(error) => {
                self.failed = true;
                Some(Err(error))
            }
        }
    }
}

/// A bus error as the engine reports storage trouble.
pub fn storage_error(error: &Error) -> QueryError {
    match error.code {
        ErrorCode::Timeout => QueryError::Timeout("fetching series from the ingesters".to_string()),
        ErrorCode::BadRequest => QueryError::BadData(error.message.clone()),
        _ => QueryError::Storage(format!(
            "failed to fetch series from the ingesters: {}",
            error.message
        )),
    }
}

/// One tenant's view of the ingesters for one query.
pub struct IngesterStorage {
    pub handle: tokio::runtime::Handle,
    pub client: IngesterClient,
    pub tenant: String,
    pub read_set: ReadSet,
    /// When the query gives up.
    pub deadline: SystemTime,
}

impl IngesterStorage {
    fn meta(&self) -> CallMeta {
        let remaining = self
            .deadline
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO);
        CallMeta::for_tenant(&self.tenant, Some(remaining))
    }
}

/// Series asked of an ingester in the first page of a select; each further page asks twice as
/// many, up to the ingester's `-ingester.query-batch-series`.
const FIRST_PAGE_SERIES: u32 = 128;
/// Pages after which the ingester's own page size applies.
const GROWING_PAGES: u32 = 3;

type PageTask = tokio::task::JoinHandle<Result<Page, Error>>;

/// The pages of one select. When a page arrives that has more behind it, the next page is asked
/// for at once, so the ingester selects and encodes it while the engine works on this one: the
/// two halves of a query run on both cores. Pages start small and grow, so the engine starts
/// early and large selections still move in large pages.
struct IngesterPages<'a> {
    storage: &'a IngesterStorage,
    matchers: Vec<LabelMatcher>,
    start_ms: i64,
    end_ms: i64,
    /// Per stream: the page asked for ahead, by its cursor.
    ahead: Vec<Option<(Vec<u8>, PageTask)>>,
    /// Per stream: pages asked for so far.
    asked: Vec<u32>,
}

impl IngesterPages<'_> {
    fn ask(&mut self, index: usize, cursor: Vec<u8>) -> PageTask {
        let storage = self.storage;
        let asked = self.asked[index];
        self.asked[index] += 1;
        let request = QueryRequest {
            start_ms: self.start_ms,
            end_ms: self.end_ms,
            matchers: self.matchers.clone(),
            cursor,
            limit: if asked < GROWING_PAGES {
                FIRST_PAGE_SERIES << asked
            } else {
                0
            },
        };
        let addr = storage
            .read_set
            .addrs
            .get(index)
            .cloned()
            .unwrap_or_default();
        let client = storage.client.clone();
        let meta = storage.meta();
        let (start_ms, end_ms) = (self.start_ms, self.end_ms);
        storage.handle.spawn(async move {
            let page = client.query_page(&addr, &meta, &request).await?;
            decode_page(&page, start_ms, end_ms).map_err(|error| {
                Error::internal(format!("malformed reply from {addr}: {}", error.0))
            })
        })
    }
}

impl Drop for IngesterPages<'_> {
    fn drop(&mut self) {
        for (_, task) in self.ahead.iter().flatten() {
            task.abort();
        }
    }
}

impl PageSource for IngesterPages<'_> {
    fn fetch(&mut self, requests: &[(usize, Vec<u8>)]) -> Vec<Result<Page, Error>> {
        let tasks: Vec<PageTask> = requests
            .iter()
            .map(|(index, cursor)| match self.ahead[*index].take() {
                Some((ahead, task)) if ahead == *cursor => task,
                other => {
                    if let Some((_, task)) = other {
                        task.abort();
                    }
                    self.ask(*index, cursor.clone())
                }
            })
            .collect();
        let replies: Vec<Result<Page, Error>> = self
            .storage
            .handle
            .block_on(futures::future::join_all(tasks))
            .into_iter()
            .map(|joined| {
                joined.unwrap_or_else(|error| {
                    Err(Error::internal(format!("fetching a page failed: {error}")))
                })
            })
            .collect();
        for ((index, _), reply) in requests.iter().zip(&replies) {
            if let Ok((_, next)) = reply
                && !next.is_empty()
            {
                let task = self.ask(*index, next.clone());
                self.ahead[*index] = Some((next.clone(), task));
            }
        }
        replies
    }
}

impl Storage for IngesterStorage {
    fn select(
        &self,
        matchers: &[Matcher],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<SeriesIter<'_>, QueryError> {
        let streams = self.read_set.addrs.len();
        let pages = IngesterPages {
            storage: self,
            matchers: matchers.iter().map(wire_matcher).collect(),
            start_ms,
            end_ms,
            ahead: (0..streams).map(|_| None).collect(),
            asked: vec![0; streams],
        };
        Ok(Box::new(MergeIter::new(
            pages,
            self.read_set.addrs.len(),
            self.read_set.max_errors,
        )))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use mimir_ring::{InstanceDesc, InstanceState, RingDesc};

    use super::*;

    /// The page decoded by prost, then mapped to engine series (what `decode_page` replaces).
    fn via_prost(bytes: &[u8]) -> (Vec<StoredSeries>, Vec<u8>) {
        use mimir_proto::Message;
        let page = mimir_proto::ingester::QueryResponse::decode(bytes).unwrap();
        let series = page
            .series
            .iter()
            .map(|s| StoredSeries {
                labels: engine_labels(s),
                samples: s
                    .samples
                    .iter()
                    .map(|s| Sample {
                        t: s.timestamp_ms,
                        v: s.value,
                    })
                    .chain(
                        s.timestamp_deltas_ms
                            .iter()
                            .scan(0i64, |t, delta| {
                                *t += delta;
                                Some(*t)
                            })
                            .zip(&s.values)
                            .map(|(t, v)| Sample { t, v: *v }),
                    )
                    .collect(),
                start_ts: Vec::new(),
                histograms: s
                    .histograms
                    .iter()
                    .map(|h| HistogramSample {
                        t: h.timestamp,
                        h: Arc::new(float_histogram(h).unwrap()),
                        st: 0,
                    })
                    .collect(),
            })
            .collect();
        (series, page.next_cursor)
    }

    #[test]
    fn chunks_are_decoded_in_the_range_and_merged_with_out_of_order_samples() {
        use mimir_proto::Message;
        use mimir_proto::ingester::QueryResponse;
        let mut chunk = mimir_tsdb::XorChunk::new();
        for t in [10, 20, 30, 40] {
            chunk.append(t, t as f64).unwrap();
        }
        let mut later = mimir_tsdb::XorChunk::new();
        later.append(50, 50.0).unwrap();
        let series = |chunks: Vec<Vec<u8>>, deltas: Vec<i64>, values: Vec<f64>| WireSeries {
            labels: vec![mimir_proto::ingester::LabelPair {
                name: b"__name__".to_vec().into(),
                value: b"m".to_vec().into(),
            }],
            chunks,
            timestamp_deltas_ms: deltas,
            values,
            ..WireSeries::default()
        };
        let page = QueryResponse {
            series: vec![
                // Out-of-order samples at 15 and 35 between the chunk's.
                series(
                    vec![chunk.bytes().to_vec(), later.bytes().to_vec()],
                    vec![15, 20],
                    vec![-1.0, -2.0],
                ),
                // A chunk overlapping the range with no sample inside it: the series is dropped.
                series(vec![later.bytes().to_vec()], Vec::new(), Vec::new()),
            ],
            next_cursor: Vec::new(),
        };
        let bytes = page.encode_to_vec();
        let (got, _) = decode_page(&bytes, 12, 45).unwrap();
        assert_eq!(got.len(), 1);
        let samples: Vec<(i64, f64)> = got[0].samples.iter().map(|s| (s.t, s.v)).collect();
        assert_eq!(
            samples,
            [(15, -1.0), (20, 20.0), (30, 30.0), (35, -2.0), (40, 40.0)]
        );
        // A damaged chunk is an error, not a panic.
        let mut damaged = chunk.bytes().to_vec();
        damaged.truncate(damaged.len() - 3);
        let page = QueryResponse {
            series: vec![series(vec![damaged], Vec::new(), Vec::new())],
            next_cursor: Vec::new(),
        };
        assert!(decode_page(&page.encode_to_vec(), i64::MIN, i64::MAX).is_err());
    }

    #[test]
    fn pages_decode_as_prost_decodes_them() {
        use mimir_proto::Message;
        use mimir_proto::ingester::{LabelPair, QueryResponse, Sample as WireSample};
        let pair = |n: &str, v: &str| LabelPair {
            name: n.as_bytes().to_vec().into(),
            value: v.as_bytes().to_vec().into(),
        };
        let page = QueryResponse {
            series: vec![
                WireSeries {
                    labels: vec![pair("__name__", "up"), pair("job", "ü")],
                    timestamp_deltas_ms: Vec::new(),
                    values: Vec::new(),
                    histograms: Vec::new(),
                    chunks: Vec::new(),
                    // prost leaves out the zero timestamp and value.
                    samples: vec![
                        WireSample {
                            timestamp_ms: 0,
                            value: 0.0,
                        },
                        WireSample {
                            timestamp_ms: -15,
                            value: 2.5,
                        },
                    ],
                },
                // Unsorted labels and an empty value are put right, as before.
                WireSeries {
                    labels: vec![pair("b", "1"), pair("a", ""), pair("__name__", "x")],
                    samples: Vec::new(),
                    timestamp_deltas_ms: Vec::new(),
                    values: Vec::new(),
                    histograms: vec![integer_histogram(-3)],
                    chunks: Vec::new(),
                },
                // Samples as the packed columns the ingester writes: -5, 10, 10, 1e12.
                WireSeries {
                    labels: vec![pair("__name__", "y")],
                    samples: Vec::new(),
                    timestamp_deltas_ms: vec![-5, 15, 0, 1_000_000_000_000 - 10],
                    values: vec![1.0, -0.0, f64::INFINITY, 2.5],
                    histograms: vec![integer_histogram(7), float_histogram_message(9)],
                    chunks: Vec::new(),
                },
            ],
            next_cursor: vec![1, 2, 3],
        };
        let bytes = page.encode_to_vec();
        assert_eq!(
            decode_page(&bytes, i64::MIN, i64::MAX).unwrap(),
            via_prost(&bytes)
        );
        // An unknown field (number 9, varint) anywhere is skipped.
        let mut with_unknown = bytes.clone();
        with_unknown.extend_from_slice(&[9 << 3, 1]);
        assert_eq!(
            decode_page(&with_unknown, i64::MIN, i64::MAX).unwrap(),
            via_prost(&bytes)
        );
        // Truncated bytes are an error, not a panic.
        for cut in 1..bytes.len() {
            let _ = decode_page(&bytes[..cut], i64::MIN, i64::MAX);
        }
        assert!(decode_page(&bytes[..bytes.len() - 1], i64::MIN, i64::MAX).is_err());
        // Columns of different lengths are malformed.
        let uneven = QueryResponse {
            series: vec![WireSeries {
                timestamp_deltas_ms: vec![1, 2],
                values: vec![1.0],
                ..WireSeries::default()
            }],
            next_cursor: Vec::new(),
        };
        assert!(decode_page(&uneven.encode_to_vec(), i64::MIN, i64::MAX).is_err());
    }

    fn integer_histogram(timestamp: i64) -> Histogram {
        Histogram {
            count: Some(histogram::Count::CountInt(9)),
            sum: 12.5,
            schema: 2,
            zero_threshold: 0.001,
            zero_count: Some(histogram::ZeroCount::ZeroCountInt(1)),
            negative_spans: vec![BucketSpan {
                offset: 1,
                length: 1,
            }],
            negative_deltas: vec![2],
            positive_spans: vec![
                BucketSpan {
                    offset: -1,
                    length: 2,
                },
                BucketSpan {
                    offset: 3,
                    length: 1,
                },
            ],
            positive_deltas: vec![3, -2, 2],
            reset_hint: histogram::ResetHint::Yes as i32,
            timestamp,
            ..Histogram::default()
        }
    }

    fn float_histogram_message(timestamp: i64) -> Histogram {
        Histogram {
            count: Some(histogram::Count::CountFloat(3.5)),
            zero_count: Some(histogram::ZeroCount::ZeroCountFloat(0.5)),
            sum: 4.0,
            schema: -53,
            positive_spans: vec![BucketSpan {
                offset: 0,
                length: 2,
            }],
            positive_counts: vec![1.0, 2.0],
            custom_values: vec![0.5, 1.0],
            reset_hint: histogram::ResetHint::Gauge as i32,
            timestamp,
            ..Histogram::default()
        }
    }

    #[test]
    fn histogram_messages_become_engine_histograms() {
        let integer = float_histogram(&integer_histogram(1)).unwrap();
        assert_eq!(
            integer,
            FloatHistogram {
                counter_reset_hint: CounterResetHint::CounterReset,
                schema: 2,
                zero_threshold: 0.001,
                zero_count: 1.0,
                count: 9.0,
                sum: 12.5,
                positive_spans: vec![Span::new(-1, 2), Span::new(3, 1)],
                negative_spans: vec![Span::new(1, 1)],
                positive_buckets: vec![3.0, 1.0, 3.0],
                negative_buckets: vec![2.0],
                custom_values: Vec::new(),
            }
        );
        let float = float_histogram(&float_histogram_message(1)).unwrap();
        assert_eq!(
            float,
            FloatHistogram {
                counter_reset_hint: CounterResetHint::Gauge,
                schema: -53,
                zero_threshold: 0.0,
                zero_count: 0.5,
                count: 3.5,
                sum: 4.0,
                positive_spans: vec![Span::new(0, 2)],
                negative_spans: Vec::new(),
                positive_buckets: vec![1.0, 2.0],
                negative_buckets: Vec::new(),
                custom_values: vec![0.5, 1.0],
            }
        );
        // An integer histogram's counts field is ignored, as its deltas are the buckets.
        let mismatched = Histogram {
            positive_deltas: vec![1],
            ..integer_histogram(1)
        };
        assert!(float_histogram(&mismatched).is_err());
    }

    #[test]
    fn replicas_merge_histograms_by_time() {
        let at = |t: i64, count: f64| HistogramSample {
            t,
            h: Arc::new(FloatHistogram {
                count,
                ..FloatHistogram::default()
            }),
            st: 0,
        };
        let with = |samples: &[(i64, f64)], histograms: Vec<HistogramSample>| StoredSeries {
            histograms,
            ..series("h", samples)
        };
        let fake = Fake {
            streams: vec![
                vec![with(&[(0, 1.0)], vec![at(1, 1.0), at(3, 3.0)])],
                vec![with(&[], vec![at(2, 2.0), at(3, 9.0), at(4, 4.0)])],
            ],
            page: 1,
            fail: vec![],
            calls: 0,
        };
        let merged: Vec<StoredSeries> = MergeIter::new(fake, 2, 0)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].samples, [Sample { t: 0, v: 1.0 }]);
        let got: Vec<(i64, f64)> = merged[0]
            .histograms
            .iter()
            .map(|h| (h.t, h.h.count))
            .collect();
        assert_eq!(got, [(1, 1.0), (2, 2.0), (3, 3.0), (4, 4.0)]);
    }

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        Labels::new(
            pairs
                .iter()
                .map(|(n, v)| ((*n).to_string(), (*v).to_string()))
                .collect(),
        )
    }

    fn series(name: &str, samples: &[(i64, f64)]) -> StoredSeries {
        StoredSeries {
            labels: labels(&[("__name__", name)]),
            samples: samples
                .iter()
                .map(|(t, v)| Sample { t: *t, v: *v })
                .collect(),
            start_ts: Vec::new(),
            histograms: Vec::new(),
        }
    }

    /// Streams served from memory in pages of `page` series; `fail` streams answer an error.
    struct Fake {
        streams: Vec<Vec<StoredSeries>>,
        page: usize,
        fail: Vec<usize>,
        calls: usize,
    }

    impl PageSource for Fake {
        fn fetch(&mut self, requests: &[(usize, Vec<u8>)]) -> Vec<Result<Page, Error>> {
            requests
                .iter()
                .map(|(index, cursor)| {
                    self.calls += 1;
                    if self.fail.contains(index) {
                        return Err(Error::unavailable("ingester down"));
                    }
                    let from: usize = if cursor.is_empty() {
                        0
                    } else {
                        String::from_utf8_lossy(cursor).parse().unwrap_or(0)
                    };
                    let all = &self.streams[*index];
                    let to = (from + self.page).min(all.len());
                    let next = if to < all.len() {
                        to.to_string().into_bytes()
                    } else {
                        Vec::new()
                    };
                    Ok((all[from..to].to_vec(), next))
                })
                .collect()
        }
    }

    #[test]
    fn replicas_merge_into_one_series_in_label_order() {
        let fake = Fake {
            streams: vec![
                vec![series("a", &[(1, 1.0), (3, 3.0)]), series("c", &[(1, 1.0)])],
                vec![
                    series("a", &[(2, 2.0), (3, 3.0)]),
                    series("b", &[(5, 5.0)]),
                    series("c", &[(1, 1.0)]),
                ],
                vec![series("b", &[(5, 5.0), (6, 6.0)])],
            ],
            page: 1,
            fail: vec![],
            calls: 0,
        };
        let merged: Vec<StoredSeries> = MergeIter::new(fake, 3, 0)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            merged,
            vec![
                series("a", &[(1, 1.0), (2, 2.0), (3, 3.0)]),
                series("b", &[(5, 5.0), (6, 6.0)]),
                series("c", &[(1, 1.0)]),
            ]
        );
    }

    #[test]
    fn pages_are_pulled_lazily() {
        let many: Vec<StoredSeries> = (0..100)
            .map(|i| series(&format!("m{i:03}"), &[(1, 1.0)]))
            .collect();
        let fake = Fake {
            streams: vec![many],
            page: 10,
            fail: vec![],
            calls: 0,
        };
        let mut iter = MergeIter::new(fake, 1, 0);
        for _ in 0..15 {
            assert!(iter.next().is_some_and(|r| r.is_ok()));
        }
        assert_eq!(iter.source.calls, 2);
        assert_eq!(iter.by_ref().count(), 85);
        assert_eq!(iter.source.calls, 10);
    }

    #[test]
    fn failures_beyond_the_tolerated_ones_fail_the_select() {
        let streams = vec![
            vec![series("a", &[(1, 1.0)])],
            vec![series("a", &[(1, 1.0)])],
            vec![series("a", &[(1, 1.0)])],
        ];
        let tolerated = Fake {
            streams: streams.clone(),
            page: 5,
            fail: vec![1],
            calls: 0,
        };
        let merged: Vec<StoredSeries> = MergeIter::new(tolerated, 3, 1)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(merged, vec![series("a", &[(1, 1.0)])]);
        let too_many = Fake {
            streams,
            page: 5,
            fail: vec![0, 2],
            calls: 0,
        };
        let mut iter = MergeIter::new(too_many, 3, 1);
        let first = iter.next();
        assert!(
            matches!(first, Some(Err(QueryError::Storage(ref m))) if m.contains("ingester down")),
            "{first:?}"
        );
        assert!(iter.next().is_none());
    }

    #[test]
    fn sample_merge_is_a_union_by_time() {
        let a = vec![Sample { t: 1, v: 1.0 }, Sample { t: 4, v: 4.0 }];
        let b = vec![
            Sample { t: 0, v: 0.0 },
            Sample { t: 4, v: 9.0 },
            Sample { t: 5, v: 5.0 },
        ];
        assert_eq!(
            merge_samples(a, b),
            vec![
                Sample { t: 0, v: 0.0 },
                Sample { t: 1, v: 1.0 },
                Sample { t: 4, v: 4.0 },
                Sample { t: 5, v: 5.0 },
            ]
        );
    }

    fn ring(states: &[(InstanceState, i64)]) -> Ring {
        let mut instances = BTreeMap::new();
        for (i, (state, heartbeat_ms)) in states.iter().enumerate() {
            instances.insert(
                format!("i{i}"),
                InstanceDesc {
                    addr: format!("ingester@i{i}:9095"),
                    state: *state,
                    tokens: vec![u32::try_from(i).unwrap_or(0) * 1000],
                    zone: String::new(),
                    heartbeat_ms: *heartbeat_ms,
                    registered_ms: 0,
                },
            );
        }
        Ring::new(RingDesc { instances })
    }

    #[test]
    fn read_sets() {
        let healthy = ring(&[
            (InstanceState::Active, 1000),
            (InstanceState::Active, 1000),
            (InstanceState::Active, 1000),
        ]);
        let set = read_set(&healthy, 3, 1000, 60_000).unwrap();
        assert_eq!(set.addrs.len(), 3);
        assert_eq!(set.max_errors, 1);
        let one_down = ring(&[
            (InstanceState::Active, 1000),
            (InstanceState::Leaving, 1000),
            (InstanceState::Active, 1000),
        ]);
        let set = read_set(&one_down, 3, 1000, 60_000).unwrap();
        assert_eq!(
            (set.addrs, set.max_errors),
            (
                vec![
                    "ingester@i0:9095".to_string(),
                    "ingester@i2:9095".to_string()
                ],
                0
            )
        );
        let two_down = ring(&[
            (InstanceState::Active, 1000),
            (InstanceState::Active, -100_000),
            (InstanceState::Joining, 1000),
        ]);
        assert!(read_set(&two_down, 3, 1000, 60_000).is_err());
        assert!(read_set(&Ring::default(), 1, 0, 0).is_err());
        let single = ring(&[(InstanceState::Active, 1000)]);
        assert_eq!(read_set(&single, 1, 1000, 60_000).unwrap().max_errors, 0);
    }
}
