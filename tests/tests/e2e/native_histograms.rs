//! Native histograms end to end: the same remote-write request goes to mimir-host and to Debian's
//! Prometheus 2.42 (`--enable-feature=native-histograms`, remote-write receiver on), and both
//! answer the same JSON for the raw series, a rate and a quantile, instant and range.
//!
//! Two things keep the answers comparable across Prometheus versions (mimir-host's engine follows
//! current Prometheus): the metric is named `x_total`, as current Prometheus adds an info
//! annotation to `rate` over other names and 2.42 has no annotations; and no evaluation time or
//! range start lands a sample exactly on a window's lower bound, which 2.42 includes and current
//! Prometheus (3.0 on: left-open ranges) does not. Quantiles inside a bucket differ between the
//! versions too (see the queries), so the quantile compared is the top one.
//!
//! Left out: custom buckets (schema -53 came after 2.42, which would read them as an exponential
//! schema) and float histograms (not tried against 2.42 here; the ingester, reply and querier
//! handle them, see their unit tests).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mimir_tests::client::remote_write;
use mimir_tests::{ExternalProcess, HostProcess, PluginDir, free_port, get};
use mimir_validation::{
    BucketSpan, Histogram, Label, TimeSeries, WriteRequest, encode_write_request, histogram,
};

/// An integer histogram at `timestamp` with these absolute positive bucket counts (schema 0,
/// buckets 0, 1, then 3) and zero bucket count.
fn integer(timestamp: i64, zero: u64, buckets: [u64; 3], sum: f64) -> Histogram {
    let mut previous = 0i64;
    let deltas = buckets
        .iter()
        .map(|count| {
            let delta = *count as i64 - previous;
            previous = *count as i64;
            delta
        })
        .collect();
    Histogram {
        count: Some(histogram::Count::CountInt(
            zero + buckets.iter().sum::<u64>(),
        )),
        sum,
        schema: 0,
        zero_threshold: 2.938735877055719e-39,
        zero_count: Some(histogram::ZeroCount::ZeroCountInt(zero)),
        positive_spans: vec![
            BucketSpan {
                offset: 0,
                length: 2,
            },
            BucketSpan {
                offset: 1,
                length: 1,
            },
        ],
        positive_deltas: deltas,
        timestamp,
        ..Histogram::default()
    }
}

#[test]
fn native_histograms_answer_as_prometheus_answers() {
    let plugins = PluginDir::monolith();
    let data = tempfile::tempdir().expect("temp dir");
    let mut host = HostProcess::start(&[
        plugins.flag(),
        format!("-ingester.data-dir={}", data.path().display()),
        "-auth.multitenancy-enabled=false".to_string(),
    ]);
    host.wait_ready(Duration::from_secs(30));

    let prometheus_port = free_port();
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("prometheus.yml"),
        "global:\n  scrape_interval: 1h\n",
    )
    .expect("config");
    let prometheus = ExternalProcess::start(
        "prometheus",
        &[
            "--config.file=prometheus.yml".to_string(),
            "--storage.tsdb.path=data".to_string(),
            format!("--web.listen-address=127.0.0.1:{prometheus_port}"),
            "--enable-feature=native-histograms".to_string(),
            "--web.enable-remote-write-receiver".to_string(),
        ],
        dir,
    );
    let prometheus_url = format!("http://127.0.0.1:{prometheus_port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while get(&format!("{prometheus_url}/-/ready")).map(|(status, _)| status) != Ok(200) {
        assert!(
            Instant::now() < deadline,
            "Prometheus not ready\n{}",
            prometheus.logs()
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // Ten minutes of samples every 30 s, ending a minute ago, on whole seconds.
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let end = now_ms - now_ms % 1000 - 60_000;
    let start = end - 19 * 30_000;
    let at = |i: i64| start + i * 30_000;
    // A counter that grows, resets after sample 11 (the process restarted) and grows again.
    let growing: Vec<Histogram> = (0..20)
        .map(|i| {
            let n = if i < 12 { i as u64 } else { (i - 12) as u64 };
            // Counts well above the growth, so that no rate is extrapolated to a zero point,
            // which current Prometheus does for histograms and 2.42 did not.
            let grown = [2 * n + 100, 3 * n + 101, n / 2 + 50];
            integer(at(i), n / 3, grown, 1.25 * n as f64)
        })
        .collect();
    // A second series with fewer samples, other buckets and a negative side.
    let other: Vec<Histogram> = (0..20)
        .step_by(3)
        .map(|i| Histogram {
            negative_spans: vec![BucketSpan {
                offset: -1,
                length: 1,
            }],
            negative_deltas: vec![i],
            count: Some(histogram::Count::CountInt(
                i as u64 * 2 + 5 + i as u64 + 7 + i as u64,
            )),
            ..integer(at(i), 0, [i as u64 * 2 + 5, i as u64 + 7, 0], -3.5)
        })
        .collect();
    let labels = |kind: &str| {
        vec![
            Label::new("__name__", "x_total"),
            Label::new("job", "e2e"),
            Label::new("kind", kind),
        ]
    };
    let request = WriteRequest {
        timeseries: vec![
            TimeSeries {
                labels: labels("counter"),
                histograms: growing,
                ..TimeSeries::default()
            },
            TimeSeries {
                labels: labels("other"),
                histograms: other,
                ..TimeSeries::default()
            },
        ],
        ..WriteRequest::default()
    };
    let body = encode_write_request(&request);
    let (status, reply) = remote_write(&host.url("/api/v1/push"), None, &body);
    assert_eq!(status, 200, "mimir-host: {reply}\n{}", host.logs());
    let (status, reply) = remote_write(&format!("{prometheus_url}/api/v1/write"), None, &body);
    assert!(
        status == 204 || status == 200,
        "Prometheus: {status} {reply}\n{}",
        prometheus.logs()
    );

    let mimir_url = host.url("/prometheus");
    let (s, e) = (start / 1000, end / 1000);
    let mut answers = 0;
    // Samples are at s + 30 k: evaluation times and range starts 7 s off that grid.
    for query in [
        "x_total",
        "histogram_count(rate(x_total%5B5m%5D))",
        // Not 0.9: inside an exponential bucket 2.42 interpolates linearly, current Prometheus
        // exponentially. The top quantile is a bucket's upper bound in both.
        "histogram_quantile(1,%20x_total)",
        "histogram_sum(x_total)",
        "x_total%7Bkind%3D%22counter%22%7D%5B2m%5D",
    ] {
        for path in [
            format!("/api/v1/query?query={query}&time={}", e - 7),
            format!("/api/v1/query?query={query}&time={}", s + 337),
            format!(
                "/api/v1/query_range?query={query}&start={}&end={e}&step=45",
                s + 7
            ),
        ] {
            if path.starts_with("/api/v1/query_range") && query.contains("%5B2m%5D") {
                continue;
            }
            let ours = get(&format!("{mimir_url}{path}")).expect("mimir-host");
            let theirs = get(&format!("{prometheus_url}{path}")).expect("prometheus");
            assert_eq!(theirs.0, 200, "{path}: {}", theirs.1);
            assert!(
                theirs.1.contains("\"result\":[{"),
                "{path}: Prometheus answered nothing: {}",
                theirs.1
            );
            assert_eq!(ours, theirs, "{path}");
            answers += 1;
        }
    }
    assert_eq!(answers, 14);
}
