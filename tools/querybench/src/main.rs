//! `mimir-querybench`: runs a fixed set of PromQL queries against a Prometheus HTTP API root
//! (`http://127.0.0.1:8080/prometheus` for mimir-host, `http://127.0.0.1:9090` for Prometheus or
//! VictoriaMetrics), each as an instant query at `-end` and as a range query over `-start`..`-end`
//! with `-step`. Each query is sent once to warm up, then `-runs` times one after the other; a run
//! counts as an error unless the answer is 200 with `"status":"success"`. Prints one JSON object
//! with each query's median, min and max latency, its errors, and how many series and samples it
//! returned with the sum of their values (to compare systems' answers).
//!
//! ```text
//! mimir-querybench -url=http://127.0.0.1:8080/prometheus -start=1700000000000 -end=1700000585000
//! ```
//!
//! The default queries fit the data set `mimir-loadgen` writes; `-queries=FILE` reads one query a
//! line instead (blank lines and lines starting with `#` are skipped).

use std::io::Read as _;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The default query set, over `mimir-loadgen`'s series.
const QUERIES: &[&str] = &[
    "sum by (job) (rate(loadgen_metric_1[5m]))",
    "topk(5, rate(loadgen_metric_2[5m]))",
    "histogram_quantile(0.9, sum by (le) (rate(loadgen_request_duration_seconds_bucket[5m])))",
    "histogram_quantile(0.99, rate(loadgen_request_duration_seconds_bucket[5m]))",
    "count by (instance) (loadgen_metric_3)",
    "sum(rate(loadgen_metric_4{instance=~\"host-1.*\"}[5m]))",
    "count({__name__=~\"loadgen_metric_1[0-9]\", series=~\".*7\"})",
];

struct Options {
    url: String,
    tenant: String,
    start_ms: i64,
    end_ms: i64,
    step_s: u64,
    runs: usize,
    timeout_s: u64,
    queries: Vec<String>,
}

fn parse() -> Result<Options, String> {
    let mut options = Options {
        url: "http://127.0.0.1:8080/prometheus".to_string(),
        tenant: String::new(),
        start_ms: 0,
        end_ms: 0,
        step_s: 60,
        runs: 10,
        timeout_s: 120,
        queries: QUERIES.iter().map(|q| q.to_string()).collect(),
    };
    for arg in std::env::args().skip(1) {
        let arg = arg.trim_start_matches('-');
        let (name, value) = arg
            .split_once('=')
            .ok_or_else(|| format!("expected -name=value, got -{arg}"))?;
        let err = |error: std::num::ParseIntError| format!("-{name}: {error}");
        match name {
            "url" => options.url = value.trim_end_matches('/').to_string(),
            "tenant" => options.tenant = value.to_string(),
            "start" => options.start_ms = value.parse().map_err(err)?,
            "end" => options.end_ms = value.parse().map_err(err)?,
            "step" => options.step_s = value.parse::<u64>().map_err(err)?.max(1),
            "runs" => options.runs = value.parse::<usize>().map_err(err)?.max(1),
            "timeout" => options.timeout_s = value.parse::<u64>().map_err(err)?.max(1),
            "queries" => {
                let text = std::fs::read_to_string(value).map_err(|e| format!("{value}: {e}"))?;
                options.queries = text
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .map(str::to_string)
                    .collect();
            }
            other => return Err(format!("unknown flag -{other}")),
        }
    }
    if options.end_ms <= 0 || options.start_ms <= 0 || options.start_ms > options.end_ms {
        return Err("-start and -end (ms since the epoch, start <= end) are required".to_string());
    }
    Ok(options)
}

/// Seconds since the epoch, as the Prometheus API takes them.
fn seconds(ms: i64) -> String {
    format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
}

/// What a successful answer held.
#[derive(Clone, Copy)]
struct Answer {
    /// Series in the result (1 for a scalar or string).
    series: usize,
    /// Samples (points) in the result.
    samples: usize,
    /// The sum of every finite sample value: a cheap fingerprint to compare systems' answers.
    sum: f64,
}

/// The value of a `[time, "value"]` pair, if it is a finite number.
fn sample_value(pair: &Value) -> Option<f64> {
    pair.get(1)?
        .as_str()?
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
}

fn summarize(result: &Value) -> Answer {
    let mut answer = Answer {
        series: 1,
        samples: 0,
        sum: 0.0,
    };
    let mut add = |pair: &Value| {
        answer.samples += 1;
        answer.sum += sample_value(pair).unwrap_or(0.0);
    };
    match result {
        Value::Array(items) if items.first().is_some_and(|i| i.is_object()) || items.is_empty() => {
            for item in items {
                if let Some(pair) = item.get("value") {
                    add(pair);
                }
                for pair in item
                    .get("values")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    add(pair);
                }
            }
            answer.series = items.len();
        }
        // A scalar or string: [time, "value"].
        pair => add(pair),
    }
    answer
}

/// One query's outcome: what the answer held, or the error.
fn run_once(
    agent: &ureq::Agent,
    options: &Options,
    kind: Kind,
    query: &str,
) -> Result<Answer, String> {
    let (path, params) = match kind {
        Kind::Instant => (
            "/api/v1/query",
            vec![
                ("query", query.to_string()),
                ("time", seconds(options.end_ms)),
            ],
        ),
        Kind::Range => (
            "/api/v1/query_range",
            vec![
                ("query", query.to_string()),
                ("start", seconds(options.start_ms)),
                ("end", seconds(options.end_ms)),
                ("step", options.step_s.to_string()),
            ],
        ),
    };
    let mut request = agent
        .get(format!("{}{path}", options.url))
        .query_pairs(params);
    if !options.tenant.is_empty() {
        request = request.header("X-Scope-OrgID", &options.tenant);
    }
    let mut response = request.call().map_err(|e| e.to_string())?;
    let mut body = Vec::new();
    response
        .body_mut()
        .as_reader()
        .read_to_end(&mut body)
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let parsed: Value = serde_json::from_slice(&body).map_err(|e| {
        format!(
            "{status}: {e}: {}",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        )
    })?;
    if !status.is_success() || parsed["status"] != "success" {
        return Err(format!(
            "{status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(300)])
        ));
    }
    Ok(summarize(&parsed["data"]["result"]))
}

#[derive(Clone, Copy)]
enum Kind {
    Instant,
    Range,
}

#[derive(Default)]
struct Tally {
    errors: usize,
    first_error: String,
    /// The last successful answer.
    answer: Option<Answer>,
}

impl Tally {
    fn note(&mut self, outcome: Result<Answer, String>) {
        match outcome {
            Ok(answer) => self.answer = Some(answer),
            Err(error) => {
                self.errors += 1;
                if self.first_error.is_empty() {
                    self.first_error = error;
                }
            }
        }
    }
}

fn median(sorted: &[f64]) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

fn main() {
    let options = match parse() {
        Ok(options) => options,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::exit(2);
        }
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(options.timeout_s)))
        .build()
        .into();
    let mut results = Vec::new();
    for query in &options.queries {
        for (kind, name) in [(Kind::Instant, "instant"), (Kind::Range, "range")] {
            let mut tally = Tally::default();
            // Warm-up, not timed but checked.
            tally.note(run_once(&agent, &options, kind, query));
            let warmup_errors = tally.errors;
            let mut millis = Vec::with_capacity(options.runs);
            for _ in 0..options.runs {
                let started = Instant::now();
                let outcome = run_once(&agent, &options, kind, query);
                let elapsed = started.elapsed().as_secs_f64() * 1e3;
                if outcome.is_ok() {
                    millis.push(elapsed);
                }
                tally.note(outcome);
            }
            millis.sort_by(f64::total_cmp);
            let round = |ms: f64| (ms * 1000.0).round() / 1000.0;
            results.push(json!({
                "query": query,
                "kind": name,
                "median_ms": (!millis.is_empty()).then(|| round(median(&millis))),
                "min_ms": millis.first().map(|&ms| round(ms)),
                "max_ms": millis.last().map(|&ms| round(ms)),
                "runs": options.runs,
                "errors": tally.errors - warmup_errors,
                "warmup_errors": warmup_errors,
                "series": tally.answer.map(|a| a.series),
                "samples": tally.answer.map(|a| a.samples),
                "value_sum": tally.answer.map(|a| a.sum),
                "first_error": tally.first_error,
            }));
        }
    }
    println!(
        "{}",
        json!({
            "url": options.url,
            "start_ms": options.start_ms,
            "end_ms": options.end_ms,
            "step_s": options.step_s,
            "results": results,
        })
    );
}
