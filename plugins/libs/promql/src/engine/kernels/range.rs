//! Range-vector functions over the float samples of one window (Prometheus' `promql/functions.go`).
//!
//! A window holds the samples with `range_start_ms < t <= range_end_ms`, sorted by time, staleness markers
//! already removed. Each function returns `None` where Prometheus emits no sample for the series.

use super::aggregate::{MeanAcc, kahan_sum_inc, quantile};
use super::search;
use crate::engine::Sample;

/// Which of the extrapolating functions [`extrapolated_rate`] computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateKind {
    /// `rate`: a counter's per-second increase.
    Rate,
    /// `increase`: a counter's increase over the range.
    Increase,
    /// `delta`: a gauge's change over the range.
    Delta,
}

/// `time.Duration(ms).Seconds()` as Go computes it: whole seconds plus the nanosecond remainder.
fn duration_seconds(ms: i64) -> f64 {
    let nanos = i128::from(ms) * 1_000_000;
    let secs = nanos / 1_000_000_000;
    let rem = nanos % 1_000_000_000;
    secs as f64 + rem as f64 / 1e9
}

/// `rate`, `increase` and `delta` (Prometheus' `extrapolatedRate`).
///
/// Needs at least two samples. For counters (`Rate`, `Increase`) every decrease between neighbours is
/// taken as a reset to zero and the value before it is added back. The change between the first and last
/// sample is then extrapolated to the window's edges: all the way to an edge if the gap to it is below
/// 1.1× the average sample interval, otherwise by half an average interval. For counters the extrapolation
/// to the left stops where the counter would reach zero. `Rate` divides by the window length in seconds.
pub fn extrapolated_rate(
    samples: &[Sample],
    range_start_ms: i64,
    range_end_ms: i64,
    kind: RateKind,
) -> Option<f64> {
    extrapolated_rate_with_start_timestamps(samples, &[], range_start_ms, range_end_ms, kind)
}

/// [`extrapolated_rate`] with per-sample start timestamps (Prometheus' `use-start-timestamps`):
/// `start_ts[i]` belongs to `samples[i]` (0 = unknown; the slice may be shorter than `samples`).
///
/// For counters, a start timestamp that marks a new series ([`is_start_timestamp_reset`]) counts as a
/// reset like a decrease does. And if the first sample's start timestamp lies inside the window (after
/// `range_start_ms`, before the sample), the counter is taken to have been 0 at that time: the first value
/// is added to the increase and there is no extrapolation to the left — which gives a result even for a
/// single sample. With no start timestamps this is exactly [`extrapolated_rate`].
pub fn extrapolated_rate_with_start_timestamps(
    samples: &[Sample],
    start_ts: &[i64],
    range_start_ms: i64,
    range_end_ms: i64,
    kind: RateKind,
) -> Option<f64> {
    let (first, last) = (*samples.first()?, *samples.last()?);
    let is_counter = matches!(kind, RateKind::Rate | RateKind::Increase);
    let num_samples_minus_one = samples.len() - 1;

    let mut result = last.v - first.v;
    if is_counter {
        for (i, pair) in samples.windows(2).enumerate() {
            let st_reset = i + 1 < start_ts.len()
                && is_start_timestamp_reset(start_ts[i], pair[0].t, start_ts[i + 1], pair[1].t);
            if pair[1].v < pair[0].v || st_reset {
                result += pair[0].v;
            }
        }
    }

    let mut duration_to_start = (first.t - range_start_ms) as f64 / 1000.0;
    let mut duration_to_end = (range_end_ms - last.t) as f64 / 1000.0;
    let mut sampled_interval = (last.t - first.t) as f64 / 1000.0;
    let average_duration_between_samples = if num_samples_minus_one > 0 {
        sampled_interval / num_samples_minus_one as f64
    } else {
        0.0
    };
    let extrapolation_threshold = average_duration_between_samples * 1.1;

    match start_ts.first() {
        Some(&st) if is_counter && st != 0 && st > range_start_ms && st < first.t => {
            // The series (re)started inside the window: assume a zero sample at its start time instead
            // of extrapolating to the left. With a single sample the threshold is 0, so there is no
            // extrapolation to the right either.
            duration_to_start = 0.0;
            sampled_interval = (last.t - st) as f64 / 1000.0;
            result += first.v;
        }
        _ if num_samples_minus_one == 0 => return None,
        _ => {
            if duration_to_start >= extrapolation_threshold {
                duration_to_start = average_duration_between_samples / 2.0;
            }
            if is_counter {
                // A counter cannot go below zero: if the extrapolated zero point is closer than the
                // left edge, the series is taken to start there.
                let mut duration_to_zero = duration_to_start;
                if result > 0.0 && first.v >= 0.0 {
                    duration_to_zero = sampled_interval * (first.v / result);
                }
                if duration_to_zero < duration_to_start {
                    duration_to_start = duration_to_zero;
                }
            }
        }
    }
    if duration_to_end >= extrapolation_threshold {
        duration_to_end = average_duration_between_samples / 2.0;
    }

    let mut factor = 1.0;
    if sampled_interval != 0.0 {
        factor = (sampled_interval + duration_to_start + duration_to_end) / sampled_interval;
    }
    if kind == RateKind::Rate {
        factor /= duration_seconds(range_end_ms - range_start_ms);
    }
    Some(result * factor)
}

/// Whether a sample's start timestamp says the counter was reset since the previous sample (Prometheus'
/// `isStartTimestampReset`). An unknown (0), invalid (after the sample) or OTel "unknown start" (equal to
/// the sample) start timestamp is no reset; one after the previous sample is. One equal to the previous
/// sample's time is a reset (a delta series) only if the previous start timestamp was known and valid.
pub fn is_start_timestamp_reset(prev_st: i64, prev_t: i64, curr_st: i64, curr_t: i64) -> bool {
    if curr_st == 0 || curr_st >= curr_t {
        return false;
    }
    if curr_st < prev_t {
        return false;
    }
    if curr_st > prev_t {
        return true;
    }
    if prev_st > prev_t {
        return false;
    }
    prev_st != 0 && prev_st != prev_t
}

/// Whether a sample's start time overlaps the previous sample (Prometheus' `checkStartTimeOverlap`): set,
/// before the previous sample and different from the previous start time.
pub fn check_start_time_overlap(prev_st: i64, prev_t: i64, curr_st: i64) -> bool {
    curr_st != 0 && curr_st < prev_t && curr_st != prev_st
}

/// Whether any sample of the window overlaps its predecessor (see [`check_start_time_overlap`]), which
/// `rate`/`increase` report as a warning.
pub fn has_start_time_overlap(samples: &[Sample], start_ts: &[i64]) -> bool {
    samples.windows(2).enumerate().any(|(i, pair)| {
        i + 1 < start_ts.len() && check_start_time_overlap(start_ts[i], pair[0].t, start_ts[i + 1])
    })
}

/// The value at `t` on the line between `p1` and `p2` (Prometheus' `interpolate`). For a counter that
/// reset between them, the line starts from 0 instead of `p1`.
fn interpolate(p1: Sample, p2: Sample, t: i64, is_counter: bool) -> f64 {
    let mut y1 = p1.v;
    let y2 = p2.v;
    if is_counter && y2 < y1 {
        y1 = 0.0;
    }
    y1 + (y2 - y1) * (t - p1.t) as f64 / (p2.t - p1.t) as f64
}

/// `rate`, `increase` and `delta` over an `anchored` or `smoothed` range selector (Prometheus'
/// `extendedRate`).
///
/// `samples` are the window's samples plus those the extended selector adds around it: for `anchored`, the
/// last sample at or before `range_start_ms` (within the lookback delta); for `smoothed` also the first
/// sample at or after `range_end_ms`. Extra samples further out do no harm. `anchored` takes the change
/// from the anchor sample to the last sample, without extrapolation; `smoothed` interpolates the values at
/// both edges from the neighbouring samples. Counter resets inside the window are corrected for. `Rate`
/// divides by the range in seconds. `None` when no sample lies after `range_start_ms` (or, smoothed, none
/// at or before `range_end_ms`).
pub fn extended_rate(
    samples: &[Sample],
    range_start_ms: i64,
    range_end_ms: i64,
    kind: RateKind,
    smoothed: bool,
) -> Option<f64> {
    let f = samples;
    if f.is_empty() {
        return None;
    }
    let is_counter = matches!(kind, RateKind::Rate | RateKind::Increase);
    let mut last = f.len() - 1;
    let mut first = search(last, |i| f[i].t > range_start_ms).saturating_sub(1);
    if smoothed {
        last = search(last, |i| f[i].t >= range_end_ms);
    }
    if f[last].t <= range_start_ms {
        return None;
    }
    if smoothed && f[first].t > range_end_ms {
        return None;
    }

    let left = if smoothed && f[first].t < range_start_ms {
        interpolate(f[first], f[first + 1], range_start_ms, is_counter)
    } else {
        f[first].v
    };
    let right = if smoothed && last > 0 && f[last].t > range_end_ms {
        interpolate(f[last - 1], f[last], range_end_ms, is_counter)
    } else {
        f[last].v
    };

    let mut result = right - left;
    if is_counter {
        // Only samples strictly inside the window can add resets; the edges handled theirs above.
        if f[first].t <= range_start_ms {
            first += 1;
        }
        let end = if f[last].t >= range_end_ms {
            last
        } else {
            last + 1
        };
        let inner = if first <= end {
            &f[first..end]
        } else {
            &[][..]
        };
        let mut correction = 0.0;
        let mut prev = left;
        for p in inner {
            if p.v < prev {
                correction += prev;
            }
            prev = p.v;
        }
        if right < prev {
            correction += prev;
        }
        result += correction;
    }
    if kind == RateKind::Rate {
        result /= duration_seconds(range_end_ms - range_start_ms);
    }
    Some(result)
}

/// The points an `anchored`/`smoothed` range selector yields as a range vector (Prometheus'
/// `extendFloats`): the samples strictly inside `(mint, maxt)` framed by a point at exactly `mint` and one
/// at exactly `maxt`. `anchored` takes the sample at or before each edge; `smoothed` interpolates between
/// the samples around it (as a gauge). Empty if no sample lies after `mint` (Go panics on an empty input;
/// this returns empty).
pub fn extend_floats(samples: &[Sample], mint: i64, maxt: i64, smoothed: bool) -> Vec<Sample> {
    let f = samples;
    if f.is_empty() {
        return Vec::new();
    }
    let mut last = f.len() - 1;
    let mut first = search(last, |i| f[i].t > mint).saturating_sub(1);
    if smoothed {
        last = search(last, |i| f[i].t >= maxt);
    }
    if f[last].t <= mint {
        return Vec::new();
    }
    let left = if smoothed && f[first].t < mint {
        interpolate(f[first], f[first + 1], mint, false)
    } else {
        f[first].v
    };
    let right = if smoothed && last > 0 && f[last].t > maxt {
        interpolate(f[last - 1], f[last], maxt, false)
    } else {
        f[last].v
    };
    if f[first].t <= mint {
        first += 1;
    }
    let end = if f[last].t >= maxt { last } else { last + 1 };
    let mut out = Vec::with_capacity(end.saturating_sub(first) + 2);
    out.push(Sample { t: mint, v: left });
    if first < end {
        out.extend_from_slice(&f[first..end]);
    }
    out.push(Sample { t: maxt, v: right });
    out
}

/// Where `changes`/`resets` over an `anchored` selector start in `samples` (Prometheus'
/// `pickFirstSampleIndices` for floats): at the last sample at or before `range_start_ms`, or at 0 if there
/// is none. `None` when no sample lies after `range_start_ms` (no result).
pub fn anchored_first_index(samples: &[Sample], range_start_ms: i64) -> Option<usize> {
    let after = search(samples.len(), |i| samples[i].t > range_start_ms);
    if after >= samples.len() {
        return None;
    }
    Some(after.saturating_sub(1))
}

/// The last two samples' difference, per second for `irate` (Prometheus' `instantValue`).
fn instant_value(samples: &[Sample], start_ts: &[i64], is_rate: bool) -> Option<f64> {
    if samples.len() < 2 {
        return None;
    }
    let (i_prev, i_last) = (samples.len() - 2, samples.len() - 1);
    let (prev, last) = (samples[i_prev], samples[i_last]);
    let st = |i: usize| start_ts.get(i).copied().unwrap_or(0);
    let sampled_interval = last.t - prev.t;
    if sampled_interval == 0 {
        return None;
    }
    // On a counter reset the result is the last value itself (the increase since the reset). A NaN on
    // either side is no reset, so the difference (NaN) is taken.
    let reset = is_rate
        && (last.v < prev.v || is_start_timestamp_reset(st(i_prev), prev.t, st(i_last), last.t));
    let mut result = if reset { last.v } else { last.v - prev.v };
    if is_rate {
        result /= sampled_interval as f64 / 1000.0;
    }
    Some(result)
}

/// `irate`: the per-second rate between the last two samples, treating a decrease as a counter reset.
pub fn irate(samples: &[Sample]) -> Option<f64> {
    instant_value(samples, &[], true)
}

/// [`irate`] with per-sample start timestamps: a start-timestamp reset between the last two samples counts
/// as a counter reset too.
pub fn irate_with_start_timestamps(samples: &[Sample], start_ts: &[i64]) -> Option<f64> {
    instant_value(samples, start_ts, true)
}

/// `idelta`: the difference between the last two samples.
pub fn idelta(samples: &[Sample]) -> Option<f64> {
    instant_value(samples, &[], false)
}

/// `sum_over_time`, Kahan-compensated.
pub fn sum_over_time(samples: &[Sample]) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let (mut sum, mut c) = (0.0, 0.0);
    for s in samples {
        (sum, c) = kahan_sum_inc(s.v, sum, c);
    }
    if sum.is_infinite() {
        return Some(sum);
    }
    Some(sum + c)
}

/// `avg_over_time`: a Kahan-compensated sum divided at the end, switching to an incremental mean if the sum
/// overflows (see [`MeanAcc`]).
pub fn avg_over_time(samples: &[Sample]) -> Option<f64> {
    let mut acc = MeanAcc::new();
    for s in samples {
        acc.add(s.v);
    }
    acc.value()
}

/// The extreme of the window: starts with the first value and replaces it whenever `better(cur, best)` or
/// the current best is NaN, so NaN only wins if every value is NaN.
fn compare_over_time(samples: &[Sample], better: impl Fn(f64, f64) -> bool) -> Option<Sample> {
    let mut best = *samples.first()?;
    for s in samples {
        if better(s.v, best.v) || best.v.is_nan() {
            best = *s;
        }
    }
    Some(best)
}

/// `min_over_time`; NaN is ignored unless every value is NaN.
pub fn min_over_time(samples: &[Sample]) -> Option<f64> {
    compare_over_time(samples, |cur, best| cur < best).map(|s| s.v)
}

/// `max_over_time`; NaN is ignored unless every value is NaN.
pub fn max_over_time(samples: &[Sample]) -> Option<f64> {
    compare_over_time(samples, |cur, best| cur > best).map(|s| s.v)
}

/// `ts_of_min_over_time`: the timestamp (seconds) of the minimum, the latest one on ties.
pub fn ts_of_min_over_time(samples: &[Sample]) -> Option<f64> {
    compare_over_time(samples, |cur, best| cur <= best).map(|s| s.t as f64 / 1000.0)
}

/// `ts_of_max_over_time`: the timestamp (seconds) of the maximum, the latest one on ties.
pub fn ts_of_max_over_time(samples: &[Sample]) -> Option<f64> {
    compare_over_time(samples, |cur, best| cur >= best).map(|s| s.t as f64 / 1000.0)
}

/// `count_over_time`.
pub fn count_over_time(samples: &[Sample]) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    Some(samples.len() as f64)
}

/// `last_over_time`.
pub fn last_over_time(samples: &[Sample]) -> Option<f64> {
    samples.last().map(|s| s.v)
}

/// `first_over_time`.
pub fn first_over_time(samples: &[Sample]) -> Option<f64> {
    samples.first().map(|s| s.v)
}

/// `ts_of_last_over_time`: the last sample's timestamp in seconds.
pub fn ts_of_last_over_time(samples: &[Sample]) -> Option<f64> {
    samples.last().map(|s| s.t as f64 / 1000.0)
}

/// `ts_of_first_over_time`: the first sample's timestamp in seconds.
pub fn ts_of_first_over_time(samples: &[Sample]) -> Option<f64> {
    samples.first().map(|s| s.t as f64 / 1000.0)
}

/// `present_over_time`: 1 for a non-empty window.
pub fn present_over_time(samples: &[Sample]) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    Some(1.0)
}

/// The population variance of the window (Prometheus' `varianceOverTime`): Welford's algorithm with both
/// the mean and the sum of squares Kahan-compensated.
fn variance_over_time(samples: &[Sample]) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let mut count = 0.0;
    let (mut mean, mut c_mean) = (0.0, 0.0);
    let (mut aux, mut c_aux) = (0.0, 0.0);
    for s in samples {
        count += 1.0;
        let delta = s.v - (mean + c_mean);
        (mean, c_mean) = kahan_sum_inc(delta / count, mean, c_mean);
        (aux, c_aux) = kahan_sum_inc(delta * (s.v - (mean + c_mean)), aux, c_aux);
    }
    Some((aux + c_aux) / count)
}

/// `stdvar_over_time`: the population variance.
pub fn stdvar_over_time(samples: &[Sample]) -> Option<f64> {
    variance_over_time(samples)
}

/// `stddev_over_time`: the population standard deviation.
pub fn stddev_over_time(samples: &[Sample]) -> Option<f64> {
    variance_over_time(samples).map(f64::sqrt)
}

/// `quantile_over_time` (see [`quantile`] for the rules on `q` and NaN).
pub fn quantile_over_time(q: f64, samples: &[Sample]) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let mut values: Vec<f64> = samples.iter().map(|s| s.v).collect();
    Some(quantile(q, &mut values))
}

/// `mad_over_time`: the median of the absolute deviations from the median; NaN if any value is NaN.
pub fn mad_over_time(samples: &[Sample]) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    // A NaN makes the median, and so the deviations, undefined.
    if samples.iter().any(|s| s.v.is_nan()) {
        return Some(f64::NAN);
    }
    let mut values: Vec<f64> = samples.iter().map(|s| s.v).collect();
    let median = quantile(0.5, &mut values);
    for v in &mut values {
        *v = (*v - median).abs();
    }
    Some(quantile(0.5, &mut values))
}

/// `changes`: how often the value changed between neighbours (NaN to NaN is no change).
pub fn changes(samples: &[Sample]) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let count = samples
        .windows(2)
        .filter(|p| p[1].v != p[0].v && !(p[1].v.is_nan() && p[0].v.is_nan()))
        .count();
    Some(count as f64)
}

/// `resets`: how often the value decreased between neighbours.
pub fn resets(samples: &[Sample]) -> Option<f64> {
    resets_with_start_timestamps(samples, &[])
}

/// [`resets`] with per-sample start timestamps: a start-timestamp reset counts as a reset too.
pub fn resets_with_start_timestamps(samples: &[Sample], start_ts: &[i64]) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let st = |i: usize| start_ts.get(i).copied().unwrap_or(0);
    let count = samples
        .windows(2)
        .enumerate()
        .filter(|(i, p)| {
            p[1].v < p[0].v || is_start_timestamp_reset(st(*i), p[0].t, st(i + 1), p[1].t)
        })
        .count();
    Some(count as f64)
}

/// Least-squares regression of value over time (Prometheus' `linearRegression`), with time measured in
/// seconds from `intercept_time_ms` and all sums Kahan-compensated. Returns `(slope, intercept)`, the
/// intercept being the fitted value at `intercept_time_ms`. A constant series gives slope 0 (NaN, NaN for a
/// constant ±Inf). `samples` must not be empty.
pub fn linear_regression(samples: &[Sample], intercept_time_ms: i64) -> (f64, f64) {
    let Some(first) = samples.first() else {
        return (f64::NAN, f64::NAN);
    };
    let mut n = 0.0;
    let (mut sum_x, mut c_x) = (0.0, 0.0);
    let (mut sum_y, mut c_y) = (0.0, 0.0);
    let (mut sum_xy, mut c_xy) = (0.0, 0.0);
    let (mut sum_x2, mut c_x2) = (0.0, 0.0);
    let init_y = first.v;
    let mut const_y = true;
    for (i, s) in samples.iter().enumerate() {
        if const_y && i > 0 && s.v != init_y {
            const_y = false;
        }
        n += 1.0;
        let x = (s.t - intercept_time_ms) as f64 / 1e3;
        (sum_x, c_x) = kahan_sum_inc(x, sum_x, c_x);
        (sum_y, c_y) = kahan_sum_inc(s.v, sum_y, c_y);
        (sum_xy, c_xy) = kahan_sum_inc(x * s.v, sum_xy, c_xy);
        (sum_x2, c_x2) = kahan_sum_inc(x * x, sum_x2, c_x2);
    }
    if const_y {
        if init_y.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, init_y);
    }
    sum_x += c_x;
    sum_y += c_y;
    sum_xy += c_xy;
    sum_x2 += c_x2;

    let cov_xy = sum_xy - sum_x * sum_y / n;
    let var_x = sum_x2 - sum_x * sum_x / n;
    let slope = cov_xy / var_x;
    let intercept = sum_y / n - slope * sum_x / n;
    (slope, intercept)
}

/// `deriv`: the slope (per second) of the least-squares line through the window. Needs two samples.
pub fn deriv(samples: &[Sample]) -> Option<f64> {
    if samples.len() < 2 {
        return None;
    }
    // Times are taken relative to the first sample to keep the sums small (Prometheus issue 2674).
    let (slope, _) = linear_regression(samples, samples[0].t);
    Some(slope)
}

/// `predict_linear`: the least-squares line's value `duration_s` seconds after `eval_time_ms`, the step's
/// evaluation time (not the `@`-shifted one). Needs two samples.
pub fn predict_linear(samples: &[Sample], eval_time_ms: i64, duration_s: f64) -> Option<f64> {
    if samples.len() < 2 {
        return None;
    }
    let (slope, intercept) = linear_regression(samples, eval_time_ms);
    Some(slope * duration_s + intercept)
}

/// `double_exponential_smoothing` (formerly `holt_winters`) with smoothing factor `sf` and trend factor
/// `tf`, both in (0, 1) (the caller validates them). Needs two samples.
pub fn double_exponential_smoothing(samples: &[Sample], sf: f64, tf: f64) -> Option<f64> {
    if samples.len() < 2 {
        return None;
    }
    // Prometheus' calcTrendValue: the first trend is the raw first difference.
    let trend = |i: usize, s0: f64, s1: f64, b: f64| {
        if i == 0 {
            return b;
        }
        tf * (s1 - s0) + (1.0 - tf) * b
    };
    let mut s0 = 0.0;
    let mut s1 = samples[0].v;
    let mut b = samples[1].v - samples[0].v;
    for (i, s) in samples.iter().enumerate().skip(1) {
        let x = sf * s.v;
        b = trend(i - 1, s0, s1, b);
        let y = (1.0 - sf) * (s1 + b);
        (s0, s1) = (s1, x + y);
    }
    Some(s1)
}

// Expected values are spelled as in Prometheus' test scripts.
#[cfg(test)]
#[allow(clippy::excessive_precision)]
mod tests {
    use super::*;
    use crate::engine::kernels::testutil::{assert_close, assert_exact, assert_some_close};
    use proptest::prelude::*;

    const MIN: i64 = 60_000;
    const SEC: i64 = 1_000;

    /// A `load <step>` series: value i at i·step; NaN entries are kept (they are real samples).
    fn load(step_ms: i64, values: &[f64]) -> Vec<Sample> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| Sample {
                t: i as i64 * step_ms,
                v: *v,
            })
            .collect()
    }

    /// `start+incrxN`: N+1 values.
    fn seq(start: f64, incr: f64, n: usize) -> Vec<f64> {
        (0..=n).map(|i| start + incr * i as f64).collect()
    }

    /// The window `[range]` at `eval`: `(eval - range, eval]`.
    fn window(samples: &[Sample], eval_ms: i64, range_ms: i64) -> Vec<Sample> {
        samples
            .iter()
            .copied()
            .filter(|s| s.t > eval_ms - range_ms && s.t <= eval_ms)
            .collect()
    }

    fn rate_at(samples: &[Sample], eval_ms: i64, range_ms: i64, kind: RateKind) -> Option<f64> {
        let w = window(samples, eval_ms, range_ms);
        extrapolated_rate(&w, eval_ms - range_ms, eval_ms, kind)
    }

    #[test]
    fn increase_extrapolates_and_stops_at_zero() {
        // functions.test "Tests for increase()".
        let foo = load(5 * MIN, &seq(0.0, 10.0, 10));
        let mut bar_vals = seq(0.0, 18.0, 5);
        bar_vals.extend(seq(0.0, 18.0, 5));
        let bar = load(5 * MIN, &bar_vals);
        let dings = load(5 * MIN, &seq(10.0, 10.0, 10));
        let bumms = load(5 * MIN, &seq(1.0, 10.0, 10));
        let inc = |s: &[Sample], r| rate_at(s, 50 * MIN, r, RateKind::Increase);
        assert_some_close(inc(&foo, 50 * MIN), 100.0);
        assert_some_close(inc(&bar, 50 * MIN), 160.0);
        assert_some_close(inc(&dings, 50 * MIN), 100.0);
        assert_some_close(inc(&bumms, 50 * MIN), 100.0);
        assert_some_close(inc(&foo, 100 * MIN), 100.0);
        assert_some_close(inc(&bar, 100 * MIN), 162.0);
        assert_some_close(inc(&dings, 100 * MIN), 105.0);
        assert_some_close(inc(&bumms, 100 * MIN), 101.0);

        // Counter reset: 0 1 2 3 2 3 4 reads as 3 0 1 2.
        let s = load(5 * MIN, &[0.0, 1.0, 2.0, 3.0, 2.0, 3.0, 4.0]);
        assert_some_close(rate_at(&s, 30 * MIN, 30 * MIN, RateKind::Increase), 7.0);
    }

    #[test]
    fn rate_handles_resets_and_divides_by_range() {
        let mut vals = seq(0.0, 27.0, 4);
        vals.extend(seq(0.0, 27.0, 5));
        let middle = load(5 * MIN, &vals);
        assert_some_close(rate_at(&middle, 50 * MIN, 50 * MIN, RateKind::Rate), 0.08);

        let mut vals = seq(0.0, 10.0, 9);
        vals.extend([0.0, 10.0]);
        let end = load(5 * MIN, &vals);
        // One sample in the window: no result.
        assert_eq!(rate_at(&end, 50 * MIN, 5 * MIN, RateKind::Rate), None);
        assert_some_close(rate_at(&end, 50 * MIN, 6 * MIN, RateKind::Rate), 0.0);

        let window_total = load(5 * MIN, &seq(0.0, 80.0, 10));
        assert_some_close(
            rate_at(&window_total, 50 * MIN, 50 * MIN, RateKind::Rate),
            0.26666666666666666,
        );
        // rate(x[10m] offset 5m) at 50m: the window (35m, 45m].
        let a = load(5 * MIN, &seq(0.0, 10.0, 10));
        assert_some_close(
            rate_at(&a, 45 * MIN, 10 * MIN, RateKind::Rate),
            0.03333333333333333,
        );
        let b = load(5 * MIN, &seq(0.0, 20.0, 10));
        assert_some_close(
            rate_at(&b, 45 * MIN, 10 * MIN, RateKind::Rate),
            0.06666666666666667,
        );
    }

    #[test]
    fn rate_zero_cutoff() {
        // functions.test: load 4m, testcounter_zero_cutoff_total{start=…}.
        let cases = [
            (0.0, 0.5, 0.6),
            (60.0, 0.55, 0.6),
            (120.0, 0.6, 0.6),
            (180.0, 0.6, 0.6),
            (240.0, 0.6, 0.6),
            (300.0, 0.6, 0.6),
        ];
        for (start, at_10m, at_50m) in cases {
            let s = load(4 * MIN, &seq(start, 240.0, 10));
            assert_some_close(rate_at(&s, 10 * MIN, 20 * MIN, RateKind::Rate), at_10m);
            assert_some_close(rate_at(&s, 50 * MIN, 20 * MIN, RateKind::Rate), at_50m);
        }
    }

    #[test]
    fn delta_does_not_treat_decreases_as_resets() {
        let foo = load(5 * MIN, &[0.0, 50.0, 100.0, 150.0, 200.0]);
        let bar = load(5 * MIN, &[200.0, 150.0, 100.0, 50.0, 0.0]);
        assert_some_close(rate_at(&foo, 20 * MIN, 20 * MIN, RateKind::Delta), 200.0);
        assert_some_close(rate_at(&bar, 20 * MIN, 20 * MIN, RateKind::Delta), -200.0);
        // A counter never extrapolates below zero; a gauge may.
        let s = vec![Sample { t: 10_000, v: 5.0 }, Sample { t: 20_000, v: 10.0 }];
        assert_some_close(extrapolated_rate(&s, 0, 30_000, RateKind::Delta), 15.0);
        assert_some_close(extrapolated_rate(&s, 0, 30_000, RateKind::Increase), 15.0);
        let s = vec![Sample { t: 10_000, v: 1.0 }, Sample { t: 20_000, v: 10.0 }];
        // Zero point at 10s - 10s·(1/9): increase is 9 · (10 + 10/9 + 10)/10.
        assert_some_close(
            extrapolated_rate(&s, 0, 30_000, RateKind::Increase),
            9.0 * (10.0 + 10.0 / 9.0 + 10.0) / 10.0,
        );
        assert_some_close(extrapolated_rate(&s, 0, 30_000, RateKind::Delta), 27.0);
        assert_eq!(extrapolated_rate(&[], 0, 1, RateKind::Rate), None);
    }

    #[test]
    fn range_seconds_follow_go_duration() {
        assert_exact(duration_seconds(301_001), 301.0 + 1_000_000.0 / 1e9);
        assert_exact(duration_seconds(300_000), 300.0);
        assert_exact(duration_seconds(-1_500), -1.0 + -500_000_000.0 / 1e9);
    }

    #[test]
    fn irate_and_idelta() {
        let foo = load(5 * MIN, &seq(0.0, 10.0, 10));
        let mut vals = seq(0.0, 10.0, 5);
        vals.extend(seq(0.0, 10.0, 5));
        let bar = load(5 * MIN, &vals);
        let at = |s: &[Sample], eval| irate(&window(s, eval, 50 * MIN));
        assert_some_close(at(&foo, 50 * MIN), 0.03333333333333333);
        assert_some_close(at(&bar, 50 * MIN), 0.03333333333333333);
        assert_some_close(at(&foo, 30 * MIN), 0.03333333333333333);
        // Counter reset between the last two samples (90 → 0): the rate of the last value itself.
        assert_exact(at(&bar, 30 * MIN).unwrap(), 0.0);

        // http_requests_nan 1 NaN NaN 5 11 over [15m1s] at 0, 5m, 10m, 15m, 20m: _ NaN NaN NaN 0.02.
        let nan = load(5 * MIN, &[1.0, f64::NAN, f64::NAN, 5.0, 11.0]);
        let r = |eval| irate(&window(&nan, eval, 15 * MIN + SEC));
        assert_eq!(r(0), None);
        assert!(r(5 * MIN).unwrap().is_nan());
        assert!(r(10 * MIN).unwrap().is_nan());
        assert!(r(15 * MIN).unwrap().is_nan());
        assert_some_close(r(20 * MIN), 0.02);
        let d = |eval| idelta(&window(&nan, eval, 15 * MIN + SEC));
        assert!(d(15 * MIN).unwrap().is_nan());
        assert_some_close(d(20 * MIN), 6.0);

        let foo = load(5 * MIN, &[0.0, 50.0, 100.0, 150.0]);
        let bar = load(5 * MIN, &[0.0, 50.0, 100.0, 50.0]);
        assert_some_close(idelta(&window(&foo, 20 * MIN, 20 * MIN)), 50.0);
        assert_some_close(idelta(&window(&bar, 20 * MIN, 20 * MIN)), -50.0);
        // Equal timestamps cannot be divided by.
        let dup = [Sample { t: 5, v: 1.0 }, Sample { t: 5, v: 2.0 }];
        assert_eq!(irate(&dup), None);
        assert_eq!(idelta(&dup[..1]), None);
    }

    #[test]
    fn resets_and_changes() {
        // functions.test: http_requests{path="/foo"} 1 2 3 0 1 0 0 1 2 0 at 5m steps.
        let s = load(5 * MIN, &[1.0, 2.0, 3.0, 0.0, 1.0, 0.0, 0.0, 1.0, 2.0, 0.0]);
        let w = |r| window(&s, 50 * MIN, r);
        assert_eq!(resets(&w(5 * MIN)), None);
        assert_eq!(changes(&w(5 * MIN)), None);
        assert_eq!(resets(&w(10 * MIN)), Some(0.0));
        assert_eq!(changes(&w(6 * MIN)), Some(0.0));
        assert_eq!(resets(&w(20 * MIN)), Some(1.0));
        assert_eq!(changes(&w(20 * MIN)), Some(2.0));
        assert_eq!(resets(&w(30 * MIN)), Some(1.0));
        assert_eq!(changes(&w(30 * MIN)), Some(3.0));
        assert_eq!(resets(&w(32 * MIN)), Some(2.0));
        assert_eq!(resets(&w(50 * MIN)), Some(3.0));
        assert_eq!(changes(&w(50 * MIN)), Some(7.0));
        let bar = load(5 * MIN, &[1.0, 2.0, 3.0, 4.0, 5.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(resets(&window(&bar, 50 * MIN, 50 * MIN)), Some(1.0));
        assert_eq!(changes(&window(&bar, 50 * MIN, 50 * MIN)), Some(8.0));
        assert_eq!(resets(&[]), None);
        assert_eq!(changes(&[]), None);

        // x{a="b"} NaN NaN NaN → 0 changes; x{a="c"} 0 NaN 0 → 2.
        let b = load(5 * MIN, &[f64::NAN, f64::NAN, f64::NAN]);
        let c = load(5 * MIN, &[0.0, f64::NAN, 0.0]);
        assert_eq!(changes(&window(&b, 15 * MIN, 20 * MIN)), Some(0.0));
        assert_eq!(changes(&window(&c, 15 * MIN, 20 * MIN)), Some(2.0));
    }

    #[test]
    fn deriv_and_predict_linear() {
        let app = load(5 * MIN, &seq(0.0, 80.0, 10));
        assert_some_close(
            deriv(&window(&app, 50 * MIN, 50 * MIN)),
            0.26666666666666666,
        );

        let mut vals = seq(0.0, 10.0, 4);
        vals.extend(seq(0.0, 10.0, 5));
        let middle = load(5 * MIN, &vals);
        assert_some_close(
            deriv(&window(&middle, 50 * MIN, 100 * MIN)),
            0.010606060606060607,
        );
        let w = window(&middle, 50 * MIN, 50 * MIN);
        assert_some_close(predict_linear(&w, 50 * MIN, 3600.0), 70.0);
        // [55m] @ 3000 evaluated at 50m, 10m and 70m.
        let at3000 = window(&middle, 3000 * SEC, 55 * MIN);
        assert_some_close(predict_linear(&at3000, 50 * MIN, 3600.0), 76.81818181818181);
        assert_some_close(predict_linear(&at3000, 10 * MIN, 3600.0), 51.36363636363637);
        assert_some_close(predict_linear(&at3000, 70 * MIN, 3600.0), 89.54545454545455);

        // -Inf 0+80x10 Inf: NaN.
        let mut vals = vec![f64::NEG_INFINITY];
        vals.extend(seq(0.0, 80.0, 10));
        vals.push(f64::INFINITY);
        let inf = load(5 * MIN, &vals);
        let w = window(&inf, 100 * MIN, 100 * MIN);
        assert!(deriv(&w).unwrap().is_nan());
        assert!(predict_linear(&w, 100 * MIN, 6000.0).unwrap().is_nan());

        // predict_linear(x[50m], 3600) - (x + deriv(x[50m]) * 3600) == 0 for the straight line.
        let w = window(&app, 50 * MIN, 50 * MIN);
        let p = predict_linear(&w, 50 * MIN, 3600.0).unwrap();
        let d = deriv(&w).unwrap();
        assert_close(p - (800.0 + d * 3600.0), 0.0);

        // promql/functions_test.go TestDeriv (issues 2674, 7180): large timestamps, constant value.
        let start = 1_493_712_816_939;
        let foo: Vec<Sample> = (0..15)
            .map(|i| Sample {
                t: start + 30 * SEC * i + 12 * i % 2,
                v: 1.0,
            })
            .collect();
        assert_exact(
            deriv(&window(&foo, 1_493_712_846_939, 30 * MIN)).unwrap(),
            0.0,
        );

        // Constant series: slope 0, intercept the value; constant Inf: NaN.
        let c = load(SEC, &[3.0, 3.0, 3.0]);
        assert_eq!(linear_regression(&c, 0), (0.0, 3.0));
        let c = load(SEC, &[f64::INFINITY, f64::INFINITY]);
        assert!(linear_regression(&c, 0).0.is_nan());
        assert_eq!(deriv(&c[..1]), None);
        assert_eq!(predict_linear(&c[..1], 0, 1.0), None);
    }

    #[test]
    fn double_exponential_smoothing_matches_prometheus() {
        // functions.test: load 10s, double_exponential_smoothing(x[1m], 0.01, 0.1) at 8000s.
        let check = |vals: Vec<f64>, expected: f64| {
            let s = load(10 * SEC, &vals);
            let w = window(&s, 8000 * SEC, MIN);
            assert_some_close(double_exponential_smoothing(&w, 0.01, 0.1), expected);
        };
        let mut v = seq(0.0, 10.0, 1000);
        v.extend(seq(100.0, 30.0, 1000));
        check(v, 8000.0);
        let mut v = seq(0.0, 20.0, 1000);
        v.extend(seq(200.0, 30.0, 1000));
        check(v, 16000.0);
        let mut v = seq(0.0, 30.0, 1000);
        v.extend(seq(300.0, 80.0, 1000));
        check(v, 24000.0);
        check(seq(0.0, 40.0, 2000), 32000.0);
        // Negative trends.
        check(seq(8000.0, -10.0, 1000), 0.0);
        check(seq(0.0, -20.0, 1000), -16000.0);
        let mut v = seq(0.0, -40.0, 1000);
        v.extend(seq(0.0, 40.0, 1000));
        check(v, -32000.0);

        // At 20010s over the second part: 30100, 30200, 80300, 80000.
        let mut v = seq(0.0, 10.0, 1000);
        v.extend(seq(100.0, 30.0, 1000));
        let s = load(10 * SEC, &v);
        let w = window(&s, 20010 * SEC, MIN);
        assert_some_close(double_exponential_smoothing(&w, 0.01, 0.1), 30100.0);
        assert_eq!(double_exponential_smoothing(&w[..1], 0.5, 0.5), None);
    }

    #[test]
    fn avg_and_sum_over_time() {
        let metric = load(10 * SEC, &[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(avg_over_time(&window(&metric, 55 * SEC, 10 * SEC)), None);
        assert_eq!(
            avg_over_time(&window(&metric, 55 * SEC, 20 * SEC)),
            Some(5.0)
        );
        assert_eq!(avg_over_time(&window(&metric, 55 * SEC, MIN)), Some(3.0));
        assert_eq!(sum_over_time(&window(&metric, 55 * SEC, MIN)), Some(15.0));

        let m11 = load(10 * SEC, &[1.0, 2.0, 3.0, f64::NAN, f64::NAN]);
        assert_eq!(avg_over_time(&window(&m11, 20 * SEC, MIN)), Some(2.0));
        assert!(
            avg_over_time(&window(&m11, 30 * SEC, MIN))
                .unwrap()
                .is_nan()
        );

        let big = load(10 * SEC, &[9.988465674311579e307, 9.988465674311579e307]);
        let w = window(&big, 55 * SEC, MIN);
        assert_eq!(avg_over_time(&w), Some(9.988465674311579e307));
        assert_eq!(sum_over_time(&w), Some(f64::INFINITY));

        let m = load(10 * SEC, &[1.0, 1e100, 1.0, -1e100]);
        let w = window(&m, MIN, 2 * MIN);
        assert_eq!(sum_over_time(&w), Some(2.0));
        assert_eq!(avg_over_time(&w), Some(0.5));

        // 52+0x100 averaged over 10..13 samples is exactly 52.
        let foo = load(10 * SEC, &[52.0; 101]);
        for r in [100, 110, 120, 130] {
            assert_eq!(avg_over_time(&window(&foo, 10 * MIN, r * SEC)), Some(52.0));
        }
        // Dense samples: load 1ms, 1+0x4000; sum_over_time(metric[1000ms]) at 4s = 1000.
        let dense = load(1, &[1.0; 4001]);
        assert_eq!(sum_over_time(&window(&dense, 4 * SEC, 1000)), Some(1000.0));
        assert_eq!(sum_over_time(&window(&dense, 4 * SEC, 1001)), Some(1001.0));
        assert_eq!(sum_over_time(&[]), None);
    }

    #[test]
    fn min_max_and_their_timestamps() {
        let s = load(10 * SEC, &[f64::NAN, 3.0, 1.0, 3.0, f64::NAN, 1.0, 2.0]);
        assert_eq!(max_over_time(&s), Some(3.0));
        assert_eq!(min_over_time(&s), Some(1.0));
        // The latest of equal extremes.
        assert_eq!(ts_of_max_over_time(&s), Some(30.0));
        assert_eq!(ts_of_min_over_time(&s), Some(50.0));
        let all_nan = load(10 * SEC, &[f64::NAN, f64::NAN]);
        assert!(max_over_time(&all_nan).unwrap().is_nan());
        assert!(min_over_time(&all_nan).unwrap().is_nan());
        // All NaN: every sample replaces the NaN best, so the last one's timestamp wins.
        assert_eq!(ts_of_max_over_time(&all_nan), Some(10.0));
        assert_eq!(max_over_time(&[]), None);
        assert_eq!(ts_of_min_over_time(&[]), None);

        assert_eq!(first_over_time(&s[1..]), Some(3.0));
        assert!(last_over_time(&s[..5]).unwrap().is_nan());
        assert_eq!(ts_of_first_over_time(&s[1..]), Some(10.0));
        assert_eq!(ts_of_last_over_time(&s), Some(60.0));
        assert_eq!(
            ts_of_last_over_time(&[Sample { t: 1_500, v: 0.0 }]),
            Some(1.5)
        );
        assert_eq!(count_over_time(&s), Some(7.0));
        assert_eq!(present_over_time(&s), Some(1.0));
        assert_eq!(count_over_time(&[]), None);
        assert_eq!(present_over_time(&[]), None);
        assert_eq!(first_over_time(&[]), None);
    }

    #[test]
    fn variance_quantile_and_mad_over_time() {
        let s = load(
            10 * SEC,
            &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0],
        );
        assert_some_close(stdvar_over_time(&s), 10.0);
        assert_some_close(stddev_over_time(&s), 10f64.sqrt());
        assert_exact(stddev_over_time(&s[..1]).unwrap(), 0.0);
        // Kahan keeps the variance of large, close values exact.
        let s2 = load(SEC, &[1e10 + 1.0, 1e10 + 2.0, 1e10 + 3.0]);
        assert_some_close(stdvar_over_time(&s2), 2.0 / 3.0);
        assert_eq!(stdvar_over_time(&[]), None);

        assert_eq!(quantile_over_time(0.5, &s), Some(5.0));
        assert_eq!(quantile_over_time(0.95, &s), Some(9.5));
        assert_eq!(quantile_over_time(-1.0, &s), Some(f64::NEG_INFINITY));
        assert_eq!(quantile_over_time(1.5, &s), Some(f64::INFINITY));
        assert!(quantile_over_time(f64::NAN, &s).unwrap().is_nan());
        assert_eq!(quantile_over_time(0.5, &[]), None);

        // mad_over_time(1 2 3 4 5 6 7 8 9 10 ... ) is the median of |x - median|.
        let m = load(SEC, &[1.0, 1.0, 2.0, 2.0, 4.0, 6.0, 9.0]);
        assert_eq!(mad_over_time(&m), Some(1.0));
        assert_eq!(mad_over_time(&[]), None);
    }

    /// One load step: `(value, start-time offset)`, or no sample.
    type StPoint = Option<(f64, Option<i64>)>;

    /// A series with start timestamps: `(value, st_offset_ms)` per step (None = no sample); the start
    /// timestamp is the sample time plus the offset, 0 when the offset is None.
    fn st_load(step_ms: i64, points: &[StPoint]) -> (Vec<Sample>, Vec<i64>) {
        let mut samples = Vec::new();
        let mut sts = Vec::new();
        for (i, p) in points.iter().enumerate() {
            if let Some((v, off)) = p {
                let t = i as i64 * step_ms;
                samples.push(Sample { t, v: *v });
                sts.push(off.map_or(0, |o| t + o));
            }
        }
        (samples, sts)
    }

    fn st_window(
        (samples, sts): &(Vec<Sample>, Vec<i64>),
        eval_ms: i64,
        range_ms: i64,
    ) -> (Vec<Sample>, Vec<i64>) {
        samples
            .iter()
            .zip(sts)
            .filter(|(s, _)| s.t > eval_ms - range_ms && s.t <= eval_ms)
            .map(|(s, st)| (*s, *st))
            .unzip()
    }

    fn st_increase(series: &(Vec<Sample>, Vec<i64>), eval_ms: i64, range_ms: i64) -> Option<f64> {
        let (w, sts) = st_window(series, eval_ms, range_ms);
        extrapolated_rate_with_start_timestamps(
            &w,
            &sts,
            eval_ms - range_ms,
            eval_ms,
            RateKind::Increase,
        )
    }

    /// Two blank steps, then `values` with per-step start-time offsets.
    fn st_points(values: &[f64], offsets: &[Option<i64>]) -> Vec<StPoint> {
        let mut p = vec![None, None];
        p.extend(values.iter().zip(offsets).map(|(v, o)| Some((*v, *o))));
        p
    }

    /// `<start>-<step>xN` offsets: N+1 values.
    fn offsets(start: i64, step: i64, n: usize) -> Vec<Option<i64>> {
        (0..=n).map(|i| Some(start - step * i as i64)).collect()
    }

    #[test]
    fn start_timestamps_on_cumulative_counters() {
        // start_timestamps.test: "Tests for rate(), irate() and increase() on cumulative."
        let values = seq(0.0, 60.0, 14);
        let mut offs = offsets(-30 * SEC, MIN, 2);
        offs.extend(offsets(-MIN, MIN, 2));
        offs.extend(offsets(-59_999, MIN, 2));
        offs.extend(offsets(-SEC, MIN, 2));
        offs.extend(offsets(-1, MIN, 2));
        let st_resets = st_load(MIN, &st_points(&values, &offs));
        let no_st = st_load(MIN, &st_points(&values, &[None; 15]));
        let normalized = st_load(
            MIN,
            &st_points(
                &[
                    0.0, 60.0, 120.0, 300.0, 360.0, 420.0, 780.0, 840.0, 900.0, 1440.0, 1500.0,
                    1560.0, 2280.0, 2340.0, 2400.0,
                ],
                &[None; 15],
            ),
        );
        let expected_increase = [
            420.0, 780.0, 675.0, 675.0, 1275.0, 1080.0, 900.0, 1725.0, 1440.0,
        ];
        let expected_normalized = [
            420.0, 780.0, 675.0, 675.0, 1275.0, 900.0, 900.0, 1725.0, 1125.0,
        ];
        let expected_irate = [1.0, 6.0, 1.0, 1.0, 9.0, 1.0, 1.0, 12.0, 1.0];
        let expected_resets = [1.0, 2.0, 1.0, 1.0, 2.0, 1.0, 1.0, 2.0, 1.0];
        for (i, eval) in (7..=15).map(|m| m * MIN).enumerate() {
            assert_some_close(st_increase(&no_st, eval, 5 * MIN), 300.0);
            assert_some_close(st_increase(&st_resets, eval, 5 * MIN), expected_increase[i]);
            assert_some_close(
                st_increase(&normalized, eval, 5 * MIN),
                expected_normalized[i],
            );
            let (w, sts) = st_window(&st_resets, eval, 5 * MIN);
            assert_some_close(
                extrapolated_rate_with_start_timestamps(
                    &w,
                    &sts,
                    eval - 5 * MIN,
                    eval,
                    RateKind::Rate,
                ),
                expected_increase[i] / 300.0,
            );
            assert_some_close(irate_with_start_timestamps(&w, &sts), expected_irate[i]);
            assert_eq!(
                resets_with_start_timestamps(&w, &sts),
                Some(expected_resets[i])
            );
            // Without the start timestamps it is a plain counter.
            assert_eq!(resets(&w), Some(0.0));
            let (wn, stn) = st_window(&normalized, eval, 5 * MIN);
            assert_some_close(irate_with_start_timestamps(&wn, &stn), expected_irate[i]);
            assert_eq!(resets_with_start_timestamps(&wn, &stn), Some(0.0));
        }
    }

    #[test]
    fn start_timestamps_on_deltas() {
        // start_timestamps.test: deltas with ST = T_prev (OTel), T_prev+1ms (GCP), T-1ms, T.
        let values = [60.0; 16];
        let cases: [(Option<i64>, f64); 5] = [
            (None, 0.0),
            (Some(-MIN), 300.0),
            (Some(-59_999), 300.0),
            (Some(-1), 300.0),
            (Some(0), 0.0),
        ];
        for (off, expected) in cases {
            let series = st_load(MIN, &st_points(&values, &[off; 16]));
            for eval in (10..=15).map(|m| m * MIN) {
                assert_some_close(st_increase(&series, eval, 5 * MIN), expected);
                let (w, sts) = st_window(&series, eval, 5 * MIN);
                assert_some_close(irate_with_start_timestamps(&w, &sts), expected / 300.0);
            }
        }
    }

    #[test]
    fn start_timestamp_replaces_left_extrapolation() {
        // start_timestamps.test: increase(series[5m]) at 6m.
        let v5 = [1.0, 2.0, 3.0, 4.0, 5.0];
        let v4 = [1.0, 2.0, 3.0, 4.0];
        let cases: Vec<(Vec<StPoint>, Option<f64>)> = vec![
            (st_points(&v5, &[None; 5]), Some(5.0)),
            (st_points(&v5, &offsets(-60 * SEC, MIN, 4)), Some(5.0)),
            (st_points(&v5, &offsets(-30 * SEC, MIN, 4)), Some(5.0)),
            (st_points(&v5, &offsets(0, MIN, 4)), Some(5.0)),
            (st_points(&v5, &offsets(1, MIN, 4)), Some(6.0)),
            (st_points(&v4, &[None; 4]), Some(5.0)),
            (st_points(&v4, &offsets(-60 * SEC, MIN, 3)), Some(5.0)),
            (
                st_points(&v4, &offsets(-30 * SEC, MIN, 3)),
                Some(5.142857142857143),
            ),
            (st_points(&v4, &offsets(0, MIN, 3)), Some(5.0)),
            (st_points(&v4, &offsets(1, MIN, 3)), Some(6.333333333333333)),
        ];
        for (i, (points, expected)) in cases.into_iter().enumerate() {
            let r = st_increase(&st_load(MIN, &points), 6 * MIN, 5 * MIN);
            match expected {
                Some(e) => assert!(
                    r.is_some_and(|r| crate::engine::kernels::almost_equal(r, e, 1e-6)),
                    "case {i}: {r:?} vs {e}"
                ),
                None => assert_eq!(r, None, "case {i}"),
            }
        }
        // Two samples at 3m and 4m ("limit_range").
        let limited = |offs: [Option<i64>; 2]| {
            let mut p = vec![None, None, None];
            p.push(Some((2.0, offs[0])));
            p.push(Some((3.0, offs[1])));
            st_increase(&st_load(MIN, &p), 6 * MIN, 5 * MIN)
        };
        assert_some_close(limited([None, None]), 2.0);
        assert_some_close(limited([Some(-120 * SEC), Some(-180 * SEC)]), 2.0);
        assert_some_close(limited([Some(-90 * SEC), Some(-150 * SEC)]), 3.6);
        assert_some_close(limited([Some(0), Some(-MIN)]), 2.0);
        assert_some_close(limited([Some(1), Some(1 - MIN)]), 6.0);
        // A single sample at 4m: only a start time inside the window gives a result.
        let single = |off: Option<i64>| {
            let p = vec![None, None, None, None, Some((3.0, off))];
            st_increase(&st_load(MIN, &p), 6 * MIN, 5 * MIN)
        };
        assert_eq!(single(None), None);
        assert_eq!(single(Some(-180 * SEC)), None);
        assert_some_close(single(Some(-150 * SEC)), 3.0);
        assert_eq!(single(Some(0)), None);
        assert_eq!(single(Some(1)), None);

        // Resets before and inside the window: 5 (ST 1m) 5 (ST 2m59s) 2 (no ST) → 16.
        let p = vec![
            None,
            None,
            Some((5.0, Some(-MIN))),
            Some((5.0, Some(-SEC))),
            Some((2.0, None)),
        ];
        assert_some_close(st_increase(&st_load(MIN, &p), 5 * MIN, 5 * MIN), 16.0);
    }

    #[test]
    fn start_timestamp_reset_rules() {
        // start_timestamps.test: OTel cumulative with unknown start vs delta, at 3m over [1m1ms].
        let two = |a: Option<i64>, b: Option<i64>| {
            let p = vec![None, None, Some((1.0, a)), Some((1.0, b))];
            st_increase(&st_load(MIN, &p), 3 * MIN, MIN + 1).map(f64::round)
        };
        assert_eq!(two(None, Some(-MIN)), Some(0.0));
        assert_eq!(two(Some(0), Some(-MIN)), Some(0.0));
        assert_eq!(two(Some(-MIN), Some(-MIN)), Some(1.0));
        assert_eq!(two(Some(MIN), Some(-MIN)), Some(0.0));

        assert!(!is_start_timestamp_reset(0, 100, 0, 200));
        assert!(!is_start_timestamp_reset(50, 100, 200, 200));
        assert!(!is_start_timestamp_reset(50, 100, 300, 200));
        assert!(!is_start_timestamp_reset(50, 100, 99, 200));
        assert!(is_start_timestamp_reset(50, 100, 101, 200));
        assert!(is_start_timestamp_reset(50, 100, 100, 200));
        assert!(!is_start_timestamp_reset(0, 100, 100, 200));
        assert!(!is_start_timestamp_reset(100, 100, 100, 200));
        assert!(!is_start_timestamp_reset(150, 100, 100, 200));
    }

    #[test]
    fn start_time_overlap() {
        // start_timestamps.test: rate(counter_total[3m]) at 4m is 1 for all; only "overlap" warns.
        let cases: [([Option<i64>; 3], bool); 4] = [
            ([Some(-MIN), Some(-MIN), Some(-MIN)], false),
            ([Some(-30 * SEC), Some(-90 * SEC), Some(-150 * SEC)], false),
            ([None, None, None], false),
            ([Some(-2 * MIN), Some(-2 * MIN), Some(-2 * MIN)], true),
        ];
        for (offs, overlap) in cases {
            let delta = offs[0] == Some(-MIN);
            let values = if delta {
                [60.0, 60.0, 60.0]
            } else {
                [60.0, 120.0, 180.0]
            };
            let series = st_load(MIN, &st_points(&values, &offs));
            let (w, sts) = st_window(&series, 4 * MIN, 3 * MIN);
            assert_eq!(has_start_time_overlap(&w, &sts), overlap, "{offs:?}");
            assert_some_close(
                extrapolated_rate_with_start_timestamps(&w, &sts, MIN, 4 * MIN, RateKind::Rate),
                1.0,
            );
        }
        assert!(check_start_time_overlap(0, 120, 60));
        assert!(!check_start_time_overlap(60, 120, 60));
        assert!(!check_start_time_overlap(0, 120, 0));
    }

    #[test]
    fn more_over_time_cases_from_functions_test() {
        let m = load(10 * SEC, &[0.0, 8.0, 8.0, 2.0, 3.0]);
        let w = window(&m, MIN, 2 * MIN);
        assert_some_close(stdvar_over_time(&w), 10.56);
        assert_some_close(stddev_over_time(&w), 3.249615);
        let c = load(10 * SEC, &[1.5990505637277868; 3]);
        assert_exact(stdvar_over_time(&window(&c, 55 * SEC, MIN)).unwrap(), 0.0);
        assert_exact(stddev_over_time(&window(&c, 55 * SEC, MIN)).unwrap(), 0.0);

        // load 10s53ms: odd intervals must not introduce rounding errors in the timestamps.
        let step = 10 * SEC + 53;
        let m = load(step, &[1.0, 2.0, 3.0, 0.0, 5.0, 6.0, 2.0, 1.0, 4.0]);
        let w = window(&m, 90 * SEC, 90 * SEC);
        assert_eq!(ts_of_min_over_time(&w), Some(30.159));
        assert_eq!(ts_of_max_over_time(&w), Some(50.265));
        let m = load(step, &[1.0, 2.0, 3.0]);
        assert_eq!(
            ts_of_last_over_time(&window(&m, 90 * SEC, 90 * SEC)),
            Some(20.106)
        );
        assert_eq!(
            ts_of_last_over_time(&window(&m, 95 * SEC, 90 * SEC)),
            Some(20.106)
        );
        let m: Vec<Sample> = [2, 3, 4]
            .iter()
            .map(|i| Sample {
                t: i * step,
                v: (*i - 1) as f64,
            })
            .collect();
        assert_eq!(
            ts_of_first_over_time(&window(&m, 90 * SEC, 90 * SEC)),
            Some(20.106)
        );
        assert_eq!(ts_of_first_over_time(&window(&m, 15 * SEC, 90 * SEC)), None);

        // mad_over_time.
        let m = load(10 * SEC, &[4.0, 6.0, 2.0, 1.0, 999.0, 1.0, 2.0]);
        assert_eq!(mad_over_time(&window(&m, 70 * SEC, 70 * SEC)), Some(1.0));
        let m = load(10 * SEC, &[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(mad_over_time(&window(&m, 40 * SEC, 50 * SEC)), Some(1.0));
        let m = load(10 * SEC, &[7.0; 5]);
        assert_eq!(mad_over_time(&window(&m, 40 * SEC, 50 * SEC)), Some(0.0));
        assert_eq!(mad_over_time(&load(10 * SEC, &[5.0])), Some(0.0));
        let m = load(10 * SEC, &[1.0, 2.0, f64::NAN, 4.0]);
        assert!(
            mad_over_time(&window(&m, 30 * SEC, 40 * SEC))
                .unwrap()
                .is_nan()
        );

        // quantile_over_time(q, data[2m]) at 1m.
        let two = load(10 * SEC, &[0.0, 1.0]);
        let three = load(10 * SEC, &[0.0, 1.0, 2.0]);
        let uneven = load(10 * SEC, &[0.0, 1.0, 4.0]);
        for (q, a, b, c) in [
            (0.0, 0.0, 0.0, 0.0),
            (0.5, 0.5, 1.0, 1.0),
            (0.75, 0.75, 1.5, 2.5),
            (0.8, 0.8, 1.6, 2.8),
            (1.0, 1.0, 2.0, 4.0),
            (
                -1.0,
                f64::NEG_INFINITY,
                f64::NEG_INFINITY,
                f64::NEG_INFINITY,
            ),
            (2.0, f64::INFINITY, f64::INFINITY, f64::INFINITY),
        ] {
            assert_some_close(quantile_over_time(q, &window(&two, MIN, 2 * MIN)), a);
            assert_some_close(quantile_over_time(q, &window(&three, MIN, 2 * MIN)), b);
            assert_some_close(quantile_over_time(q, &window(&uneven, MIN, 2 * MIN)), c);
        }
    }

    /// What an extended selector hands to the kernel: the samples within five minutes (the lookback
    /// delta) before the range and, if smoothed, after it.
    fn extended(samples: &[Sample], eval_ms: i64, range_ms: i64, smoothed: bool) -> Vec<Sample> {
        let lookback = 5 * MIN;
        let hi = if smoothed {
            eval_ms + lookback
        } else {
            eval_ms
        };
        samples
            .iter()
            .copied()
            .filter(|s| s.t > eval_ms - range_ms - lookback && s.t <= hi)
            .collect()
    }

    fn ext(
        samples: &[Sample],
        eval_ms: i64,
        range_ms: i64,
        kind: RateKind,
        smoothed: bool,
    ) -> Option<f64> {
        let w = extended(samples, eval_ms, range_ms, smoothed);
        extended_rate(&w, eval_ms - range_ms, eval_ms, kind, smoothed)
    }

    #[test]
    fn anchored_and_smoothed_increase() {
        // extended_vectors.test "Reference from PROM-52: Complete dataset".
        let mut v = seq(1.0, 1.0, 4);
        v.extend(seq(9.0, 1.0, 4));
        let complete = load(15 * SEC, &v);
        let anchored = [0.0, 1.0, 2.0, 3.0, 4.0, 7.0, 7.0, 7.0, 7.0];
        let smoothed = [
            0.333333333,
            1.333333333,
            2.333333333,
            3.333333333,
            5.0,
            7.0,
            7.0,
            7.0,
            6.0,
        ];
        for (i, eval) in (0..9).map(|i| (5 + 15 * i) * SEC).enumerate() {
            assert_some_close(
                ext(&complete, eval, MIN, RateKind::Increase, false),
                anchored[i],
            );
            assert_some_close(
                ext(&complete, eval, MIN, RateKind::Increase, true),
                smoothed[i],
            );
        }
        // "Partial dataset": 1 2 3 _ _ 9 10 11 12 13.
        let partial: Vec<Sample> = [
            (0, 1.0),
            (1, 2.0),
            (2, 3.0),
            (5, 9.0),
            (6, 10.0),
            (7, 11.0),
            (8, 12.0),
            (9, 13.0),
        ]
        .iter()
        .map(|&(i, v)| Sample { t: i * 15 * SEC, v })
        .collect();
        let anchored = [0.0, 1.0, 2.0, 2.0, 2.0, 7.0, 7.0, 8.0, 9.0];
        let smoothed = [
            0.333333333,
            1.333333333,
            2.666666666,
            4.666666666,
            6.333333333,
            7.0,
            6.666666666,
            5.666666666,
            4.666666666,
        ];
        for (i, eval) in (0..9).map(|i| (5 + 15 * i) * SEC).enumerate() {
            assert_some_close(
                ext(&partial, eval, MIN, RateKind::Increase, false),
                anchored[i],
            );
            assert_some_close(
                ext(&partial, eval, MIN, RateKind::Increase, true),
                smoothed[i],
            );
        }
        // The interval is left-open: 1 2 _ 4 5 at 1m steps, [1m] at 2m.
        let gap: Vec<Sample> = [(0, 1.0), (1, 2.0), (3, 4.0), (4, 5.0)]
            .iter()
            .map(|&(i, v)| Sample { t: i * MIN, v })
            .collect();
        assert_some_close(ext(&gap, 2 * MIN, MIN, RateKind::Increase, true), 1.0);
        assert_eq!(ext(&gap, 2 * MIN, MIN, RateKind::Increase, false), None);
        assert_eq!(extended_rate(&[], 0, 1, RateKind::Rate, true), None);
    }

    #[test]
    fn extended_rate_with_counter_resets() {
        // extended_vectors.test "Basic test with counter resets".
        let mut v1 = seq(1.0, 1.0, 4);
        v1.extend(seq(1.0, 1.0, 4));
        let mut v2 = vec![3.0];
        v2.extend(seq(2.0, 2.0, 9));
        let mut v3 = seq(5.0, 3.0, 2);
        v3.extend(seq(3.0, 3.0, 6));
        let series = [load(MIN, &v1), load(MIN, &v2), load(MIN, &v3)];
        let at =
            |i: usize, eval, range, kind, smoothed| ext(&series[i], eval, range, kind, smoothed);
        for (i, expected) in [1.0, 2.0, 3.0].into_iter().enumerate() {
            assert_some_close(at(i, 90 * SEC, MIN, RateKind::Increase, true), expected);
            assert_some_close(at(i, 90 * SEC, MIN, RateKind::Increase, false), expected);
        }
        for (i, expected) in [1.0, -1.0, 3.0].into_iter().enumerate() {
            assert_some_close(at(i, 90 * SEC, MIN, RateKind::Delta, false), expected);
        }
        for eval in [3 * MIN, 3 * MIN + 30 * SEC] {
            for (i, expected) in [1.0, 2.0, -8.0].into_iter().enumerate() {
                assert_some_close(at(i, eval, MIN, RateKind::Delta, false), expected);
            }
        }
        for (i, expected) in [5.0, 10.0, 15.0].into_iter().enumerate() {
            assert_some_close(
                at(i, 6 * MIN + 15 * SEC, 5 * MIN, RateKind::Increase, true),
                expected,
            );
            assert_some_close(at(i, 6 * MIN, 5 * MIN, RateKind::Increase, true), expected);
            assert_some_close(at(i, 5 * MIN, 5 * MIN, RateKind::Increase, false), expected);
            assert_some_close(
                at(i, 5 * MIN, 5 * MIN, RateKind::Rate, false),
                expected / 300.0,
            );
        }
        // Nothing left in the lookback window at 15m.
        assert_eq!(at(0, 15 * MIN, 5 * MIN, RateKind::Increase, false), None);

        // Smoothed delta of gauges: 11 -1 100 0 and 0 0 100 0 0 11 -1.
        let g1 = load(MIN, &[11.0, -1.0, 100.0, 0.0]);
        let g2 = load(MIN, &[0.0, 0.0, 100.0, 0.0, 0.0, 11.0, -1.0]);
        assert_some_close(
            ext(&g1, 5 * MIN + 30 * SEC, 5 * MIN, RateKind::Delta, true),
            -5.0,
        );
        assert_some_close(
            ext(&g2, 5 * MIN + 30 * SEC, 5 * MIN, RateKind::Delta, true),
            5.0,
        );
        assert_some_close(
            ext(&g1, 5 * MIN + 45 * SEC, 5 * MIN, RateKind::Delta, true),
            -2.0,
        );
        assert_some_close(
            ext(&g2, 5 * MIN + 45 * SEC, 5 * MIN, RateKind::Delta, true),
            2.0,
        );

        // 9 8 5 4: every step a reset; smoothed increase over [2m] at 2m15s is 12.
        let r = load(MIN, &[9.0, 8.0, 5.0, 4.0]);
        assert_some_close(
            ext(&r, 2 * MIN + 15 * SEC, 2 * MIN, RateKind::Increase, true),
            12.0,
        );
    }

    #[test]
    fn extended_selectors_as_range_vectors() {
        let mut v = seq(1.0, 1.0, 4);
        v.extend(seq(9.0, 1.0, 4));
        let complete = load(15 * SEC, &v);
        let w = extended(&complete, 65 * SEC, MIN, true);
        let out = extend_floats(&w, 5 * SEC, 65 * SEC, true);
        let ts: Vec<i64> = out.iter().map(|s| s.t).collect();
        assert_eq!(ts, vec![5_000, 15_000, 30_000, 45_000, 60_000, 65_000]);
        assert_close(out[0].v, 1.0 + 1.0 / 3.0);
        assert_eq!(
            &out[1..5].iter().map(|s| s.v).collect::<Vec<_>>(),
            &[2.0, 3.0, 4.0, 5.0]
        );
        assert_close(out[5].v, 5.0 + 4.0 / 3.0);
        // Anchored: the edges take the sample at or before them.
        let w = extended(&complete, 65 * SEC, MIN, false);
        let out = extend_floats(&w, 5 * SEC, 65 * SEC, false);
        assert_eq!(out.first(), Some(&Sample { t: 5_000, v: 1.0 }));
        assert_eq!(out.last(), Some(&Sample { t: 65_000, v: 5.0 }));
        assert_eq!(out.len(), 6);
        // A sample exactly on an edge is replaced by the synthetic one, not duplicated.
        let out = extend_floats(&w, 15 * SEC, 60 * SEC, false);
        let ts: Vec<i64> = out.iter().map(|s| s.t).collect();
        assert_eq!(ts, vec![15_000, 30_000, 45_000, 60_000]);
        // Nothing after mint.
        assert!(extend_floats(&w, 200 * SEC, 260 * SEC, true).is_empty());
        assert!(extend_floats(&[], 0, 1, false).is_empty());
    }

    #[test]
    fn anchored_changes_and_resets() {
        // extended_vectors.test: changes/resets with `anchored`.
        let s1 = load(MIN, &seq(1.0, 1.0, 10));
        let mut v = vec![1.0];
        v.extend(seq(1.0, 1.0, 10));
        let s2 = load(MIN, &v);
        let s3 = load(MIN, &seq(99.0, -1.0, 10));
        let mut v = vec![99.0];
        v.extend(seq(99.0, -1.0, 10));
        let s4 = load(MIN, &v);
        let anchored = |s: &[Sample], eval, range, f: fn(&[Sample]) -> Option<f64>| {
            let w = extended(s, eval, range, false);
            anchored_first_index(&w, eval - range).and_then(|i| f(&w[i..]))
        };
        let all = [&s1, &s2, &s3, &s4];
        for (i, s) in all.iter().enumerate() {
            assert_eq!(changes(&window(s, 5 * MIN, 5 * MIN)), Some(4.0));
            assert_eq!(changes(&window(s, 5 * MIN + 30 * SEC, 5 * MIN)), Some(4.0));
            let expected = [5.0, 4.0, 5.0, 4.0][i];
            assert_eq!(anchored(s, 5 * MIN, 5 * MIN, changes), Some(expected));
            assert_eq!(anchored(s, 6 * MIN, 5 * MIN, changes), Some(5.0));
            assert_eq!(
                anchored(s, 5 * MIN + 30 * SEC, 5 * MIN, changes),
                Some(expected)
            );
            assert_eq!(
                resets(&window(s, 5 * MIN + 30 * SEC, 5 * MIN)),
                Some([0.0, 0.0, 4.0, 4.0][i])
            );
            assert_eq!(
                anchored(s, 5 * MIN + 30 * SEC, 5 * MIN, resets),
                Some([0.0, 0.0, 5.0, 4.0][i])
            );
        }
        // 2 _ 1 _ _ _ _ _ 0: the anchor must lie within the lookback delta.
        let sparse = vec![
            Sample { t: 0, v: 2.0 },
            Sample { t: 2 * MIN, v: 1.0 },
            Sample { t: 8 * MIN, v: 0.0 },
        ];
        assert_eq!(anchored(&sparse, 2 * MIN, MIN, changes), Some(1.0));
        // (extended_vectors.test at one commit also expects 1 at 3m, where no sample lies inside
        // (2m, 3m]; the `pickFirstSampleIndices` we follow gives no result there.)
        assert_eq!(anchored(&sparse, 3 * MIN, MIN, changes), None);
        assert_eq!(anchored(&sparse, 8 * MIN, MIN, changes), Some(0.0));
        assert_eq!(anchored(&sparse, 8 * MIN, MIN + 1, changes), Some(1.0));
        assert_eq!(anchored(&sparse, 2 * MIN, MIN, resets), Some(1.0));
        assert_eq!(anchored(&sparse, 8 * MIN, MIN + 1, resets), Some(1.0));
        assert_eq!(anchored_first_index(&sparse, 8 * MIN), None);
        assert_eq!(anchored_first_index(&[], 0), None);
    }

    type WindowFn = fn(&[Sample]) -> Option<f64>;

    fn arb_samples() -> impl Strategy<Value = Vec<Sample>> {
        proptest::collection::vec(
            (
                -1_000_000i64..1_000_000,
                prop_oneof![
                    any::<f64>(),
                    Just(f64::NAN),
                    Just(f64::INFINITY),
                    Just(f64::NEG_INFINITY),
                    -1e6..1e6f64
                ],
            ),
            0..30,
        )
        .prop_map(|mut v| {
            v.sort_by_key(|(t, _)| *t);
            v.into_iter().map(|(t, v)| Sample { t, v }).collect()
        })
    }

    proptest! {
        #[test]
        fn range_functions_never_panic(samples in arb_samples(), start in -2_000_000i64..0, end in 0i64..2_000_000, q in any::<f64>(), sf in 0.0..1.0f64, tf in 0.0..1.0f64) {
            for kind in [RateKind::Rate, RateKind::Increase, RateKind::Delta] {
                let _ = extrapolated_rate(&samples, start, end, kind);
                let sts: Vec<i64> = samples.iter().map(|s| s.t - (s.v.abs() as i64 % 100_000)).collect();
                let _ = extrapolated_rate_with_start_timestamps(&samples, &sts, start, end, kind);
                let _ = extrapolated_rate_with_start_timestamps(&samples, &sts[..sts.len() / 2], start, end, kind);
                for smoothed in [false, true] {
                    let _ = extended_rate(&samples, start, end, kind, smoothed);
                    let _ = extend_floats(&samples, start, end, smoothed);
                }
            }
            if let Some(i) = anchored_first_index(&samples, start) {
                prop_assert!(changes(&samples[i..]).is_some());
            }
            let fs: [WindowFn; 21] = [
                irate, idelta, sum_over_time, avg_over_time, min_over_time, max_over_time,
                count_over_time, last_over_time, first_over_time, present_over_time,
                stddev_over_time, stdvar_over_time, mad_over_time, ts_of_min_over_time,
                ts_of_max_over_time, ts_of_last_over_time, ts_of_first_over_time, changes,
                resets, deriv, |s| quantile_over_time(0.3, s),
            ];
            for f in fs {
                let r = f(&samples);
                if samples.is_empty() {
                    prop_assert_eq!(r, None);
                }
            }
            let _ = quantile_over_time(q, &samples);
            let _ = predict_linear(&samples, end, q);
            let _ = double_exponential_smoothing(&samples, sf, tf);
        }

        #[test]
        fn counters_without_resets_increase_by_at_least_their_delta(
            start in 0.0..1e6f64, incs in proptest::collection::vec(0.0..1e3f64, 2..20), step in 1i64..100_000) {
            let mut v = start;
            let samples: Vec<Sample> = incs.iter().enumerate().map(|(i, inc)| { v += inc; Sample { t: (i as i64 + 1) * step, v } }).collect();
            let end = (incs.len() as i64 + 1) * step;
            let inc = extrapolated_rate(&samples, 0, end, RateKind::Increase).unwrap();
            let raw = samples[samples.len() - 1].v - samples[0].v;
            prop_assert!(inc >= raw - raw.abs() * 1e-9);
        }
    }
}
