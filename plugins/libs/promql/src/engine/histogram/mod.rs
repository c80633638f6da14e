//! Native histograms as PromQL computes with them: Prometheus' `FloatHistogram` (float counts, absolute
//! bucket counts, exponential schemas −4…8 and custom buckets, schema −53), its arithmetic, the
//! functions over it (`histogram_quantile`, `histogram_fraction`, `histogram_stddev`, …), its JSON form
//! in the HTTP API, and the `{{…}}` literal of the test scripts with the harness' comparison.
//!
//! Why hand-written: results are defined by Prometheus' Go code down to the bucket math, and the
//! conformance scripts compare bucket by bucket. Adding two histograms reduces the finer schema by
//! merging `2^Δ` neighbouring buckets with Prometheus' index mapping (`((i−1) >> Δ) + 1`), widens zero
//! buckets to a threshold that never cuts a populated bucket, inserts buckets into span lists in a
//! particular way, maps mismatched custom bounds onto their intersection, and keeps empty buckets until
//! an explicit `compact`; quantiles interpolate exponentially inside exponential buckets but linearly in
//! the zero bucket and in custom buckets, with special cases for the ±Inf custom buckets and NaN
//! observations. No crate implements this layout or these rules (OpenTelemetry's exponential histogram
//! crates use another index convention, no zero-threshold reconciliation, no custom buckets), so each
//! function here names the Prometheus function it follows and keeps its operation order.
//!
//! Layout of the module:
//! * [`FloatHistogram`], [`Span`], [`CounterResetHint`], [`Bucket`] and bucket iteration (this file);
//! * [`bounds`]: bucket boundaries of each schema;
//! * [`ops`]: `add`, `sub`, `kahan_add`, `mul`, `div`, `compact`, `reduce_resolution`, `detect_reset`;
//! * [`functions`]: `histogram_quantile`, `histogram_fraction`, `histogram_stddev`/`stdvar`,
//!   `histogram_count`/`sum`/`avg`;
//! * [`json`]: the API's JSON for a histogram point;
//! * [`literal`]: the test-script literal `{{schema:0 sum:5 count:4 buckets:[1 2 1]}}` and
//!   [`harness_equal`].

pub mod bounds;
pub mod functions;
pub mod json;
pub mod literal;
pub mod ops;

#[cfg(test)]
mod tests;

pub use bounds::{
    CUSTOM_BUCKETS_SCHEMA, EXPONENTIAL_SCHEMA_MAX, EXPONENTIAL_SCHEMA_MIN, bucket_bound,
    exponential_bound, is_custom_buckets_schema, is_exponential_schema, is_valid_schema,
};
pub use functions::{
    histogram_avg, histogram_count, histogram_fraction, histogram_quantile, histogram_stddev,
    histogram_stdvar, histogram_sum,
};
pub use json::{format_api_float, format_go_g, format_go_v, histogram_json};
pub use literal::{harness_equal, parse_histogram_literal, parse_histogram_literal_with_hint};
pub use ops::{AddOutcome, HistogramError};

/// A run of consecutive buckets: `offset` is the gap (in bucket indices) after the previous span, or the
/// index of the first bucket for the first span; `length` is the number of buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub offset: i32,
    pub length: u32,
}

impl Span {
    pub fn new(offset: i32, length: u32) -> Span {
        Span { offset, length }
    }
}

/// What the histogram says about counter resets (Prometheus' `CounterResetHint`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CounterResetHint {
    /// No information; a reset has to be detected by comparing with the previous histogram.
    #[default]
    Unknown,
    /// This histogram follows a counter reset.
    CounterReset,
    /// This histogram is known not to follow a counter reset.
    NotCounterReset,
    /// A gauge histogram: resets do not apply.
    Gauge,
}

/// A native histogram with float counts (Prometheus' `FloatHistogram`).
///
/// Bucket counts are absolute. Exponential schemas (−4…8) have a zero bucket `[-zero_threshold,
/// zero_threshold]` and positive and negative buckets; bucket `i` of the positive side is
/// `(bound(i−1), bound(i)]`, of the negative side `[−bound(i), −bound(i−1))`. With custom buckets
/// (schema −53) only the positive spans are used: bucket `i` is `(custom_values[i−1], custom_values[i]]`,
/// the first starting at −Inf and the one after the last value ending at +Inf.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FloatHistogram {
    pub counter_reset_hint: CounterResetHint,
    pub schema: i32,
    pub zero_threshold: f64,
    pub zero_count: f64,
    pub count: f64,
    pub sum: f64,
    pub positive_spans: Vec<Span>,
    pub negative_spans: Vec<Span>,
    pub positive_buckets: Vec<f64>,
    pub negative_buckets: Vec<f64>,
    /// Upper bounds of the custom buckets (schema −53 only), strictly increasing, +Inf implicit.
    pub custom_values: Vec<f64>,
}

/// One bucket with its bounds (Prometheus' `Bucket[float64]`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    pub lower: f64,
    pub upper: f64,
    pub lower_inclusive: bool,
    pub upper_inclusive: bool,
    pub count: f64,
    /// The bucket index within the schema (irrelevant for the zero bucket).
    pub index: i32,
}

impl FloatHistogram {
    /// Whether the histogram has custom buckets (schema −53).
    pub fn uses_custom_buckets(&self) -> bool {
        is_custom_buckets_schema(self.schema)
    }

    /// The zero bucket `[-zero_threshold, zero_threshold]`, both ends inclusive.
    pub fn zero_bucket(&self) -> Bucket {
        Bucket {
            lower: -self.zero_threshold,
            upper: self.zero_threshold,
            lower_inclusive: true,
            upper_inclusive: true,
            count: self.zero_count,
            index: 0,
        }
    }

    /// The positive buckets in ascending order (custom buckets for schema −53), empty ones included.
    pub fn positive_bucket_iter(&self) -> BucketIter<'_> {
        BucketIter::new(
            &self.positive_spans,
            &self.positive_buckets,
            self.schema,
            true,
            &self.custom_values,
        )
    }

    /// The negative buckets going down from the zero bucket (descending values).
    pub fn negative_bucket_iter(&self) -> BucketIter<'_> {
        BucketIter::new(
            &self.negative_spans,
            &self.negative_buckets,
            self.schema,
            false,
            &[],
        )
    }

    /// All buckets in ascending order of value: negative buckets, the zero bucket (if its count is > 0),
    /// positive buckets (Prometheus' `AllBucketIterator`). A negative or positive bucket overlapping the
    /// zero bucket has its bound moved to the zero threshold.
    pub fn all_buckets(&self) -> Vec<Bucket> {
        let threshold = self.zero_threshold;
        let mut out =
            Vec::with_capacity(self.positive_buckets.len() + self.negative_buckets.len() + 1);
        let mut negatives: Vec<Bucket> = self.negative_bucket_iter().collect();
        negatives.reverse();
        for mut b in negatives {
            clamp_to_zero_bucket(&mut b, threshold);
            out.push(b);
        }
        if !self.uses_custom_buckets() && self.zero_count > 0.0 {
            out.push(self.zero_bucket());
        }
        for mut b in self.positive_bucket_iter() {
            clamp_to_zero_bucket(&mut b, threshold);
            out.push(b);
        }
        out
    }

    /// All buckets in descending order of value (Prometheus' `AllReverseBucketIterator`).
    pub fn all_buckets_reverse(&self) -> Vec<Bucket> {
        let mut out = self.all_buckets();
        out.reverse();
        out
    }
}

fn clamp_to_zero_bucket(b: &mut Bucket, threshold: f64) {
    if b.lower > 0.0 && b.lower < threshold {
        b.lower = threshold;
    } else if b.upper < 0.0 && b.upper > -threshold {
        b.upper = -threshold;
    }
}

/// Iterates over the buckets of one side of a histogram in span order (ascending indices), with their
/// bounds. Stops early if the spans promise more buckets than there are (an invalid histogram).
#[derive(Debug, Clone)]
pub struct BucketIter<'a> {
    spans: &'a [Span],
    buckets: &'a [f64],
    schema: i32,
    positive: bool,
    custom_values: &'a [f64],
    span_idx: usize,
    idx_in_span: u32,
    bucket_idx: usize,
    curr_idx: i32,
}

impl<'a> BucketIter<'a> {
    fn new(
        spans: &'a [Span],
        buckets: &'a [f64],
        schema: i32,
        positive: bool,
        custom_values: &'a [f64],
    ) -> BucketIter<'a> {
        BucketIter {
            spans,
            buckets,
            schema,
            positive,
            custom_values,
            span_idx: 0,
            idx_in_span: 0,
            bucket_idx: 0,
            curr_idx: 0,
        }
    }

    /// The next bucket's index and count, without computing bounds.
    pub fn next_stripped(&mut self) -> Option<(i32, f64)> {
        indexed_next(
            self.spans,
            self.buckets,
            &mut self.span_idx,
            &mut self.idx_in_span,
            &mut self.bucket_idx,
            &mut self.curr_idx,
        )
    }
}

/// Advances over `(index, count)` pairs of spans and buckets (Prometheus' `floatBucketIterator.Next` at
/// the histogram's own schema); zero-length spans are skipped.
fn indexed_next(
    spans: &[Span],
    buckets: &[f64],
    span_idx: &mut usize,
    idx_in_span: &mut u32,
    bucket_idx: &mut usize,
    curr_idx: &mut i32,
) -> Option<(i32, f64)> {
    if *span_idx >= spans.len() || *bucket_idx >= buckets.len() {
        return None;
    }
    if *bucket_idx == 0 && *idx_in_span == 0 && *span_idx == 0 {
        *curr_idx = spans[0].offset;
    } else {
        *curr_idx = curr_idx.wrapping_add(1);
    }
    while *idx_in_span >= spans[*span_idx].length {
        *idx_in_span = 0;
        *span_idx += 1;
        if *span_idx >= spans.len() {
            return None;
        }
        *curr_idx = curr_idx.wrapping_add(spans[*span_idx].offset);
    }
    let count = buckets[*bucket_idx];
    *idx_in_span += 1;
    *bucket_idx += 1;
    Some((*curr_idx, count))
}

/// `(index, count)` pairs of one side, in span order.
pub(crate) fn indexed_buckets(spans: &[Span], buckets: &[f64]) -> Vec<(i32, f64)> {
    let (mut span_idx, mut idx_in_span, mut bucket_idx, mut curr_idx) = (0, 0, 0, 0);
    let mut out = Vec::with_capacity(buckets.len());
    while let Some(pair) = indexed_next(
        spans,
        buckets,
        &mut span_idx,
        &mut idx_in_span,
        &mut bucket_idx,
        &mut curr_idx,
    ) {
        out.push(pair);
    }
    out
}

/// The bucket with index `index` of one side, with its bounds (Prometheus' `baseBucketIterator.at`).
pub(crate) fn bucket_at(
    index: i32,
    count: f64,
    schema: i32,
    positive: bool,
    custom_values: &[f64],
) -> Bucket {
    let (lower, upper) = if positive {
        (
            bucket_bound(index.wrapping_sub(1), schema, custom_values),
            bucket_bound(index, schema, custom_values),
        )
    } else {
        (
            -bucket_bound(index, schema, custom_values),
            -bucket_bound(index.wrapping_sub(1), schema, custom_values),
        )
    };
    let (lower_inclusive, upper_inclusive) = if is_custom_buckets_schema(schema) {
        (index == 0, true)
    } else {
        (lower < 0.0, upper > 0.0)
    };
    Bucket {
        lower,
        upper,
        lower_inclusive,
        upper_inclusive,
        count,
        index,
    }
}

impl Iterator for BucketIter<'_> {
    type Item = Bucket;

    fn next(&mut self) -> Option<Bucket> {
        let (index, count) = self.next_stripped()?;
        Some(bucket_at(
            index,
            count,
            self.schema,
            self.positive,
            self.custom_values,
        ))
    }
}
