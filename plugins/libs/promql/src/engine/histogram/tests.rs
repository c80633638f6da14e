//! Unit tests of the histogram arithmetic and functions, with cases from Prometheus' conformance scripts
//! (`histograms.test`, `functions.test`, `aggregators.test`, `operators.test`) where they exist, and
//! property tests that no input panics.

use proptest::prelude::*;

use super::ops::spans_match;
use super::*;
use crate::engine::kernels::testutil::{assert_close, assert_exact};

fn h(text: &str) -> FloatHistogram {
    parse_histogram_literal(text).unwrap_or_else(|e| panic!("{e}"))
}

#[track_caller]
fn assert_hist(actual: &FloatHistogram, expected: &str) {
    let (exp, hint) = parse_histogram_literal_with_hint(expected).expect("valid literal");
    assert!(
        harness_equal(&exp, actual, hint),
        "expected {expected}, got {}",
        actual.test_expression()
    );
}

fn total(h: &FloatHistogram) -> f64 {
    h.zero_count + h.positive_buckets.iter().sum::<f64>() + h.negative_buckets.iter().sum::<f64>()
}

// ---------------------------------------------------------------------------------------------------
// add, sub, mul, div, compact

#[test]
fn add_same_schema_and_custom_buckets() {
    // histograms.test: sum_over_time(histogram_over_time[4m:1m]) adds four NHCB samples.
    let mut sum = h("{{schema:-53 count:3 custom_values:[0 1 2 4] buckets:[0 2 1]}}");
    for text in [
        "{{schema:-53 count:10 custom_values:[0 1 2 4] buckets:[1 2 5 2]}}",
        "{{schema:-53 count:6 custom_values:[0 1 2 4] buckets:[3 0 2 1]}}",
        "{{schema:-53 count:18 custom_values:[0 1 2 4] buckets:[9 0 1 8]}}",
    ] {
        let outcome = sum.add(&h(text)).expect("compatible");
        assert!(!outcome.nhcb_bounds_reconciled && !outcome.counter_reset_collision);
    }
    assert_hist(
        &sum,
        "{{schema:-53 count:37 custom_values:[0 1 2 4] buckets:[13 4 9 11]}}",
    );
    // avg_over_time divides the sum by the number of samples.
    sum.div(4.0);
    assert_hist(
        &sum,
        "{{schema:-53 count:9.25 custom_values:[0 1 2 4] buckets:[3.25 1 2.25 2.75]}}",
    );

    // functions.test: the README example, {{A}}+{{B}} with A = B.
    let mut a = h("{{schema:0 sum:5 count:4 buckets:[1 2 1]}}");
    a.add(&h("{{schema:0 sum:5 count:4 buckets:[1 2 1]}}"))
        .expect("compatible");
    assert_hist(&a, "{{schema:0 sum:10 count:8 buckets:[2 4 2]}}");
}

#[test]
fn sub_reconciles_mismatched_custom_bounds() {
    // functions.test: idelta(http_requests_histogram{path="/g"}[20m]).
    let mut last =
        h("{{schema:-53 sum:1 count:1 custom_values:[1 10] buckets:[1] counter_reset_hint:gauge}}");
    let previous =
        h("{{schema:-53 sum:1 count:1 custom_values:[1] buckets:[2] counter_reset_hint:gauge}}");
    let outcome = last.sub(&previous).expect("both custom");
    assert!(outcome.nhcb_bounds_reconciled);
    assert_hist(
        &last,
        "{{schema:-53 custom_values:[1] counter_reset_hint:gauge buckets:[-1]}}",
    );
    // Bounds 5 and 10 against 1: the intersection is empty, everything lands in the +Inf bucket.
    let mut a = h("{{schema:-53 count:3 custom_values:[5 10] buckets:[1 2]}}");
    let outcome = a
        .add(&h("{{schema:-53 count:1 custom_values:[1] buckets:[0 1]}}"))
        .expect("both custom");
    assert!(outcome.nhcb_bounds_reconciled);
    assert!(a.custom_values.is_empty());
    assert_eq!(a.positive_buckets, vec![4.0]);
}

#[test]
fn exponential_and_custom_buckets_do_not_mix() {
    let mut a = h("{{sum:1 count:1}}");
    let before = a.clone();
    let b = h("{{schema:-53 sum:3 count:3 custom_values:[5 10] buckets:[3]}}");
    assert_eq!(a.add(&b), Err(HistogramError::IncompatibleSchema));
    assert_eq!(a.sub(&b), Err(HistogramError::IncompatibleSchema));
    assert!(a.kahan_add(&b, None).is_err());
    assert_eq!(
        a, before,
        "a failed operation leaves the receiver unchanged"
    );
}

#[test]
fn add_reduces_the_finer_schema() {
    // Schema-1 buckets 0…3 map to schema-0 buckets 0, 1, 1, 2.
    let mut fine = h("{{schema:1 count:4 buckets:[1 1 1 1]}}");
    fine.add(&h("{{schema:0 count:1 offset:1 buckets:[1]}}"))
        .expect("compatible");
    assert_eq!(fine.schema, 0);
    assert_hist(&fine, "{{schema:0 count:5 buckets:[1 3 1]}}");
    // The other way round the receiver keeps its schema.
    let mut coarse = h("{{schema:0 count:1 offset:1 buckets:[1]}}");
    coarse
        .add(&h("{{schema:1 count:4 buckets:[1 1 1 1]}}"))
        .expect("compatible");
    assert_hist(&coarse, "{{schema:0 count:5 buckets:[1 3 1]}}");
    // Negative buckets map the same way.
    let mut n = h("{{schema:2 count:4 n_offset:-1 n_buckets:[1 1 1 1]}}");
    n.reduce_resolution(0).expect("lower schema");
    assert_hist(&n, "{{schema:0 count:4 n_buckets:[2 2]}}");
    assert!(n.reduce_resolution(0).is_err());
    assert!(
        h("{{schema:-53 custom_values:[1]}}")
            .reduce_resolution(-1)
            .is_err()
    );
}

#[test]
fn add_widens_zero_buckets_without_cutting_populated_buckets() {
    let mut a = h("{{schema:0 count:5 z_bucket:1 z_bucket_w:0.01 offset:-2 buckets:[1 2 1]}}");
    let b = h("{{schema:0 count:3 z_bucket:1 z_bucket_w:0.3 buckets:[2]}}");
    a.add(&b).expect("compatible");
    // 0.3 falls inside the populated (0.25,0.5] bucket, so the threshold becomes 0.5.
    assert_hist(&a, "{{count:8 z_bucket:5 z_bucket_w:0.5 buckets:[3]}}");
    // Symmetric: the receiver with the wider zero bucket.
    let mut b2 = b.clone();
    b2.add(&h(
        "{{schema:0 count:5 z_bucket:1 z_bucket_w:0.01 offset:-2 buckets:[1 2 1]}}",
    ))
    .expect("compatible");
    assert_hist(&b2, "{{count:8 z_bucket:5 z_bucket_w:0.5 buckets:[3]}}");
    // Negative buckets are absorbed too.
    let mut c = h("{{count:2 z_bucket_w:0.001 n_offset:-1 n_buckets:[1] buckets:[1]}}");
    c.add(&h("{{count:1 z_bucket:1 z_bucket_w:0.5}}"))
        .expect("compatible");
    assert_hist(&c, "{{count:3 z_bucket:2 z_bucket_w:0.5 buckets:[1]}}");
}

#[test]
fn add_inserts_buckets_into_the_span_list() {
    let mut a = h("{{count:1 buckets:[1]}}");
    a.add(&h("{{count:2 offset:3 buckets:[1 1]}}"))
        .expect("compatible");
    assert_eq!(a.positive_spans, vec![Span::new(0, 1), Span::new(2, 2)]);
    assert_eq!(a.positive_buckets, vec![1.0, 1.0, 1.0]);
    let mut a = h("{{count:1 buckets:[1]}}");
    a.add(&h("{{count:1 offset:-2 buckets:[1]}}"))
        .expect("compatible");
    assert_eq!(a.positive_spans, vec![Span::new(-2, 1), Span::new(1, 1)]);
    let mut a = h("{{count:1 buckets:[1]}}");
    a.add(&h("{{count:1 offset:1 buckets:[2]}}"))
        .expect("compatible");
    assert_eq!(a.positive_spans, vec![Span::new(0, 2)]);
    assert_eq!(a.positive_buckets, vec![1.0, 2.0]);
    // Filling the gap between two spans joins nothing until compact.
    let mut a = h("{{count:2 buckets:[1]}}");
    a.add(&h("{{count:1 offset:2 buckets:[1]}}"))
        .expect("compatible");
    a.add(&h("{{count:1 offset:1 buckets:[1]}}"))
        .expect("compatible");
    a.compact(0);
    assert_eq!(a.positive_spans, vec![Span::new(0, 3)]);
    assert_eq!(a.positive_buckets, vec![1.0, 1.0, 1.0]);
}

#[test]
fn counter_reset_hints_of_sums() {
    use CounterResetHint::*;
    let with = |hint: &str| h(&format!("{{{{count:1 counter_reset_hint:{hint}}}}}"));
    let cases = [
        ("gauge", "reset", Gauge, false),
        ("reset", "gauge", Gauge, false),
        ("unknown", "reset", Unknown, false),
        ("reset", "unknown", Unknown, false),
        ("reset", "not_reset", Unknown, true),
        ("not_reset", "not_reset", NotCounterReset, false),
    ];
    for (left, right, hint, collision) in cases {
        let mut a = with(left);
        let outcome = a.add(&with(right)).expect("compatible");
        assert_eq!(
            (a.counter_reset_hint, outcome.counter_reset_collision),
            (hint, collision)
        );
    }
}

#[test]
fn mul_div_and_sign() {
    let mut a = h("{{count:4 sum:6 z_bucket:1 buckets:[1 2] n_buckets:[1]}}");
    a.mul(2.0);
    assert_hist(
        &a,
        "{{count:8 sum:12 z_bucket:2 buckets:[2 4] n_buckets:[2]}}",
    );
    assert_eq!(a.counter_reset_hint, CounterResetHint::Unknown);
    a.mul(-1.0);
    assert_eq!(a.counter_reset_hint, CounterResetHint::Gauge);
    let mut b = h("{{count:4 sum:6 buckets:[1 2]}}");
    b.div(2.0);
    assert_hist(&b, "{{count:2 sum:3 buckets:[0.5 1]}}");
    // Division by zero drops the buckets.
    b.div(0.0);
    assert_eq!(b.count, f64::INFINITY);
    assert!(b.positive_buckets.is_empty() && b.positive_spans.is_empty());
}

#[test]
fn compact_removes_empty_buckets_and_merges_spans() {
    let mut a = h("{{offset:-1 buckets:[0 1 0 0 2 0] n_buckets:[0 0]}}");
    a.compact(0);
    assert_eq!(a.positive_spans, vec![Span::new(0, 1), Span::new(2, 1)]);
    assert_eq!(a.positive_buckets, vec![1.0, 2.0]);
    assert!(a.negative_spans.is_empty() && a.negative_buckets.is_empty());
    // Up to `max_empty` empty buckets stay inside a span, and spans that close are merged.
    let mut b = h("{{buckets:[1 0 0 2]}}");
    b.compact(2);
    assert_eq!(b.positive_spans, vec![Span::new(0, 4)]);
    let mut c = FloatHistogram {
        positive_spans: vec![
            Span::new(0, 1),
            Span::new(0, 1),
            Span::new(3, 0),
            Span::new(1, 1),
        ],
        positive_buckets: vec![1.0, 2.0, 3.0],
        ..FloatHistogram::default()
    };
    c.compact(0);
    assert_eq!(c.positive_spans, vec![Span::new(0, 2), Span::new(4, 1)]);
    c.compact(4);
    assert_eq!(c.positive_spans, vec![Span::new(0, 7)]);
    assert_eq!(c.positive_buckets, vec![1.0, 2.0, 0.0, 0.0, 0.0, 0.0, 3.0]);
    assert!(spans_match(
        &[Span::new(0, 2), Span::new(1, 0)],
        &[Span::new(0, 2)]
    ));
}

#[test]
fn equals_is_exact() {
    let a = h("{{count:2 sum:1 buckets:[1 1]}}");
    let mut b = a.clone();
    assert!(a.equals(&b));
    b.positive_spans = vec![Span::new(0, 2), Span::new(5, 0)];
    assert!(
        a.equals(&b),
        "a trailing zero-length span is the same layout"
    );
    b.sum = 1.0 + f64::EPSILON;
    assert!(!a.equals(&b));
    let nan = h("{{sum:NaN}}");
    assert!(nan.equals(&nan.clone()));
}

#[test]
fn kahan_add_compensates_every_field() {
    let values = [
        "{{count:1e100 sum:1e100 z_bucket:1e100 buckets:[1e100] n_buckets:[1e100]}}",
        "{{count:1 sum:1 z_bucket:1 buckets:[1] n_buckets:[1]}}",
        "{{count:-1e100 sum:-1e100 z_bucket:-1e100 buckets:[-1e100] n_buckets:[-1e100]}}",
    ];
    let mut sum = h(values[0]);
    let mut c = None;
    for text in &values[1..] {
        let (comp, _) = sum.kahan_add(&h(text), c.take()).expect("compatible");
        c = Some(comp);
    }
    sum.add(&c.expect("compensation")).expect("compatible");
    sum.compact(0);
    assert_hist(
        &sum,
        "{{count:1 sum:1 z_bucket:1 buckets:[1] n_buckets:[1]}}",
    );
    // Plain addition loses the 1s.
    let mut plain = h(values[0]);
    for text in &values[1..] {
        plain.add(&h(text)).expect("compatible");
    }
    assert_eq!(plain.count, 0.0);

    // With schema changes and zero-threshold changes the totals still come out right.
    let mut s = h("{{schema:2 count:4 z_bucket_w:0.001 buckets:[1 1 1 1]}}");
    let (c, _) = s
        .kahan_add(
            &h("{{schema:0 count:2 z_bucket:1 z_bucket_w:0.6 buckets:[1]}}"),
            None,
        )
        .expect("compatible");
    s.add(&c).expect("compatible");
    assert_eq!(s.schema, 0);
    assert_close(total(&s), 6.0);
    assert_close(s.count, 6.0);

    // Custom buckets, matching and mismatched.
    let mut s = h("{{schema:-53 count:2 custom_values:[1 2] buckets:[1 1]}}");
    let (c, o) = s
        .kahan_add(
            &h("{{schema:-53 count:1 custom_values:[1 2] buckets:[0 0 1]}}"),
            None,
        )
        .expect("compatible");
    assert!(!o.nhcb_bounds_reconciled);
    let (c, o) = s
        .kahan_add(
            &h("{{schema:-53 count:1 custom_values:[2] buckets:[1]}}"),
            Some(c),
        )
        .expect("compatible");
    assert!(o.nhcb_bounds_reconciled);
    s.add(&c).expect("compatible");
    assert_hist(&s, "{{schema:-53 count:4 custom_values:[2] buckets:[3 1]}}");
}

#[test]
fn detect_reset_follows_prometheus() {
    let prev = h("{{count:4 sum:5 z_bucket_w:0.001 z_bucket:1 buckets:[1 2]}}");
    assert!(!h("{{count:5 sum:1 z_bucket_w:0.001 z_bucket:1 buckets:[1 3]}}").detect_reset(&prev));
    // A smaller count, zero count or bucket, or a populated bucket gone, is a reset.
    assert!(h("{{count:3 z_bucket_w:0.001 z_bucket:1 buckets:[1 2]}}").detect_reset(&prev));
    assert!(h("{{count:4 z_bucket_w:0.001 z_bucket:0 buckets:[1 3]}}").detect_reset(&prev));
    assert!(h("{{count:4 z_bucket_w:0.001 z_bucket:1 buckets:[1 1]}}").detect_reset(&prev));
    assert!(h("{{count:4 z_bucket_w:0.001 z_bucket:1 offset:1 buckets:[4]}}").detect_reset(&prev));
    // Higher resolution or a smaller zero bucket can only come with a reset.
    assert!(
        h("{{schema:1 count:9 z_bucket_w:0.001 z_bucket:1 buckets:[1 2 3]}}").detect_reset(&prev)
    );
    assert!(h("{{count:9 z_bucket:1 buckets:[1 3]}}").detect_reset(&prev));
    // A lower schema merges the previous buckets: (0.5,1] and (1,2] become schema −1's (0.25,1] and (1,4].
    assert!(
        !h("{{schema:-1 count:4 z_bucket_w:0.001 z_bucket:1 buckets:[1 2]}}").detect_reset(&prev)
    );
    // A wider zero bucket absorbs the previous buckets below it.
    assert!(!h("{{count:4 z_bucket_w:1 z_bucket:2 offset:1 buckets:[2]}}").detect_reset(&prev));
    // The hint decides when it says so.
    assert!(!h("{{count:0 counter_reset_hint:not_reset}}").detect_reset(&prev));
    assert!(h("{{count:9 counter_reset_hint:reset}}").detect_reset(&prev));
    // Custom buckets with other bounds compare the counts up to the bounds both have.
    let prev = h("{{schema:-53 count:3 custom_values:[1 10] buckets:[1 1 1]}}");
    assert!(!h("{{schema:-53 count:4 custom_values:[1] buckets:[1 3]}}").detect_reset(&prev));
    assert!(h("{{schema:-53 count:4 custom_values:[1] buckets:[0 4]}}").detect_reset(&prev));
    assert!(h("{{count:4 buckets:[4]}}").detect_reset(&prev));
}

// ---------------------------------------------------------------------------------------------------
// Functions

/// histograms.test's `testhistogram3` at 50m, as load_with_nhcb converts it.
fn testhistogram3() -> (FloatHistogram, FloatHistogram) {
    (
        h("{{schema:-53 sum:330 count:110 custom_values:[0 0.1 0.2 1] buckets:[0 50 20 40 0]}}"),
        h(
            "{{schema:-53 sum:80 count:20 custom_values:[-0.25 -0.2 -0.1 0.3] buckets:[0 10 10 0 0]}}",
        ),
    )
}

#[test]
fn count_sum_avg_stddev_stdvar_of_testhistogram3() {
    let (positive, negative) = testhistogram3();
    assert_exact(histogram_count(&positive), 110.0);
    assert_exact(histogram_sum(&negative), 80.0);
    assert_exact(histogram_avg(&positive), 3.0);
    assert_exact(histogram_avg(&negative), 4.0);
    assert_close(histogram_stddev(&positive), 2.7435461458749795);
    assert_close(histogram_stddev(&negative), 4.187667907081458);
    assert_close(histogram_stdvar(&positive), 7.527045454545455);
    assert_close(histogram_stdvar(&negative), 17.5365625);
}

#[test]
fn stdvar_of_exponential_buckets_uses_geometric_means() {
    let v = h("{{schema:0 count:3 sum:3 z_bucket:1 z_bucket_w:0.001 buckets:[0 2] n_buckets:[0]}}");
    let expected = (1.0 + 2.0 * (2f64.sqrt() - 1.0).powi(2)) / 3.0;
    assert_close(histogram_stdvar(&v), expected);
    let n = h("{{schema:0 count:2 sum:-2 n_buckets:[0 2]}}");
    assert_close(histogram_stdvar(&n), (-(2f64.sqrt()) + 1.0).powi(2));
}

#[test]
fn quantiles_of_custom_buckets() {
    let (positive, negative) = testhistogram3();
    for (q, p, n) in [
        (0.0, 0.0, -0.25),
        (0.25, 0.055, -0.225),
        (0.5, 0.125, -0.2),
        (0.75, 0.45, -0.15),
        (1.0, 1.0, -0.1),
    ] {
        assert_close(histogram_quantile(q, &positive), p);
        assert_close(histogram_quantile(q, &negative), n);
    }
    // testhistogram: the +Inf bucket is populated.
    let positive =
        h("{{schema:-53 count:120 sum:0 custom_values:[0.1 0.2 1] buckets:[50 20 40 10]}}");
    let negative =
        h("{{schema:-53 count:30 sum:0 custom_values:[-0.2 -0.1 0.3] buckets:[10 10 0 10]}}");
    for (q, p, n) in [
        (0.0, 0.0, -0.2),
        (1.0, 1.0, 0.3),
        (0.2, 0.048, -0.2),
        (0.5, 0.15, -0.15),
        (0.8, 0.72, 0.3),
    ] {
        assert_close(histogram_quantile(q, &positive), p);
        assert_close(histogram_quantile(q, &negative), n);
    }
    // testhistogram2: quantiles in the middle of buckets.
    let two = h("{{schema:-53 count:30 custom_values:[0 2 4 6] buckets:[0 10 10 10 0]}}");
    assert_close(histogram_quantile(1.0 / 6.0, &two), 1.0);
    assert_close(histogram_quantile(0.5, &two), 3.0);
    assert_close(histogram_quantile(5.0 / 6.0, &two), 5.0);
    // An empty histogram.
    assert!(histogram_quantile(1.0, &h("{{schema:-53 custom_values:[0 1 2]}}")).is_nan());
}

#[test]
fn quantile_edge_arguments() {
    let v = h("{{schema:0 sum:5 count:4 buckets:[1 2 1]}}");
    assert_eq!(histogram_quantile(-0.1, &v), f64::NEG_INFINITY);
    assert_eq!(histogram_quantile(1.01, &v), f64::INFINITY);
    assert!(histogram_quantile(f64::NAN, &v).is_nan());
    assert_eq!(histogram_quantile(-1.0, &h("{{}}")), f64::NEG_INFINITY);
    assert!(histogram_quantile(0.5, &h("{{}}")).is_nan());
}

#[test]
fn quantiles_of_exponential_buckets_interpolate_on_a_log_scale() {
    let v = h("{{schema:0 sum:5 count:4 buckets:[1 2 1]}}");
    assert_close(histogram_quantile(0.5, &v), 2f64.sqrt());
    assert_close(histogram_quantile(0.25, &v), 1.0);
    assert_close(histogram_quantile(1.0, &v), 4.0);
    assert_close(histogram_quantile(0.0, &v), 0.5);
    // The zero bucket interpolates linearly, from 0 when there are only positive buckets.
    let z = h("{{count:4 sum:1 z_bucket:2 z_bucket_w:0.5 buckets:[2]}}");
    assert_close(histogram_quantile(0.25, &z), 0.25);
    let both = h("{{count:4 sum:0 z_bucket:2 z_bucket_w:0.5 buckets:[1] n_buckets:[1]}}");
    assert_close(histogram_quantile(0.5, &both), 0.0);
    // Negative buckets mirror the interpolation.
    let n = h("{{count:2 sum:-1 n_buckets:[2]}}");
    assert_close(histogram_quantile(0.5, &n), -(0.5f64.sqrt()));
    assert_close(histogram_quantile(0.0, &n), -1.0);
    // NaN observations: forward walk; past the populated buckets the quantile is NaN.
    let nan = h("{{count:6 sum:NaN buckets:[2 2]}}");
    assert_close(histogram_quantile(0.25, &nan), 2f64.powf(-0.25));
    assert!(histogram_quantile(0.75, &nan).is_nan());
    // More observations than the buckets hold, with a finite sum: the last bucket's upper bound.
    let inf = h("{{count:100 sum:3 buckets:[2 3]}}");
    assert_close(histogram_quantile(0.9, &inf), 1.0);
}

#[test]
fn fractions_of_custom_buckets() {
    // histograms.test, the histogram_fraction cases.
    let pos = h("{{schema:-53 count:100 custom_values:[1 2 3] buckets:[1 2 3 94]}}");
    assert_close(histogram_fraction(0.0, 1.5, &pos), 0.02);
    assert_close(histogram_fraction(-f64::INFINITY, f64::INFINITY, &pos), 1.0);
    assert_close(histogram_fraction(4.0, 5.0, &pos), 0.0);
    assert_close(histogram_fraction(2.0, 5.0, &pos), 0.03);
    assert_close(histogram_fraction(400.0, f64::INFINITY, &pos), 0.94);
    assert_close(histogram_fraction(2.0, 2.0, &pos), 0.0);
    assert_close(histogram_fraction(3.0, 2.0, &pos), 0.0);
    assert_close(histogram_fraction(2.0, 3.5, &pos), 0.03);
    assert_close(histogram_fraction(0.5, 2.0, &pos), 0.025);
    assert_close(histogram_fraction(1.0, 3.0, &pos), 0.05);
    assert!(histogram_fraction(f64::NAN, 1.0, &pos).is_nan());
    assert!(histogram_fraction(0.0, f64::NAN, &pos).is_nan());
    let neg = h("{{schema:-53 count:100 custom_values:[-3 -2 -1] buckets:[10 2 3 85]}}");
    assert_close(histogram_fraction(-4.0, -2.0, &neg), 0.02);
    assert_close(histogram_fraction(f64::NEG_INFINITY, -1.5, &neg), 0.135);
    assert_close(
        histogram_fraction(f64::NEG_INFINITY, f64::INFINITY, &neg),
        1.0,
    );
    assert_close(histogram_fraction(0.0, 1.0, &neg), 0.0);
    let single = h("{{schema:-53 count:100 buckets:[100]}}");
    assert_close(histogram_fraction(0.0, 1.0, &single), 0.0);
    assert!(histogram_fraction(0.0, 5.0, &h("{{schema:-53 custom_values:[1 2 3]}}")).is_nan());
    let frac = h("{{schema:-53 count:100 custom_values:[0.5 1] buckets:[2.5 5 92.5]}}");
    assert_close(histogram_fraction(0.1, 0.75, &frac), 0.045);
    let zero = h("{{schema:-53 count:100 custom_values:[-2 -1 0 1] buckets:[5 5 5 5 80]}}");
    assert_close(histogram_fraction(-1.0, 1.0, &zero), 0.1);
    let below = h("{{schema:-53 count:10 custom_values:[1 2] buckets:[1 2 7]}}");
    assert_close(histogram_fraction(-10.0, -5.0, &below), 0.0);
    assert_close(histogram_fraction(5.0, 10.0, &below), 0.0);
    let (positive, negative) = testhistogram3();
    assert_close(histogram_fraction(0.0, 0.2, &positive), 0.6363636363636364);
    assert_close(histogram_fraction(0.0, 0.2, &negative), 0.0);
    let two = h("{{schema:-53 count:30 custom_values:[0 2 4 6] buckets:[0 10 10 10 0]}}");
    assert_close(histogram_fraction(0.0, 4.0, &two), 0.6666666666666666);
    assert_close(histogram_fraction(0.0, 6.0, &two), 1.0);
    assert_close(histogram_fraction(0.0, 3.5, &two), 0.5833333333333334);
}

#[test]
fn fractions_of_exponential_buckets() {
    let v = h("{{schema:0 sum:5 count:4 buckets:[1 2 1]}}");
    assert_close(histogram_fraction(0.0, 2f64.sqrt(), &v), 0.5);
    assert_close(histogram_fraction(1.0, 2.0, &v), 0.5);
    assert_close(
        histogram_fraction(f64::NEG_INFINITY, f64::INFINITY, &v),
        1.0,
    );
    // Negative buckets, mirrored.
    let n = h("{{count:2 sum:-1 n_buckets:[2]}}");
    assert_close(histogram_fraction(-1.0, -(0.5f64.sqrt()), &n), 0.5);
    // The zero bucket interpolates linearly.
    let z = h("{{count:4 sum:0 z_bucket:2 z_bucket_w:0.5 buckets:[1] n_buckets:[1]}}");
    assert_close(histogram_fraction(0.0, 0.5, &z), 0.25);
    // NaN observations count but are in no bucket.
    // (Prometheus issue 16580: 20% NaN observations give 0.8, only NaN observations give 0.)
    assert_close(
        histogram_fraction(
            f64::NEG_INFINITY,
            f64::INFINITY,
            &h("{{count:15 sum:NaN buckets:[12]}}"),
        ),
        0.8,
    );
    assert_close(
        histogram_fraction(f64::NEG_INFINITY, f64::INFINITY, &h("{{count:3 sum:NaN}}")),
        0.0,
    );
}

#[test]
fn quantile_and_fraction_are_inverse_on_exponential_buckets() {
    let v = h(
        "{{schema:3 sum:50 count:22 z_bucket:2 z_bucket_w:0.01 offset:2 buckets:[1 3 0 4 2 6 2] n_buckets:[1 1]}}",
    );
    for q in [0.2, 0.35, 0.5, 0.8, 0.95] {
        let x = histogram_quantile(q, &v);
        assert_close(histogram_fraction(f64::NEG_INFINITY, x, &v), q);
    }
}

// ---------------------------------------------------------------------------------------------------
// Property tests: nothing panics, and bucket totals survive arithmetic.

fn arb_spans() -> impl Strategy<Value = Vec<Span>> {
    prop::collection::vec((-6i32..6, 0u32..4), 0..4)
        .prop_map(|v| v.into_iter().map(|(o, l)| Span::new(o, l)).collect())
}

/// Histograms with consistent layouts and small integer counts (so that sums are exact).
fn arb_valid_histogram() -> impl Strategy<Value = FloatHistogram> {
    (
        -4i32..=8,
        prop_oneof![Just(0.0), Just(0.001), Just(0.3), Just(1.0)],
        0u8..4,
        arb_spans(),
        arb_spans(),
        any::<bool>(),
    )
        .prop_flat_map(|(schema, threshold, zero, pos, neg, custom)| {
            let fix = |spans: Vec<Span>| -> Vec<Span> {
                spans
                    .into_iter()
                    .enumerate()
                    .map(|(i, s)| {
                        if i > 0 {
                            Span::new(s.offset.abs(), s.length)
                        } else {
                            s
                        }
                    })
                    .collect()
            };
            let pos = fix(pos);
            let neg = fix(neg);
            let np: usize = pos.iter().map(|s| s.length as usize).sum();
            let nn: usize = neg.iter().map(|s| s.length as usize).sum();
            (
                prop::collection::vec(0u8..5, np),
                prop::collection::vec(0u8..5, nn),
                prop::collection::vec(-3i8..6, 0..4),
            )
                .prop_map(move |(pb, nb, cv)| {
                    let positive_buckets: Vec<f64> = pb.iter().map(|b| f64::from(*b)).collect();
                    let negative_buckets: Vec<f64> = nb.iter().map(|b| f64::from(*b)).collect();
                    if custom {
                        let mut values: Vec<f64> = cv.iter().map(|v| f64::from(*v)).collect();
                        values.sort_by(f64::total_cmp);
                        values.dedup();
                        let spans: Vec<Span> = pos
                            .iter()
                            .enumerate()
                            .map(|(i, s)| {
                                Span::new(if i == 0 { s.offset.abs() } else { s.offset }, s.length)
                            })
                            .collect();
                        let extent: i64 = spans
                            .iter()
                            .map(|s| i64::from(s.offset) + i64::from(s.length))
                            .sum();
                        while (values.len() as i64) < extent - 1 {
                            values.push(values.last().map_or(0.0, |v| v + 1.0));
                        }
                        let count = positive_buckets.iter().sum();
                        return FloatHistogram {
                            schema: CUSTOM_BUCKETS_SCHEMA,
                            count,
                            sum: count,
                            positive_spans: spans,
                            positive_buckets,
                            custom_values: values,
                            ..FloatHistogram::default()
                        };
                    }
                    let zero_count = f64::from(zero);
                    let count = zero_count
                        + positive_buckets.iter().sum::<f64>()
                        + negative_buckets.iter().sum::<f64>();
                    let mut h = FloatHistogram {
                        schema,
                        zero_threshold: threshold,
                        zero_count,
                        count,
                        sum: count,
                        positive_spans: pos.clone(),
                        negative_spans: neg.clone(),
                        positive_buckets,
                        negative_buckets,
                        ..FloatHistogram::default()
                    };
                    if !zero_bucket_ok(&h) {
                        h.zero_threshold = 0.0;
                    }
                    h
                })
        })
}

fn arb_float() -> impl Strategy<Value = f64> {
    prop_oneof![
        -10.0f64..10.0,
        Just(0.0),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(1e300),
        any::<f64>(),
    ]
}

/// Anything, layouts included: spans that promise more or fewer buckets than there are, odd schemas.
fn arb_any_histogram() -> impl Strategy<Value = FloatHistogram> {
    (
        prop_oneof![-4i32..=8, Just(-53), any::<i32>()],
        arb_float(),
        arb_float(),
        arb_float(),
        arb_float(),
        arb_spans(),
        arb_spans(),
        prop::collection::vec(arb_float(), 0..6),
        prop::collection::vec(arb_float(), 0..6),
        prop::collection::vec(arb_float(), 0..4),
    )
        .prop_map(
            |(schema, zt, zc, count, sum, ps, ns, pb, nb, cv)| FloatHistogram {
                counter_reset_hint: CounterResetHint::Unknown,
                schema,
                zero_threshold: zt,
                zero_count: zc,
                count,
                sum,
                positive_spans: ps,
                negative_spans: ns,
                positive_buckets: pb,
                negative_buckets: nb,
                custom_values: cv,
            },
        )
}

/// A histogram Prometheus would consider well-formed: no bucket inside the zero bucket (Prometheus
/// assumes so and skips such buckets when adding), and for custom buckets spans within the buckets the
/// bounds define (`checkHistogramCustomBounds`).
fn zero_bucket_ok(h: &FloatHistogram) -> bool {
    if h.uses_custom_buckets() {
        let extent: i64 = h
            .positive_spans
            .iter()
            .map(|s| i64::from(s.offset) + i64::from(s.length))
            .sum();
        return extent <= h.custom_values.len() as i64 + 1;
    }
    h.all_buckets().iter().all(|b| {
        b.upper.abs().max(b.lower.abs()) > h.zero_threshold
            && (b.lower >= h.zero_threshold
                || b.upper <= -h.zero_threshold
                || (b.lower == -h.zero_threshold && b.upper == h.zero_threshold))
    })
}

fn layout_ok(spans: &[Span], buckets: &[f64]) -> bool {
    spans.iter().map(|s| s.length as usize).sum::<usize>() == buckets.len()
}

proptest! {
    // Many generated pairs are rejected by the assumptions of the totals property; allow for them.
    #![proptest_config(ProptestConfig {
        cases: 400,
        max_global_rejects: 100_000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn literal_parser_never_panics(text in ".{0,60}") {
        let _ = parse_histogram_literal(&text);
        let _ = parse_histogram_literal(&format!("{{{{{text}}}}}"));
    }

    #[test]
    fn literal_parser_never_panics_on_near_literals(
        text in r"\{\{([a-z_]{0,20}:(-?[0-9.eE_]{0,6}|\[[-0-9 .a-zA-Z]{0,12}\]|[a-z_]{0,10}) ?){0,4}\}\}"
    ) {
        let _ = parse_histogram_literal(&text);
    }

    #[test]
    fn arithmetic_never_panics(a in arb_any_histogram(), b in arb_any_histogram(), f in arb_float()) {
        let mut x = a.clone();
        let _ = x.add(&b);
        let mut x = a.clone();
        let _ = x.sub(&b);
        let mut x = a.clone();
        let _ = x.kahan_add(&b, None);
        let mut x = a.clone();
        x.mul(f);
        x.div(f);
        x.compact(0);
        let _ = a.detect_reset(&b);
        let _ = a.equals(&b);
        let _ = harness_equal(&a, &b, true);
        let _ = histogram_json(&a);
        let _ = a.to_string();
        let _ = a.test_expression();
        let _ = histogram_stddev(&a);
        let mut y = a.clone();
        let _ = y.reduce_resolution(-4);
    }

    #[test]
    fn quantile_and_fraction_never_panic(a in arb_any_histogram(), q in arb_float(), l in arb_float()) {
        let _ = histogram_quantile(q, &a);
        let _ = histogram_fraction(l, q, &a);
    }

    #[test]
    fn add_and_sub_keep_totals_and_layouts(a in arb_valid_histogram(), b in arb_valid_histogram()) {
        prop_assume!(zero_bucket_ok(&a) && zero_bucket_ok(&b));
        // With different schemas *and* zero thresholds, Prometheus' Add widens the zero bucket at the
        // finer schema (folding a bucket below the new threshold into the zero count) and then adds
        // the buckets reduced to the coarser schema, where that bucket's bound lies above the
        // threshold, so it is counted twice; we follow Prometheus there, so totals are not kept.
        prop_assume!(a.schema == b.schema || a.zero_threshold == b.zero_threshold);
        let mut sum = a.clone();
        match sum.add(&b) {
            Err(HistogramError::IncompatibleSchema) => {
                prop_assert!(a.uses_custom_buckets() != b.uses_custom_buckets());
            }
            Err(e) => prop_assert!(false, "unexpected error {e}"),
            Ok(_) => {
                prop_assert!(layout_ok(&sum.positive_spans, &sum.positive_buckets));
                prop_assert!(layout_ok(&sum.negative_spans, &sum.negative_buckets));
                prop_assert_eq!(total(&sum), total(&a) + total(&b));
                prop_assert_eq!(sum.count, a.count + b.count);
                prop_assert_eq!(sum.schema, if a.uses_custom_buckets() { a.schema } else { a.schema.min(b.schema) });
                let mut diff = sum.clone();
                diff.sub(&b).expect("compatible");
                prop_assert_eq!(total(&diff), total(&a));
                let mut compacted = sum.clone();
                compacted.compact(0);
                prop_assert!(layout_ok(&compacted.positive_spans, &compacted.positive_buckets));
                prop_assert!(!compacted.positive_buckets.contains(&0.0));
                prop_assert_eq!(total(&compacted), total(&sum));
                // Kahan addition of small integers is exact too.
                let mut k = a.clone();
                let (c, _) = k.kahan_add(&b, None).expect("compatible");
                k.add(&c).expect("compatible");
                prop_assert_eq!(total(&k), total(&sum));
                prop_assert_eq!(k.schema, sum.schema);
            }
        }
    }

    #[test]
    fn quantiles_stay_within_the_populated_range(a in arb_valid_histogram(), q in 0.0f64..=1.0) {
        prop_assume!(a.count > 0.0 && zero_bucket_ok(&a));
        let buckets: Vec<Bucket> = a.all_buckets().into_iter().filter(|b| b.count > 0.0).collect();
        let lowest = buckets.first().map_or(0.0, |b| b.lower.min(0.0));
        let highest = buckets.last().map_or(0.0, |b| b.upper.max(0.0));
        let v = histogram_quantile(q, &a);
        if !v.is_nan() {
            prop_assert!(v >= lowest - 1e-9 && v <= highest + 1e-9, "{v} outside [{lowest}, {highest}]");
        }
        let f = histogram_fraction(f64::NEG_INFINITY, f64::INFINITY, &a);
        prop_assert!((f - 1.0).abs() < 1e-9);
    }
}
