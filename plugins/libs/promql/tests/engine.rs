//! The engine's contract with its callers: results for a small data set, error classes and messages
//! for bad queries and exhausted limits, and no panic on arbitrary input.

use std::time::Duration;

use mimir_promql::engine::{
    Engine, EngineOptions, Labels, MemoryStorage, QueryError, Sample, Value,
};
use proptest::prelude::*;

/// `http_requests_total{job, instance}` counting up by 10 per minute for an hour.
fn storage() -> MemoryStorage {
    let mut storage = MemoryStorage::new();
    for (job, instance, slope) in [("api", "0", 1.0), ("api", "1", 2.0), ("db", "0", 3.0)] {
        let labels = Labels::new(vec![
            ("__name__".into(), "http_requests_total".into()),
            ("job".into(), job.into()),
            ("instance".into(), instance.into()),
        ]);
        storage.append(
            labels,
            (0..=60).map(|i| Sample {
                t: i * 60_000,
                v: slope * 10.0 * i as f64,
            }),
        );
    }
    storage
}

#[test]
fn sum_by_job_of_rate_gives_one_series_per_job() {
    let engine = Engine::default();
    let result = engine
        .instant_query(
            &storage(),
            "sum by (job) (rate(http_requests_total[5m]))",
            30 * 60_000,
        )
        .expect("query runs");
    let Value::Vector(mut v) = result.value else {
        panic!("expected a vector, got {:?}", result.value);
    };
    v.sort_by(|a, b| a.labels.cmp(&b.labels));
    let got: Vec<(String, f64)> = v
        .iter()
        .map(|s| (s.labels.get("job").to_string(), s.v))
        .collect();
    // 10/min and 20/min for api (0.5/s together), 30/min for db.
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].0, "api");
    assert!((got[0].1 - 0.5).abs() < 1e-9, "{got:?}");
    assert_eq!(got[1].0, "db");
    assert!((got[1].1 - 0.5).abs() < 1e-9, "{got:?}");
}

#[test]
fn range_query_returns_a_sorted_matrix_on_the_step_grid() {
    let engine = Engine::default();
    let result = engine
        .range_query(
            &storage(),
            "http_requests_total * 2",
            0,
            10 * 60_000,
            5 * 60_000,
        )
        .expect("query runs");
    let Value::Matrix(m) = result.value else {
        panic!("expected a matrix");
    };
    assert_eq!(m.len(), 3);
    assert!(m.windows(2).all(|w| w[0].labels < w[1].labels));
    // The name is dropped by arithmetic.
    assert!(m.iter().all(|s| s.labels.metric_name().is_none()));
    let times: Vec<i64> = m[0].samples.iter().map(|s| s.t).collect();
    assert_eq!(times, vec![0, 300_000, 600_000]);
}

#[test]
fn parse_errors_are_bad_data_with_position() {
    let err = Engine::default()
        .instant_query(&storage(), "sum(rate(x[5m])", 0)
        .expect_err("unbalanced parentheses");
    assert_eq!(err.error_type(), "bad_data");
    assert_eq!(err.http_status(), 400);
    assert!(err.to_string().starts_with("1:"), "{err}");
}

#[test]
fn too_many_samples_is_an_execution_error() {
    let engine = Engine::new(EngineOptions {
        max_samples: 10,
        ..EngineOptions::default()
    });
    let err = engine
        .range_query(&storage(), "http_requests_total", 0, 60 * 60_000, 60_000)
        .expect_err("more than 10 samples");
    assert_eq!(err, QueryError::TooManySamples);
    assert_eq!(err.error_type(), "execution");
    assert_eq!(
        err.to_string(),
        "query processing would load too many samples into memory in query execution"
    );
}

#[test]
fn a_query_past_its_timeout_fails_with_timeout() {
    let engine = Engine::new(EngineOptions {
        timeout: Duration::ZERO,
        ..EngineOptions::default()
    });
    std::thread::sleep(Duration::from_millis(2));
    let err = engine
        .instant_query(&storage(), "http_requests_total", 0)
        .expect_err("times out");
    assert_eq!(err.error_type(), "timeout");
    assert_eq!(err.http_status(), 503);
    assert_eq!(err.to_string(), "query timed out in expression evaluation");
}

#[test]
fn many_to_many_matching_is_an_execution_error() {
    let err = Engine::default()
        .instant_query(
            &storage(),
            "http_requests_total + on(job) http_requests_total",
            0,
        )
        .expect_err("api has two series");
    assert_eq!(err.error_type(), "execution");
    assert!(
        err.to_string()
            .contains("many-to-many matching not allowed"),
        "{err}"
    );
}

#[test]
fn range_query_of_a_range_vector_is_bad_data() {
    let err = Engine::default()
        .range_query(&storage(), "http_requests_total[5m]", 0, 60_000, 60_000)
        .expect_err("matrix in a range query");
    assert_eq!(err.error_type(), "bad_data");
}

pub(crate) const TOKENS: &[&str] = &[
    "http_requests_total",
    "x",
    "{job=\"api\"}",
    "{instance=~\"1|0\"}",
    "[5m]",
    "[1m:30s]",
    "offset 1m",
    "@ 100",
    "@ start()",
    "(",
    ")",
    "+",
    "-",
    "*",
    "/",
    "%",
    "^",
    "==",
    "!=",
    ">",
    "< bool",
    "and",
    "or",
    "unless",
    "on(job)",
    "ignoring(instance)",
    "group_left",
    "sum",
    "by (job)",
    "without (instance)",
    "topk(2,",
    "quantile(0.5,",
    "count_values(\"v\",",
    "rate(",
    "irate(",
    "histogram_quantile(0.9,",
    "label_replace(",
    "\"a\",",
    "\"$1\",",
    "\"(.*)\")",
    "abs(",
    "absent(",
    "scalar(",
    "vector(",
    "time()",
    "1",
    "0",
    "NaN",
    "Inf",
    "-1",
    "1e308",
    ",",
    "sort_desc(",
    "predict_linear(",
    "clamp(",
    "round(",
    "limitk(1,",
    "limit_ratio(0.5,",
    "min_over_time(",
    "quantile_over_time(0.3,",
    "deriv(",
    "changes(",
    "timestamp(",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Any token soup: parse errors or results, never a panic, in instant and range mode.
    #[test]
    fn arbitrary_queries_never_panic(tokens in proptest::collection::vec(0..TOKENS.len(), 1..12)) {
        let query: String = tokens.iter().map(|&i| TOKENS[i]).collect::<Vec<_>>().join(" ");
        let storage = storage();
        let engine = Engine::default();
        let _ = engine.instant_query(&storage, &query, 30 * 60_000);
        let _ = engine.range_query(&storage, &query, 0, 60 * 60_000, 7 * 60_000);
    }

    /// Valid shapes with arbitrary numbers (NaN, ±Inf, huge, negative) evaluate without panicking.
    #[test]
    fn arbitrary_parameters_never_panic(
        k in prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(-1e300), -5.0..5.0f64, Just(1e300)],
        start in -1_000_000i64..4_000_000,
        step in 1i64..600_000,
    ) {
        let storage = storage();
        let engine = Engine::default();
        for template in [
            "topk({k}, http_requests_total)",
            "quantile({k}, http_requests_total)",
            "limit_ratio({k}, http_requests_total)",
            "histogram_quantile({k}, http_requests_total)",
            "round(http_requests_total, {k})",
            "clamp(http_requests_total, {k}, 10)",
            "predict_linear(http_requests_total[10m], {k})",
            "http_requests_total offset {k}s",
            "sum_over_time(http_requests_total[10m:{k}s])",
        ] {
            let query = template.replace("{k}", &format!("{k}"));
            let _ = engine.instant_query(&storage, &query, start);
            let _ = engine.range_query(&storage, &query, start, start + 10 * step, step);
        }
    }
}
