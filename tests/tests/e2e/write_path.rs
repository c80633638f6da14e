//! The write path with the real binary: remote write into the distributor, series sharded to the
//! ingester, read back from the ingester over the gRPC bus. Tenancy, durability across `kill -9`,
//! WAL damage, validation errors, rate limits and runtime overrides.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mimir_tests::client::{eq, push, push_raw, query_ingester, re, snappy, write_body};
use mimir_tests::{HostProcess, PluginDir};

const READY: Duration = Duration::from_secs(30);

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A monolith running the write path with its data under `data`.
fn write_path(plugins: &PluginDir, data: &Path, extra: &[String]) -> HostProcess {
    let mut args = vec![
        plugins.flag(),
        format!("-ingester.data-dir={}", data.display()),
    ];
    args.extend_from_slice(extra);
    let mut host = HostProcess::start(&args);
    host.wait_ready(READY);
    host
}

fn base(host: &HostProcess) -> String {
    host.url("")
}

/// Every (timestamp, value) stored for `metric` of `tenant`.
fn samples(host: &HostProcess, tenant: &str, metric: &str) -> Vec<(i64, f64)> {
    let series = query_ingester(
        &host.grpc_address(),
        tenant,
        vec![eq("__name__", metric)],
        0,
        i64::MAX,
    )
    .unwrap_or_else(|error| panic!("query failed: {error}\n{}", host.logs()));
    series
        .iter()
        .flat_map(|s| s.samples.iter().map(|x| (x.timestamp_ms, x.value)))
        .collect()
}

#[test]
fn tenants_never_mix_and_a_missing_tenant_is_refused() {
    let plugins = PluginDir::write_path();
    let data = tempfile::tempdir().expect("temp dir");
    let host = write_path(&plugins, data.path(), &[]);
    let t = now_ms();
    let (status, body) = push(
        &base(&host),
        Some("team-a"),
        &[(&[("__name__", "m"), ("owner", "a")], &[(t, 1.0)])],
    );
    assert_eq!(status, 200, "{body}");
    let (status, body) = push(
        &base(&host),
        Some("team-b"),
        &[(&[("__name__", "m"), ("owner", "b")], &[(t, 2.0)])],
    );
    assert_eq!(status, 200, "{body}");
    let a = query_ingester(
        &host.grpc_address(),
        "team-a",
        vec![eq("__name__", "m")],
        0,
        i64::MAX,
    )
    .unwrap();
    assert_eq!(a.len(), 1);
    assert!(
        a[0].labels
            .iter()
            .any(|l| l.name == "owner" && l.value == "a")
    );
    let b = query_ingester(
        &host.grpc_address(),
        "team-b",
        vec![re("owner", ".+")],
        0,
        i64::MAX,
    )
    .unwrap();
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].samples[0].value, 2.0);

    let (status, body) = push(&base(&host), None, &[(&[("__name__", "m")], &[(t, 1.0)])]);
    assert_eq!((status, body.as_str()), (401, "no org id"));
}

#[test]
fn multitenancy_off_writes_to_anonymous() {
    let plugins = PluginDir::write_path();
    let data = tempfile::tempdir().expect("temp dir");
    let host = write_path(
        &plugins,
        data.path(),
        &["-auth.multitenancy-enabled=false".to_string()],
    );
    let (status, body) = push(
        &base(&host),
        None,
        &[(&[("__name__", "solo")], &[(now_ms(), 3.0)])],
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(samples(&host, "anonymous", "solo").len(), 1);
}

#[test]
fn every_acknowledged_sample_survives_kill_9() {
    let plugins = PluginDir::write_path();
    let data = tempfile::tempdir().expect("temp dir");
    let mut host = write_path(&plugins, data.path(), &[]);
    let start = now_ms() - 60_000;
    let mut acknowledged = Vec::new();
    for batch in 0..20i64 {
        let points: Vec<(i64, f64)> = (0..10)
            .map(|i| (start + batch * 1000 + i * 10, (batch * 10 + i) as f64))
            .collect();
        let (status, body) = push(
            &base(&host),
            Some("durable"),
            &[(&[("__name__", "kept"), ("job", "kill")], &points)],
        );
        assert_eq!(status, 200, "{body}");
        acknowledged.extend(points);
    }
    host.kill9();
    let restarted = write_path(&plugins, data.path(), &[]);
    assert_eq!(samples(&restarted, "durable", "kept"), acknowledged);
}

/// The newest WAL segment file of `tenant`.
fn last_segment(data: &Path, tenant: &str) -> PathBuf {
    let wal = data.join(tenant).join("wal");
    let mut segments: Vec<PathBuf> = std::fs::read_dir(&wal)
        .expect("wal dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()))
        })
        .filter(|p| std::fs::metadata(p).map(|m| m.len() > 0).unwrap_or(false))
        .collect();
    segments.sort();
    segments.pop().expect("a non-empty WAL segment")
}

/// Writes two acknowledged batches, kills the process, damages the last record with `damage`,
/// restarts: the first batch is there, the damage was logged, the process runs.
fn survives_damage(damage: impl Fn(&Path)) {
    let plugins = PluginDir::write_path();
    let data = tempfile::tempdir().expect("temp dir");
    let mut host = write_path(&plugins, data.path(), &[]);
    let t = now_ms() - 10_000;
    let first: Vec<(i64, f64)> = (0..5).map(|i| (t + i, i as f64)).collect();
    assert_eq!(
        push(
            &base(&host),
            Some("torn"),
            &[(&[("__name__", "w")], &first)]
        )
        .0,
        200
    );
    let second: Vec<(i64, f64)> = (5..10).map(|i| (t + i, i as f64)).collect();
    assert_eq!(
        push(
            &base(&host),
            Some("torn"),
            &[(&[("__name__", "w")], &second)]
        )
        .0,
        200
    );
    host.kill9();
    damage(&last_segment(data.path(), "torn"));
    let restarted = write_path(&plugins, data.path(), &[]);
    let stored = samples(&restarted, "torn", "w");
    assert_eq!(&stored[..5], first.as_slice(), "{stored:?}");
    assert!(
        stored.len() < 10,
        "the damaged record is dropped: {stored:?}"
    );
    let logs = restarted.logs();
    assert!(
        logs.lines()
            .any(|l| l.contains("WARN") && l.contains("damaged")),
        "{logs}"
    );
}

#[test]
fn a_wal_with_a_truncated_last_record_replays_with_a_warning() {
    survives_damage(|segment| {
        let length = std::fs::metadata(segment).expect("segment").len();
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(segment)
            .expect("open");
        file.set_len(length - 7).expect("truncate");
    });
}

#[test]
fn a_wal_with_a_flipped_byte_replays_with_a_warning() {
    survives_damage(|segment| {
        let mut bytes = std::fs::read(segment).expect("segment");
        let at = bytes.len() - 20;
        bytes[at] ^= 0xff;
        std::fs::write(segment, bytes).expect("write");
    });
}

#[test]
fn bad_input_gets_mimirs_status_id_and_message() {
    let plugins = PluginDir::write_path();
    let data = tempfile::tempdir().expect("temp dir");
    let host = write_path(
        &plugins,
        data.path(),
        &[
            "-validation.max-label-names-per-series=4".to_string(),
            "-validation.max-length-label-name=20".to_string(),
            "-validation.max-length-label-value=30".to_string(),
            "-distributor.max-recv-msg-size=2000".to_string(),
        ],
    );
    let t = now_ms();
    let far_future = t + 3_600_000;
    let long_value = "v".repeat(31);
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, i64, &'a str);
    let cases: Vec<Case> = vec![
        (
            "no metric name",
            vec![("job", "x")],
            t,
            "received series has no metric name (err-mimir-missing-metric-name)",
        ),
        (
            "invalid metric name",
            vec![("__name__", "1bad")],
            t,
            "(err-mimir-metric-name-invalid)",
        ),
        (
            "invalid label name",
            vec![("__name__", "m"), ("bad-name", "x")],
            t,
            "(err-mimir-label-invalid)",
        ),
        (
            "label name too long",
            vec![("__name__", "m"), ("a_very_long_label_name_x", "x")],
            t,
            "(err-mimir-label-name-too-long). To adjust the related per-tenant limit, configure -validation.max-length-label-name",
        ),
        (
            "label value too long",
            vec![("__name__", "m"), ("l", &long_value)],
            t,
            "(err-mimir-label-value-too-long)",
        ),
        (
            "too many labels",
            vec![
                ("__name__", "m"),
                ("a", "1"),
                ("b", "2"),
                ("c", "3"),
                ("d", "4"),
            ],
            t,
            "(err-mimir-max-label-names-per-series). To adjust the related per-tenant limit, configure -validation.max-label-names-per-series",
        ),
        (
            "duplicate labels",
            vec![("__name__", "m"), ("a", "1"), ("a", "2")],
            t,
            "(err-mimir-duplicate-label-names)",
        ),
        (
            "too far in the future",
            vec![("__name__", "m")],
            far_future,
            "(err-mimir-too-far-in-future)",
        ),
    ];
    for (case, labels, timestamp, expected) in &cases {
        let (status, body) = push(
            &base(&host),
            Some("bad"),
            &[(labels.as_slice(), &[(*timestamp, 1.0)])],
        );
        assert_eq!(status, 400, "{case}: {body}");
        assert!(
            body.contains(expected),
            "{case}: `{body}` lacks `{expected}`"
        );
    }

    let (status, body) = push_raw(&base(&host), Some("bad"), b"not snappy at all");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("snappy"), "{body}");
    let (status, body) = push_raw(
        &base(&host),
        Some("bad"),
        &snappy(b"\xff\xff\xff not protobuf"),
    );
    assert_eq!(status, 400, "{body}");
    let huge = vec![("__name__", "m"); 1];
    let many: Vec<(i64, f64)> = (0..500).map(|i| (t + i, 1.0)).collect();
    let (status, body) = push_raw(
        &base(&host),
        Some("bad"),
        &write_body(&[(huge.as_slice(), &many)]),
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("(err-mimir-distributor-max-write-message-size)"),
        "{body}"
    );

    // Good series in a request with bad ones are stored; the answer is the first error.
    let (status, body) = push(
        &base(&host),
        Some("bad"),
        &[
            (&[("__name__", "good_one")], &[(t, 1.0)]),
            (&[("job", "nameless")], &[(t, 1.0)]),
            (&[("__name__", "good_two")], &[(t, 2.0)]),
        ],
    );
    assert_eq!(status, 400);
    assert!(body.contains("err-mimir-missing-metric-name"), "{body}");
    assert_eq!(samples(&host, "bad", "good_one"), vec![(t, 1.0)]);
    assert_eq!(samples(&host, "bad", "good_two"), vec![(t, 2.0)]);

    // The ingester's own errors come back too: a sample older than the newest is out of order.
    assert_eq!(
        push(
            &base(&host),
            Some("bad"),
            &[(&[("__name__", "ooo")], &[(t, 1.0)])]
        )
        .0,
        200
    );
    let (status, body) = push(
        &base(&host),
        Some("bad"),
        &[(&[("__name__", "ooo")], &[(t - 60_000, 1.0)])],
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("(err-mimir-sample-out-of-order)"), "{body}");

    // Each refused series' samples are counted under Mimir's reason: one sample per case above,
    // plus the nameless series of the mixed request.
    let (_, metrics) = mimir_tests::get(&host.url("/metrics")).expect("metrics");
    for (reason, samples) in [
        ("missing_metric_name", 2),
        ("metric_name_invalid", 1),
        ("label_invalid", 1),
        ("label_name_too_long", 1),
        ("label_value_too_long", 1),
        ("max_label_names_per_series", 1),
        ("duplicate_label_names", 1),
        ("too_far_in_future", 1),
    ] {
        let line =
            format!("cortex_discarded_samples_total{{reason=\"{reason}\",user=\"bad\"}} {samples}");
        assert!(metrics.contains(&line), "no `{line}` in\n{metrics}");
    }
}

#[test]
fn the_rate_limit_answers_429_and_recovers() {
    let plugins = PluginDir::write_path();
    let data = tempfile::tempdir().expect("temp dir");
    let host = write_path(
        &plugins,
        data.path(),
        &[
            "-distributor.ingestion-rate-limit=20".to_string(),
            "-distributor.ingestion-burst-size=30".to_string(),
        ],
    );
    let t = now_ms() - 10_000;
    let batch =
        |offset: i64| -> Vec<(i64, f64)> { (0..25).map(|i| (t + offset + i, 1.0)).collect() };
    assert_eq!(
        push(
            &base(&host),
            Some("limited"),
            &[(&[("__name__", "r")], &batch(0))]
        )
        .0,
        200
    );
    let (status, body) = push(
        &base(&host),
        Some("limited"),
        &[(&[("__name__", "r")], &batch(100))],
    );
    assert_eq!(status, 429, "{body}");
    assert!(
        body.contains("(err-mimir-tenant-max-ingestion-rate)"),
        "{body}"
    );
    assert!(body.contains("-distributor.ingestion-rate-limit"), "{body}");
    let (_, metrics) = mimir_tests::get(&host.url("/metrics")).expect("metrics");
    assert!(
        metrics.contains(
            "cortex_discarded_samples_total{reason=\"rate_limited\",user=\"limited\"} 25"
        ),
        "{metrics}"
    );
    // 20 samples/s refill the bucket: after 2 s there is room for 25 again.
    std::thread::sleep(Duration::from_millis(2_000));
    let (status, body) = push(
        &base(&host),
        Some("limited"),
        &[(&[("__name__", "r")], &batch(200))],
    );
    assert_eq!(status, 200, "{body}");
}

#[test]
fn a_runtime_config_change_takes_effect_without_restart() {
    let plugins = PluginDir::write_path();
    let data = tempfile::tempdir().expect("temp dir");
    let runtime = data.path().join("runtime.yaml");
    std::fs::write(
        &runtime,
        "overrides:\n  tight:\n    max_label_names_per_series: 2\n",
    )
    .expect("write");
    let host = write_path(
        &plugins,
        data.path(),
        &[
            format!("-runtime-config.file={}", runtime.display()),
            "-runtime-config.reload-period=100ms".to_string(),
        ],
    );
    let labels = [("__name__", "m"), ("a", "1"), ("b", "2")];
    let t = now_ms();
    let (status, body) = push(&base(&host), Some("tight"), &[(&labels, &[(t, 1.0)])]);
    assert_eq!(status, 400, "the override applies: {body}");
    let (status, _) = push(&base(&host), Some("other"), &[(&labels, &[(t, 1.0)])]);
    assert_eq!(status, 200, "other tenants keep the defaults");

    std::fs::write(
        &runtime,
        "overrides:\n  tight:\n    max_label_names_per_series: 10\n",
    )
    .expect("write");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = push(
            &base(&host),
            Some("tight"),
            &[(&labels, &[(now_ms(), 1.0)])],
        );
        if status == 200 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "override not reloaded: {body}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_replication_factor_above_the_ingester_count_names_the_flag() {
    let plugins = PluginDir::write_path();
    let data = tempfile::tempdir().expect("temp dir");
    let host = write_path(
        &plugins,
        data.path(),
        &["-ingester.ring.replication-factor=3".to_string()],
    );
    let (status, body) = push(
        &base(&host),
        Some("t"),
        &[(&[("__name__", "m")], &[(now_ms(), 1.0)])],
    );
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("-ingester.ring.replication-factor"), "{body}");
}

#[test]
fn three_replicas_survive_one_ingester_down_but_not_two() {
    use mimir_tests::free_port;
    let distributor_plugins = PluginDir::new().with("mimir_distributor", "libmimir_distributor.so");
    let ingester_plugins = PluginDir::new().with("mimir_ingester", "libmimir_ingester.so");
    let (http0, grpc0) = (free_port(), free_port());
    let kv = format!("127.0.0.1:{grpc0}");
    let (mut ingesters, _dirs) = mimir_tests::start_ingesters(&ingester_plugins, &kv, 3);
    let mut distributor = HostProcess::start_on(
        &[
            distributor_plugins.flag(),
            "-target=distributor".to_string(),
            "-ingester.ring.replication-factor=3".to_string(),
        ],
        http0,
        grpc0,
    );
    distributor.wait_ready(READY);
    for ingester in &mut ingesters {
        ingester.wait_ready(READY);
    }
    // Every ingester has joined the ring held by the distributor's process.
    let deadline = std::time::Instant::now() + READY;
    let t = now_ms();
    loop {
        let (status, body) = push(
            &base(&distributor),
            Some("ha"),
            &[(&[("__name__", "first")], &[(t, 1.0)])],
        );
        if status == 200 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{status} {body}\n{}",
            distributor.logs()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    for ingester in &ingesters {
        assert_eq!(
            samples(ingester, "ha", "first"),
            vec![(t, 1.0)],
            "replicated to every ingester"
        );
    }

    ingesters[2].kill9();
    let (status, body) = push(
        &base(&distributor),
        Some("ha"),
        &[(&[("__name__", "second")], &[(t, 2.0)])],
    );
    assert_eq!(status, 200, "two of three is a quorum: {body}");
    assert_eq!(samples(&ingesters[0], "ha", "second"), vec![(t, 2.0)]);
    assert_eq!(samples(&ingesters[1], "ha", "second"), vec![(t, 2.0)]);

    ingesters[1].kill9();
    let (status, body) = push(
        &base(&distributor),
        Some("ha"),
        &[(&[("__name__", "third")], &[(t, 3.0)])],
    );
    assert!(status >= 500, "one of three is no quorum: {status} {body}");
}
