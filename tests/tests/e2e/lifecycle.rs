//! Start in dependency order, stop in reverse on SIGTERM/SIGINT; a component that fails (in `new`,
//! in `start`, or while running) stops the process with a clear message and a non-zero exit.

use std::time::Duration;

use mimir_tests::{HostProcess, PluginDir};

const READY: Duration = Duration::from_secs(30);

fn position(logs: &str, needle: &str) -> usize {
    logs.find(needle)
        .unwrap_or_else(|| panic!("`{needle}` not in:\n{logs}"))
}

#[test]
fn sigterm_stops_components_in_reverse_dependency_order() {
    for signal in [libc::SIGTERM, libc::SIGINT] {
        let plugins = PluginDir::examples();
        let mut host = HostProcess::start(&[plugins.flag(), "-target=examples".to_string()]);
        host.wait_ready(READY);
        host.signal(signal);
        let status = host.wait_exit(Duration::from_secs(30));
        assert!(
            status.success(),
            "clean exit after signal {signal}: {status}"
        );
        let logs = host.logs();
        // greeter depends on echo: echo starts first and stops last.
        assert!(
            position(&logs, "starting component=echo")
                < position(&logs, "starting component=greeter")
        );
        assert!(
            position(&logs, "stopping component=greeter")
                < position(&logs, "stopping component=echo")
        );
        assert!(logs.contains("mimir-host stopped"), "{logs}");
    }
}

fn panicky(args: &[&str]) -> (HostProcess, PluginDir) {
    let plugins = PluginDir::new().with("fixture_panicky", "libmimir_panicky.so");
    let mut all = vec![plugins.flag(), "-target=panicky".to_string()];
    all.extend(args.iter().map(|a| (*a).to_string()));
    (HostProcess::start(&all), plugins)
}

#[test]
fn a_component_that_fails_while_running_stops_the_process() {
    let (mut host, _plugins) = panicky(&["-panicky.fail-after-ms=300"]);
    let status = host.wait_exit(Duration::from_secs(30));
    assert_eq!(status.code(), Some(1));
    let logs = host.logs();
    assert!(
        logs.contains("error: component `panicky` failed: deliberate failure while running"),
        "{logs}"
    );
}

#[test]
fn a_component_that_fails_to_start_stops_the_process() {
    let (mut host, _plugins) = panicky(&["-panicky.fail-on-start"]);
    let status = host.wait_exit(Duration::from_secs(30));
    assert_eq!(status.code(), Some(1));
    let logs = host.logs();
    assert!(
        logs.contains("error: component `panicky` failed to start: deliberate failure in start"),
        "{logs}"
    );
}

#[test]
fn a_component_that_panics_while_being_created_stops_start_up_cleanly() {
    let (mut host, _plugins) = panicky(&["-panicky.panic-on-new=true"]);
    let status = host.wait_exit(Duration::from_secs(30));
    assert_eq!(status.code(), Some(1));
    let logs = host.logs();
    assert!(logs.contains("error: component `panicky`"), "{logs}");
    assert!(logs.contains("could not be created"), "{logs}");
    assert!(logs.contains("deliberate panic in new"), "{logs}");
}
