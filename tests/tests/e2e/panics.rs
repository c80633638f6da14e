//! A handler that panics (in its synchronous part, in its future, in a spawned task) is a
//! `Panicked` error for its caller and a log line; the host keeps serving.

use std::sync::Arc;
use std::time::Duration;

use mimir_abi::ErrorCode;
use mimir_host::bus::{CallMeta, Router};
use mimir_host::ffi::{ComponentHandle, host_context};
use mimir_host::metrics::HostMetrics;
use mimir_host::services::{Service, State};
use mimir_tests::{HostProcess, PluginDir, get, library};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_panic_is_a_panicked_error_for_the_caller() {
    let plugin = mimir_host::loader::load(&library("fixture_panicky")).expect("fixture loads");
    let router = Arc::new(Router::new(
        Default::default(),
        "127.0.0.1:1".to_string(),
        1 << 20,
        Arc::new(HostMetrics::new()),
    ));
    let context = host_context(
        Arc::clone(&router),
        "test",
        "{}".to_string(),
        "{}".to_string(),
        "info",
    );
    let component = plugin.instantiate(context).expect("created");
    let service = Arc::new(Service::new(
        "panicky".to_string(),
        Vec::new(),
        Vec::new(),
        ComponentHandle::new(component),
    ));
    service.set(State::Running, "");
    router.register(service);

    for how in ["sync", "future", "task"] {
        let error = router
            .call("panicky", how, CallMeta::default(), Vec::new())
            .await
            .expect_err("a panic is an error");
        assert_eq!(
            error.error_code(),
            ErrorCode::Panicked,
            "{how}: {}",
            error.message
        );
        assert!(
            error.message.contains("deliberate panic"),
            "{how}: {}",
            error.message
        );
    }
    let fine = router
        .call("panicky", "fine", CallMeta::default(), Vec::new())
        .await
        .expect("the component still serves");
    assert_eq!(fine, b"fine");
}

#[test]
fn the_host_keeps_serving_after_plugin_panics() {
    let plugins = PluginDir::new().with("fixture_panicky", "libmimir_panicky.so");
    let mut host = HostProcess::start(&[plugins.flag(), "-target=panicky".to_string()]);
    host.wait_ready(Duration::from_secs(30));
    for how in ["sync", "future", "task"] {
        let (status, body) = get(&host.url(&format!("/panicky/{how}"))).expect("answers");
        assert_eq!(status, 500, "{how}: {body}");
        assert!(body.contains("panicked"), "{how}: {body}");
    }
    let (status, body) = get(&host.url("/panicky/fine")).expect("answers");
    assert_eq!((status, body.as_str()), (200, "fine"));
    let (status, _) = get(&host.url("/ready")).expect("answers");
    assert_eq!(status, 200);
    let logs = host.logs();
    assert!(
        logs.lines()
            .any(|l| l.contains("ERROR") && l.contains("deliberate panic inside the future")),
        "a log line for the panic:\n{logs}"
    );
}
