//! Turns a plain-Rust [`Component`] into the ABI's `FfiComponent`, and builds the root module.
//!
//! Every adapter method catches panics (a panic in the synchronous part of an abi_stable method would
//! end the process) and every future it returns runs on this plugin's runtime.

use std::future::Future;
use std::sync::Arc;

use abi_stable::prefix_type::PrefixTypeTrait;
use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RErr, ROk, RString, RVec};
use async_ffi::{FfiFuture, FutureExt};
use mimir_abi::{
    ABI_VERSION, BusError, ComponentBox, FfiComponent, FfiComponent_TO, FfiResult, HostContext,
    PluginMod, PluginModRef,
};
use mimir_proto::Message;
use mimir_proto::plugin::{HttpRequest, PluginManifest};
use tokio::sync::watch;

use crate::bus::Bus;
use crate::context::Context;
use crate::error::Error;
use crate::meta::{CallMeta, Request};
use crate::runtime::{OnRuntime, guard, runtime};
use crate::{Component, log};

struct Adapter<C> {
    component: Arc<C>,
    context: Context,
    stop: Arc<watch::Sender<bool>>,
}

/// Wraps a plugin future for the boundary: runs on this plugin's runtime, panics become errors.
fn bridge<T, U, F>(future: F, convert: fn(T) -> U) -> FfiFuture<FfiResult<U>>
where
    T: Send + 'static,
    U: Send + 'static,
    F: Future<Output = Result<T, Error>> + Send + 'static,
{
    let on_runtime = OnRuntime::new(future);
    async move {
        match on_runtime.await {
            Ok(value) => ROk(convert(value)),
            Err(error) => RErr(BusError::from(error)),
        }
    }
    .into_ffi()
}

fn unit(value: ()) {
    value
}

impl<C: Component> FfiComponent for Adapter<C> {
    fn start(&self) -> FfiFuture<FfiResult<()>> {
        let component = Arc::clone(&self.component);
        bridge(async move { component.start().await }, unit)
    }

    fn run(&self) -> FfiFuture<FfiResult<()>> {
        let component = Arc::clone(&self.component);
        let context = self.context.clone();
        bridge(
            async move {
                tokio::select! {
                    result = component.run() => result,
                    () = context.stopping() => Ok(()),
                }
            },
            unit,
        )
    }

    fn stop(&self) -> FfiFuture<FfiResult<()>> {
        let component = Arc::clone(&self.component);
        let stop = Arc::clone(&self.stop);
        bridge(
            async move {
                stop.send_replace(true);
                component.stop().await
            },
            unit,
        )
    }

    fn handle(
        &self,
        method: RString,
        meta: mimir_abi::CallMeta,
        payload: RVec<u8>,
    ) -> FfiFuture<FfiResult<RVec<u8>>> {
        let component = Arc::clone(&self.component);
        let request = Request {
            method: method.into_string(),
            meta: CallMeta::from_ffi(meta),
            payload: payload.into_vec(),
        };
        bridge(
            async move {
                if request.method == "http" {
                    let http_request = HttpRequest::decode(request.payload.as_slice())?;
                    let response = component.http(http_request, request.meta).await;
                    return Ok(response.encode_to_vec());
                }
                component.handle(request).await
            },
            RVec::from,
        )
    }

    fn metrics(&self) -> RString {
        let encoded = guard("metrics", || {
            let mut text = String::new();
            prometheus_client::encoding::text::encode(&mut text, &self.context.registry())
                .map_err(|error| Error::internal(format!("cannot encode metrics: {error}")))?;
            Ok(text)
        });
        match encoded {
            Ok(text) => RString::from(text.strip_suffix("# EOF\n").unwrap_or(&text)),
            Err(error) => {
                tracing::error!(%error, "metrics unavailable");
                RString::new()
            }
        }
    }
}

/// The protobuf manifest of `C`, with its version and config defaults and schema filled in.
pub fn manifest_bytes<C: Component>(crate_version: &str) -> RVec<u8> {
    let built = guard("manifest", || {
        let mut manifest: PluginManifest = C::manifest();
        if manifest.version.is_empty() {
            manifest.version = crate_version.to_string();
        }
        manifest.shared_sections = C::shared_sections();
        if !manifest.config_section.is_empty() {
            manifest.config_defaults_json =
                serde_json::to_string(&C::Config::default()).map_err(|error| {
                    Error::internal(format!("cannot encode config defaults: {error}"))
                })?;
            manifest.config_schema_json = serde_json::to_string(&schemars::schema_for!(C::Config))
                .map_err(|error| {
                    Error::internal(format!("cannot encode config schema: {error}"))
                })?;
        }
        Ok(manifest.encode_to_vec())
    });
    // An empty manifest is refused by the host with a clear message.
    RVec::from(built.unwrap_or_default())
}

/// Builds one instance of `C` from the host's context.
pub fn new_component<C: Component>(host: HostContext) -> FfiResult<ComponentBox> {
    let HostContext {
        instance_id,
        config_json,
        shared_json,
        log_filter,
        bus,
        log: sink,
    } = host;
    log::install(sink, log_filter.as_str());
    let built = guard("new_component", || {
        let _entered = runtime().enter();
        let manifest = C::manifest();
        let config: C::Config = if manifest.config_section.is_empty() {
            C::Config::default()
        } else {
            serde_json::from_str(config_json.as_str()).map_err(|error| {
                Error::bad_request(format!(
                    "invalid config section `{}`: {error}",
                    manifest.config_section
                ))
            })?
        };
        let shared = serde_json::from_str(shared_json.as_str()).unwrap_or(serde_json::Value::Null);
        let (stop, stopping) = watch::channel(false);
        let bus = Bus::new(bus, format!("{}@{}", manifest.name, instance_id.as_str()));
        let context = Context::new(
            manifest.name.clone(),
            instance_id.into_string(),
            shared,
            bus,
            stopping,
        );
        let component = C::new(context.clone(), config)?;
        Ok(Adapter {
            component: Arc::new(component),
            context,
            stop: Arc::new(stop),
        })
    });
    match built {
        Ok(adapter) => ROk(FfiComponent_TO::from_value(adapter, TD_Opaque)),
        Err(error) => RErr(BusError::from(error)),
    }
}

/// The root module a plugin exports (used by [`crate::export_component!`]).
pub fn root_module(
    manifest: extern "C" fn() -> RVec<u8>,
    new_component: extern "C" fn(HostContext) -> FfiResult<ComponentBox>,
) -> PluginModRef {
    PluginMod {
        abi_version: ABI_VERSION,
        manifest,
        new_component,
    }
    .leak_into_prefix()
}
