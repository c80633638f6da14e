//! Runs the selected components: binds the servers, builds each component through its plugin,
//! starts them in dependency order, watches them, and on SIGINT/SIGTERM (or a component failure)
//! stops them in reverse order within `-server.graceful-shutdown-timeout`, then closes the servers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::serve::ListenerExt as _;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

use crate::app::{Prepared, VERSION};
use crate::bus::Router;
use crate::config;
use crate::ffi::{self, ComponentHandle};
use crate::http::{self, ConfigViews, HttpState};
use crate::metrics::HostMetrics;
use crate::services::{Service, State};

pub async fn serve(prepared: Arc<Prepared>, order: Vec<String>) -> Result<(), String> {
    let host = &prepared.host;
    let shutdown_timeout = host.server.shutdown_timeout()?;
    let http_listener = TcpListener::bind(host.server.http_bind())
        .await
        .map_err(|error| {
            format!(
                "cannot listen on {} (HTTP): {error}",
                host.server.http_bind()
            )
        })?;
    let grpc_listener = TcpListener::bind(host.server.grpc_bind())
        .await
        .map_err(|error| {
            format!(
                "cannot listen on {} (gRPC): {error}",
                host.server.grpc_bind()
            )
        })?;
    let http_address = http_listener.local_addr().map_err(|e| e.to_string())?;
    let grpc_address = grpc_listener.local_addr().map_err(|e| e.to_string())?;
    let advertise = host.server.grpc_advertise(grpc_address.port());
    let instance_id = host.instance_id();
    let max_message_size =
        usize::try_from(host.server.grpc_server_max_recv_msg_size).unwrap_or(usize::MAX);

    let metrics = Arc::new(HostMetrics::new());
    let router = Arc::new(Router::new(
        host.bus.peers.clone(),
        advertise.clone(),
        max_message_size,
        Arc::clone(&metrics),
    ));
    let mut shared = serde_json::json!({
        "target": host.target,
        "instance_id": instance_id,
        "server": host.server,
        "grpc_advertise_address": advertise,
    });
    for plugin in &prepared.discovery.plugins {
        for section in &plugin.manifest.shared_sections {
            if let (Some(value), serde_json::Value::Object(map)) =
                (prepared.effective.get(&section.name), &mut shared)
            {
                map.insert(section.name.clone(), value.clone());
            }
        }
    }
    let shared_json = shared.to_string();

    let mut services = Vec::with_capacity(order.len());
    for name in &order {
        let Some(plugin) = prepared
            .discovery
            .plugins
            .iter()
            .find(|p| &p.manifest.name == name)
        else {
            return Err(format!("component `{name}` has no loaded plugin"));
        };
        let manifest = &plugin.manifest;
        let config_json = if manifest.config_section.is_empty() {
            "{}".to_string()
        } else {
            prepared
                .effective
                .get(&manifest.config_section)
                .map(serde_json::Value::to_string)
                .unwrap_or_else(|| "{}".to_string())
        };
        let context = ffi::host_context(
            Arc::clone(&router),
            &instance_id,
            config_json,
            shared_json.clone(),
            &host.log.level,
        );
        let component = plugin.instantiate(context).map_err(|error| {
            format!(
                "component `{name}` ({}) could not be created: {}",
                plugin.path.display(),
                error.message
            )
        })?;
        let service = Arc::new(Service::new(
            name.clone(),
            manifest.dependencies.clone(),
            manifest.http_routes.clone(),
            ComponentHandle::new(component),
        ));
        router.register(Arc::clone(&service));
        metrics.plugin_loaded(name, &manifest.version, &plugin.path.display().to_string());
        services.push(service);
    }

    let config_views = ConfigViews {
        effective: config::to_yaml(&prepared.effective),
        defaults: config::to_yaml(&prepared.defaults),
        diff: config::to_yaml(&config::diff(&prepared.defaults, &prepared.effective)),
    };
    let state = Arc::new(HttpState {
        router: Arc::clone(&router),
        services: services.clone(),
        metrics,
        config: config_views,
        version: VERSION.to_string(),
    });
    let app = http::app(state)?;

    let (close_servers, servers_closing) = watch::channel(false);
    let http_server = {
        let mut closing = servers_closing.clone();
        tokio::spawn(async move {
            let listener = http_listener.tap_io(|stream| {
                if let Err(error) = stream.set_nodelay(true) {
                    tracing::warn!(%error, "cannot set TCP_NODELAY");
                }
            });
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = closing.wait_for(|closed| *closed).await;
                })
                .await
        })
    };
    let grpc_server = {
        let mut closing = servers_closing.clone();
        // Without TCP_NODELAY, replies wait for the peer's delayed ACK (~40 ms).
        let incoming =
            tonic::transport::server::TcpIncoming::from(grpc_listener).with_nodelay(Some(true));
        let service = crate::grpc::server(Arc::clone(&router), max_message_size);
        tokio::spawn(async move {
            tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming_shutdown(incoming, async move {
                    let _ = closing.wait_for(|closed| *closed).await;
                })
                .await
        })
    };
    tracing::info!(
        http = %http_address,
        grpc = %grpc_address,
        advertise = %advertise,
        instance = %instance_id,
        target = %host.target,
        components = %order.join(","),
        "mimir-host listening"
    );

    let mut signals = Signals::new()?;
    let (exited, mut exits) = mpsc::unbounded_channel();
    let mut failure = None;
    let mut signalled = false;
    tokio::select! {
        started = start_all(&services, &exited) => failure = started,
        signal = signals.recv() => {
            tracing::info!(%signal, "shutting down during start-up");
            signalled = true;
        }
    }
    if failure.is_none() && !signalled {
        failure = wait_for_end(&services, &mut exits, &mut signals).await;
    }
    stop_all(&services, shutdown_timeout).await;
    close_servers.send_replace(true);
    let servers_deadline = Duration::from_secs(5);
    let _ = tokio::time::timeout(servers_deadline, http_server).await;
    let _ = tokio::time::timeout(servers_deadline, grpc_server).await;
    match failure {
        Some(message) => Err(message),
        None => {
            tracing::info!("mimir-host stopped");
            Ok(())
        }
    }
}

type Exit = (String, Result<(), mimir_abi::BusError>);

/// Starts components in order; the first failure stops the sequence and is returned.
async fn start_all(
    services: &[Arc<Service>],
    exited: &mpsc::UnboundedSender<Exit>,
) -> Option<String> {
    for service in services {
        service.set(State::Starting, "");
        tracing::info!(component = %service.name, "starting");
        if let Err(error) = service.handle.start().await {
            let message = format!(
                "component `{}` failed to start: {}",
                service.name, error.message
            );
            service.set(State::Failed, error.message.as_str());
            tracing::error!("{message}");
            return Some(message);
        }
        service.set(State::Running, "");
        let watched = Arc::clone(service);
        let exited = exited.clone();
        tokio::spawn(async move {
            let result = watched.handle.run().await;
            let _ = exited.send((watched.name.clone(), result));
        });
    }
    tracing::info!("all components running");
    None
}

/// Waits for a signal (clean stop) or a component that ends on its own (failure).
async fn wait_for_end(
    services: &[Arc<Service>],
    exits: &mut mpsc::UnboundedReceiver<Exit>,
    signals: &mut Signals,
) -> Option<String> {
    tokio::select! {
        signal = signals.recv() => {
            tracing::info!(%signal, "shutting down");
            None
        }
        Some((name, result)) = exits.recv() => {
            let message = match result {
                Err(error) => format!("component `{name}` failed: {}", error.message),
                Ok(()) => format!("component `{name}` stopped unexpectedly"),
            };
            if let Some(service) = services.iter().find(|s| s.name == name) {
                service.set(State::Failed, message.as_str());
            }
            tracing::error!("{message}; shutting down");
            Some(message)
        }
    }
}

/// Stops running components in reverse start order, within `timeout` in total.
async fn stop_all(services: &[Arc<Service>], timeout: Duration) {
    let deadline = Instant::now() + timeout;
    let to_stop: Vec<&Arc<Service>> = services
        .iter()
        .rev()
        .filter(|s| matches!(s.state(), State::Starting | State::Running))
        .collect();
    for (index, service) in to_stop.iter().enumerate() {
        service.set(State::Stopping, "");
        tracing::info!(component = %service.name, "stopping");
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, service.handle.stop()).await {
            Ok(Ok(())) => service.set(State::Terminated, ""),
            Ok(Err(error)) => {
                tracing::error!(component = %service.name, error = %error.message, "stop failed");
                service.set(State::Failed, error.message.as_str());
            }
            Err(_) => {
                let pending: Vec<&str> = to_stop[index..].iter().map(|s| s.name.as_str()).collect();
                tracing::error!(
                    pending = %pending.join(","),
                    "graceful shutdown timeout passed; components still pending"
                );
                for service in &to_stop[index..] {
                    service.set(
                        State::Failed,
                        "did not stop within the graceful shutdown timeout",
                    );
                }
                return;
            }
        }
    }
}

/// SIGINT and SIGTERM, listened to from the start so none is missed between phases.
struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> Result<Signals, String> {
        use tokio::signal::unix::{SignalKind, signal};
        let listen = |kind: SignalKind, name: &str| {
            signal(kind).map_err(|error| format!("cannot listen for {name}: {error}"))
        };
        Ok(Signals {
            interrupt: listen(SignalKind::interrupt(), "SIGINT")?,
            terminate: listen(SignalKind::terminate(), "SIGTERM")?,
        })
    }

    async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.interrupt.recv() => "SIGINT",
            _ = self.terminate.recv() => "SIGTERM",
        }
    }
}
