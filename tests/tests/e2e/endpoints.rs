//! The endpoints every process serves: index, services, config views, metrics, build info.

use std::time::Duration;

use mimir_tests::{HostProcess, PluginDir, get, get_with};

#[test]
fn every_process_serves_the_admin_endpoints() {
    let plugins = PluginDir::examples();
    let mut host = HostProcess::start(&[
        plugins.flag(),
        "-target=examples".to_string(),
        "-echo.prefix=> ".to_string(),
    ]);
    host.wait_ready(Duration::from_secs(30));

    let (status, index) = get(&host.url("/")).expect("index");
    assert_eq!(status, 200);
    for link in [
        "/ready",
        "/services",
        "/config",
        "/metrics",
        "/api/v1/status/buildinfo",
        "/greeter/hello",
    ] {
        assert!(
            index.contains(&format!("href=\"{link}\"")),
            "{link} in {index}"
        );
    }

    let (status, effective) = get(&host.url("/config")).expect("config");
    assert_eq!(status, 200);
    assert!(effective.contains("target: examples"), "{effective}");
    assert!(effective.contains("http_listen_port: "), "{effective}");
    let (_, diff) = get(&host.url("/config?mode=diff")).expect("diff");
    assert!(diff.contains("prefix: '> '"), "{diff}");
    assert!(
        !diff.contains("greeting"),
        "unchanged keys are not in the diff: {diff}"
    );
    let (_, defaults) = get(&host.url("/config?mode=defaults")).expect("defaults");
    assert!(defaults.contains("target: all"), "{defaults}");
    let (status, _) = get(&host.url("/config?mode=everything")).expect("answers");
    assert_eq!(status, 400);

    let (status, body) = get_with(
        &host.url("/greeter/hello?name=x"),
        &[("X-Scope-OrgID", "t")],
    )
    .expect("greets");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"greeting\":\"> hello x\""), "{body}");

    let (status, metrics) = get(&host.url("/metrics")).expect("metrics");
    assert_eq!(status, 200);
    assert!(
        metrics.contains("# TYPE mimir_host_bus_calls counter"),
        "{metrics}"
    );
    assert!(
        metrics.contains("mimir_host_plugin_info{component=\"echo\""),
        "{metrics}"
    );
    assert!(
        metrics.contains("echo_requests_total 1\n"),
        "component metrics: {metrics}"
    );
    assert!(metrics.ends_with("# EOF\n"), "{metrics}");
    assert_eq!(metrics.matches("# EOF").count(), 1, "{metrics}");

    let (status, buildinfo) = get(&host.url("/api/v1/status/buildinfo")).expect("buildinfo");
    assert_eq!(status, 200);
    let buildinfo: serde_json::Value = serde_json::from_str(&buildinfo).expect("JSON");
    assert_eq!(buildinfo["status"], "success");
    assert_eq!(buildinfo["data"]["version"], env!("CARGO_PKG_VERSION"));
}
