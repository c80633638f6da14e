//! The same call between two example components, first through the in-memory bus in one process,
//! then over gRPC between two processes: same answer, tenant and deadline carried across.

use std::time::Duration;

use mimir_tests::{HostProcess, PluginDir, get, get_with};

const READY: Duration = Duration::from_secs(30);

/// Calls greeter, which calls echo over the bus, and checks what came back.
fn assert_greeting(host: &HostProcess, echo_timeout_ms: u64) -> serde_json::Value {
    let (status, body) = get_with(
        &host.url("/greeter/hello?name=bob"),
        &[("X-Scope-OrgID", "tenant-1")],
    )
    .expect("greeter answers");
    assert_eq!(status, 200, "{body}");
    let reply: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(reply["greeting"], "hello bob");
    assert_eq!(
        reply["tenant"], "tenant-1",
        "the tenant travels with the call"
    );
    let caller = reply["echo_caller"].as_str().unwrap_or_default();
    assert!(
        caller.starts_with("greeter@"),
        "echo sees who called: {caller}"
    );
    let served_by = reply["echo_served_by"].as_str().unwrap_or_default();
    assert!(served_by.starts_with("echo@"), "{served_by}");
    let left = reply["echo_deadline_remaining_ms"].as_u64().unwrap_or(0);
    assert!(
        left > 0 && left <= echo_timeout_ms,
        "the deadline travels with the call: {left} ms left of {echo_timeout_ms}"
    );
    reply
}

/// How many `Echo` calls with `transport` this process made, from its `/metrics`.
fn bus_calls(host: &HostProcess, transport: &str) -> u64 {
    let (_, metrics) = get(&host.url("/metrics")).expect("metrics");
    metrics
        .lines()
        .filter(|l| l.starts_with("mimir_host_bus_calls_total{"))
        .filter(|l| l.contains("destination=\"echo\"") && l.contains("method=\"Echo\""))
        .filter(|l| l.contains("code=\"ok\""))
        .filter(|l| l.contains(&format!("transport=\"{transport}\"")))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

#[test]
fn one_process_calls_through_the_in_memory_bus() {
    let plugins = PluginDir::examples();
    let mut host = HostProcess::start(&[
        plugins.flag(),
        "-target=examples".to_string(),
        "-greeter.echo-timeout-ms=4000".to_string(),
    ]);
    host.wait_ready(READY);
    let reply = assert_greeting(&host, 4000);
    assert_eq!(
        reply["echo_caller"]
            .as_str()
            .map(|c| c.trim_start_matches("greeter@")),
        reply["echo_served_by"]
            .as_str()
            .map(|s| s.trim_start_matches("echo@")),
        "one instance"
    );
    assert_eq!(bus_calls(&host, "local"), 1);
    assert_eq!(bus_calls(&host, "grpc"), 0);
}

#[test]
fn two_processes_make_the_same_call_over_grpc() {
    let echo_plugins = PluginDir::new().with("mimir_example_echo", "libmimir_example_echo.so");
    let greeter_plugins =
        PluginDir::new().with("mimir_example_greeter", "libmimir_example_greeter.so");
    let mut echo = HostProcess::start(&[
        echo_plugins.flag(),
        "-target=echo".to_string(),
        "-instance-id=echo-process".to_string(),
    ]);
    echo.wait_ready(READY);
    let mut greeter = HostProcess::start(&[
        greeter_plugins.flag(),
        "-target=greeter".to_string(),
        "-instance-id=greeter-process".to_string(),
        "-greeter.echo-timeout-ms=4000".to_string(),
        format!("-bus.peers=echo={}", echo.grpc_address()),
    ]);
    greeter.wait_ready(READY);
    let reply = assert_greeting(&greeter, 4000);
    assert_eq!(reply["echo_caller"], "greeter@greeter-process");
    assert_eq!(reply["echo_served_by"], "echo@echo-process");
    assert_eq!(bus_calls(&greeter, "grpc"), 1);
    assert_eq!(bus_calls(&greeter, "local"), 0);
}

#[test]
fn a_split_process_is_not_ready_while_its_dependency_is_unreachable() {
    let plugins = PluginDir::new().with("mimir_example_greeter", "libmimir_example_greeter.so");
    let unused_port = mimir_tests::free_port();
    let host = HostProcess::start(&[
        plugins.flag(),
        "-target=greeter".to_string(),
        format!("-bus.peers=echo=127.0.0.1:{unused_port}"),
    ]);
    let deadline = std::time::Instant::now() + READY;
    let (status, body) = loop {
        if let Ok(answer) = get(&host.url("/ready")) {
            break answer;
        }
        assert!(std::time::Instant::now() < deadline, "{}", host.logs());
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("dependency echo"), "{body}");

    let (status, body) = get(&host.url("/greeter/hello?name=bob")).expect("answers");
    assert_eq!(status, 503, "an unreachable peer is Unavailable: {body}");
}

#[test]
fn the_cluster_harness_wires_processes_together() {
    let plugins = PluginDir::examples();
    let mut cluster = mimir_tests::cluster::Cluster::start(
        &["echo".to_string(), "greeter".to_string()],
        &[plugins.flag()],
    );
    cluster.wait_ready(READY);
    let (_, greeter) = &cluster.processes[1];
    let reply = assert_greeting(greeter, 5000);
    assert_eq!(reply["echo_served_by"], "echo@process-0");
    assert_eq!(bus_calls(greeter, "grpc"), 1);
}
