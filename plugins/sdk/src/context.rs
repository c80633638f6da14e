//! What a component instance is built with, in plain Rust.

use std::sync::{Arc, Mutex, MutexGuard};

use prometheus_client::registry::Registry;
use serde::de::DeserializeOwned;
use tokio::sync::watch;

use crate::bus::Bus;
use crate::error::Error;

/// The component's view of its host. Cheap to clone; keep one in your component.
#[derive(Clone)]
pub struct Context {
    inner: Arc<Inner>,
}

struct Inner {
    component: String,
    instance_id: String,
    shared: serde_json::Value,
    bus: Bus,
    registry: Mutex<Registry>,
    stopping: watch::Receiver<bool>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("component", &self.inner.component)
            .field("instance_id", &self.inner.instance_id)
            .finish()
    }
}

impl Context {
    pub(crate) fn new(
        component: String,
        instance_id: String,
        shared: serde_json::Value,
        bus: Bus,
        stopping: watch::Receiver<bool>,
    ) -> Context {
        Context {
            inner: Arc::new(Inner {
                component,
                instance_id,
                shared,
                bus,
                registry: Mutex::new(Registry::default()),
                stopping,
            }),
        }
    }

    /// This component's name (from its manifest).
    pub fn component(&self) -> &str {
        &self.inner.component
    }

    /// This process' instance id.
    pub fn instance_id(&self) -> &str {
        &self.inner.instance_id
    }

    /// `component@instance`: how this component identifies itself to others.
    pub fn identity(&self) -> &str {
        self.inner.bus.caller()
    }

    /// The bus, to call other components.
    pub fn bus(&self) -> &Bus {
        &self.inner.bus
    }

    /// The host's key-value store (rings live there).
    pub fn kv(&self) -> crate::kv::Kv {
        crate::kv::Kv::new(self.inner.bus.clone())
    }

    /// The gRPC address other processes reach this process at (`host:port`): with the component
    /// name, this instance's bus address (`ingester@10.0.0.1:9095`).
    pub fn advertise_address(&self) -> String {
        self.inner
            .shared
            .get("grpc_advertise_address")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_string()
    }

    /// A shared config section (e.g. `server`), deserialized.
    pub fn shared_section<T: DeserializeOwned>(&self, name: &str) -> Result<T, Error> {
        let value = self
            .inner
            .shared
            .get(name)
            .cloned()
            .ok_or_else(|| Error::not_found(format!("no shared config section `{name}`")))?;
        serde_json::from_value(value).map_err(|error| {
            Error::bad_request(format!("invalid config section `{name}`: {error}"))
        })
    }

    /// The component's metrics registry; what is registered here is served on the host's `/metrics`.
    pub fn registry(&self) -> MutexGuard<'_, Registry> {
        // A panic while the lock was held leaves a registry that is still usable.
        self.inner
            .registry
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Resolves once the host asked this component to stop.
    pub async fn stopping(&self) {
        let mut receiver = self.inner.stopping.clone();
        // An error means the sender is gone, which also means stop.
        let _ = receiver.wait_for(|stopping| *stopping).await;
    }
}
