//! `mimir-loadgen`: a Prometheus remote-write 1.0 load generator. It builds every request before
//! sending anything (so the generator's own CPU stays out of the measurement), with one sample per
//! series per round and timestamps advancing by a scrape interval, then sends them over HTTP with a
//! fixed number of connections. Each series' batches are always sent by the same connection, in
//! round order, so no sample arrives out of order. Prints one JSON line with what it sent.
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

fn series_labels(index: usize) -> Vec<Label> {
    vec![
        Label::new("__name__", &format!("loadgen_metric_{}", index % 100)),
        Label::new("instance", &format!("host-{}", index / 1000)),
        Label::new("job", "loadgen"),
        Label::new("series", &index.to_string()),
    ]
}

/// requests[connection] = that connection's request bodies, in send order.
fn build(options: &Options) -> (Vec<Vec<Vec<u8>>>, usize) {
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
                            value: (round * 7 + index) as f64 * 0.5,
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
    (per_connection, samples)
}

fn main() {
    let options = match parse() {
        Ok(options) => options,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::exit(2);
        }
    };
    let (per_connection, samples) = build(&options);
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
        "{{\"samples\":{samples},\"requests\":{requests},\"errors\":{errors},\"seconds\":{elapsed:.3},\"samples_per_second\":{:.0},\"first_error\":{:?}}}",
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
