//! mimir-plugin-sdk: what a component author links to build a `mimir-host` plugin.
//!
//! Implement [`Component`] in plain Rust and export it with [`export_component!`]; the SDK owns
//! everything FFI: the root module, a multi-thread tokio runtime per plugin (each `.so` has its own
//! tokio), making every future that crosses the boundary carry that runtime, catching panics in every
//! adapter method and future (they become [`ErrorCode::Panicked`] errors for the caller), forwarding
//! `tracing` events to the host's log output, and a typed [`Bus`] client.
//!
//! A plugin crate is a `cdylib` named `mimir-<something>` (the host discovers `libmimir_*.so`) that
//! depends on this crate, `mimir-proto` and `abi_stable` (the export macro expands to its attribute).
//! It must never depend on another component or on `mimir-host`.
//!
//! ```ignore
//! struct Hello { ctx: mimir_plugin_sdk::Context }
//! impl mimir_plugin_sdk::Component for Hello { /* manifest, new, handle ... */ }
//! mimir_plugin_sdk::export_component!(Hello);
//! ```

mod adapter;
mod bus;
mod context;
mod error;
pub mod http;
pub mod kv;
mod log;
mod meta;
mod runtime;

use std::future::Future;

pub use bus::Bus;
pub use context::Context;
pub use error::Error;
pub use meta::{CallMeta, Request};
pub use mimir_abi::ErrorCode;
pub use mimir_proto::plugin::{HttpRoute, PluginManifest, SharedSection};
pub use runtime::{runtime, spawn};

/// Metric types to register in [`Context::registry`] (re-exported from `prometheus-client`).
pub use prometheus_client::metrics::{
    counter::Counter, family::Family, gauge::Gauge, histogram::Histogram,
};
/// The registry type behind [`Context::registry`].
pub use prometheus_client::registry::Registry;

/// A component: what a plugin provides. The SDK adapts it to the ABI.
pub trait Component: Send + Sync + Sized + 'static {
    /// The component's config section. Use `#[serde(default, deny_unknown_fields)]`; `///` doc
    /// comments on fields become the reference docs. `()` when the component has no config.
    type Config: serde::Serialize
        + serde::de::DeserializeOwned
        + Default
        + schemars::JsonSchema
        + Send
        + 'static;

    /// What the host needs to know before starting the component: name, groups, dependencies,
    /// routes, bus methods, config section. `version` and the config defaults are filled in for you.
    fn manifest() -> PluginManifest;

    /// Top-level config sections this component reads besides its own and shares with other
    /// components (e.g. `limits`); build each with [`shared_section`]. Read them with
    /// [`Context::shared_section`].
    fn shared_sections() -> Vec<SharedSection> {
        Vec::new()
    }

    /// Builds the component. Runs inside the plugin's runtime, so it may spawn tasks.
    fn new(context: Context, config: Self::Config) -> Result<Self, Error>;

    /// Called once, after the components this one depends on started.
    fn start(&self) -> impl Future<Output = Result<(), Error>> + Send {
        async { Ok(()) }
    }

    /// The component's main loop, if it has one. Returning `Err` fails the process; the SDK ends it
    /// when the host stops the component.
    fn run(&self) -> impl Future<Output = Result<(), Error>> + Send {
        std::future::pending()
    }

    /// Called once on shutdown, before the components this one depends on stop.
    fn stop(&self) -> impl Future<Output = Result<(), Error>> + Send {
        async { Ok(()) }
    }

    /// Serves a bus call. The default answers `NotFound`.
    fn handle(&self, request: Request) -> impl Future<Output = Result<Vec<u8>, Error>> + Send {
        async move {
            Err(Error::not_found(format!(
                "unknown bus method `{}`",
                request.method
            )))
        }
    }

    /// Serves an HTTP request for one of the manifest's routes. The default answers 404.
    fn http(
        &self,
        request: http::HttpRequest,
        meta: CallMeta,
    ) -> impl Future<Output = http::HttpResponse> + Send {
        let _ = meta;
        async move { http::text(404, format!("no handler for {}", request.path)) }
    }
}

/// Declares shared config section `name` whose contents are `T` (defaults from `T::default()`,
/// reference docs from `T`'s doc comments).
pub fn shared_section<T>(name: &str) -> SharedSection
where
    T: serde::Serialize + Default + schemars::JsonSchema,
{
    SharedSection {
        name: name.to_string(),
        defaults_json: serde_json::to_string(&T::default()).unwrap_or_default(),
        schema_json: serde_json::to_string(&schemars::schema_for!(T)).unwrap_or_default(),
    }
}

/// Exports `$component` as this library's plugin root module.
#[macro_export]
macro_rules! export_component {
    ($component:ty) => {
        /// The plugin's root module, found by `mimir-host`.
        #[::abi_stable::export_root_module]
        pub fn mimir_plugin_root_module() -> $crate::__private::PluginModRef {
            extern "C" fn manifest() -> $crate::__private::RVec<u8> {
                $crate::__private::manifest_bytes::<$component>(env!("CARGO_PKG_VERSION"))
            }
            extern "C" fn new_component(
                host: $crate::__private::HostContext,
            ) -> $crate::__private::FfiResult<$crate::__private::ComponentBox> {
                $crate::__private::new_component::<$component>(host)
            }
            $crate::__private::root_module(manifest, new_component)
        }
    };
}

/// Used by [`export_component!`]; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use crate::adapter::{manifest_bytes, new_component, root_module};
    pub use abi_stable::std_types::RVec;
    pub use mimir_abi::{ComponentBox, FfiResult, HostContext, PluginModRef};
}
