//! The host side of the ABI: drives plugin components through plain async methods, and implements
//! the bus and log sink that plugins call. FFI types stay in this file and `loader.rs`.
//!
//! Every host-side adapter method catches panics (a panic unwinding into a plugin would abort the
//! process) and every future handed to a plugin enters the host runtime on each poll, because each
//! plugin has its own copy of tokio and would find no reactor.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RErr, ROk, RString, RVec};
use async_ffi::{FfiFuture, FutureExt as _};
use futures::FutureExt as _;
use mimir_abi::{
    BusError, ComponentBox, ErrorCode, FfiBus, FfiBus_TO, FfiLogSink, FfiLogSink_TO, FfiResult,
    HostContext, LogRecord,
};
use tokio::runtime::Handle;

use crate::bus::{CallMeta, Router};

/// A component instance, driven through plain async methods.
#[derive(Clone)]
pub struct ComponentHandle {
    inner: Arc<ComponentBox>,
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        return (*text).to_string();
    }
    if let Some(text) = payload.downcast_ref::<String>() {
        return text.clone();
    }
    "panic with a non-string payload".to_string()
}

/// Awaits a plugin future; a panic while polling it becomes a `Panicked` error.
async fn guarded<T>(future: FfiFuture<FfiResult<T>>) -> Result<T, BusError> {
    match AssertUnwindSafe(future).catch_unwind().await {
        Ok(result) => result.into_result(),
        Err(payload) => Err(BusError::new(
            ErrorCode::Panicked,
            format!("plugin future panicked: {}", panic_text(payload.as_ref())),
        )),
    }
}

impl ComponentHandle {
    pub fn new(inner: ComponentBox) -> ComponentHandle {
        ComponentHandle {
            inner: Arc::new(inner),
        }
    }

    pub async fn start(&self) -> Result<(), BusError> {
        guarded(self.inner.start()).await
    }

    pub async fn run(&self) -> Result<(), BusError> {
        guarded(self.inner.run()).await
    }

    pub async fn stop(&self) -> Result<(), BusError> {
        guarded(self.inner.stop()).await
    }

    pub async fn handle(
        &self,
        method: &str,
        meta: &CallMeta,
        payload: Vec<u8>,
    ) -> Result<Vec<u8>, BusError> {
        let future = self
            .inner
            .handle(RString::from(method), to_ffi(meta), RVec::from(payload));
        guarded(future).await.map(RVec::into_vec)
    }

    pub fn metrics(&self) -> String {
        self.inner.metrics().into_string()
    }
}

pub fn to_ffi(meta: &CallMeta) -> mimir_abi::CallMeta {
    mimir_abi::CallMeta {
        tenant: RString::from(meta.tenant.as_str()),
        deadline_unix_nanos: mimir_abi::deadline_to_nanos(meta.deadline),
        trace_parent: RString::from(meta.trace_parent.as_str()),
        caller: RString::from(meta.caller.as_str()),
    }
}

pub fn from_ffi(meta: mimir_abi::CallMeta) -> CallMeta {
    CallMeta {
        tenant: meta.tenant.into_string(),
        deadline: mimir_abi::deadline_from_nanos(meta.deadline_unix_nanos),
        trace_parent: meta.trace_parent.into_string(),
        caller: meta.caller.into_string(),
    }
}

/// A future that enters the host runtime on every poll and turns a panic into an error.
struct OnHostRuntime<F> {
    handle: Handle,
    future: Pin<Box<F>>,
}

impl<T, F: Future<Output = Result<T, BusError>>> Future for OnHostRuntime<F> {
    type Output = Result<T, BusError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let _entered = this.handle.enter();
        match catch_unwind(AssertUnwindSafe(|| this.future.as_mut().poll(cx))) {
            Ok(poll) => poll,
            Err(payload) => {
                let message = panic_text(payload.as_ref());
                tracing::error!(panic = %message, "host bus panicked");
                Poll::Ready(Err(BusError::new(
                    ErrorCode::Internal,
                    format!("host bus panicked: {message}"),
                )))
            }
        }
    }
}

/// The bus as plugins see it.
struct HostBus {
    router: Arc<Router>,
    handle: Handle,
}

impl FfiBus for HostBus {
    fn call(
        &self,
        destination: RString,
        method: RString,
        meta: mimir_abi::CallMeta,
        payload: RVec<u8>,
    ) -> FfiFuture<FfiResult<RVec<u8>>> {
        let router = Arc::clone(&self.router);
        let call = async move {
            router
                .call(
                    destination.as_str(),
                    method.as_str(),
                    from_ffi(meta),
                    payload.into_vec(),
                )
                .await
        };
        let on_runtime = OnHostRuntime {
            handle: self.handle.clone(),
            future: Box::pin(call),
        };
        async move {
            match on_runtime.await {
                Ok(reply) => ROk(RVec::from(reply)),
                Err(error) => RErr(error),
            }
        }
        .into_ffi()
    }
}

/// Where plugin log records go: the host's `tracing` subscriber, with the plugin's own target.
struct HostLogSink;

impl FfiLogSink for HostLogSink {
    fn log(&self, record: LogRecord) {
        let _ = catch_unwind(AssertUnwindSafe(|| {
            crate::logging::emit_plugin_record(&record)
        }));
    }
}

/// Everything a component instance is built with.
pub fn host_context(
    router: Arc<Router>,
    instance_id: &str,
    config_json: String,
    shared_json: String,
    log_filter: &str,
) -> HostContext {
    let bus = HostBus {
        router,
        handle: Handle::current(),
    };
    HostContext {
        instance_id: RString::from(instance_id),
        config_json: RString::from(config_json),
        shared_json: RString::from(shared_json),
        log_filter: RString::from(log_filter),
        bus: FfiBus_TO::from_value(bus, TD_Opaque),
        log: FfiLogSink_TO::from_value(HostLogSink, TD_Opaque),
    }
}
