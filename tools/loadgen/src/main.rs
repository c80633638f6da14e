//! `mimir-loadgen`: a Prometheus remote-write 1.0 load generator. It builds every request before
//! sending anything (so the generator's own CPU stays out of the measurement), with one sample per
//! series per round and timestamps advancing by a scrape interval, then sends them over HTTP with a
//! fixed number of connections. Each series' batches are always sent by the same connection, in
//! round order, so no sample arrives out of order. Prints one JSON line with what it sent,
//! including the first and last rounds' timestamps (for querying the data afterwards).
//!
//! Series `i` is `loadgen_metric_{i % 100}{instance="host-{i / 1000}", job="loadgen", series="i"}`,
//! a counter, except that every series with `i % 100 == 99` is a bucket of the classic histogram
//! `loadgen_request_duration_seconds_bucket{instance, job, le}` (10 bounds, each full instance of
//! 1 000 series has all of them), whose cumulative counts grow every round.
//!
//! ```text
//! mimir-loadgen -url=http://127.0.0.1:8080/api/v1/push -series=100000 -rounds=30
//! ```

use std::io::Read as _;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mimir_validation::{Label, Sample, TimeSeries, WriteRequest, encode_write_request};

struct Options {
    url: String,
    tenant: String,
    series: usize,
    rounds: usize,
    batch: usize,
    concurrency: usize,
    interval_ms: i64,
}

fn parse() -> Result<Options, String> {
    let mut options = Options {
        url: "http://127.0.0.1:8080/api/v1/push".to_string(),
        tenant: String::new(),
        series: 100_000,
        rounds: 30,
        batch: 2_000,
        concurrency: 4,
        interval_ms: 15_000,
    };
    for arg in std::env::args().skip(1) {
        let arg = arg.trim_start_matches('-');
        let (name, value) = arg
            .split_once('=')
            .ok_or_else(|| format!("expected -name=value, got -{arg}"))?;
        let number = || {
            value
                .parse::<usize>()
                .map_err(|error| format!("-{name}: {error}"))
        };
        match name {
            "url" => options.url = value.to_string(),
            "tenant" => options.tenant = value.to_string(),
            "series" => options.series = number()?,
            "rounds" => options.rounds = number()?,
            "batch" => options.batch = number()?.max(1),
            "concurrency" => options.concurrency = number()?.max(1),
            "interval-ms" => options.interval_ms = number()? as i64,
            other => return Err(format!("unknown flag -{other}")),
        }
    }
    Ok(options)
}

/// The `le` bounds of the classic histogram `loadgen_request_duration_seconds`.
const BUCKET_BOUNDS: [&str; 10] = [
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf",
];

/// Each bucket's cumulative count per round (before the per-instance factor): increasing in `le`.
const BUCKET_WEIGHTS: [usize; 10] = [1, 3, 7, 12, 20, 30, 41, 50, 55, 57];

/// Which bucket series `index` is, if it is one: every series whose index % 100 == 99 is a bucket
/// of `loadgen_request_duration_seconds`, with `le` chosen by (index / 100) % 10, so each full
/// instance (1 000 series) has every bound once.
fn bucket(index: usize) -> Option<usize> {
    (index % 100 == 99).then_some((index / 100) % BUCKET_BOUNDS.len())
}

fn series_labels(index: usize) -> Vec<Label> {
    let instance = format!("host-{}", index / 1000);
    if let Some(bucket) = bucket(index) {
        // No `series` label: a histogram's buckets differ only in `le`.
        return vec![
            Label::new("__name__", "loadgen_request_duration_seconds_bucket"),
            Label::new("instance", &instance),
            Label::new("job", "loadgen"),
            Label::new("le", BUCKET_BOUNDS[bucket]),
        ];
    }
    vec![
        Label::new("__name__", &format!("loadgen_metric_{}", index % 100)),
        Label::new("instance", &instance),
        Label::new("job", "loadgen"),
        Label::new("series", &index.to_string()),
    ]
}

/// Series `index`'s value in `round`: counters that grow every round; bucket counts are cumulative
/// (monotonic in `le`), and grow at a rate that differs between instances.
fn series_value(index: usize, round: usize) -> f64 {
    match bucket(index) {
        Some(bucket) => ((round + 1) * BUCKET_WEIGHTS[bucket] * (1 + (index / 1000) % 5)) as f64,
        None => (round * 7 + index) as f64 * 0.5,
    }
}

/// requests[connection] = that connection's request bodies, in send order; the number of samples;
/// the first round's timestamp (ms).
fn build(options: &Options) -> (Vec<Vec<Vec<u8>>>, usize, i64) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let start = now - options.interval_ms * options.rounds as i64 - 60_000;
    let batches = options.series.div_ceil(options.batch);
    let labels: Vec<Vec<Label>> = (0..options.series).map(series_labels).collect();
    let mut per_connection = vec![Vec::new(); options.concurrency];
    let mut samples = 0;
    for round in 0..options.rounds {
        let timestamp = start + round as i64 * options.interval_ms;
        for batch in 0..batches {
            let first = batch * options.batch;
            let last = (first + options.batch).min(options.series);
            let request = WriteRequest {
                timeseries: (first..last)
                    .map(|index| TimeSeries {
                        labels: labels[index].clone(),
                        samples: vec![Sample {
                            value: series_value(index, round),
                            timestamp,
                        }],
                        ..TimeSeries::default()
                    })
                    .collect(),
                ..WriteRequest::default()
            };
            samples += last - first;
            per_connection[batch % options.concurrency].push(encode_write_request(&request));
        }
    }
    (per_connection, samples, start)
}

fn main() {
    let options = match parse() {
        Ok(options) => options,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::exit(2);
        }
    };
    let (per_connection, samples, start) = build(&options);
    let end = start + options.rounds.saturating_sub(1) as i64 * options.interval_ms;
    let started = Instant::now();
    let results: Vec<(usize, usize, String)> = std::thread::scope(|scope| {
        let handles: Vec<_> = per_connection
            .iter()
            .map(|bodies| {
                let options = &options;
                scope.spawn(move || send(options, bodies))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or((0, 0, "sender panicked".to_string())))
            .collect()
    });
    let elapsed = started.elapsed().as_secs_f64();
    let requests: usize = results.iter().map(|r| r.0).sum();
    let errors: usize = results.iter().map(|r| r.1).sum();
    let first_error = results
        .iter()
        .map(|r| r.2.as_str())
        .find(|e| !e.is_empty())
        .unwrap_or("");
    println!(
        "{{\"samples\":{samples},\"requests\":{requests},\"errors\":{errors},\"seconds\":{elapsed:.3},\"samples_per_second\":{:.0},\"first_error\":{:?},\"first_timestamp_ms\":{start},\"last_timestamp_ms\":{end}}}",
        samples as f64 / elapsed.max(1e-9),
        first_error
    );
}

/// Sends `bodies` in order on one connection: (requests, failed requests, first error).
fn send(options: &Options, bodies: &[Vec<u8>]) -> (usize, usize, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let mut errors = 0;
    let mut first_error = String::new();
    for body in bodies {
        let mut request = agent
            .post(&options.url)
            .header("Content-Type", "application/x-protobuf")
            .header("Content-Encoding", "snappy")
            .header("X-Prometheus-Remote-Write-Version", "0.1.0");
        if !options.tenant.is_empty() {
            request = request.header("X-Scope-OrgID", &options.tenant);
        }
        match request.send(body.as_slice()) {
            Ok(mut response) if response.status().is_success() => {
                let _ = response.body_mut().as_reader().read_to_end(&mut Vec::new());
            }
            Ok(mut response) => {
                errors += 1;
                if first_error.is_empty() {
                    let mut text = String::new();
                    let _ = response.body_mut().as_reader().read_to_string(&mut text);
                    first_error = format!("{}: {text}", response.status());
                }
            }
            Err(error) => {
                errors += 1;
                if first_error.is_empty() {
                    first_error = error.to_string();
                }
            }
        }
    }
    (bodies.len(), errors, first_error)
}
