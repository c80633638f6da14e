//! Bus call cost, host → plugin → host: the `echo` example plugin answers its `Bytes` method (the
//! payload, unchanged) for 64 B and 64 KiB payloads, through the in-memory bus (a function call through the ABI) and over
//! loopback gRPC (a second router in this process reaches the first through its gRPC server).
//!
//! Needs the plugins built in release mode first: `cargo build --release --workspace`, then
//! `cargo bench -p mimir-host --bench bus`.

use std::path::PathBuf;
use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mimir_host::bus::{CallMeta, Router};
use mimir_host::ffi::{ComponentHandle, host_context};
use mimir_host::metrics::HostMetrics;
use mimir_host::services::{Service, State};
use tokio::runtime::Runtime;

fn echo_plugin_path() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let path = target.join("release/libmimir_example_echo.so");
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --release --workspace` first",
        path.display()
    );
    path
}

/// A router with `echo` running locally, serving gRPC on a loopback port; and a second router
/// that reaches `echo` only through that port.
fn routers(runtime: &Runtime) -> (Arc<Router>, Arc<Router>) {
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("loopback port");
        let address = listener.local_addr().expect("bound").to_string();
        let max = 64 << 20;
        let local = Arc::new(Router::new(
            Default::default(),
            address.clone(),
            max,
            Arc::new(HostMetrics::new()),
        ));
        let plugin = mimir_host::loader::load(&echo_plugin_path()).expect("echo loads");
        let context = host_context(
            Arc::clone(&local),
            "bench",
            "{}".to_string(),
            "{}".to_string(),
            "warn",
        );
        let component = ComponentHandle::new(plugin.instantiate(context).expect("echo starts"));
        component.start().await.expect("echo starts");
        let service = Arc::new(Service::new("echo".to_string(), vec![], vec![], component));
        service.set(State::Running, "");
        local.register(service);

        let server = mimir_host::grpc::server(Arc::clone(&local), max);
        tokio::spawn(async move {
            tonic::transport::Server::builder()
                .add_service(server)
                .serve_with_incoming(
                    tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true)),
                )
                .await
        });
        let peers = [("echo".to_string(), address)].into_iter().collect();
        let remote = Arc::new(Router::new(
            peers,
            "127.0.0.1:1".to_string(),
            max,
            Arc::new(HostMetrics::new()),
        ));
        (local, remote)
    })
}

fn bus_call(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (local, remote) = routers(&runtime);
    let mut group = c.benchmark_group("bus_call_host_plugin_host");
    for size in [64usize, 64 * 1024] {
        let request = vec![b'x'; size];
        group.throughput(Throughput::Bytes(size as u64));
        for (transport, router) in [("in_memory", &local), ("grpc_loopback", &remote)] {
            group.bench_with_input(BenchmarkId::new(transport, size), &request, |b, request| {
                b.to_async(&runtime).iter(|| async {
                    let reply = router
                        .call("echo", "Bytes", CallMeta::default(), request.clone())
                        .await
                        .expect("echo answers");
                    assert_eq!(reply.len(), size);
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bus_call);
criterion_main!(benches);
