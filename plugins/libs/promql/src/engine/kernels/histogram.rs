//! Classic-histogram kernels: `histogram_quantile` and `histogram_fraction` over `le` buckets (Prometheus'
//! `promql/quantile.go: BucketQuantile, BucketFraction`).

use super::search;
use std::cmp::Ordering;

use super::almost_equal;

/// Relative difference between neighbouring cumulative counts below which it is taken as floating-point
/// noise and silently evened out (Prometheus' `smallDeltaTolerance`).
pub const SMALL_DELTA_TOLERANCE: f64 = 1e-12;

/// One bucket of a classic histogram: the cumulative count of observations `<= upper_bound`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    pub upper_bound: f64,
    pub count: f64,
}

/// Everything [`bucket_quantile_detailed`] reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BucketQuantileResult {
    /// The quantile.
    pub value: f64,
    /// A bucket count lower than a previous one had to be raised (the "needed to be fixed for
    /// monotonicity" info annotation).
    pub forced_monotonic: bool,
    /// A numerically insignificant difference between neighbouring counts was evened out (silent).
    pub fixed_precision: bool,
    /// The lowest upper bound whose count was raised (+Inf if none; 0 if the repair never ran).
    pub min_bucket: f64,
    /// The highest upper bound whose count was raised (-Inf if none; 0 if the repair never ran).
    pub max_bucket: f64,
    /// The largest amount by which a count was raised.
    pub max_diff: f64,
}

impl BucketQuantileResult {
    fn early(value: f64) -> BucketQuantileResult {
        BucketQuantileResult {
            value,
            forced_monotonic: false,
            fixed_precision: false,
            min_bucket: 0.0,
            max_bucket: 0.0,
            max_diff: 0.0,
        }
    }
}

/// Orders buckets by upper bound; a NaN bound (which Prometheus does not expect) sorts first, so it can
/// neither stand in for the +Inf bucket nor break the order of the others.
fn by_upper_bound(a: &Bucket, b: &Bucket) -> Ordering {
    match (a.upper_bound.is_nan(), b.upper_bound.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => a
            .upper_bound
            .partial_cmp(&b.upper_bound)
            .unwrap_or(Ordering::Equal),
    }
}

/// Sorts by upper bound and merges buckets with equal bounds (`le="0.2"` and `le="2e-1"`) by adding their
/// counts. Returns `false` (leaving the buckets sorted) if the highest bound is not +Inf.
fn sort_and_coalesce(buckets: &mut Vec<Bucket>) -> bool {
    buckets.sort_by(by_upper_bound);
    match buckets.last() {
        Some(last) if last.upper_bound == f64::INFINITY => {}
        _ => return false,
    }
    let mut out = 0;
    for i in 1..buckets.len() {
        if buckets[i].upper_bound == buckets[out].upper_bound {
            buckets[out].count += buckets[i].count;
        } else {
            out += 1;
            buckets[out] = buckets[i];
        }
    }
    buckets.truncate(out + 1);
    true
}

/// Prometheus' `ensureMonotonicAndIgnoreSmallDeltas`: first evens out differences below `tolerance`
/// (relative) in either direction, then raises every count that is below the last accepted one. The
/// reference count only moves on an accepted increase.
fn ensure_monotonic_and_ignore_small_deltas(
    buckets: &mut [Bucket],
    tolerance: f64,
) -> BucketQuantileResult {
    let mut fix = BucketQuantileResult {
        value: f64::NAN,
        forced_monotonic: false,
        fixed_precision: false,
        min_bucket: f64::INFINITY,
        max_bucket: f64::NEG_INFINITY,
        max_diff: 0.0,
    };
    let Some(first) = buckets.first() else {
        return fix;
    };
    let mut prev = first.count;
    for b in buckets.iter_mut().skip(1) {
        let curr = b.count;
        if curr == prev {
            continue;
        }
        if almost_equal(prev, curr, tolerance) {
            b.count = prev;
            fix.fixed_precision = true;
            continue;
        }
        if curr < prev {
            b.count = prev;
            fix.forced_monotonic = true;
            if b.upper_bound < fix.min_bucket {
                fix.min_bucket = b.upper_bound;
            }
            if b.upper_bound > fix.max_bucket {
                fix.max_bucket = b.upper_bound;
            }
            let diff = prev - curr;
            if diff > fix.max_diff {
                fix.max_diff = diff;
            }
            continue;
        }
        prev = curr;
    }
    fix
}

/// `histogram_quantile` over classic buckets (Prometheus' `BucketQuantile`). Returns the quantile, whether
/// monotonicity had to be forced and whether small deltas were evened out. See
/// [`bucket_quantile_detailed`].
pub fn bucket_quantile(q: f64, buckets: &mut Vec<Bucket>) -> (f64, bool, bool) {
    let r = bucket_quantile_detailed(q, buckets);
    (r.value, r.forced_monotonic, r.fixed_precision)
}

/// `histogram_quantile` over classic buckets, with the details the forced-monotonicity annotation needs.
///
/// The buckets may come in any order; they are sorted by upper bound and buckets with equal bounds merged
/// (in place). Then, in Prometheus' order:
/// * `q` NaN → NaN; `q < 0` → -Inf; `q > 1` → +Inf;
/// * no +Inf bucket → NaN;
/// * counts are made monotonic (tiny deltas evened out, decreases raised);
/// * fewer than two buckets, or no observations → NaN;
/// * a quantile in the +Inf bucket → the second-highest bound; in the lowest bucket with a bound `<= 0` →
///   that bound; otherwise linear interpolation within its bucket, the lowest bucket starting at 0.
pub fn bucket_quantile_detailed(q: f64, buckets: &mut Vec<Bucket>) -> BucketQuantileResult {
    if q.is_nan() {
        return BucketQuantileResult::early(f64::NAN);
    }
    if q < 0.0 {
        return BucketQuantileResult::early(f64::NEG_INFINITY);
    }
    if q > 1.0 {
        return BucketQuantileResult::early(f64::INFINITY);
    }
    if !sort_and_coalesce(buckets) {
        return BucketQuantileResult::early(f64::NAN);
    }
    let mut r = ensure_monotonic_and_ignore_small_deltas(buckets, SMALL_DELTA_TOLERANCE);
    let n = buckets.len();
    if n < 2 {
        return r;
    }
    let observations = buckets[n - 1].count;
    if observations == 0.0 {
        return r;
    }
    let mut rank = q * observations;
    let b = search(n - 1, |i| buckets[i].count >= rank);
    if b == n - 1 {
        r.value = buckets[n - 2].upper_bound;
        return r;
    }
    if b == 0 && buckets[0].upper_bound <= 0.0 {
        r.value = buckets[0].upper_bound;
        return r;
    }
    let mut bucket_start = 0.0;
    let bucket_end = buckets[b].upper_bound;
    let mut count = buckets[b].count;
    if b > 0 {
        bucket_start = buckets[b - 1].upper_bound;
        count -= buckets[b - 1].count;
        rank -= buckets[b - 1].count;
    }
    r.value = bucket_start + (bucket_end - bucket_start) * (rank / count);
    r
}

/// `histogram_fraction(lower, upper, …)` over classic buckets (Prometheus' `BucketFraction`): the estimated
/// fraction of observations in `(lower, upper]`, interpolating linearly within buckets.
///
/// NaN for no buckets, no +Inf bucket, no observations or a NaN bound; 0 if `lower >= upper`. The lowest
/// bucket starts at 0 if its upper bound is positive, else at -Inf (and then contributes all or nothing).
/// Sorts and coalesces the buckets in place; counts are not made monotonic.
pub fn bucket_fraction(lower: f64, upper: f64, buckets: &mut Vec<Bucket>) -> f64 {
    if !sort_and_coalesce(buckets) {
        return f64::NAN;
    }
    let count = buckets[buckets.len() - 1].count;
    if count == 0.0 || lower.is_nan() || upper.is_nan() {
        return f64::NAN;
    }
    if lower >= upper {
        return 0.0;
    }

    let mut rank = 0.0;
    let (mut lower_rank, mut upper_rank) = (0.0, 0.0);
    let (mut lower_set, mut upper_set) = (false, false);
    let mut lower_bound = if buckets[0].upper_bound <= 0.0 {
        f64::NEG_INFINITY
    } else {
        0.0
    };
    for (i, b) in buckets.iter().enumerate() {
        if i > 0 {
            lower_bound = buckets[i - 1].upper_bound;
        }
        let upper_bound = b.upper_bound;
        let interpolate = |v: f64, rank: f64| {
            if lower_bound == f64::NEG_INFINITY {
                return b.count;
            }
            rank + (b.count - rank) * (v - lower_bound) / (upper_bound - lower_bound)
        };

        if !lower_set && lower_bound >= lower {
            lower_rank = rank;
            lower_set = true;
        }
        if !upper_set && lower_bound >= upper {
            upper_rank = rank;
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        if !lower_set && lower_bound < lower && upper_bound > lower {
            lower_rank = interpolate(lower, rank);
            lower_set = true;
        }
        if !upper_set && lower_bound < upper && upper_bound > upper {
            upper_rank = interpolate(upper, rank);
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        // Classic counts are cumulative: the rank below the next bucket is this bucket's count.
        rank = b.count;
    }
    if !lower_set || lower_rank > count {
        lower_rank = count;
    }
    if !upper_set || upper_rank > count {
        upper_rank = count;
    }
    (upper_rank - lower_rank) / count
}

// Expected values are spelled as in Prometheus' tests.
#[cfg(test)]
#[allow(clippy::excessive_precision)]
mod tests {
    use super::*;
    use crate::engine::kernels::testutil::{assert_close, assert_exact};
    use proptest::prelude::*;

    const INF: f64 = f64::INFINITY;

    fn b(pairs: &[(f64, f64)]) -> Vec<Bucket> {
        pairs
            .iter()
            .map(|&(upper_bound, count)| Bucket { upper_bound, count })
            .collect()
    }

    /// The buckets of a `load 5m … 0+Nx10` classic histogram at 50m: every count ×10.
    fn at_50m(pairs: &[(f64, f64)]) -> Vec<Bucket> {
        b(&pairs
            .iter()
            .map(|&(u, c)| (u, c * 10.0))
            .collect::<Vec<_>>())
    }

    fn q(q: f64, buckets: &[Bucket]) -> f64 {
        bucket_quantile(q, &mut buckets.to_vec()).0
    }

    #[test]
    fn quantiles_of_prometheus_test_histograms() {
        // histograms.test: testhistogram3 (both starts) at 50m.
        let pos = at_50m(&[(0.0, 0.0), (0.1, 5.0), (0.2, 7.0), (1.0, 11.0), (INF, 11.0)]);
        let neg = at_50m(&[
            (-0.25, 0.0),
            (-0.2, 1.0),
            (-0.1, 2.0),
            (0.3, 2.0),
            (INF, 2.0),
        ]);
        for (qq, p, n) in [
            (0.0, 0.0, -0.25),
            (0.25, 0.055, -0.225),
            (0.5, 0.125, -0.2),
            (0.75, 0.45, -0.15),
            (1.0, 1.0, -0.1),
        ] {
            assert_close(q(qq, &pos), p);
            assert_close(q(qq, &neg), n);
        }
        // testhistogram, given out of order (bounds written ".2", "1e0" upstream).
        let pos = at_50m(&[(1.0, 11.0), (0.1, 5.0), (INF, 12.0), (0.2, 7.0)]);
        let neg = at_50m(&[(INF, 3.0), (-0.2, 1.0), (0.3, 2.0), (-0.1, 2.0)]);
        for (qq, p, n) in [
            (0.0, 0.0, -0.2),
            (0.2, 0.048, -0.2),
            (0.5, 0.15, -0.15),
            (0.8, 0.72, 0.3),
            (1.0, 1.0, 0.3),
        ] {
            assert_close(q(qq, &pos), p);
            assert_close(q(qq, &neg), n);
        }
        assert_exact(q(-0.1, &pos), f64::NEG_INFINITY);
        assert_exact(q(1.01, &pos), f64::INFINITY);
        assert!(q(f64::NAN, &pos).is_nan());

        // testhistogram2 at 7m (counts ×1): quantiles in the middle of buckets.
        let h2 = b(&[(0.0, 0.0), (2.0, 1.0), (4.0, 2.0), (6.0, 3.0), (INF, 3.0)]);
        assert_close(q(1.0 / 6.0, &h2), 1.0);
        assert_close(q(0.5, &h2), 3.0);
        assert_close(q(5.0 / 6.0, &h2), 5.0);

        // sum(rate(request_duration_seconds_bucket[10m])) by (le): 10/s, 19/s, 25/s per 600s.
        let agg = b(&[(0.1, 10.0), (0.2, 19.0), (INF, 25.0)]);
        assert_close(q(0.3, &agg), 0.075);
        assert_close(q(0.5, &agg), 0.1277777777777778);
    }

    #[test]
    fn equal_bounds_are_merged_and_inf_is_required() {
        // mixed_bucket: le 0.1, 0.2, 2e-1, 2.0e-1 (all 0.2), +Inf at 50m, rate over 10m → per-second.
        let per_s = 1.0 / 60.0;
        let mixed = b(&[
            (0.1, per_s),
            (0.2, per_s),
            (0.2, per_s),
            (0.2, per_s),
            (INF, 4.0 * per_s),
        ]);
        assert_close(q(0.5, &mixed), 0.15);
        assert_close(q(0.75, &mixed), 0.2);
        assert_close(q(1.0, &mixed), 0.2);
        // le="+inf" and le="+Inf" with no observations: one bucket after merging → NaN.
        let empty = b(&[(INF, 0.0), (INF, 0.0)]);
        assert!(q(0.5, &empty).is_nan());
        // No +Inf bucket.
        assert!(q(0.5, &b(&[(1.0, 1.0), (2.0, 2.0)])).is_nan());
        // A single +Inf bucket with observations.
        assert!(q(0.5, &b(&[(INF, 5.0)])).is_nan());
        // No observations.
        assert!(q(0.5, &b(&[(1.0, 0.0), (INF, 0.0)])).is_nan());
        // No buckets at all.
        assert!(q(0.5, &[]).is_nan());
        // Quantile in the +Inf bucket: the second-highest bound.
        assert_exact(q(0.99, &b(&[(1.0, 1.0), (INF, 10.0)])), 1.0);
    }

    #[test]
    fn nonmonotonic_buckets_are_repaired() {
        // histograms.test nonmonotonic_bucket at 50m.
        let h = at_50m(&[
            (0.1, 2.0),
            (1.0, 1.0),
            (10.0, 5.0),
            (100.0, 4.0),
            (1000.0, 9.0),
            (INF, 8.0),
        ]);
        for (qq, expected) in [(0.01, 0.0045), (0.5, 8.5), (0.99, 979.75)] {
            let r = bucket_quantile_detailed(qq, &mut h.clone());
            assert_close(r.value, expected);
            assert!(r.forced_monotonic);
            assert!(!r.fixed_precision);
            assert_eq!(r.min_bucket, 1.0);
            assert_eq!(r.max_bucket, INF);
            assert_eq!(r.max_diff, 10.0);
        }
        // Early exits report zeros.
        let r = bucket_quantile_detailed(2.0, &mut h.clone());
        assert_eq!((r.min_bucket, r.max_bucket, r.max_diff), (0.0, 0.0, 0.0));
    }

    /// Buckets, expected forced/fixed flags, and (q, quantile) pairs.
    type ForcedCase = (Vec<Bucket>, bool, bool, Vec<(f64, f64)>);

    #[test]
    fn forced_monotonicity_cases_from_prometheus_unit_tests() {
        // promql/quantile_test.go: TestBucketQuantile_ForcedMonotonicity.
        let cases: Vec<ForcedCase> = vec![
            (
                b(&[
                    (10.0, 10.0),
                    (15.0, 15.0),
                    (20.0, 15.0),
                    (30.0, 15.0),
                    (INF, 15.0),
                ]),
                false,
                false,
                vec![(1.0, 15.0), (0.99, 14.85), (0.9, 13.5), (0.5, 7.5)],
            ),
            (
                b(&[
                    (10.0, 10.0),
                    (15.0, 15.0),
                    (20.0, 15.00000000001),
                    (30.0, 15.0),
                    (INF, 15.0),
                ]),
                false,
                true,
                vec![(1.0, 15.0), (0.99, 14.85), (0.9, 13.5), (0.5, 7.5)],
            ),
            (
                b(&[
                    (1.0, 6454661.3014166197),
                    (5.0, 8339611.2001912938),
                    (10.0, 14118319.2444762159),
                    (25.0, 14130031.5272856522),
                    (50.0, 46001270.3030008152),
                    (64.0, 46008473.8585563600),
                    (80.0, 46008473.8585563600),
                    (100.0, 46008473.8585563600),
                    (250.0, 46008473.8585563600),
                    (1000.0, 46008473.8585563600),
                    (INF, 46008473.8585563600),
                ]),
                false,
                false,
                vec![
                    (1.0, 64.0),
                    (0.99, 49.64475715376406),
                    (0.9, 46.39671690938454),
                    (0.5, 31.96098248992002),
                ],
            ),
            (
                b(&[
                    (1.0, 6454661.3014166225),
                    (5.0, 8339611.2001912957),
                    (10.0, 14118319.2444762159),
                    (25.0, 14130031.5272856504),
                    (50.0, 46001270.3030008227),
                    (64.0, 46008473.8585563824),
                    (80.0, 46008473.8585563898),
                    (100.0, 46008473.8585563824),
                    (250.0, 46008473.8585563824),
                    (1000.0, 46008473.8585563898),
                    (INF, 46008473.8585563824),
                ]),
                false,
                true,
                vec![
                    (1.0, 64.0),
                    (0.99, 49.64475715376406),
                    (0.9, 46.39671690938454),
                    (0.5, 31.96098248992002),
                ],
            ),
            (
                b(&[
                    (0.005, 9.6),
                    (0.01, 9.688888889),
                    (0.025, 9.755555556),
                    (0.05, 9.844444444),
                    (0.1, 9.888888889),
                    (0.25, 9.888888889),
                    (0.5, 9.888888889),
                    (1.0, 9.888888889),
                    (2.5, 9.888888889),
                    (5.0, 9.888888889),
                    (10.0, 9.888888889001),
                    (25.0, 9.888888889),
                    (50.0, 9.888888888999),
                    (100.0, 9.888888889),
                    (INF, 9.888888889),
                ]),
                false,
                true,
                vec![
                    (1.0, 0.1),
                    (0.99, 0.03468750000281261),
                    (0.9, 0.00463541666671875),
                    (0.5, 0.0025752314815104174),
                ],
            ),
        ];
        for (buckets, forced, fixed, expected) in cases {
            for (qq, v) in expected {
                let (res, f, x) = bucket_quantile(qq, &mut buckets.clone());
                assert_eq!((f, x), (forced, fixed), "q={qq}");
                assert!(((res - v) / v).abs() < 1e-12, "q={qq}: {res} vs {v}");
            }
        }
    }

    #[test]
    fn lowest_bucket_rules() {
        // Lowest bound > 0: interpolate from 0.
        assert_exact(q(0.25, &b(&[(4.0, 4.0), (INF, 4.0)])), 1.0);
        // Lowest bound <= 0: that bound.
        assert_exact(q(0.25, &b(&[(-1.0, 4.0), (INF, 4.0)])), -1.0);
        assert_exact(q(0.25, &b(&[(0.0, 4.0), (INF, 4.0)])), 0.0);
    }

    fn frac(lower: f64, upper: f64, pairs: &[(f64, f64)]) -> f64 {
        bucket_fraction(lower, upper, &mut b(pairs))
    }

    #[test]
    fn fractions_from_prometheus_tests() {
        let h2 = [(0.0, 0.0), (2.0, 1.0), (4.0, 2.0), (6.0, 3.0), (INF, 3.0)];
        assert_close(frac(0.0, 4.0, &h2), 0.6666666666666666);
        assert_close(frac(0.0, 6.0, &h2), 1.0);
        assert_close(frac(0.0, 3.5, &h2), 0.5833333333333334);
        let pos = [
            (0.0, 0.0),
            (0.1, 50.0),
            (0.2, 70.0),
            (1.0, 110.0),
            (INF, 110.0),
        ];
        let neg = [
            (-0.25, 0.0),
            (-0.2, 10.0),
            (-0.1, 20.0),
            (0.3, 20.0),
            (INF, 20.0),
        ];
        assert_close(frac(0.0, 0.2, &pos), 0.6363636363636364);
        assert_exact(frac(0.0, 0.2, &neg), 0.0);

        let p = [(1.0, 1.0), (2.0, 3.0), (3.0, 6.0), (INF, 100.0)];
        let n = [(-3.0, 10.0), (-2.0, 12.0), (-1.0, 15.0), (INF, 100.0)];
        assert_close(frac(0.0, 1.5, &p), 0.02);
        assert_close(frac(-4.0, -2.0, &n), 0.02);
        assert_close(frac(f64::NEG_INFINITY, -1.5, &n), 0.135);
        assert_close(frac(f64::NEG_INFINITY, INF, &p), 1.0);
        assert_close(frac(f64::NEG_INFINITY, INF, &n), 1.0);
        assert_exact(frac(4.0, 5.0, &p), 0.0);
        assert_exact(frac(0.0, 1.0, &n), 0.0);
        assert_close(frac(2.0, 5.0, &p), 0.03);
        assert_close(frac(400.0, INF, &p), 0.94);
        assert_exact(frac(2.0, 2.0, &p), 0.0);
        assert_exact(frac(3.0, 2.0, &p), 0.0);
        assert_exact(frac(0.0, 1.0, &[(INF, 100.0)]), 0.0);
        assert!(frac(0.0, 5.0, &[(1.0, 0.0), (2.0, 0.0), (3.0, 0.0), (INF, 0.0)]).is_nan());
        assert_close(frac(2.0, 3.5, &p), 0.03);
        assert_close(frac(0.5, 2.0, &p), 0.025);
        assert_close(frac(1.0, 3.0, &p), 0.05);
        assert_close(
            frac(0.1, 0.75, &[(0.5, 2.5), (1.0, 7.5), (INF, 100.0)]),
            0.045,
        );
        assert_close(
            frac(
                -1.0,
                1.0,
                &[
                    (-2.0, 5.0),
                    (-1.0, 10.0),
                    (0.0, 15.0),
                    (1.0, 20.0),
                    (INF, 100.0),
                ],
            ),
            0.1,
        );
        assert!(frac(f64::NAN, 1.0, &[(1.0, 1.0), (INF, 100.0)]).is_nan());
        assert!(frac(0.0, f64::NAN, &[(1.0, 1.0), (INF, 100.0)]).is_nan());
        let small = [(1.0, 1.0), (2.0, 3.0), (INF, 10.0)];
        assert_exact(frac(-10.0, -5.0, &small), 0.0);
        assert_exact(frac(5.0, 10.0, &small), 0.0);
        // No buckets, no +Inf bucket.
        assert!(frac(0.0, 1.0, &[]).is_nan());
        assert!(frac(0.0, 1.0, &[(1.0, 1.0)]).is_nan());
    }

    fn arb_buckets() -> impl Strategy<Value = Vec<Bucket>> {
        proptest::collection::vec(
            (
                prop_oneof![
                    any::<f64>(),
                    Just(f64::NAN),
                    Just(INF),
                    Just(f64::NEG_INFINITY),
                    Just(0.0),
                    -10.0..10.0f64
                ],
                prop_oneof![any::<f64>(), Just(f64::NAN), 0.0..100.0f64],
            ),
            0..12,
        )
        .prop_map(|v| {
            v.into_iter()
                .map(|(upper_bound, count)| Bucket { upper_bound, count })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn never_panics(buckets in arb_buckets(), qq in any::<f64>(), lo in any::<f64>(), hi in any::<f64>()) {
            let _ = bucket_quantile_detailed(qq, &mut buckets.clone());
            let _ = bucket_fraction(lo, hi, &mut buckets.clone());
        }

        #[test]
        fn well_formed_quantiles_stay_within_bounds(
            counts in proptest::collection::vec(0.0..1000.0f64, 1..10), qq in 0.0..=1.0f64) {
            // Increasing bounds 1, 2, …, +Inf with cumulative counts.
            let mut cum = 0.0;
            let mut buckets: Vec<Bucket> = counts.iter().enumerate().map(|(i, c)| {
                cum += c;
                Bucket { upper_bound: (i + 1) as f64, count: cum }
            }).collect();
            buckets.push(Bucket { upper_bound: INF, count: cum });
            buckets.reverse();
            let (v, forced, _) = bucket_quantile(qq, &mut buckets);
            prop_assert!(!forced);
            if cum > 0.0 {
                prop_assert!((0.0..=counts.len() as f64).contains(&v), "{}", v);
            }
        }
    }
}
