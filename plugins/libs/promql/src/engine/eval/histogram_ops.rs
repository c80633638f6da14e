//! The engine's use of the native-histogram library (`engine/histogram`): the operations binary
//! operators, aggregations and range functions apply to histogram points, with the annotations
//! Prometheus reports for them.

use std::sync::Arc;

use super::Point;
use crate::engine::histogram::{Bucket, CounterResetHint, FloatHistogram, HistogramError};
use crate::engine::{HistogramSample, Sample};

/// `h * factor`.
pub(crate) fn scale(h: &FloatHistogram, factor: f64) -> FloatHistogram {
    let mut out = h.clone();
    out.mul(factor);
    out
}

/// `h / divisor`.
pub(crate) fn divide(h: &FloatHistogram, divisor: f64) -> FloatHistogram {
    let mut out = h.clone();
    out.div(divisor);
    out
}

/// What adding or subtracting two histograms gave.
pub(crate) struct Combined {
    pub histogram: FloatHistogram,
    /// Mismatched custom bounds were reconciled (an info annotation).
    pub reconciled: bool,
}

fn combine(
    a: &FloatHistogram,
    b: &FloatHistogram,
    negate: bool,
) -> Result<Combined, HistogramError> {
    let mut out = a.clone();
    let outcome = if negate { out.sub(b)? } else { out.add(b)? };
    out.compact(0);
    Ok(Combined {
        histogram: out,
        reconciled: outcome.nhcb_bounds_reconciled,
    })
}

/// `a + b`, compacted as Prometheus compacts binary-operator results.
pub(crate) fn add(a: &FloatHistogram, b: &FloatHistogram) -> Result<Combined, HistogramError> {
    combine(a, b, false)
}

/// `a - b`.
pub(crate) fn sub(a: &FloatHistogram, b: &FloatHistogram) -> Result<Combined, HistogramError> {
    combine(a, b, true)
}

pub(crate) fn equal(a: &FloatHistogram, b: &FloatHistogram) -> bool {
    a.equals(b)
}

/// Go's `%g` for a float.
fn go_g(v: f64) -> String {
    if v.is_nan() {
        return "NaN".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    let exponent = v.abs().log10().floor() as i32;
    if (-4..21).contains(&exponent) {
        format!("{v}")
    } else {
        let s = format!("{v:e}");
        match s.split_once('e') {
            Some((mantissa, exp)) => {
                let (sign, digits) = match exp.strip_prefix('-') {
                    Some(d) => ('-', d),
                    None => ('+', exp),
                };
                format!("{mantissa}e{sign}{digits:0>2}")
            }
            None => s,
        }
    }
}

fn bucket_text(b: &Bucket) -> String {
    format!(
        "{}{},{}{}:{}",
        if b.lower_inclusive { '[' } else { '(' },
        go_g(b.lower),
        go_g(b.upper),
        if b.upper_inclusive { ']' } else { ')' },
        go_g(b.count)
    )
}

/// Prometheus' `FloatHistogram.String()`, which `count_values` uses as the label value.
pub(crate) fn to_text(h: &FloatHistogram) -> String {
    let mut out = format!("{{count:{}, sum:{}", go_g(h.count), go_g(h.sum));
    let negatives: Vec<Bucket> = h
        .negative_bucket_iter()
        .filter(|b| b.count != 0.0)
        .collect();
    for b in negatives.iter().rev() {
        out.push_str(", ");
        out.push_str(&bucket_text(b));
    }
    if h.zero_count != 0.0 {
        out.push_str(", ");
        out.push_str(&bucket_text(&h.zero_bucket()));
    }
    for b in h.positive_bucket_iter().filter(|b| b.count != 0.0) {
        out.push_str(", ");
        out.push_str(&bucket_text(&b));
    }
    out.push('}');
    out
}

/// Why a range function gave no histogram result.
pub(crate) enum RangeIssue {
    /// Floats and histograms in one window.
    Mixed,
    /// Exponential and custom buckets in one window.
    MixedSchemas,
    /// A counter function over histograms marked as gauges.
    NotCounter,
    /// `delta` over histograms not marked as gauges (the result is still given).
    NotGauge,
}

/// A range function over a window that holds histograms (`histograms` non-empty) and maybe floats.
/// Returns the point (or none) and an issue to annotate.
pub(crate) fn range_function(
    name: &str,
    floats: &[Sample],
    histograms: &[HistogramSample],
    from: i64,
    to: i64,
) -> (Option<Point>, Option<RangeIssue>) {
    let last_h = histograms.last();
    let last_f = floats.last();
    let first_h = histograms.first();
    let first_f = floats.first();
    let seconds = |t: i64| Some(Point::F(t as f64 / 1000.0));
    let point = match name {
        "count_over_time" => Some(Point::F((floats.len() + histograms.len()) as f64)),
        "present_over_time" => Some(Point::F(1.0)),
        "last_over_time" => match (last_f, last_h) {
            (Some(f), Some(h)) if f.t > h.t => Some(Point::F(f.v)),
            (_, Some(h)) => Some(Point::H(h.h.clone())),
            _ => None,
        },
        "first_over_time" => match (first_f, first_h) {
            (Some(f), Some(h)) if f.t < h.t => Some(Point::F(f.v)),
            (_, Some(h)) => Some(Point::H(h.h.clone())),
            _ => None,
        },
        "ts_of_last_over_time" => {
            let t = last_h.map(|h| h.t).max(last_f.map(|f| f.t));
            t.and_then(seconds)
        }
        "ts_of_first_over_time" => {
            let t = match (first_f.map(|f| f.t), first_h.map(|h| h.t)) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            t.and_then(seconds)
        }
        _ if !floats.is_empty() => return (None, Some(RangeIssue::Mixed)),
        "sum_over_time" => {
            return sum(histograms).map_or((None, Some(RangeIssue::MixedSchemas)), |h| {
                (Some(Point::H(Arc::new(h))), None)
            });
        }
        "avg_over_time" => {
            return match sum(histograms) {
                Some(h) => (
                    Some(Point::H(Arc::new(divide(&h, histograms.len() as f64)))),
                    None,
                ),
                None => (None, Some(RangeIssue::MixedSchemas)),
            };
        }
        "rate" | "increase" | "delta" => return rate(name, histograms, from, to),
        _ => None,
    };
    (point, None)
}

fn sum(histograms: &[HistogramSample]) -> Option<FloatHistogram> {
    let mut total = histograms.first()?.h.as_ref().clone();
    for h in &histograms[1..] {
        total.add(&h.h).ok()?;
    }
    total.compact(0);
    Some(total)
}

/// `rate`/`increase`/`delta` over histograms (Prometheus' `histogramRate` and the extrapolation of
/// `extrapolatedRate`).
fn rate(
    name: &str,
    points: &[HistogramSample],
    from: i64,
    to: i64,
) -> (Option<Point>, Option<RangeIssue>) {
    if points.len() < 2 {
        return (None, None);
    }
    let is_counter = name != "delta";
    let first = &points[0];
    let last = &points[points.len() - 1];
    let custom = first.h.uses_custom_buckets();
    let mut min_schema = first.h.schema.min(last.h.schema);
    if last.h.uses_custom_buckets() != custom {
        return (None, Some(RangeIssue::MixedSchemas));
    }
    let mut issue = None;
    for p in &points[1..points.len() - 1] {
        if p.h.uses_custom_buckets() != custom {
            return (None, Some(RangeIssue::MixedSchemas));
        }
        if is_counter && p.h.counter_reset_hint == CounterResetHint::Gauge {
            issue = Some(RangeIssue::NotCounter);
        }
        min_schema = min_schema.min(p.h.schema);
    }
    let mut h = last.h.as_ref().clone();
    if h.schema > min_schema && h.reduce_resolution(min_schema).is_err() {
        return (None, Some(RangeIssue::MixedSchemas));
    }
    if h.sub(&first.h).is_err() {
        return (None, Some(RangeIssue::MixedSchemas));
    }
    if is_counter {
        for pair in points.windows(2) {
            if pair[1].h.detect_reset(&pair[0].h) && h.add(&pair[0].h).is_err() {
                return (None, Some(RangeIssue::MixedSchemas));
            }
        }
    } else if first.h.counter_reset_hint != CounterResetHint::Gauge
        || last.h.counter_reset_hint != CounterResetHint::Gauge
    {
        issue = Some(RangeIssue::NotGauge);
    }
    h.counter_reset_hint = CounterResetHint::Gauge;
    h.compact(0);

    // The extrapolation of `extrapolatedRate` (no zero-point limit for histograms).
    let n = (points.len() - 1) as f64;
    let sampled = (last.t - first.t) as f64 / 1000.0;
    let average = sampled / n;
    let threshold = average * 1.1;
    let mut to_start = (first.t - from) as f64 / 1000.0;
    let mut to_end = (to - last.t) as f64 / 1000.0;
    if to_start >= threshold {
        to_start = average / 2.0;
    }
    if to_end >= threshold {
        to_end = average / 2.0;
    }
    let mut factor = (sampled + to_start + to_end) / sampled;
    if name == "rate" {
        factor /= (to - from) as f64 / 1000.0;
    }
    h.mul(factor);
    (Some(Point::H(Arc::new(h))), issue)
}
