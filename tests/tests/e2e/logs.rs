//! Plugin `tracing` events reach the host's log output with level, target, fields and span context.

use std::time::Duration;

use mimir_tests::{HostProcess, PluginDir, get_with};

#[test]
fn plugin_events_reach_the_host_log_with_level_target_fields_and_spans() {
    let plugins = PluginDir::examples();
    let mut host = HostProcess::start(&[
        plugins.flag(),
        "-target=examples".to_string(),
        "-log.level=info,mimir_example_echo=debug".to_string(),
    ]);
    host.wait_ready(Duration::from_secs(30));
    let (status, body) = get_with(
        &host.url("/greeter/hello?name=ada"),
        &[("X-Scope-OrgID", "tenant-7")],
    )
    .expect("greeter answers");
    assert_eq!(status, 200, "{body}");

    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let logs = loop {
        let logs = host.logs();
        if logs.contains("greeted") || std::time::Instant::now() > deadline {
            break logs;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let greeted = logs
        .lines()
        .find(|l| l.contains("greeted"))
        .unwrap_or_else(|| panic!("no greeter event in:\n{logs}"));
    assert!(greeted.contains(" INFO "), "level: {greeted}");
    assert!(
        greeted.contains("mimir_example_greeter"),
        "target: {greeted}"
    );
    assert!(
        greeted.contains("greet{tenant=tenant-7}"),
        "span context: {greeted}"
    );
    assert!(greeted.contains("name=ada"), "fields: {greeted}");

    // Debug is enabled for echo's target only, through the host's filter directives.
    let echoed = logs
        .lines()
        .find(|l| l.contains("mimir_example_echo") && l.contains("DEBUG"))
        .unwrap_or_else(|| panic!("no echo debug event in:\n{logs}"));
    assert!(echoed.contains("text=hello ada"), "{echoed}");
    assert!(
        !logs
            .lines()
            .any(|l| l.contains("DEBUG") && l.contains("mimir_example_greeter")),
        "greeter stays at info:\n{logs}"
    );
}
