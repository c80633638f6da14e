//! The engine's use of the native-histogram library (`engine/histogram`): the operations binary
//! operators, aggregations and range functions apply to histogram points, with the annotations
//! Prometheus reports for them.

use std::sync::Arc;

use super::Point;
use crate::engine::histogram::{CounterResetHint, FloatHistogram, HistogramError};
use crate::engine::{HistogramSample, Sample, kernels};

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
    /// A float function ignored the histograms of a window that also holds floats (an info).
    IgnoredHistograms,
    /// Mismatched custom bounds were reconciled while subtracting (an info).
    Reconciled,
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
        "resets" | "changes" => Some(Point::F(resets_or_changes(name, floats, histograms))),
        "irate" | "idelta" => return instant_rate(name, floats, histograms),
        // Float functions: histograms are ignored, with an info when floats remain.
        "deriv"
        | "predict_linear"
        | "double_exponential_smoothing"
        | "stddev_over_time"
        | "stdvar_over_time"
        | "mad_over_time"
        | "min_over_time"
        | "max_over_time"
        | "quantile_over_time"
        | "ts_of_min_over_time"
        | "ts_of_max_over_time" => {
            return (
                None,
                (!floats.is_empty()).then_some(RangeIssue::IgnoredHistograms),
            );
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
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return (None, None);
    };
    let is_counter = name != "delta";
    // The series (re)started inside the window: it is taken to have been zero at its start time.
    let zero_at_start = is_counter && first.st != 0 && first.st > from && first.st < first.t;
    if points.len() < 2 && !zero_at_start {
        return (None, None);
    }
    let custom = first.h.uses_custom_buckets();
    let mut min_schema = first.h.schema.min(last.h.schema);
    if last.h.uses_custom_buckets() != custom {
        return (None, Some(RangeIssue::MixedSchemas));
    }
    let mut issue = None;
    for p in &points[1..points.len().saturating_sub(1).max(1)] {
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
            let (prev, curr) = (&pair[0], &pair[1]);
            let reset = curr.h.detect_reset(&prev.h)
                || kernels::is_start_timestamp_reset(prev.st, prev.t, curr.st, curr.t);
            if reset && h.add(&prev.h).is_err() {
                return (None, Some(RangeIssue::MixedSchemas));
            }
        }
    } else if first.h.counter_reset_hint != CounterResetHint::Gauge
        || last.h.counter_reset_hint != CounterResetHint::Gauge
    {
        issue = Some(RangeIssue::NotGauge);
    }

    // The extrapolation of `extrapolatedRate`, the zero point taken from the count.
    let n = (points.len() - 1) as f64;
    let mut sampled = (last.t - first.t) as f64 / 1000.0;
    let average = if n > 0.0 { sampled / n } else { 0.0 };
    let threshold = average * 1.1;
    let mut to_start = (first.t - from) as f64 / 1000.0;
    let mut to_end = (to - last.t) as f64 / 1000.0;
    if zero_at_start {
        to_start = 0.0;
        sampled = (last.t - first.st) as f64 / 1000.0;
        if h.add(&first.h).is_err() {
            return (None, Some(RangeIssue::MixedSchemas));
        }
    } else {
        if to_start >= threshold {
            to_start = average / 2.0;
        }
        // A counter cannot go below zero: extrapolate to the left only as far as the count would
        // reach zero.
        if is_counter && h.count > 0.0 && first.h.count >= 0.0 {
            to_start = to_start.min(sampled * (first.h.count / h.count));
        }
    }
    if to_end >= threshold {
        to_end = average / 2.0;
    }
    h.counter_reset_hint = CounterResetHint::Gauge;
    h.compact(0);
    let mut factor = if sampled != 0.0 {
        (sampled + to_start + to_end) / sampled
    } else {
        1.0
    };
    if name == "rate" {
        factor /= (to - from) as f64 / 1000.0;
    }
    h.mul(factor);
    (Some(Point::H(Arc::new(h))), issue)
}

/// `resets`/`changes` over a window of floats and histograms in time order: a float decrease, a
/// histogram counter reset or a start-timestamp reset is a reset; any change of value (or of sample
/// type) is a change.
fn resets_or_changes(name: &str, floats: &[Sample], histograms: &[HistogramSample]) -> f64 {
    let mut points: Vec<(i64, Point, i64)> = floats
        .iter()
        .map(|s| (s.t, Point::F(s.v), 0))
        .chain(
            histograms
                .iter()
                .map(|h| (h.t, Point::H(h.h.clone()), h.st)),
        )
        .collect();
    points.sort_by_key(|(t, _, _)| *t);
    let mut count = 0.0;
    for pair in points.windows(2) {
        let (prev_t, prev_st) = (pair[0].0, pair[0].2);
        let (curr_t, curr_st) = (pair[1].0, pair[1].2);
        let hit = match (&pair[0].1, &pair[1].1) {
            (Point::F(a), Point::F(b)) if name == "resets" => b < a,
            (Point::F(a), Point::F(b)) => !(a == b || (a.is_nan() && b.is_nan())),
            (Point::H(a), Point::H(b)) if name == "resets" => {
                b.detect_reset(a)
                    || kernels::is_start_timestamp_reset(prev_st, prev_t, curr_st, curr_t)
            }
            (Point::H(a), Point::H(b)) => !b.equals(a),
            // A switch between float and histogram counts as both a change and a reset.
            _ => true,
        };
        if hit {
            count += 1.0;
        }
    }
    count
}

/// `irate`/`idelta` when the window's last two samples include histograms.
fn instant_rate(
    name: &str,
    floats: &[Sample],
    histograms: &[HistogramSample],
) -> (Option<Point>, Option<RangeIssue>) {
    let Some(last) = histograms.last() else {
        return (None, None);
    };
    if floats.last().is_some_and(|f| f.t > last.t) {
        // The last sample is a float and the one before a histogram.
        return (None, Some(RangeIssue::Mixed));
    }
    let previous_h = histograms.len().checked_sub(2).map(|i| &histograms[i]);
    let previous = match (previous_h, floats.last()) {
        (Some(h), Some(f)) if f.t > h.t => return (None, Some(RangeIssue::Mixed)),
        (None, Some(_)) => return (None, Some(RangeIssue::Mixed)),
        (Some(h), _) => h,
        (None, None) => return (None, None),
    };
    let mut issue = None;
    let is_rate = name == "irate";
    let last_gauge = last.h.counter_reset_hint == CounterResetHint::Gauge;
    let previous_gauge = previous.h.counter_reset_hint == CounterResetHint::Gauge;
    if is_rate && (last_gauge || previous_gauge) {
        issue = Some(RangeIssue::NotCounter);
    } else if !is_rate && last_gauge != previous_gauge {
        issue = Some(RangeIssue::NotGauge);
    }
    let mut h = last.h.as_ref().clone();
    let reset = last.h.detect_reset(&previous.h)
        || kernels::is_start_timestamp_reset(previous.st, previous.t, last.st, last.t);
    if !(is_rate && reset) {
        match h.sub(&previous.h) {
            Err(_) => return (None, Some(RangeIssue::MixedSchemas)),
            Ok(outcome) if outcome.nhcb_bounds_reconciled => {
                issue = Some(RangeIssue::Reconciled);
            }
            Ok(_) => {}
        }
    }
    h.counter_reset_hint = CounterResetHint::Gauge;
    h.compact(0);
    if is_rate {
        let seconds = (last.t - previous.t) as f64 / 1000.0;
        if seconds == 0.0 {
            return (None, issue);
        }
        h.div(seconds);
    }
    (Some(Point::H(Arc::new(h))), issue)
}
