//! Accumulators of the aggregation operators (`sum`, `avg`, `stddev`, `stdvar`, `quantile`) and the
//! compensated summation they and the `*_over_time` functions share.
//!
//! Follows Prometheus' `util/kahansum`, `promql/quantile.go: quantile` and the float paths of
//! `promql/engine.go: aggregation`.

use std::cmp::Ordering;

/// One step of Kahan summation with Neumaier's improvement (Prometheus' `kahansum.Inc`): adds `inc` to
/// `sum` and returns the new sum and compensation. The compensation is reset to 0 when the sum becomes
/// infinite, so an overflowed sum stays ±Inf instead of turning into NaN.
pub fn kahan_sum_inc(inc: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + inc;
    let c = if t.is_infinite() {
        0.0
    } else if sum.abs() >= inc.abs() {
        c + ((sum - t) + inc)
    } else {
        c + ((inc - t) + sum)
    };
    (t, c)
}

/// The subtracting counterpart of [`kahan_sum_inc`] (Prometheus' `kahansum.Dec`).
pub fn kahan_sum_dec(dec: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum - dec;
    let c = if t.is_infinite() {
        0.0
    } else if sum.abs() >= dec.abs() {
        c + ((sum - t) - dec)
    } else {
        c + ((-dec - t) + sum)
    };
    (t, c)
}

/// A compensated sum.
///
/// `KahanSum::default()` starts from 0, as `sum_over_time` does; [`KahanSum::starting_with`] seeds the sum
/// with a group's first value, as the `sum` aggregation does (the two give the same results).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct KahanSum {
    sum: f64,
    c: f64,
}

impl KahanSum {
    pub fn new() -> KahanSum {
        KahanSum::default()
    }

    /// A sum whose first term is `v` (the `sum` aggregation's group seed).
    pub fn starting_with(v: f64) -> KahanSum {
        KahanSum { sum: v, c: 0.0 }
    }

    pub fn add(&mut self, v: f64) {
        (self.sum, self.c) = kahan_sum_inc(v, self.sum, self.c);
    }

    /// The sum with its compensation applied; an infinite sum is returned as is.
    pub fn value(&self) -> f64 {
        if self.sum.is_infinite() {
            self.sum
        } else {
            self.sum + self.c
        }
    }
}

/// The mean of the `avg` aggregation and of `avg_over_time` (Prometheus 3).
///
/// The values are summed with Kahan compensation and divided at the end; only if the running sum would
/// overflow to ±Inf does it switch to an incremental mean (`mean = q·mean + v/n`, `q = (n-1)/n`, also
/// compensated), which cannot overflow for finite inputs.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MeanAcc {
    count: f64,
    sum: f64,
    mean: f64,
    c: f64,
    incremental: bool,
}

impl MeanAcc {
    pub fn new() -> MeanAcc {
        MeanAcc::default()
    }

    pub fn add(&mut self, v: f64) {
        if self.count == 0.0 {
            // The first value seeds the sum as is.
            self.count = 1.0;
            self.sum = v;
            return;
        }
        self.count += 1.0;
        let count = self.count;
        if !self.incremental {
            let (sum, c) = kahan_sum_inc(v, self.sum, self.c);
            if !sum.is_infinite() {
                self.sum = sum;
                self.c = c;
                return;
            }
            // The sum would overflow: continue with the mean of what we have so far.
            self.incremental = true;
            self.mean = self.sum / (count - 1.0);
            self.c /= count - 1.0;
        }
        let q = (count - 1.0) / count;
        (self.mean, self.c) = kahan_sum_inc(v / count, q * self.mean, q * self.c);
    }

    /// How many values were added.
    pub fn count(&self) -> f64 {
        self.count
    }

    /// The mean, or `None` before any value was added.
    pub fn value(&self) -> Option<f64> {
        if self.count == 0.0 {
            None
        } else if self.incremental {
            Some(self.mean + self.c)
        } else {
            Some(self.sum / self.count + self.c / self.count)
        }
    }
}

/// The variance of the `stddev`/`stdvar` aggregations: Welford's online algorithm, uncompensated, as
/// Prometheus' `aggregation` does it. A group whose first value is NaN or ±Inf has a NaN variance.
///
/// (`stddev_over_time`/`stdvar_over_time` use a Kahan-compensated variant, see
/// [`super::range::stdvar_over_time`].)
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct VarianceAcc {
    count: f64,
    mean: f64,
    value: f64,
}

impl VarianceAcc {
    pub fn new() -> VarianceAcc {
        VarianceAcc::default()
    }

    pub fn add(&mut self, v: f64) {
        if self.count == 0.0 {
            self.count = 1.0;
            self.mean = v;
            self.value = if v.is_nan() || v.is_infinite() {
                f64::NAN
            } else {
                0.0
            };
            return;
        }
        self.count += 1.0;
        let delta = v - self.mean;
        self.mean += delta / self.count;
        self.value += delta * (v - self.mean);
    }

    pub fn count(&self) -> f64 {
        self.count
    }

    /// The population variance (`stdvar`); NaN before any value was added.
    pub fn stdvar(&self) -> f64 {
        self.value / self.count
    }

    /// The population standard deviation (`stddev`); NaN before any value was added.
    pub fn stddev(&self) -> f64 {
        (self.value / self.count).sqrt()
    }
}

/// One step of the `max` aggregation: the new value wins if it is greater or the current one is NaN, so
/// the result is NaN only if every value is.
pub fn max_step(current: f64, v: f64) -> f64 {
    if current < v || current.is_nan() {
        v
    } else {
        current
    }
}

/// One step of the `min` aggregation: the new value wins if it is smaller or the current one is NaN.
pub fn min_step(current: f64, v: f64) -> f64 {
    if current > v || current.is_nan() {
        v
    } else {
        current
    }
}

/// The order of `sort()`: ascending, NaN last.
pub fn sort_asc_cmp(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
    }
}

/// The order of `sort_desc()`: descending, NaN last.
pub fn sort_desc_cmp(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => b.partial_cmp(&a).unwrap_or(Ordering::Equal),
    }
}

/// Orders floats as Prometheus' `vectorByValueHeap` sorts them: NaN before every number.
pub(crate) fn nan_first_cmp(a: &f64, b: &f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => a.partial_cmp(b).unwrap_or(Ordering::Equal),
    }
}

/// The φ-quantile of `values` (Prometheus' `quantile`, used by the `quantile` aggregation,
/// `quantile_over_time` and `mad_over_time`): NaN for no values or a NaN `q`, -Inf for `q < 0`, +Inf for
/// `q > 1`, otherwise linear interpolation between the two closest ranks of the sorted values (NaN sorts
/// first). Sorts `values` in place.
pub fn quantile(q: f64, values: &mut [f64]) -> f64 {
    if values.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    values.sort_unstable_by(nan_first_cmp);
    let n = values.len() as f64;
    let rank = q * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (n - 1.0).min(lower + 1.0);
    let weight = rank - rank.floor();
    values[lower as usize] * (1.0 - weight) + values[upper as usize] * weight
}

// Expected values are spelled as in Prometheus' test scripts.
#[cfg(test)]
#[allow(clippy::excessive_precision)]
mod tests {
    use super::*;
    use crate::engine::kernels::testutil::{assert_close, assert_exact};
    use proptest::prelude::*;

    fn sum_of(values: &[f64]) -> f64 {
        let mut iter = values.iter();
        let mut acc = KahanSum::starting_with(*iter.next().unwrap());
        for v in iter {
            acc.add(*v);
        }
        acc.value()
    }

    fn avg_of(values: &[f64]) -> f64 {
        let mut acc = MeanAcc::new();
        for v in values {
            acc.add(*v);
        }
        acc.value().unwrap()
    }

    fn var_of(values: &[f64]) -> VarianceAcc {
        let mut acc = VarianceAcc::new();
        for v in values {
            acc.add(*v);
        }
        acc
    }

    #[test]
    fn kahan_keeps_small_terms_next_to_huge_ones() {
        // functions.test: "Test if very big intermediate values cause loss of detail."
        assert_exact(sum_of(&[1.0, 1e100, 1.0, -1e100]), 2.0);
        let mut s = KahanSum::new();
        for v in [1.0, 1e100, 1.0, -1e100] {
            s.add(v);
        }
        assert_exact(s.value(), 2.0);
    }

    #[test]
    fn kahan_resets_compensation_on_overflow() {
        let (sum, c) = kahan_sum_inc(f64::MAX, f64::MAX, 0.0);
        assert_eq!(sum, f64::INFINITY);
        assert_eq!(c, 0.0);
        assert_exact(sum_of(&[f64::MAX, f64::MAX, -f64::MAX]), f64::INFINITY);
        let (d, c) = kahan_sum_dec(1.0, 3.0, 0.0);
        assert_eq!((d, c), (2.0, 0.0));
        let (d, c) = kahan_sum_dec(f64::MAX, -f64::MAX, 0.0);
        assert_eq!((d, c), (f64::NEG_INFINITY, 0.0));
    }

    #[test]
    fn min_max_and_sort_orders() {
        // aggregators.test: min/max ignore NaN unless every value is NaN.
        let fold = |f: fn(f64, f64) -> f64, vals: &[f64]| {
            vals[1..].iter().fold(vals[0], |acc, v| f(acc, *v))
        };
        assert_eq!(fold(max_step, &[f64::NAN, 1.0, 3.0, 2.0]), 3.0);
        assert_eq!(fold(min_step, &[2.0, f64::NAN, 1.0]), 1.0);
        assert!(fold(max_step, &[f64::NAN, f64::NAN]).is_nan());
        assert_eq!(fold(max_step, &[1.0, f64::INFINITY]), f64::INFINITY);
        assert_eq!(fold(min_step, &[1.0, f64::NEG_INFINITY]), f64::NEG_INFINITY);

        let mut v = [3.0, f64::NAN, 1.0, f64::INFINITY, -1.0];
        v.sort_by(|a, b| sort_asc_cmp(*a, *b));
        assert_eq!(&v[..4], &[-1.0, 1.0, 3.0, f64::INFINITY]);
        assert!(v[4].is_nan());
        v.sort_by(|a, b| sort_desc_cmp(*a, *b));
        assert_eq!(&v[..4], &[f64::INFINITY, 3.0, 1.0, -1.0]);
        assert!(v[4].is_nan());
    }

    #[test]
    fn kahan_inc_special_values() {
        // promql/functions_test.go TestKahanSumInc, both orders.
        let inf = f64::INFINITY;
        let cases = [
            (inf, 2.0, inf),
            (-inf, 2.0, -inf),
            (inf, -inf, f64::NAN),
            (f64::NAN, 2.0, f64::NAN),
            (f64::NAN, inf, f64::NAN),
            (f64::NAN, -inf, f64::NAN),
        ];
        for (a, b, expected) in cases {
            for (x, y) in [(a, b), (b, a)] {
                let (sum, c) = kahan_sum_inc(y, x, 0.0);
                assert_exact(sum + c, expected);
            }
        }
    }

    #[test]
    fn sum_of_negative_zero_is_positive_zero_as_in_go() {
        // Go adds the (zero) compensation at the end too: -0 + 0 = +0.
        assert!(sum_of(&[-0.0]).is_sign_positive());
    }

    #[test]
    fn mean_matches_prometheus_cases() {
        // aggregators.test / functions.test avg cases.
        assert_exact(avg_of(&[1.0, 2.0, 3.0, 4.0, 5.0]), 3.0);
        assert_exact(avg_of(&[1.0, 2.0, 3.0, 4.0, f64::INFINITY]), f64::INFINITY);
        assert_exact(
            avg_of(&[1.0, 2.0, 3.0, 4.0, f64::NEG_INFINITY]),
            f64::NEG_INFINITY,
        );
        assert!(avg_of(&[1.0, 2.0, 3.0, f64::INFINITY, f64::NEG_INFINITY]).is_nan());
        assert_exact(avg_of(&[f64::INFINITY, 0.0, f64::INFINITY]), f64::INFINITY);
        assert!(
            avg_of(&[
                f64::INFINITY,
                f64::INFINITY,
                f64::INFINITY,
                f64::NEG_INFINITY
            ])
            .is_nan()
        );
        assert_exact(
            avg_of(&[1.0, 2.0, 3.0, f64::NEG_INFINITY, f64::NEG_INFINITY]),
            f64::NEG_INFINITY,
        );
        assert!(
            avg_of(&[
                1.0,
                2.0,
                f64::NEG_INFINITY,
                f64::NEG_INFINITY,
                f64::INFINITY
            ])
            .is_nan()
        );
        assert_exact(
            avg_of(&[9.988465674311579e307, 9.988465674311579e307]),
            9.988465674311579e307,
        );
        assert_exact(
            avg_of(&[
                -9.988465674311579e307,
                -9.988465674311579e307,
                -9.988465674311579e307,
            ]),
            -9.988465674311579e307,
        );
        assert_exact(
            avg_of(&[-9.988465674311579e307, 9.988465674311579e307]),
            0.0,
        );
        assert!(avg_of(&[1.0, 2.0, 3.0, f64::NAN, f64::NAN]).is_nan());
        assert_exact(avg_of(&[1.0, 1e100, 1.0, -1e100]), 0.5);
        // Exact equality of a long constant series (functions.test, issue 16714).
        assert_exact(avg_of(&[52.0; 13]), 52.0);
        assert_eq!(MeanAcc::new().value(), None);
    }

    #[test]
    fn sum_and_avg_aggregation_cases() {
        // aggregators.test "Test summing and averaging extreme values" (series in label order).
        let ten = [2.0, 8.0, 1e100, -1e100];
        assert_exact(sum_of(&ten), 10.0);
        assert_exact(avg_of(&ten), 2.5);
        let inf = f64::INFINITY;
        for g in [[inf, 2.0], [2.0, inf]] {
            assert_exact(sum_of(&g), inf);
            assert_exact(avg_of(&g), inf);
        }
        for g in [[-inf, 2.0], [2.0, -inf]] {
            assert_exact(sum_of(&g), -inf);
            assert_exact(avg_of(&g), -inf);
        }
        assert!(sum_of(&[inf, -inf]).is_nan());
        assert!(avg_of(&[inf, -inf]).is_nan());
        for g in [[f64::NAN, 2.0], [2.0, f64::NAN]] {
            assert!(sum_of(&g).is_nan());
            assert!(avg_of(&g).is_nan());
        }
        // The "avg(data{test=…})" block: inf3 is Inf Inf -Inf, nan is -Inf 0 Inf.
        assert_exact(avg_of(&[inf, 0.0, inf]), inf);
        assert_exact(avg_of(&[-inf, 0.0, -inf]), -inf);
        assert!(avg_of(&[inf, inf, -inf]).is_nan());
        assert!(avg_of(&[-inf, -inf, inf]).is_nan());
        assert!(avg_of(&[-inf, 0.0, inf]).is_nan());
        let big = 9.988465674311579e307;
        assert_exact(avg_of(&[big; 4]), big);
        assert_exact(avg_of(&[-big; 4]), -big);
        assert_exact(avg_of(&[-big, -big, big, big]), 0.0);
        // Eleven 52s average to exactly 52.
        assert_exact(avg_of(&[52.0; 11]), 52.0);
        assert_exact(avg_of(&[52.0; 8]), 52.0);
    }

    #[test]
    fn mean_of_extreme_magnitudes() {
        // functions.test "More tests for extreme values".
        assert_close(
            avg_of(&[1e10, 1e-6, 1e-6, 1e-6, 1e-6, 1e-6]),
            1.6666666666666675e9,
        );
        assert_close(
            avg_of(&[
                5.30921651659898,
                0.961118537914768,
                1.62091361305318,
                0.865089463758091,
                0.323055185914577,
                0.951811357687154,
            ]),
            1.67186744582113,
        );
        assert_close(
            avg_of(&[1.78264e50, 0.76342771, 1.9592258, 7.69805412, 458.90154]),
            3.56528e49,
        );
        assert_close(
            avg_of(&[
                1.78264e50, 0.76342771, 1.9592258, 2.258e220, 7.69805412, 458.90154,
            ]),
            3.76333333333333e219,
        );
        assert_close(
            avg_of(&[
                -1.78264e215,
                0.76342771,
                1.9592258,
                2.258e220,
                7.69805412,
                1.78264e215,
                -458.90154,
            ]),
            3.225714285714286e219,
        );
        assert_close(
            avg_of(&[
                -1.78264e219,
                0.76342771,
                1.9592258,
                2.3757689e217,
                -2.3757689e217,
                2.258e220,
                7.69805412,
                1.78264e219,
                -458.90154,
            ]),
            2.5088888888888888e219,
        );
        // Kahan cannot cope with these; Prometheus documents the result as 0.
        assert_exact(
            avg_of(&[
                -2.258e220,
                -1.78264e219,
                0.76342771,
                1.9592258,
                2.3757689e217,
                -2.3757689e217,
                2.258e220,
                7.69805412,
                1.78264e219,
                -458.90154,
            ]),
            0.0,
        );
    }

    #[test]
    fn variance_matches_prometheus() {
        // aggregators.test: stddev/stdvar(http_requests) at 50m.
        let all = [100.0, 200.0, 300.0, 400.0, 500.0, 600.0, 700.0, 800.0];
        assert_close(var_of(&all).stddev(), 229.12878474779);
        assert_close(var_of(&all).stdvar(), 52500.0);
        let v = var_of(&[100.0, 300.0, 500.0, 700.0]);
        assert_close(v.stddev(), 223.60679774998);
        assert_close(v.stdvar(), 50000.0);
        // "Float precision test": three equal values give exactly 0.
        let v = var_of(&[13.3, 13.3, 13.3]);
        assert_exact(v.stddev(), 0.0);
        assert_exact(var_of(&[1.0, 2.0]).stdvar(), 0.25);
        let v = var_of(&[1.0]);
        assert_exact(v.stdvar(), 0.0);
        // A NaN or infinite first value poisons the group.
        assert!(var_of(&[f64::INFINITY, 1.0, 2.0]).stddev().is_nan());
        assert!(var_of(&[f64::NAN]).stdvar().is_nan());
        // A later Inf makes the variance NaN too (Inf - Inf).
        assert!(var_of(&[1.0, f64::INFINITY]).stdvar().is_nan());
        assert!(VarianceAcc::new().stdvar().is_nan());
    }

    #[test]
    fn quantile_matches_prometheus() {
        let mut v = vec![0.0, 10.0, 20.0, 30.0];
        assert_exact(quantile(0.5, &mut v), 15.0);
        assert_exact(quantile(0.0, &mut v), 0.0);
        assert_exact(quantile(1.0, &mut v), 30.0);
        assert_exact(quantile(0.75, &mut v), 22.5);
        assert_exact(quantile(-1.0, &mut v), f64::NEG_INFINITY);
        assert_exact(quantile(2.0, &mut v), f64::INFINITY);
        assert!(quantile(f64::NAN, &mut v).is_nan());
        assert!(quantile(0.5, &mut []).is_nan());
        // Unsorted input is sorted in place; NaN sorts first.
        let mut v = vec![3.0, f64::NAN, 1.0, 2.0];
        assert!(quantile(0.0, &mut v).is_nan());
        assert!(v[0].is_nan());
        assert_eq!(&v[1..], &[1.0, 2.0, 3.0]);
        assert_exact(quantile(1.0, &mut v), 3.0);
        // Between NaN and a number the result is NaN.
        assert!(quantile(0.2, &mut v).is_nan());
        // aggregators.test quantile cases.
        assert_close(quantile(0.8, &mut [0.0, 1.0]), 0.8);
        assert_close(quantile(0.8, &mut [0.0, 1.0, 2.0]), 1.6);
        assert_close(quantile(0.8, &mut [0.0, 1.0, 4.0]), 2.8);
        assert_close(quantile(0.2, &mut [0.0, 4.0, 1.0]), 0.4);
        assert_close(quantile(0.8, &mut [0.0, 1.0, f64::NAN]), 0.6);
        assert!(quantile(0.2, &mut [0.0, 1.0, f64::NAN]).is_nan());
        let mut single = vec![7.0];
        assert_exact(quantile(0.3, &mut single), 7.0);
    }

    proptest! {
        #[test]
        fn accumulators_never_panic(values in proptest::collection::vec(
            prop_oneof![any::<f64>(), Just(f64::NAN), Just(f64::INFINITY), Just(f64::NEG_INFINITY), Just(f64::MAX)],
            0..40), q in prop_oneof![any::<f64>(), -0.5..1.5f64]) {
            let mut s = KahanSum::new();
            let mut m = MeanAcc::new();
            let mut var = VarianceAcc::new();
            for v in &values {
                s.add(*v);
                m.add(*v);
                var.add(*v);
            }
            let _ = (s.value(), m.value(), var.stddev(), var.stdvar());
            let mut vals = values.clone();
            let r = quantile(q, &mut vals);
            if !values.is_empty() && (0.0..=1.0).contains(&q) && values.iter().all(|v| v.abs() < 1e300) {
                let lo = values.iter().cloned().fold(f64::INFINITY, f64::min);
                let hi = values.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                // Interpolation may overshoot by rounding, never by more.
                let slack = (hi - lo).abs() * 1e-12 + f64::MIN_POSITIVE;
                prop_assert!(r.is_nan() || (r >= lo - slack && r <= hi + slack) || !(hi - lo).is_finite());
            }
        }
    }
}
