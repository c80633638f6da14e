//! Element-wise functions of instant vectors: math, `round`, `clamp*` and the date functions (Prometheus'
//! `promql/functions.go`, with Go's `math` semantics where they differ from Rust's).

use std::f64::consts::{LOG2_E, LOG10_2, PI};

/// Go's `math.Max`: +Inf wins over NaN, NaN wins over everything else, and +0 over -0.
pub fn go_max(x: f64, y: f64) -> f64 {
    if x == f64::INFINITY || y == f64::INFINITY {
        return f64::INFINITY;
    }
    if x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    if x == 0.0 && x == y {
        return if x.is_sign_negative() { y } else { x };
    }
    if x > y { x } else { y }
}

/// Go's `math.Min`: -Inf wins over NaN, NaN wins over everything else, and -0 over +0.
pub fn go_min(x: f64, y: f64) -> f64 {
    if x == f64::NEG_INFINITY || y == f64::NEG_INFINITY {
        return f64::NEG_INFINITY;
    }
    if x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    if x == 0.0 && x == y {
        return if x.is_sign_negative() { x } else { y };
    }
    if x < y { x } else { y }
}

/// Go's `math.Frexp`: `x = frac · 2^exp` with `|frac|` in [0.5, 1); zero, ±Inf and NaN come back as is
/// with exponent 0.
fn frexp(x: f64) -> (f64, i32) {
    if x == 0.0 || x.is_infinite() || x.is_nan() {
        return (x, 0);
    }
    let (mut x, mut exp) = (x, 0i32);
    if x.abs() < f64::MIN_POSITIVE {
        // Subnormal: normalise first.
        x *= (1u64 << 52) as f64;
        exp = -52;
    }
    let bits = x.to_bits();
    exp += ((bits >> 52) & 0x7ff) as i32 - 1022;
    let frac = f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52));
    (frac, exp)
}

/// Go's `math.Log2`: exact for powers of two, otherwise `ln(frac)·log2(e) + exp`.
fn go_log2(x: f64) -> f64 {
    let (frac, exp) = frexp(x);
    if frac == 0.5 {
        return f64::from(exp - 1);
    }
    frac.ln() * LOG2_E + f64::from(exp)
}

/// Go's `math.Log10`, which is `Log2(x) · (Ln2/Ln10)` (so `log10(1000)` is 2.9999999999999996, as in
/// Prometheus).
fn go_log10(x: f64) -> f64 {
    go_log2(x) * LOG10_2
}

fn sgn(v: f64) -> f64 {
    if v < 0.0 {
        -1.0
    } else if v > 0.0 {
        1.0
    } else {
        // ±0 and NaN are returned as they are.
        v
    }
}

fn deg(v: f64) -> f64 {
    v * 180.0 / PI
}

fn rad(v: f64) -> f64 {
    v * PI / 180.0
}

/// The one-argument math function called `name` (`abs`, `ceil`, `floor`, `exp`, `sqrt`, `ln`, `log2`,
/// `log10`, `sgn`, the trigonometric and hyperbolic functions and their inverses, `deg`, `rad`), or `None`
/// for any other name.
///
/// `log2`/`log10` follow Go's formulas; the transcendental functions use Rust's (the platform's) libm,
/// which may differ from Go's in the last bit.
pub fn simple_math(name: &str) -> Option<fn(f64) -> f64> {
    let f: fn(f64) -> f64 = match name {
        "abs" => f64::abs,
        "ceil" => f64::ceil,
        "floor" => f64::floor,
        "exp" => f64::exp,
        "sqrt" => f64::sqrt,
        "ln" => f64::ln,
        "log2" => go_log2,
        "log10" => go_log10,
        "sgn" => sgn,
        "sin" => f64::sin,
        "cos" => f64::cos,
        "tan" => f64::tan,
        "asin" => f64::asin,
        "acos" => f64::acos,
        "atan" => f64::atan,
        "sinh" => f64::sinh,
        "cosh" => f64::cosh,
        "tanh" => f64::tanh,
        "asinh" => f64::asinh,
        "acosh" => f64::acosh,
        "atanh" => f64::atanh,
        "deg" => deg,
        "rad" => rad,
        _ => return None,
    };
    Some(f)
}

/// `round(v, to_nearest)`: rounds to the nearest multiple of `to_nearest`, ties up (towards +Inf). Uses the
/// inverse of `to_nearest` as Prometheus does (it is more precise for fractions like 0.1).
pub fn round(v: f64, to_nearest: f64) -> f64 {
    let inverse = 1.0 / to_nearest;
    (v * inverse + 0.5).floor() / inverse
}

/// `clamp(v, min, max)`: `None` (no output sample) when `max < min`; otherwise `max(min, min(max, v))` with
/// Go's NaN rules, so a NaN `min` or `max` gives NaN.
pub fn clamp(v: f64, min: f64, max: f64) -> Option<f64> {
    if max < min {
        return None;
    }
    Some(go_max(min, go_min(max, v)))
}

/// `clamp_min(v, min)`, i.e. `clamp(v, min, +Inf)`.
pub fn clamp_min(v: f64, min: f64) -> f64 {
    go_max(min, go_min(f64::INFINITY, v))
}

/// `clamp_max(v, max)`, i.e. `clamp(v, -Inf, max)`.
pub fn clamp_max(v: f64, max: f64) -> f64 {
    go_max(f64::NEG_INFINITY, go_min(max, v))
}

/// A UTC calendar date and time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Civil {
    year: i64,
    /// 1..=12
    month: i64,
    /// 1..=31
    day: i64,
    /// 0..=23
    hour: i64,
    /// 0..=59
    minute: i64,
    /// 0 = Sunday
    weekday: i64,
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The proleptic Gregorian date of `secs` seconds after the epoch (Howard Hinnant's `civil_from_days`).
fn civil(secs: i64) -> Civil {
    let days = secs.div_euclid(86_400);
    let sec_of_day = secs.rem_euclid(86_400);
    // Shift the epoch to 0000-03-01 so leap days come last in the (400-year) era.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    Civil {
        year,
        month,
        day,
        hour: sec_of_day / 3_600,
        minute: sec_of_day % 3_600 / 60,
        // 1970-01-01 was a Thursday.
        weekday: (days + 4).rem_euclid(7),
    }
}

fn day_of_year(c: &Civil) -> i64 {
    (1..c.month).map(|m| days_in_month(c.year, m)).sum::<i64>() + c.day
}

/// The date function `name` (`day_of_month`, `day_of_week`, `day_of_year`, `days_in_month`, `hour`,
/// `minute`, `month`, `year`) of the UTC time `unix_seconds`, or `None` for any other name.
///
/// The seconds are truncated towards zero, as Prometheus' `time.Unix(int64(v), 0)` does. NaN, ±Inf and
/// values outside the int64 range give NaN (Prometheus converts them to a platform-dependent garbage
/// date instead).
pub fn date_part(name: &str, unix_seconds: f64) -> Option<f64> {
    let part: fn(&Civil) -> i64 = match name {
        "day_of_month" => |c| c.day,
        "day_of_week" => |c| c.weekday,
        "day_of_year" => day_of_year,
        "days_in_month" => |c| days_in_month(c.year, c.month),
        "hour" => |c| c.hour,
        "minute" => |c| c.minute,
        "month" => |c| c.month,
        "year" => |c| c.year,
        _ => return None,
    };
    // i64::MIN is -2^63 exactly; 2^63 is the first value beyond i64::MAX.
    const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
    let secs = unix_seconds.trunc();
    if !(-TWO_POW_63..TWO_POW_63).contains(&secs) {
        return Some(f64::NAN);
    }
    Some(part(&civil(secs as i64)) as f64)
}

/// The date function `name` of an evaluation timestamp in milliseconds (the no-argument form, e.g.
/// `year()`), whose seconds Prometheus takes as `ts / 1000` truncated towards zero.
pub fn date_part_at_ms(name: &str, ts_ms: i64) -> Option<f64> {
    date_part(name, (ts_ms / 1000) as f64)
}

// Expected values are spelled as in Prometheus' test scripts.
#[cfg(test)]
#[allow(clippy::excessive_precision, clippy::approx_constant)]
mod tests {
    use super::*;
    use crate::engine::kernels::testutil::{assert_close, assert_exact};
    use proptest::prelude::*;

    fn m(name: &str) -> fn(f64) -> f64 {
        simple_math(name).unwrap()
    }

    const NAMES: [&str; 23] = [
        "abs", "ceil", "floor", "exp", "sqrt", "ln", "log2", "log10", "sgn", "sin", "cos", "tan",
        "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "deg", "rad",
    ];

    #[test]
    fn abs_ceil_floor_round() {
        // functions.test "Test for abs, ceil(), floor(), round()".
        let data = [
            2.5,
            2.0,
            -2.5,
            -2.0,
            0.0,
            -0.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        let abs = [2.5, 2.0, 2.5, 2.0, 0.0, 0.0, f64::INFINITY, f64::INFINITY];
        let ceil = [
            3.0,
            2.0,
            -2.0,
            -2.0,
            0.0,
            0.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        let floor = [
            2.0,
            2.0,
            -3.0,
            -2.0,
            0.0,
            0.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        let rounded = [
            3.0,
            2.0,
            -2.0,
            -2.0,
            0.0,
            0.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        for i in 0..data.len() {
            assert_eq!(m("abs")(data[i]), abs[i]);
            assert_eq!(m("ceil")(data[i]), ceil[i]);
            assert_eq!(m("floor")(data[i]), floor[i]);
            assert_eq!(round(data[i], 1.0), rounded[i]);
        }
        for f in ["abs", "ceil", "floor"] {
            assert!(m(f)(f64::NAN).is_nan());
        }
        assert!(round(f64::NAN, 1.0).is_nan());
        // round to a multiple.
        assert_exact(round(12.345, 0.1), 12.3);
        assert_exact(round(12.35, 0.1), 12.4);
        assert_exact(round(17.0, 5.0), 15.0);
        assert_exact(round(17.5, 5.0), 20.0);
        assert_exact(round(-17.5, 5.0), -15.0);
    }

    #[test]
    fn exp_sqrt_logs() {
        // functions.test "Testing exp() sqrt() log2() log10() ln()".
        assert_close(m("exp")(10.0), 22026.465794806718);
        assert_close(m("exp")(20.0), 485165195.4097903);
        assert_close(m("exp")(-10.0), 4.5399929762484854e-05);
        assert_exact(m("exp")(0.0), 1.0);
        assert_close(m("ln")(10.0), 2.302585092994046);
        assert_close(m("ln")(20.0), 2.995732273553991);
        assert_exact(m("ln")(0.0), f64::NEG_INFINITY);
        assert!(m("ln")(-10.0).is_nan());
        assert_close(m("sqrt")(10.0), 3.1622776601683795);
        assert_close(m("sqrt")(20.0), 4.47213595499958);
        assert_close(m("log2")(10.0), 3.3219280948873626);
        assert_close(m("log2")(20.0), 4.321928094887363);
        assert_exact(m("log2")(0.0), f64::NEG_INFINITY);
        assert!(m("log2")(-10.0).is_nan());
        assert_exact(m("log2")(8.0), 3.0);
        assert_exact(m("log2")(0.25), -2.0);
        assert_exact(m("log2")(f64::INFINITY), f64::INFINITY);
        assert_exact(m("log2")(5e-324), -1074.0);
        assert_close(m("log10")(10.0), 1.0);
        assert_close(m("log10")(20.0), 1.301029995663981);
        assert_exact(m("log10")(0.0), f64::NEG_INFINITY);
        assert!(m("log10")(-10.0).is_nan());
        // Go's Log10 is Log2 · (Ln2/Ln10).
        assert_exact(m("log10")(1000.0), go_log2(1000.0) * LOG10_2);
    }

    #[test]
    fn frexp_matches_go() {
        assert_eq!(frexp(8.0), (0.5, 4));
        assert_eq!(frexp(-3.0), (-0.75, 2));
        assert_eq!(frexp(1.0), (0.5, 1));
        assert_eq!(frexp(0.0), (0.0, 0));
        assert_eq!(frexp(5e-324), (0.5, -1073));
        assert_eq!(frexp(f64::MAX).1, 1024);
    }

    #[test]
    fn sgn_deg_rad_trig() {
        // functions.test "Test cases for sgn".
        assert_eq!(m("sgn")(f64::NEG_INFINITY), -1.0);
        assert_eq!(m("sgn")(f64::INFINITY), 1.0);
        assert!(m("sgn")(f64::NAN).is_nan());
        assert_eq!(m("sgn")(-50.0), -1.0);
        assert_eq!(m("sgn")(0.0), 0.0);
        assert!(m("sgn")(-0.0).is_sign_negative());
        assert_eq!(m("sgn")(100.0), 1.0);
        assert_exact(m("deg")(PI), 180.0);
        assert_exact(m("rad")(180.0), PI);
        assert_close(m("deg")(1.0), 57.29577951308232);
        assert_close(m("sin")(PI / 2.0), 1.0);
        assert_close(m("cos")(0.0), 1.0);
        assert_close(m("tan")(PI / 4.0), 1.0);
        assert_close(m("asin")(1.0), PI / 2.0);
        assert_close(m("acos")(-1.0), PI);
        assert_close(m("atan")(1.0), PI / 4.0);
        assert_close(m("sinh")(1.0), 1.1752011936438014);
        assert_close(m("cosh")(1.0), 1.5430806348152437);
        assert_close(m("tanh")(1.0), 0.7615941559557649);
        assert_close(m("asinh")(1.0), 0.881373587019543);
        assert_close(m("acosh")(2.0), 1.3169578969248166);
        assert_close(m("atanh")(0.5), 0.5493061443340549);
        assert!(m("acosh")(0.5).is_nan());
        assert_exact(m("atanh")(1.0), f64::INFINITY);
        assert!(m("asin")(2.0).is_nan());
        // trig_functions.test at 10 and 20.
        for (name, x, y) in [
            ("sin", -0.5440211108893699, 0.9129452507276277),
            ("cos", -0.8390715290764524, 0.40808206181339196),
            ("tan", 0.6483608274590867, 2.2371609442247427),
            ("atan", 1.4711276743037345, 1.5208379310729538),
            ("sinh", 11013.232920103324, 2.4258259770489514e+08),
            ("cosh", 11013.232920103324, 2.4258259770489514e+08),
            ("tanh", 0.9999999958776927, 1.0),
            ("asinh", 2.99822295029797, 3.6895038689889055),
            ("acosh", 2.993222846126381, 3.6882538673612966),
            ("rad", 0.17453292519943295, 0.3490658503988659),
            ("deg", 572.9577951308232, 1145.9155902616465),
        ] {
            assert_close(m(name)(10.0), x);
            assert_close(m(name)(20.0), y);
            assert!(m(name)(f64::NAN).is_nan());
        }
        assert_close(m("asin")(10.0 - 10.1), -0.10016742116155944);
        assert_close(m("acos")(10.0 - 10.1), 1.670963747956456);
        assert_close(m("atanh")(10.0 - 10.1), -0.10033534773107522);
        assert!(m("asin")(20.0 - 10.1).is_nan());
        assert!(simple_math("round").is_none());
        assert!(simple_math("").is_none());
        for name in NAMES {
            assert!(simple_math(name).is_some(), "{name}");
        }
    }

    #[test]
    fn clamps() {
        // functions.test "Tests for clamp_max, clamp_min(), and clamp()".
        for (v, cmax, cmin, c) in [
            (-50.0, -50.0, -25.0, -25.0),
            (0.0, 0.0, 0.0, 0.0),
            (100.0, 75.0, 100.0, 75.0),
        ] {
            assert_eq!(clamp_max(v, 75.0), cmax);
            assert_eq!(clamp_min(v, -25.0), cmin);
            assert_eq!(clamp(v, -25.0, 75.0), Some(c));
            assert!(clamp(v, 0.0, f64::NAN).unwrap().is_nan());
            assert!(clamp(v, f64::NAN, 0.0).unwrap().is_nan());
            assert_eq!(clamp(v, 5.0, -5.0), None);
        }
        assert_eq!(clamp_max(clamp_min(-50.0, -20.0), 70.0), -20.0);
        assert_eq!(clamp_max(clamp_min(100.0, -20.0), 70.0), 70.0);
        // mixed_metric 1 2 3: clamp(…, 2, 5) = 2 2 3; clamp_max(…, 2) = 1 2 2.
        assert_eq!(clamp(1.0, 2.0, 5.0), Some(2.0));
        assert_eq!(clamp_max(3.0, 2.0), 2.0);
        // Go's Max/Min: NaN input stays NaN, ±Inf bounds win over NaN.
        assert!(clamp(f64::NAN, 0.0, 1.0).unwrap().is_nan());
        assert!(clamp_min(f64::NAN, 0.0).is_nan());
        assert_eq!(clamp_min(f64::NAN, f64::INFINITY), f64::INFINITY);
        assert_eq!(clamp_max(f64::NAN, f64::NEG_INFINITY), f64::NEG_INFINITY);
        assert!(clamp_max(f64::NAN, 1.0).is_nan());
        assert!(clamp_min(-0.0, 0.0).is_sign_positive());
        assert!(clamp_max(0.0, -0.0).is_sign_negative());
        assert_eq!(go_max(-0.0, 0.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(go_min(0.0, -0.0).to_bits(), (-0.0f64).to_bits());
    }

    #[test]
    fn date_parts() {
        // functions.test: 1136239445 is 2006-01-02T22:04:05Z, a Monday.
        let t = 1136239445.0;
        assert_eq!(date_part("year", t), Some(2006.0));
        assert_eq!(date_part("month", t), Some(1.0));
        assert_eq!(date_part("day_of_month", t), Some(2.0));
        assert_eq!(date_part("day_of_year", t), Some(2.0));
        assert_eq!(date_part("day_of_week", t), Some(1.0));
        assert_eq!(date_part("hour", t), Some(22.0));
        assert_eq!(date_part("minute", t), Some(4.0));
        assert_eq!(date_part("days_in_month", t), Some(31.0));
        // The epoch (year() etc. at 0m).
        assert_eq!(date_part_at_ms("year", 0), Some(1970.0));
        assert_eq!(date_part_at_ms("month", 0), Some(1.0));
        assert_eq!(date_part_at_ms("day_of_month", 0), Some(1.0));
        assert_eq!(date_part_at_ms("day_of_year", 0), Some(1.0));
        assert_eq!(date_part_at_ms("day_of_week", 0), Some(4.0));
        assert_eq!(date_part_at_ms("hour", 0), Some(0.0));
        assert_eq!(date_part_at_ms("minute", 0), Some(0.0));
        // Year boundary: 2008-12-31T23:59:59 and 2009-01-01T00:00:00.
        assert_eq!(date_part("year", 1230767999.0), Some(2008.0));
        assert_eq!(date_part("year", 1230768000.0), Some(2009.0));
        // Leap day: 2016-02-29T23:59:59 and 2016-03-01.
        assert_eq!(date_part("month", 1456790399.0), Some(2.0));
        assert_eq!(date_part("day_of_month", 1456790399.0), Some(29.0));
        assert_eq!(date_part("month", 1456790400.0), Some(3.0));
        assert_eq!(date_part("day_of_month", 1456790400.0), Some(1.0));
        // Day 366 of leap year 2016, day 365 of 2022.
        assert_eq!(date_part("day_of_year", 1483191420.0), Some(366.0));
        assert_eq!(date_part("day_of_year", 1672493820.0), Some(365.0));
        // February 2016 and 2017.
        assert_eq!(date_part("days_in_month", 1454284800.0), Some(29.0));
        assert_eq!(date_part("days_in_month", 1485907200.0), Some(28.0));
        // Before the epoch and fractional seconds (truncated towards zero).
        assert_eq!(date_part("year", -1.0), Some(1969.0));
        assert_eq!(date_part("hour", -1.0), Some(23.0));
        assert_eq!(date_part("day_of_week", -86400.0), Some(3.0));
        assert_eq!(date_part("year", -0.9), Some(1970.0));
        assert_eq!(date_part("minute", 59.9), Some(0.0));
        assert_eq!(date_part("year", -62135596800.0), Some(1.0));
        assert_eq!(date_part("year", -62135596801.0), Some(0.0));
        assert_eq!(date_part("days_in_month", 951782400.0), Some(29.0)); // 2000-02-29
        assert_eq!(date_part("days_in_month", -2206310400.0), Some(28.0)); // 1900-02-01
        // Non-finite and out-of-range input.
        assert!(date_part("year", f64::NAN).unwrap().is_nan());
        assert!(date_part("year", f64::INFINITY).unwrap().is_nan());
        assert!(date_part("hour", -1e19).unwrap().is_nan());
        assert_eq!(date_part("weekday", 0.0), None);
        assert_eq!(date_part_at_ms("year", -1500), Some(1969.0));
    }

    proptest! {
        #[test]
        fn instant_functions_never_panic(v in any::<f64>(), a in any::<f64>(), b in any::<f64>()) {
            for name in NAMES {
                let _ = simple_math(name).unwrap()(v);
            }
            let _ = (round(v, a), clamp(v, a, b), clamp_min(v, a), clamp_max(v, b));
            for name in ["day_of_month", "day_of_week", "day_of_year", "days_in_month", "hour", "minute", "month", "year"] {
                let r = date_part(name, v).unwrap();
                if v.is_finite() && v.trunc().abs() < 9.2e18 {
                    prop_assert!(r.is_finite());
                } else {
                    prop_assert!(r.is_nan());
                }
            }
        }

        #[test]
        fn civil_dates_round_trip(days in -100_000_000i64..100_000_000) {
            let c = civil(days * 86_400);
            prop_assert!((1..=12).contains(&c.month));
            prop_assert!(c.day >= 1 && c.day <= days_in_month(c.year, c.month));
            let next = civil((days + 1) * 86_400);
            // Consecutive days advance the calendar by exactly one day.
            if c.day < days_in_month(c.year, c.month) {
                prop_assert_eq!((next.year, next.month, next.day), (c.year, c.month, c.day + 1));
            } else if c.month < 12 {
                prop_assert_eq!((next.year, next.month, next.day), (c.year, c.month + 1, 1));
            } else {
                prop_assert_eq!((next.year, next.month, next.day), (c.year + 1, 1, 1));
            }
            prop_assert_eq!(next.weekday, (c.weekday + 1) % 7);
        }
    }
}
