//! Numeric kernels of PromQL functions and aggregations, free of the operator plumbing.
//!
//! Every function here is a pure function over already-selected values: the samples of one range window,
//! the values of one aggregation group at one step, the buckets of one classic histogram. The operator
//! tree (`engine::eval`) does the selecting, slicing and labelling and calls these for the numbers.
//!
//! They are written by hand because PromQL's results are defined by Prometheus' Go implementation down to
//! the order of floating-point operations: rate extrapolation with its 1.1× threshold and zero-point cut,
//! Kahan–Neumaier summation with the switch to an incremental mean when a sum overflows, the Welford
//! variance of `stddev`, `histogram_quantile`'s monotonicity repair with its 1e-12 tolerance, the NaN rules
//! of `min`/`max`/`quantile`. Prometheus' conformance scripts compare results to within a relative 1e-6 and
//! several compare exactly, so a general-purpose statistics crate (which sums naively, sorts NaN
//! differently, or interpolates quantiles another way) would be wrong in the cases that matter; no crate
//! offers Prometheus' semantics. Each kernel names the Prometheus function it follows and keeps its
//! operation order, so the two can be read side by side.
//!
//! Where each PromQL function's numbers come from:
//!
//! | PromQL | kernel |
//! |---|---|
//! | `rate`, `increase`, `delta` | [`extrapolated_rate`] (with start timestamps: [`extrapolated_rate_with_start_timestamps`], warning: [`has_start_time_overlap`]); `anchored`/`smoothed` selectors: [`extended_rate`] |
//! | `irate`, `idelta` | [`irate`] / [`irate_with_start_timestamps`], [`idelta`] |
//! | `changes`, `resets` | [`changes`], [`resets`] / [`resets_with_start_timestamps`]; `anchored`: start at [`anchored_first_index`] |
//! | `*_over_time`, `ts_of_*_over_time` | the function of the same name in [`range`] |
//! | `deriv`, `predict_linear` | [`deriv`], [`predict_linear`] (both on [`linear_regression`]) |
//! | `double_exponential_smoothing` | [`double_exponential_smoothing`] |
//! | `sum`, `avg`, `stddev`, `stdvar`, `quantile` (aggregations) | [`KahanSum::starting_with`], [`MeanAcc`], [`VarianceAcc`], [`quantile`] |
//! | `min`/`max` aggregations, `max_of`/`min_of` | [`min_step`]/[`max_step`]; [`go_min`]/[`go_max`] |
//! | `sort`, `sort_desc` | [`sort_asc_cmp`], [`sort_desc_cmp`] |
//! | `histogram_quantile`, `histogram_fraction` (classic buckets) | [`bucket_quantile`] / [`bucket_quantile_detailed`], [`bucket_fraction`] |
//! | `abs` … `rad`, `sgn` | [`simple_math`] |
//! | `round`, `clamp`, `clamp_min`, `clamp_max` | [`round`], [`clamp`], [`clamp_min`], [`clamp_max`] |
//! | `year()` … `days_in_month()` | [`date_part`] (argument) / [`date_part_at_ms`] (no argument: the step's time) |
//! | range-vector output of `x[r] anchored/smoothed` | [`extend_floats`] |
//!
//! Conventions:
//! * Range functions take the samples of one window (`range_start_ms < t <= range_end_ms`, sorted by
//!   time, staleness markers removed) and return `None` where Prometheus emits no sample.
//! * Start timestamps (Prometheus' `use-start-timestamps`, which the conformance scripts enable) are
//!   passed as a slice parallel to the window's samples, 0 meaning unknown; the `*_with_start_timestamps`
//!   variants of `rate`/`increase`, `irate` and `resets` use them, the plain ones behave as without.
//! * Float samples only; native histograms are handled elsewhere.

pub mod aggregate;
pub mod histogram;
pub mod instant;
pub mod range;

pub use aggregate::{
    KahanSum, MeanAcc, VarianceAcc, kahan_sum_dec, kahan_sum_inc, max_step, min_step, quantile,
    sort_asc_cmp, sort_desc_cmp,
};
pub use histogram::{
    Bucket, BucketQuantileResult, SMALL_DELTA_TOLERANCE, bucket_fraction, bucket_quantile,
    bucket_quantile_detailed,
};
pub use instant::{
    clamp, clamp_max, clamp_min, date_part, date_part_at_ms, go_max, go_min, round, simple_math,
};
pub use range::{
    RateKind, anchored_first_index, avg_over_time, changes, check_start_time_overlap,
    count_over_time, deriv, double_exponential_smoothing, extend_floats, extended_rate,
    extrapolated_rate, extrapolated_rate_with_start_timestamps, first_over_time,
    has_start_time_overlap, idelta, irate, irate_with_start_timestamps, is_start_timestamp_reset,
    last_over_time, linear_regression, mad_over_time, max_over_time, min_over_time, predict_linear,
    present_over_time, quantile_over_time, resets, resets_with_start_timestamps, stddev_over_time,
    stdvar_over_time, sum_over_time, ts_of_first_over_time, ts_of_last_over_time,
    ts_of_max_over_time, ts_of_min_over_time,
};

/// Prometheus' `almost.Equal`: whether `a` and `b` differ by less than `epsilon` relative to the sum of
/// their magnitudes. Both NaN counts as equal; a staleness marker only equals another one. Used by
/// `histogram_quantile`'s small-delta repair and by the test harness' value comparison.
pub fn almost_equal(a: f64, b: f64, epsilon: f64) -> bool {
    let (a_stale, b_stale) = (
        crate::engine::is_stale_nan(a),
        crate::engine::is_stale_nan(b),
    );
    if a_stale || b_stale {
        return a_stale && b_stale;
    }
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    // The smallest positive normal f64.
    let min_normal = f64::MIN_POSITIVE;
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || abs_sum < min_normal {
        return diff < epsilon * min_normal;
    }
    diff / abs_sum.min(f64::MAX) < epsilon
}

#[cfg(test)]
pub(crate) mod testutil {
    /// Asserts `almost_equal(actual, expected, 1e-6)`, the conformance harness' comparison.
    #[track_caller]
    pub(crate) fn assert_close(actual: f64, expected: f64) {
        assert!(
            super::almost_equal(actual, expected, 1e-6),
            "expected {expected:?}, got {actual:?}"
        );
    }

    /// Asserts bit-for-bit equality, with any NaN equal to any NaN.
    #[track_caller]
    pub(crate) fn assert_exact(actual: f64, expected: f64) {
        assert!(
            (actual.is_nan() && expected.is_nan()) || actual.to_bits() == expected.to_bits(),
            "expected exactly {expected:?}, got {actual:?}"
        );
    }

    #[track_caller]
    pub(crate) fn assert_some_close(actual: Option<f64>, expected: f64) {
        match actual {
            Some(v) => assert_close(v, expected),
            None => panic!("expected {expected:?}, got no value"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::almost_equal;

    #[test]
    fn almost_equal_follows_prometheus() {
        assert!(almost_equal(f64::NAN, f64::NAN, 1e-6));
        assert!(almost_equal(f64::INFINITY, f64::INFINITY, 1e-6));
        assert!(!almost_equal(f64::INFINITY, f64::NEG_INFINITY, 1e-6));
        // Near zero the comparison is effectively exact.
        assert!(!almost_equal(0.0, 1e-17, 1e-6));
        assert!(almost_equal(1.0, 1.0 + 1e-7, 1e-6));
        assert!(!almost_equal(1.0, 1.00001, 1e-6));
        let stale = f64::from_bits(crate::engine::STALE_NAN_BITS);
        assert!(almost_equal(stale, stale, 1e-6));
        assert!(!almost_equal(stale, f64::NAN, 1e-6));
    }
}

/// Go's `sort.Search`: the smallest `i` in `0..n` with `pred(i)`, assuming `pred` is monotonic; `n` if
/// none.
pub(crate) fn search(n: usize, pred: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}
