//! The read path with the real binary: samples pushed with remote write, read back through the
//! querier's Prometheus HTTP API under `/prometheus` (queries, series, labels, label values,
//! metadata), its parameter errors, tenancy, replicas across three ingesters, and real Prometheus
//! tools (`promtool`) against mimir-host and against Prometheus itself.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mimir_tests::client::{eq, push, query_ingester};
use mimir_tests::{ExternalProcess, HostProcess, PluginDir, free_port, get, get_with, post_form};

const READY: Duration = Duration::from_secs(30);

/// Now, in milliseconds, rounded down to a whole second (so timestamps print without a fraction).
fn now_s_ms() -> i64 {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    ms - ms % 1000
}

/// A monolith (distributor, ingester, querier) with its data under `data`.
fn monolith(plugins: &PluginDir, data: &Path, extra: &[String]) -> HostProcess {
    let mut args = vec![
        plugins.flag(),
        format!("-ingester.data-dir={}", data.display()),
    ];
    args.extend_from_slice(extra);
    let mut host = HostProcess::start(&args);
    host.wait_ready(READY);
    host
}

/// GET `/prometheus<path>` as `tenant`.
fn api(host: &HostProcess, tenant: Option<&str>, path: &str) -> (u16, String) {
    let url = host.url(&format!("/prometheus{path}"));
    let headers: Vec<(&str, &str)> = tenant.map(|t| ("X-Scope-OrgID", t)).into_iter().collect();
    get_with(&url, &headers).unwrap_or_else(|error| panic!("GET {url}: {error}"))
}

/// Seconds as Prometheus prints a whole-second timestamp.
fn secs(ms: i64) -> String {
    (ms / 1000).to_string()
}

fn push_ok(
    host: &HostProcess,
    tenant: Option<&str>,
    series: &[mimir_tests::client::TestSeries<'_>],
) {
    let (status, body) = push(&host.url(""), tenant, series);
    assert_eq!(status, 200, "push: {body}\n{}", host.logs());
}

#[test]
fn series_labels_and_label_values_come_back_from_the_ingesters() {
    let plugins = PluginDir::monolith();
    let data = tempfile::tempdir().expect("temp dir");
    let host = monolith(&plugins, data.path(), &[]);
    let t = now_s_ms();
    push_ok(
        &host,
        Some("team"),
        &[
            (
                &[
                    ("__name__", "http_requests_total"),
                    ("job", "api"),
                    ("code", "200"),
                ],
                &[(t - 2000, 1.0), (t, 2.0)],
            ),
            (
                &[
                    ("__name__", "http_requests_total"),
                    ("job", "api"),
                    ("code", "500"),
                ],
                &[(t, 7.0)],
            ),
            (&[("__name__", "up"), ("job", "node")], &[(t, 1.0)]),
        ],
    );

    let (status, body) = api(
        &host,
        Some("team"),
        "/api/v1/series?match[]=http_requests_total",
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        r#"{"status":"success","data":[{"__name__":"http_requests_total","code":"200","job":"api"},{"__name__":"http_requests_total","code":"500","job":"api"}]}"#
    );
    // Two selectors: the union, sorted, each series once.
    let (_, body) = api(
        &host,
        Some("team"),
        "/api/v1/series?match[]=up&match[]=%7Bjob%3D%22api%22%2Ccode%3D%22500%22%7D&match[]=up%7Bjob%3D~%22n.*%22%7D",
    );
    assert_eq!(
        body,
        r#"{"status":"success","data":[{"__name__":"http_requests_total","code":"500","job":"api"},{"__name__":"up","job":"node"}]}"#
    );
    // A time range without samples finds nothing.
    let (_, body) = api(
        &host,
        Some("team"),
        &format!("/api/v1/series?match[]=up&start=0&end={}", secs(t - 60_000)),
    );
    assert_eq!(body, r#"{"status":"success","data":[]}"#);
    // limit truncates, with Prometheus' warning.
    let (_, body) = api(
        &host,
        Some("team"),
        "/api/v1/series?match[]=%7Bjob%3D~%22.%2B%22%7D&limit=1",
    );
    assert_eq!(
        body,
        r#"{"status":"success","data":[{"__name__":"http_requests_total","code":"200","job":"api"}],"warnings":["results truncated due to limit"]}"#
    );

    let (_, body) = api(&host, Some("team"), "/api/v1/labels");
    assert_eq!(
        body,
        r#"{"status":"success","data":["__name__","code","job"]}"#
    );
    let (_, body) = api(&host, Some("team"), "/api/v1/labels?match[]=up");
    assert_eq!(body, r#"{"status":"success","data":["__name__","job"]}"#);
    let (_, body) = api(&host, Some("team"), "/api/v1/labels?limit=2");
    assert_eq!(
        body,
        r#"{"status":"success","data":["__name__","code"],"warnings":["results truncated due to limit"]}"#
    );

    let (_, body) = api(&host, Some("team"), "/api/v1/label/job/values");
    assert_eq!(body, r#"{"status":"success","data":["api","node"]}"#);
    let (_, body) = api(&host, Some("team"), "/api/v1/label/__name__/values");
    assert_eq!(
        body,
        r#"{"status":"success","data":["http_requests_total","up"]}"#
    );
    let (_, body) = api(&host, Some("team"), "/api/v1/label/code/values?match[]=up");
    assert_eq!(body, r#"{"status":"success","data":[]}"#);
    let (_, body) = api(&host, Some("team"), "/api/v1/label/nope/values");
    assert_eq!(body, r#"{"status":"success","data":[]}"#);

    // POST with a form body reads the same parameters.
    let (status, body) = post_form(
        &host.url("/prometheus/api/v1/series"),
        &[("X-Scope-OrgID", "team")],
        "match%5B%5D=up",
    )
    .expect("POST");
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        r#"{"status":"success","data":[{"__name__":"up","job":"node"}]}"#
    );

    let (_, body) = api(&host, Some("team"), "/api/v1/metadata");
    assert_eq!(body, r#"{"status":"success","data":{}}"#);
    let (status, body) = api(&host, Some("team"), "/api/v1/status/buildinfo");
    assert_eq!(status, 200);
    assert!(
        body.starts_with(r#"{"status":"success","data":{"application":"mimir-host","version":""#),
        "{body}"
    );
    let (status, body) = api(
        &host,
        Some("team"),
        "/api/v1/format_query?query=sum(rate(x%5B5m%5D))by(job)",
    );
    assert_eq!(status, 200);
    assert_eq!(
        body,
        r#"{"status":"success","data":"sum by (job) (rate(x[5m]))"}"#
    );
}

#[test]
fn bad_parameters_are_refused_with_prometheus_errors() {
    let plugins = PluginDir::monolith();
    let data = tempfile::tempdir().expect("temp dir");
    let host = monolith(&plugins, data.path(), &[]);
    let bad = |path: &str, message: &str| {
        let (status, body) = api(&host, Some("t"), path);
        assert_eq!(
            (status, body.as_str()),
            (
                400,
                format!(r#"{{"status":"error","errorType":"bad_data","error":"{message}"}}"#)
                    .as_str()
            ),
            "{path}"
        );
    };
    bad(
        "/api/v1/query",
        r#"invalid parameter \"query\": 1:1: parse error: no expression found in input"#,
    );
    bad(
        "/api/v1/query?query=up%7B",
        r#"invalid parameter \"query\": 1:4: parse error: unexpected end of input inside braces"#,
    );
    bad(
        "/api/v1/query?query=up&time=yesterday",
        r#"invalid parameter \"time\": Invalid time value for 'time': cannot parse \"yesterday\" to a valid timestamp"#,
    );
    bad(
        "/api/v1/query?query=up&timeout=soon",
        r#"invalid parameter \"timeout\": cannot parse \"soon\" to a valid duration"#,
    );
    bad(
        "/api/v1/query_range?query=up&end=10&step=1",
        r#"invalid parameter \"start\": cannot parse \"\" to a valid timestamp"#,
    );
    bad(
        "/api/v1/query_range?query=up&start=10&end=5&step=1",
        r#"invalid parameter \"end\": end timestamp must not be before start time"#,
    );
    bad(
        "/api/v1/query_range?query=up&start=0&end=10&step=0",
        r#"invalid parameter \"step\": zero or negative query resolution step widths are not accepted. Try a positive integer"#,
    );
    bad(
        "/api/v1/query_range?query=up&start=0&end=10&step=x",
        r#"invalid parameter \"step\": cannot parse \"x\" to a valid duration"#,
    );
    bad(
        "/api/v1/query_range?query=up&start=0&end=11001&step=1",
        "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
    );
    bad(
        "/api/v1/query_range?query=up%7B&start=0&end=10&step=1",
        r#"invalid parameter \"query\": 1:4: parse error: unexpected end of input inside braces"#,
    );
    bad("/api/v1/series", "no match[] parameter provided");
    bad(
        "/api/v1/series?match[]=%7Bjob%3D~%22.*%22%7D",
        r#"invalid parameter \"match[]\": match[] must contain at least one non-empty matcher"#,
    );
    bad(
        "/api/v1/series?match[]=up&start=x",
        r#"invalid parameter \"start\": Invalid time value for 'start': cannot parse \"x\" to a valid timestamp"#,
    );
    bad(
        "/api/v1/labels?limit=x",
        r#"invalid parameter \"limit\": strconv.Atoi: parsing \"x\": invalid syntax"#,
    );
    bad(
        "/api/v1/labels?limit=-1",
        r#"invalid parameter \"limit\": limit must be non-negative"#,
    );
    bad("/api/v1/metadata?limit=x", "limit must be a number");
    // Label names in paths follow -validation.name-validation-scheme (legacy by default).
    bad("/api/v1/label/a-b/values", r#"invalid label name: \"a-b\""#);
    bad(
        "/api/v1/label/U__a_2d_b/values",
        r#"invalid label name: \"U__a_2d_b\""#,
    );
    // A selector matching everything: bare for labels, a parameter error for series.
    bad(
        "/api/v1/labels?match[]=%7Bjob%3D%22%22%7D",
        "match[] must contain at least one non-empty matcher",
    );
    bad(
        "/api/v1/label/job/values?match[]=%7Bjob%3D%22%22%7D",
        "match[] must contain at least one non-empty matcher",
    );
    bad(
        "/api/v1/format_query?query=sum(up%7B)",
        r#"invalid parameter \"query\": 1:8: parse error: unexpected character inside braces: ')'"#,
    );
}

#[test]
fn tenants_only_see_their_own_series_and_a_missing_tenant_is_refused() {
    let plugins = PluginDir::monolith();
    let data = tempfile::tempdir().expect("temp dir");
    let host = monolith(&plugins, data.path(), &[]);
    let t = now_s_ms();
    push_ok(
        &host,
        Some("team-a"),
        &[(&[("__name__", "m"), ("owner", "a")], &[(t, 1.0)])],
    );
    push_ok(
        &host,
        Some("team-b"),
        &[(&[("__name__", "m"), ("owner", "b")], &[(t, 2.0)])],
    );
    let (_, body) = api(&host, Some("team-a"), "/api/v1/series?match[]=m");
    assert_eq!(
        body,
        r#"{"status":"success","data":[{"__name__":"m","owner":"a"}]}"#
    );
    let (_, body) = api(&host, Some("team-b"), "/api/v1/label/owner/values");
    assert_eq!(body, r#"{"status":"success","data":["b"]}"#);
    let (_, body) = api(&host, Some("team-c"), "/api/v1/labels");
    assert_eq!(body, r#"{"status":"success","data":[]}"#);
    for path in [
        "/api/v1/query?query=m",
        "/api/v1/query_range?query=m&start=0&end=1&step=1",
        "/api/v1/series?match[]=m",
        "/api/v1/labels",
        "/api/v1/label/owner/values",
        "/api/v1/metadata",
    ] {
        assert_eq!(
            api(&host, None, path),
            (401, "no org id".to_string()),
            "{path}"
        );
    }
    let (status, body) = api(&host, Some("a|b"), "/api/v1/labels");
    assert_eq!((status, body.as_str()), (400, "multiple org IDs present"));

    // Queries see only the tenant's samples (needs the engine).
    let (status, body) = api(
        &host,
        Some("team-b"),
        &format!("/api/v1/query?query=m&time={}", secs(t)),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        format!(
            r#"{{"status":"success","data":{{"resultType":"vector","result":[{{"metric":{{"__name__":"m","owner":"b"}},"value":[{},"2"]}}]}}}}"#,
            secs(t)
        )
    );
}

#[test]
fn without_multitenancy_everything_is_tenant_anonymous() {
    let plugins = PluginDir::monolith();
    let data = tempfile::tempdir().expect("temp dir");
    let host = monolith(
        &plugins,
        data.path(),
        &[
            "-auth.multitenancy-enabled=false".to_string(),
            "-validation.name-validation-scheme=utf8".to_string(),
        ],
    );
    let t = now_s_ms();
    push_ok(
        &host,
        None,
        &[(&[("__name__", "m"), ("x", "1"), ("a.b", "2")], &[(t, 1.0)])],
    );
    let (_, body) = api(&host, None, "/api/v1/series?match[]=m");
    assert_eq!(
        body,
        r#"{"status":"success","data":[{"__name__":"m","a.b":"2","x":"1"}]}"#
    );
    // UTF-8 label names, plain or escaped in the path.
    for path in ["/api/v1/label/a.b/values", "/api/v1/label/U__a_2e_b/values"] {
        assert_eq!(
            api(&host, None, path),
            (200, r#"{"status":"success","data":["2"]}"#.to_string()),
            "{path}"
        );
    }
}

#[test]
fn instant_and_range_queries_evaluate_pushed_samples() {
    let plugins = PluginDir::monolith();
    let data = tempfile::tempdir().expect("temp dir");
    let host = monolith(&plugins, data.path(), &[]);
    let t0 = now_s_ms() - 60_000;
    let at = |i: i64| t0 + i * 15_000;
    push_ok(
        &host,
        Some("q"),
        &[
            (
                &[("__name__", "load"), ("host", "b")],
                &[(at(0), 3.0), (at(1), 4.0), (at(2), 5.5)],
            ),
            (
                &[("__name__", "load"), ("host", "a")],
                &[(at(0), 1.0), (at(1), 2.0), (at(2), 0.25)],
            ),
        ],
    );

    let (status, body) = api(
        &host,
        Some("q"),
        &format!("/api/v1/query?query=load&time={}", secs(at(2))),
    );
    assert_eq!(status, 200, "{body}");
    let t = secs(at(2));
    assert_eq!(
        body,
        format!(
            r#"{{"status":"success","data":{{"resultType":"vector","result":[{{"metric":{{"__name__":"load","host":"a"}},"value":[{t},"0.25"]}},{{"metric":{{"__name__":"load","host":"b"}},"value":[{t},"5.5"]}}]}}}}"#
        )
    );
    // Between samples, the latest one within the lookback delta.
    let (_, body) = api(
        &host,
        Some("q"),
        &format!("/api/v1/query?query=sum(load)&time={}.500", secs(at(1))),
    );
    assert_eq!(
        body,
        format!(
            r#"{{"status":"success","data":{{"resultType":"vector","result":[{{"metric":{{}},"value":[{}.500,"6"]}}]}}}}"#,
            secs(at(1))
        )
    );
    let (_, body) = api(&host, Some("q"), "/api/v1/query?query=1%2F0&time=100");
    assert_eq!(
        body,
        r#"{"status":"success","data":{"resultType":"scalar","result":[100,"+Inf"]}}"#
    );

    // A range query: series sorted by labels, one point per step.
    let path = format!(
        "/api/v1/query_range?query=load&start={}&end={}&step=15s",
        secs(at(0)),
        secs(at(2))
    );
    let (status, body) = api(&host, Some("q"), &path);
    assert_eq!(status, 200, "{body}");
    let (a0, a1, a2) = (secs(at(0)), secs(at(1)), secs(at(2)));
    assert_eq!(
        body,
        format!(
            r#"{{"status":"success","data":{{"resultType":"matrix","result":[{{"metric":{{"__name__":"load","host":"a"}},"values":[[{a0},"1"],[{a1},"2"],[{a2},"0.25"]]}},{{"metric":{{"__name__":"load","host":"b"}},"values":[[{a0},"3"],[{a1},"4"],[{a2},"5.5"]]}}]}}}}"#
        )
    );
    // The same as a form POST.
    let (status, post_body) = post_form(
        &host.url("/prometheus/api/v1/query_range"),
        &[("X-Scope-OrgID", "q")],
        &format!(
            "query=load&start={}&end={}&step=15",
            secs(at(0)),
            secs(at(2))
        ),
    )
    .expect("POST");
    assert_eq!((status, post_body), (200, body));
    // An instant query with `limit`.
    let (_, body) = api(
        &host,
        Some("q"),
        &format!("/api/v1/query?query=load&time={t}&limit=1"),
    );
    assert!(
        body.ends_with(r#""warnings":["results truncated due to limit"]}"#),
        "{body}"
    );
}

#[test]
fn replicas_on_three_ingesters_are_read_once_and_one_ingester_down_is_tolerated() {
    let front_plugins = PluginDir::new()
        .with("mimir_distributor", "libmimir_distributor.so")
        .with("mimir_querier", "libmimir_querier.so");
    let ingester_plugins = PluginDir::new().with("mimir_ingester", "libmimir_ingester.so");
    let (http0, grpc0) = (free_port(), free_port());
    let kv = format!("127.0.0.1:{grpc0}");
    let (mut ingesters, dirs) = mimir_tests::start_ingesters(&ingester_plugins, &kv, 3);
    let mut front = HostProcess::start_on(
        &[
            front_plugins.flag(),
            "-target=distributor,querier".to_string(),
            "-ingester.ring.replication-factor=3".to_string(),
        ],
        http0,
        grpc0,
    );
    front.wait_ready(READY);
    for ingester in &mut ingesters {
        ingester.wait_ready(READY);
    }
    let t = now_s_ms();
    let deadline = Instant::now() + READY;
    loop {
        let (status, body) = push(
            &front.url(""),
            Some("ha"),
            &[
                (&[("__name__", "r"), ("i", "1")], &[(t - 1000, 1.0)]),
                (&[("__name__", "r"), ("i", "2")], &[(t - 1000, 2.0)]),
            ],
        );
        if status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{status} {body}\n{}",
            front.logs()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // Every ingester holds both series; the API shows each once. A push is acknowledged once a
    // quorum (two of three) stored it, so a replica that failed it would lack it: the message names
    // that ingester and shows its log (this check once failed under a loaded full-suite run).
    for ingester in &ingesters {
        let deadline = Instant::now() + READY;
        loop {
            let series = query_ingester(
                &ingester.grpc_address(),
                "ha",
                vec![eq("__name__", "r")],
                0,
                i64::MAX,
            )
            .expect("query ingester");
            if series.len() == 2 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{} holds {series:?}\n{}",
                ingester.grpc_address(),
                ingester.logs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let expected_series =
        r#"{"status":"success","data":[{"__name__":"r","i":"1"},{"__name__":"r","i":"2"}]}"#;
    let (status, body) = api(&front, Some("ha"), "/api/v1/series?match[]=r");
    assert_eq!((status, body.as_str()), (200, expected_series));
    let (_, body) = api(&front, Some("ha"), "/api/v1/label/i/values");
    assert_eq!(body, r#"{"status":"success","data":["1","2"]}"#);

    // One ingester down: its replicas answer for it. The second sample reaches only two.
    ingesters[0].kill9();
    let (status, body) = push(
        &front.url(""),
        Some("ha"),
        &[(&[("__name__", "r"), ("i", "1")], &[(t, 10.0)])],
    );
    assert_eq!(status, 200, "{body}");
    let (status, body) = api(&front, Some("ha"), "/api/v1/series?match[]=r");
    assert_eq!((status, body.as_str()), (200, expected_series));
    let range = format!(
        "/api/v1/query_range?query=r&start={}&end={}&step=1",
        secs(t - 1000),
        secs(t)
    );
    let (t1, t2) = (secs(t - 1000), secs(t));
    let merged = format!(
        r#"{{"status":"success","data":{{"resultType":"matrix","result":[{{"metric":{{"__name__":"r","i":"1"}},"values":[[{t1},"1"],[{t2},"10"]]}},{{"metric":{{"__name__":"r","i":"2"}},"values":[[{t1},"2"],[{t2},"2"]]}}]}}}}"#
    );
    let (status, body) = api(&front, Some("ha"), &range);
    assert_eq!((status, body.as_str()), (200, merged.as_str()));

    // Ingester-0 comes back from its WAL without the second sample, and ingester-1 goes down: the
    // replicas read now differ (ingester-0, read first, lacks the sample ingester-2 has) and the
    // answer is their union.
    ingesters[1].kill9();
    let restarted = HostProcess::start(&[
        ingester_plugins.flag(),
        "-target=ingester".to_string(),
        "-instance-id=ingester-0".to_string(),
        format!("-ingester.data-dir={}", dirs[0].path().display()),
        format!("-bus.peers=kv={kv}"),
    ]);
    ingesters[0] = restarted;
    ingesters[0].wait_ready(READY);
    let first = query_ingester(
        &ingesters[0].grpc_address(),
        "ha",
        vec![eq("__name__", "r"), eq("i", "1")],
        0,
        i64::MAX,
    )
    .expect("query ingester-0");
    let kept: Vec<i64> = first[0].samples.iter().map(|s| s.timestamp_ms).collect();
    assert_eq!(kept, vec![t - 1000], "ingester-0 missed the second push");
    let deadline = Instant::now() + READY;
    let body = loop {
        let (status, body) = api(&front, Some("ha"), &range);
        if status == 200 {
            break body;
        }
        assert!(
            Instant::now() < deadline,
            "ingester-0 never rejoined: {status} {body}\n{}",
            front.logs()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(body, merged);

    // Two down of three: no quorum, an error rather than a partial answer.
    ingesters[2].kill9();
    let (status, body) = api(&front, Some("ha"), "/api/v1/series?match[]=r");
    assert!(status >= 500, "{status} {body}");
    assert!(
        body.starts_with(r#"{"status":"error","errorType":""#),
        "{body}"
    );
}

/// Runs `promtool query …` and returns its stdout; fails with stderr.
fn promtool(args: &[String]) -> String {
    let output = Command::new("promtool")
        .arg("query")
        .args(args)
        .output()
        .unwrap_or_else(|error| {
            panic!("cannot run promtool: {error} (the test command installs it)")
        });
    assert!(
        output.status.success(),
        "promtool query {args:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The label sets of promtool's text output (`{…} =>` lines), sorted.
fn label_sets(output: &str) -> Vec<String> {
    let mut sets: Vec<String> = output
        .lines()
        .filter_map(|line| line.split_once(" =>").map(|(labels, _)| labels.to_string()))
        .collect();
    sets.sort();
    sets
}

/// Runs promtool against mimir-host (`ours`) and Prometheus (`theirs`) and checks that Prometheus
/// answered something and that both answers are the same, label sets first (the clearer failure);
/// returns mimir-host's answer.
fn same_promtool_answer(ours_args: &[String], theirs_args: &[String], query: &str) -> String {
    let (ours, theirs) = (promtool(ours_args), promtool(theirs_args));
    assert!(
        !theirs.trim().is_empty(),
        "{query}: Prometheus answered nothing"
    );
    assert_eq!(
        label_sets(&ours),
        label_sets(&theirs),
        "{query}: label sets"
    );
    assert_eq!(ours, theirs, "promtool {}", theirs_args.join(" "));
    ours
}

#[test]
fn promtool_gets_the_same_answers_from_mimir_host_as_from_prometheus() {
    let plugins = PluginDir::monolith();
    let data = tempfile::tempdir().expect("temp dir");
    let host = monolith(
        &plugins,
        data.path(),
        &["-auth.multitenancy-enabled=false".to_string()],
    );

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
    let prometheus_url = format!("http://127.0.0.1:{prometheus_port}");
    let mimir_url = host.url("/prometheus");

    // Let ~20 scrapes happen, then pick an evaluation time both have all samples up to.
    let started = Instant::now();
    let first_sample = loop {
        let up = query_ingester(
            &host.grpc_address(),
            "anonymous",
            vec![eq("__name__", "up")],
            0,
            i64::MAX,
        )
        .unwrap_or_default();
        if let Some(first) = up.first().and_then(|s| s.samples.first()) {
            break first.timestamp_ms;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "no samples from Prometheus\nmimir-host:\n{}\nprometheus:\n{}",
            host.logs(),
            prometheus.logs()
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    std::thread::sleep(Duration::from_secs(20));
    let eval_ms = now_s_ms() - 3_000;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let up = query_ingester(
            &host.grpc_address(),
            "anonymous",
            vec![eq("__name__", "up")],
            0,
            i64::MAX,
        )
        .unwrap_or_default();
        let latest = up
            .iter()
            .flat_map(|s| s.samples.iter().map(|x| x.timestamp_ms))
            .max()
            .unwrap_or(0);
        if latest > eval_ms + 1000 {
            break;
        }
        assert!(Instant::now() < deadline, "remote write does not catch up");
        std::thread::sleep(Duration::from_millis(500));
    }
    let eval = format!("{}", eval_ms / 1000);
    let start = format!("{}", (first_sample / 1000 + 2).max(eval_ms / 1000 - 15));

    for query in [
        "up",
        "prometheus_build_info",
        "count by (job) (up)",
        "sum(up)",
    ] {
        let args = |url: &str| {
            vec![
                "instant".to_string(),
                format!("--time={eval}"),
                url.to_string(),
                query.to_string(),
            ]
        };
        let ours = same_promtool_answer(&args(&mimir_url), &args(&prometheus_url), query);
        if query == "up" {
            assert_eq!(
                ours,
                format!(
                    "up{{instance=\"127.0.0.1:{prometheus_port}\", job=\"prometheus\"}} => 1 @[{eval}]\n"
                )
            );
        }
    }
    for query in ["up", "prometheus_build_info", "count by (job) (up)"] {
        let args = |url: &str| {
            vec![
                "range".to_string(),
                format!("--start={start}"),
                format!("--end={eval}"),
                "--step=1s".to_string(),
                url.to_string(),
                query.to_string(),
            ]
        };
        let ours = same_promtool_answer(&args(&mimir_url), &args(&prometheus_url), query);
        // One point per second of the range.
        let steps = eval.parse::<i64>().unwrap_or(0) - start.parse::<i64>().unwrap_or(0) + 1;
        assert_eq!(
            ours.lines().filter(|line| line.contains(" @[")).count() as i64,
            steps * label_sets(&ours).len() as i64,
            "{query}: {ours}"
        );
    }
    // The raw JSON answers are the same bytes, for queries and for the metadata endpoints over a
    // time range both hold.
    let window = format!("start={start}&end={eval}");
    for path in [
        format!("/api/v1/query?query=up&time={eval}"),
        format!("/api/v1/query?query=count%20by%20(job)%20(up)&time={eval}.123"),
        format!("/api/v1/query?query=time()&time={eval}.5"),
        format!("/api/v1/query?query=%22text%3C%3E%22&time={eval}"),
        format!("/api/v1/query?query=up%5B5s%5D&time={eval}"),
        // Label values with characters Go's JSON encoder escapes.
        format!(
            "/api/v1/query?query=label_replace(up,%22x%22,%22%3Ca%26b%3E%22,%22%22,%22%22)&time={eval}"
        ),
        format!(
            "/api/v1/query?query=sum%20by%20(code)%20(rate(prometheus_http_requests_total%5B5s%5D))&time={eval}"
        ),
        format!("/api/v1/query?query=vector(1e-7)%20*%20up&time={eval}"),
        format!("/api/v1/query_range?query=prometheus_build_info&{window}&step=2"),
        format!("/api/v1/query_range?query=up%20*%200.1&{window}&step=1.5"),
        format!("/api/v1/series?match[]=up&{window}"),
        format!("/api/v1/labels?match[]=prometheus_build_info&{window}"),
        format!("/api/v1/label/job/values?{window}"),
        "/api/v1/query_range?query=up&start=10&end=5&step=1".to_string(),
        "/api/v1/query?query=up%7B".to_string(),
    ] {
        let ours = get(&format!("{mimir_url}{path}")).expect("mimir-host");
        let theirs = get(&format!("{prometheus_url}{path}")).expect("prometheus");
        assert_eq!(ours, theirs, "{path}");
    }
}

#[test]
fn query_limits_from_the_querier_flags_and_the_timeout_parameter() {
    let plugins = PluginDir::monolith();
    let data = tempfile::tempdir().expect("temp dir");
    let host = monolith(
        &plugins,
        data.path(),
        &[
            "-querier.max-samples=5".to_string(),
            "-querier.max-concurrent=3".to_string(),
        ],
    );
    let t = now_s_ms();
    let samples: Vec<(i64, f64)> = (0..10).map(|i| (t - 10_000 + i * 1000, i as f64)).collect();
    push_ok(&host, Some("l"), &[(&[("__name__", "x")], &samples)]);
    // Four samples in the window: within the limit.
    let (status, body) = api(
        &host,
        Some("l"),
        &format!(
            "/api/v1/query?query=count_over_time(x%5B4s%5D)&time={}",
            secs(t - 1000)
        ),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        format!(
            r#"{{"status":"success","data":{{"resultType":"vector","result":[{{"metric":{{}},"value":[{},"4"]}}]}}}}"#,
            secs(t - 1000)
        )
    );
    // All ten: more than -querier.max-samples.
    let (status, body) = api(
        &host,
        Some("l"),
        &format!(
            "/api/v1/query?query=count_over_time(x%5B1m%5D)&time={}",
            secs(t)
        ),
    );
    assert_eq!(
        (status, body.as_str()),
        (
            422,
            r#"{"status":"error","errorType":"execution","error":"query processing would load too many samples into memory in query execution"}"#
        )
    );
    // A zero `timeout` gives up at once.
    let (status, body) = api(&host, Some("l"), "/api/v1/query?query=x&timeout=0s");
    assert_eq!(status, 503, "{body}");
    assert!(
        body.starts_with(r#"{"status":"error","errorType":"timeout","error":"query timed out in "#),
        "{body}"
    );
    // A range query over a string is refused against the query parameter, as Prometheus does.
    let (status, body) = api(
        &host,
        Some("l"),
        "/api/v1/query_range?query=%22a%22&start=0&end=10&step=1",
    );
    assert_eq!(
        (status, body.as_str()),
        (
            400,
            r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": invalid expression type \"string\" for range query, must be Scalar or instant Vector"}"#
        )
    );
    // The engine's gauges, as Mimir names them.
    let (_, metrics) = get(&host.url("/metrics")).expect("metrics");
    for line in [
        "cortex_prometheus_engine_queries_concurrent_max 3\n",
        "cortex_prometheus_engine_queries 0\n",
    ] {
        assert!(metrics.contains(line), "{line}{metrics}");
    }
    // Only GET and POST.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let response = agent
        .delete(&host.url("/prometheus/api/v1/labels"))
        .header("X-Scope-OrgID", "l")
        .call()
        .expect("DELETE");
    assert_eq!(response.status().as_u16(), 405);
}

#[test]
fn queries_page_through_more_series_than_one_ingester_reply_holds() {
    let plugins = PluginDir::monolith();
    let data = tempfile::tempdir().expect("temp dir");
    // Pages of 100 series: 2,500 series take 25 pages.
    let host = monolith(
        &plugins,
        data.path(),
        &["-ingester.query-batch-series=100".to_string()],
    );
    let t = now_s_ms();
    let names: Vec<String> = (0..2500).map(|i| format!("{i:05}")).collect();
    let labels: Vec<[(&str, &str); 2]> = names
        .iter()
        .map(|n| [("__name__", "p"), ("n", n.as_str())])
        .collect();
    let samples = [(t, 1.0)];
    let series: Vec<mimir_tests::client::TestSeries<'_>> =
        labels.iter().map(|l| (&l[..], &samples[..])).collect();
    push_ok(&host, Some("many"), &series);
    let (status, body) = api(
        &host,
        Some("many"),
        &format!("/api/v1/query?query=count(p)&time={}", secs(t)),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        format!(
            r#"{{"status":"success","data":{{"resultType":"vector","result":[{{"metric":{{}},"value":[{},"2500"]}}]}}}}"#,
            secs(t)
        )
    );
    // Every series once, in label order.
    let (_, body) = api(
        &host,
        Some("many"),
        &format!("/api/v1/query?query=p&time={}", secs(t)),
    );
    let order: Vec<&str> = body
        .match_indices(r#""n":""#)
        .map(|(i, _)| &body[i + 5..i + 10])
        .collect();
    assert_eq!(order.len(), 2500);
    assert!(order.windows(2).all(|w| w[0] < w[1]), "sorted and distinct");
    let (_, body) = api(&host, Some("many"), "/api/v1/series?match[]=p");
    assert_eq!(body.matches(r#""__name__":"p""#).count(), 2500);
}

#[test]
fn read_write_mode_the_read_process_queries_the_write_process() {
    let plugins = PluginDir::monolith();
    let data = tempfile::tempdir().expect("temp dir");
    let (http_w, grpc_w) = (free_port(), free_port());
    let mut write = HostProcess::start_on(
        &[
            plugins.flag(),
            "-target=write".to_string(),
            "-instance-id=write-0".to_string(),
            format!("-ingester.data-dir={}", data.path().display()),
        ],
        http_w,
        grpc_w,
    );
    write.wait_ready(READY);
    // The ring lives in the write process' KV; the read process reaches it over gRPC.
    let mut read = HostProcess::start(&[
        plugins.flag(),
        "-target=read".to_string(),
        "-instance-id=read-0".to_string(),
        format!("-bus.peers=kv=127.0.0.1:{grpc_w}"),
    ]);
    read.wait_ready(READY);
    let (_, services) = get(&read.url("/services")).expect("services");
    assert_eq!(services, "querier: Running\n");
    let t = now_s_ms();
    push_ok(
        &write,
        Some("rw"),
        &[(&[("__name__", "m"), ("mode", "read-write")], &[(t, 42.0)])],
    );
    let (status, body) = api(
        &read,
        Some("rw"),
        &format!("/api/v1/query?query=m&time={}", secs(t)),
    );
    assert_eq!(status, 200, "{body}\n{}", read.logs());
    assert_eq!(
        body,
        format!(
            r#"{{"status":"success","data":{{"resultType":"vector","result":[{{"metric":{{"__name__":"m","mode":"read-write"}},"value":[{},"42"]}}]}}}}"#,
            secs(t)
        )
    );
    // The write process serves no query API.
    let (status, _) = api(&write, Some("rw"), "/api/v1/labels");
    assert_eq!(status, 404);
}
