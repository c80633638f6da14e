//! A real client: Debian's Prometheus scrapes itself and remote-writes to `mimir-host`; its
//! samples are read back from the ingester over the bus.
//!
//! Debian's Prometheus 2.42 does not send the `headers:` of its `remote_write` config (seen on the
//! wire), so it cannot name a tenant: this test runs with `-auth.multitenancy-enabled=false`, where
//! everything belongs to tenant `anonymous`, as a single-tenant Mimir does.

use std::time::{Duration, Instant};

use mimir_tests::client::{eq, query_ingester};
use mimir_tests::{ExternalProcess, HostProcess, PluginDir, free_port, get};

#[test]
fn prometheus_remote_writes_and_the_ingester_has_its_samples() {
    let plugins = PluginDir::write_path();
    let data = tempfile::tempdir().expect("temp dir");
    let mut host = HostProcess::start(&[
        plugins.flag(),
        format!("-ingester.data-dir={}", data.path().display()),
        "-auth.multitenancy-enabled=false".to_string(),
    ]);
    host.wait_ready(Duration::from_secs(30));

    let prometheus_port = free_port();
    let dir = tempfile::tempdir().expect("temp dir");
    let config = format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: prometheus\n    static_configs:\n      - targets: ['127.0.0.1:{prometheus_port}']\nremote_write:\n  - url: {}\n    queue_config:\n      batch_send_deadline: 1s\n",
        host.url("/api/v1/push")
    );
    std::fs::write(dir.path().join("prometheus.yml"), config).expect("config");
    let prometheus = ExternalProcess::start(
        "prometheus",
        &[
            "--config.file=prometheus.yml".to_string(),
            "--storage.tsdb.path=data".to_string(),
            format!("--web.listen-address=127.0.0.1:{prometheus_port}"),
        ],
        dir,
    );

    let deadline = Instant::now() + Duration::from_secs(90);
    let up = loop {
        let series = query_ingester(
            &host.grpc_address(),
            "anonymous",
            vec![eq("__name__", "up"), eq("job", "prometheus")],
            0,
            i64::MAX,
        )
        .unwrap_or_default();
        let samples: usize = series.iter().map(|s| s.samples.len()).sum();
        if samples >= 3 {
            break series;
        }
        assert!(
            Instant::now() < deadline,
            "no samples from Prometheus after 90 s\nmimir-host:\n{}\nprometheus:\n{}",
            host.logs(),
            prometheus.logs()
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(up.len(), 1);
    let labels: Vec<(String, String)> = up[0]
        .labels
        .iter()
        .map(|l| {
            let text = |b: &[u8]| std::str::from_utf8(b).expect("UTF-8").to_string();
            (text(&l.name), text(&l.value))
        })
        .collect();
    let instance = format!("127.0.0.1:{prometheus_port}");
    let expected = [
        ("__name__", "up"),
        ("instance", instance.as_str()),
        ("job", "prometheus"),
    ]
    .map(|(n, v)| (n.to_string(), v.to_string()));
    assert_eq!(labels, expected);
    assert!(up[0].samples.iter().all(|s| s.value == 1.0));
    assert!(
        up[0]
            .samples
            .windows(2)
            .all(|w| w[0].timestamp_ms < w[1].timestamp_ms)
    );

    // Many series arrive, not just `up`: Prometheus' own metrics, in the same tenant only.
    let all = query_ingester(
        &host.grpc_address(),
        "anonymous",
        vec![eq("job", "prometheus")],
        0,
        i64::MAX,
    )
    .expect("query");
    assert!(all.len() > 100, "{} series", all.len());
    let other = query_ingester(
        &host.grpc_address(),
        "someone-else",
        vec![eq("job", "prometheus")],
        0,
        i64::MAX,
    )
    .expect("query");
    assert!(other.is_empty());
    let (status, _) = get(&host.url("/ready")).expect("ready");
    assert_eq!(status, 200);
}
