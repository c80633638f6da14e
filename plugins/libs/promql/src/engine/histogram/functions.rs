//! PromQL functions over one native histogram: `histogram_quantile` and `histogram_fraction`
//! (Prometheus' `HistogramQuantile`, `HistogramFraction` in `promql/quantile.go`) and
//! `histogram_count`, `histogram_sum`, `histogram_avg`, `histogram_stddev`, `histogram_stdvar`
//! (`promql/functions.go`).
//!
//! Interpolation inside a bucket is exponential for exponential buckets (the quantile is placed as if the
//! bucket's observations filled the buckets of a finer schema evenly, i.e. linearly on a log2 scale),
//! and linear in the zero bucket and in custom buckets. A histogram with only positive buckets has its
//! zero bucket start at 0 (with only negative buckets, end at 0). For custom buckets the first bucket
//! starts at 0 if its upper bound is positive (a quantile in it is its upper bound otherwise), a quantile
//! in the +Inf bucket is that bucket's lower bound, and `histogram_fraction` counts the whole first bucket
//! (−Inf, x] as lying below any value inside it.

use super::{Bucket, FloatHistogram};
use crate::engine::kernels::kahan_sum_inc;

/// Go's `math.Log2`: exact for powers of two.
fn log2(x: f64) -> f64 {
    if x > 0.0 && x.is_finite() {
        let bits = x.to_bits();
        let exponent = ((bits >> 52) & 0x7ff) as i64;
        let mantissa = bits & ((1u64 << 52) - 1);
        if exponent != 0 && mantissa == 0 {
            return (exponent - 1023) as f64;
        }
    }
    x.log2()
}

/// `histogram_quantile(q, h)` for a native histogram (Prometheus' `HistogramQuantile`).
///
/// `q < 0` → -Inf, `q > 1` → +Inf, no observations or `q` NaN → NaN. Buckets are walked forward for
/// `q < 0.5` and backward otherwise (forward whenever the sum is NaN, i.e. there are NaN observations,
/// which count but sit in no bucket). If the walk runs out of buckets before reaching the rank, the
/// result is NaN when the sum is NaN and otherwise the upper bound of the last bucket visited. Callers
/// emit Prometheus' info annotation about NaN observations when `h.sum` is NaN.
pub fn histogram_quantile(q: f64, h: &FloatHistogram) -> f64 {
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    if h.count == 0.0 || q.is_nan() {
        return f64::NAN;
    }
    let forward = h.sum.is_nan() || q < 0.5;
    let buckets = if forward {
        h.all_buckets()
    } else {
        h.all_buckets_reverse()
    };
    let mut rank = if forward {
        q * h.count
    } else {
        (1.0 - q) * h.count
    };
    let mut count = 0.0;
    // The last bucket visited, empty ones included (a zero-width bucket at 0 if there is none).
    let mut bucket = Bucket {
        lower: 0.0,
        upper: 0.0,
        lower_inclusive: false,
        upper_inclusive: false,
        count: 0.0,
        index: 0,
    };
    for b in buckets {
        bucket = b;
        if b.count == 0.0 {
            continue;
        }
        count += b.count;
        if count >= rank {
            break;
        }
    }
    let custom = h.uses_custom_buckets();
    if !custom && bucket.lower < 0.0 && bucket.upper > 0.0 {
        if h.negative_buckets.is_empty() && !h.positive_buckets.is_empty() {
            // In the zero bucket with only positive buckets: 0 is the lower bound.
            bucket.lower = 0.0;
        } else if h.positive_buckets.is_empty() && !h.negative_buckets.is_empty() {
            // In the zero bucket with only negative buckets: 0 is the upper bound.
            bucket.upper = 0.0;
        }
    } else if custom {
        if bucket.lower == f64::NEG_INFINITY {
            // The first bucket, from -Inf.
            if bucket.upper <= 0.0 {
                return bucket.upper;
            }
            bucket.lower = 0.0;
        } else if bucket.upper == f64::INFINITY {
            // The last bucket, up to +Inf.
            return bucket.lower;
        }
    }
    // Rounding can make the running count exceed the total.
    if count > h.count {
        count = h.count;
    }
    if count < rank {
        // The buckets hold fewer observations than the rank: NaN observations (sum NaN) or
        // inconsistent counts.
        if h.sum.is_nan() {
            return f64::NAN;
        }
        return bucket.upper;
    }
    if forward {
        rank -= count - bucket.count;
    } else {
        rank = count - rank;
    }
    let fraction = rank / bucket.count;
    if custom || (bucket.lower <= 0.0 && bucket.upper >= 0.0) {
        return bucket.lower + (bucket.upper - bucket.lower) * fraction;
    }
    // Exponential buckets: interpolate on a log2 scale.
    let log_lower = log2(bucket.lower.abs());
    let log_upper = log2(bucket.upper.abs());
    if bucket.lower > 0.0 {
        return (log_lower + (log_upper - log_lower) * fraction).exp2();
    }
    -(log_upper + (log_lower - log_upper) * (1.0 - fraction)).exp2()
}

/// `histogram_fraction(lower, upper, h)` for a native histogram (Prometheus' `HistogramFraction`): the
/// estimated fraction of observations between `lower` and `upper`.
///
/// NaN if there are no observations or a bound is NaN; 0 if `lower >= upper`. NaN observations count in
/// the total but in no bucket, so `histogram_fraction(-Inf, +Inf, h)` is below 1 then.
pub fn histogram_fraction(lower: f64, upper: f64, h: &FloatHistogram) -> f64 {
    if h.count == 0.0 || lower.is_nan() || upper.is_nan() {
        return f64::NAN;
    }
    if lower >= upper {
        return 0.0;
    }
    let custom = h.uses_custom_buckets();
    let mut rank = 0.0;
    let (mut lower_rank, mut upper_rank) = (0.0, 0.0);
    let (mut lower_set, mut upper_set) = (false, false);
    for mut b in h.all_buckets() {
        let mut zero_bucket = false;
        if b.lower <= 0.0 && b.upper >= 0.0 {
            zero_bucket = true;
            if h.negative_buckets.is_empty() && !h.positive_buckets.is_empty() {
                b.lower = 0.0;
            } else if h.positive_buckets.is_empty() && !h.negative_buckets.is_empty() {
                b.upper = 0.0;
            }
        }
        let linear = |v: f64| {
            if b.lower == f64::NEG_INFINITY {
                // No interpolation in a bucket of infinite width: all of it lies below `v`.
                return rank + b.count;
            }
            rank + b.count * (v - b.lower) / (b.upper - b.lower)
        };
        let exponential = |v: f64| {
            let log_lower = log2(b.lower.abs());
            let log_upper = log2(b.upper.abs());
            let log_v = log2(v.abs());
            let fraction = if v > 0.0 {
                (log_v - log_lower) / (log_upper - log_lower)
            } else {
                1.0 - ((log_v - log_upper) / (log_lower - log_upper))
            };
            rank + b.count * fraction
        };
        let interpolate = |v: f64| {
            if custom || zero_bucket {
                linear(v)
            } else {
                exponential(v)
            }
        };
        if !lower_set && b.lower >= lower {
            lower_rank = rank;
            lower_set = true;
        }
        if !upper_set && b.lower >= upper {
            upper_rank = rank;
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        if !lower_set && b.lower < lower && b.upper > lower {
            lower_rank = interpolate(lower);
            lower_set = true;
        }
        if !upper_set && b.lower < upper && b.upper > upper {
            upper_rank = interpolate(upper);
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        rank += b.count;
    }
    // A bound above every bucket ranks after all bucket counts; NaN observations count in the total
    // but in no bucket, so they lie outside any range.
    if !lower_set {
        lower_rank = rank;
    }
    if !upper_set {
        upper_rank = rank;
    }
    (upper_rank.min(h.count) - lower_rank.min(h.count)) / h.count
}

/// `histogram_count(h)`: the count of observations.
pub fn histogram_count(h: &FloatHistogram) -> f64 {
    h.count
}

/// `histogram_sum(h)`: the sum of observations.
pub fn histogram_sum(h: &FloatHistogram) -> f64 {
    h.sum
}

/// `histogram_avg(h)`: `sum / count`.
pub fn histogram_avg(h: &FloatHistogram) -> f64 {
    h.sum / h.count
}

/// `histogram_stdvar(h)`: the estimated variance of the observations (Prometheus' `histogramVariance`).
/// Each bucket's observations are taken to sit at one point: the arithmetic mean of the bounds for
/// custom buckets, 0 in the zero bucket, the geometric mean of the bounds for exponential buckets
/// (negated on the negative side). The squared deviations from `sum / count` are Kahan-summed and divided
/// by `count`.
pub fn histogram_stdvar(h: &FloatHistogram) -> f64 {
    let mean = h.sum / h.count;
    let (mut variance, mut c) = (0.0, 0.0);
    for b in h.all_buckets() {
        if b.count == 0.0 {
            continue;
        }
        let value = if h.uses_custom_buckets() {
            (b.upper + b.lower) / 2.0
        } else if b.lower <= 0.0 && b.upper >= 0.0 {
            0.0
        } else {
            let v = (b.upper * b.lower).sqrt();
            if b.upper < 0.0 { -v } else { v }
        };
        let delta = value - mean;
        (variance, c) = kahan_sum_inc(b.count * delta * delta, variance, c);
    }
    variance += c;
    variance / h.count
}

/// `histogram_stddev(h)`: the square root of [`histogram_stdvar`].
pub fn histogram_stddev(h: &FloatHistogram) -> f64 {
    histogram_stdvar(h).sqrt()
}
