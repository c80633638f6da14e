//! The bus router: `call(destination, method, meta, payload)`. A destination that runs in this
//! process is a function call through the ABI; one that runs elsewhere is a gRPC `Bus.Call` to the
//! address the destination names (`component@host:port`) or `-bus.peers` gives. Deadlines are
//! enforced here on both sides and travel across processes as time left.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use mimir_abi::{BusError, ErrorCode};
use mimir_proto::bus::bus_client::BusClient;
use mimir_proto::bus::{CallRequest, call_reply};
use tonic::transport::{Channel, Endpoint};

use crate::kv::{InMemoryKv, KV_DESTINATION};
use crate::metrics::HostMetrics;
use crate::services::{Service, State};

/// Host-reserved bus method: answers empty when the component runs here and is `Running`.
pub const READY_METHOD: &str = "__ready";

/// What every call carries besides its payload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallMeta {
    pub tenant: String,
    pub deadline: Option<SystemTime>,
    pub trace_parent: String,
    pub caller: String,
}

impl CallMeta {
    /// Time left until the deadline: `None` without one, zero once it passed.
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline.map(|deadline| {
            deadline
                .duration_since(SystemTime::now())
                .unwrap_or(Duration::ZERO)
        })
    }
}

enum Route {
    Local(Arc<Service>),
    Kv,
    Remote(String),
}

pub struct Router {
    local: RwLock<BTreeMap<String, Arc<Service>>>,
    peers: BTreeMap<String, String>,
    advertise: String,
    clients: Mutex<HashMap<String, BusClient<Channel>>>,
    max_message_size: usize,
    metrics: Arc<HostMetrics>,
    kv: InMemoryKv,
}

fn timeout_error(destination: &str, method: &str) -> BusError {
    BusError::new(
        ErrorCode::Timeout,
        format!("deadline exceeded calling {method} on {destination}"),
    )
}

impl Router {
    pub fn new(
        peers: BTreeMap<String, String>,
        advertise: String,
        max_message_size: usize,
        metrics: Arc<HostMetrics>,
    ) -> Router {
        Router {
            local: RwLock::new(BTreeMap::new()),
            peers,
            advertise,
            clients: Mutex::new(HashMap::new()),
            max_message_size,
            metrics,
            kv: InMemoryKv::default(),
        }
    }

    /// The gRPC address other processes reach this one at.
    pub fn advertise(&self) -> &str {
        &self.advertise
    }

    /// Makes a component of this process reachable.
    pub fn register(&self, service: Arc<Service>) {
        if let Ok(mut local) = self.local.write() {
            local.insert(service.name.clone(), service);
        }
    }

    fn local_service(&self, component: &str) -> Option<Arc<Service>> {
        self.local.read().ok()?.get(component).cloned()
    }

    /// Whether `-bus.peers` names an address for `component`.
    pub fn has_peer(&self, component: &str) -> bool {
        self.peers.contains_key(component)
    }

    /// Whether `component` runs in this process.
    pub fn is_local(&self, component: &str) -> bool {
        self.local_service(component).is_some()
    }

    fn route(&self, component: &str, address: Option<&str>) -> Result<Route, BusError> {
        if let Some(address) = address.filter(|a| *a != self.advertise) {
            return Ok(Route::Remote(address.to_string()));
        }
        if let Some(service) = self.local_service(component) {
            return Ok(Route::Local(service));
        }
        if component == KV_DESTINATION && (address.is_some() || !self.peers.contains_key(component))
        {
            return Ok(Route::Kv);
        }
        if address.is_some() {
            return Err(BusError::new(
                ErrorCode::NotFound,
                format!(
                    "component `{component}` does not run on instance {}",
                    self.advertise
                ),
            ));
        }
        match self.peers.get(component) {
            Some(peer) => Ok(Route::Remote(peer.clone())),
            None => Err(BusError::new(
                ErrorCode::Unavailable,
                format!(
                    "no instance of `{component}`: it does not run in this process and -bus.peers names no address for it"
                ),
            )),
        }
    }

    /// Calls `method` on `destination` (`component` or `component@host:port`).
    pub async fn call(
        &self,
        destination: &str,
        method: &str,
        meta: CallMeta,
        payload: Vec<u8>,
    ) -> Result<Vec<u8>, BusError> {
        let started = Instant::now();
        let (component, address) = match destination.split_once('@') {
            Some((component, address)) => (component, Some(address)),
            None => (destination, None),
        };
        let route = self.route(component, address)?;
        let transport = match route {
            Route::Local(_) | Route::Kv => "local",
            Route::Remote(_) => "grpc",
        };
        let call = async {
            match route {
                Route::Local(service) => call_service(&service, method, &meta, payload).await,
                Route::Kv => self.kv.handle(method, &payload),
                Route::Remote(address) => {
                    self.call_remote(&address, component, method, &meta, payload)
                        .await
                }
            }
        };
        let result = with_deadline(&meta, call, || timeout_error(destination, method)).await;
        self.metrics
            .observe_call(component, method, transport, &result, started.elapsed());
        result
    }

    /// Calls a component of this process only (what the gRPC server does for remote callers).
    pub async fn call_local(
        &self,
        component: &str,
        method: &str,
        meta: CallMeta,
        payload: Vec<u8>,
    ) -> Result<Vec<u8>, BusError> {
        if component == KV_DESTINATION && !self.is_local(component) {
            return self.kv.handle(method, &payload);
        }
        let Some(service) = self.local_service(component) else {
            return Err(BusError::new(
                ErrorCode::NotFound,
                format!(
                    "component `{component}` does not run on instance {}",
                    self.advertise
                ),
            ));
        };
        let call = call_service(&service, method, &meta, payload);
        with_deadline(&meta, call, || timeout_error(component, method)).await
    }

    fn client(&self, address: &str) -> Result<BusClient<Channel>, BusError> {
        let mut clients = self
            .clients
            .lock()
            .map_err(|_| BusError::new(ErrorCode::Internal, "bus client pool poisoned"))?;
        if let Some(client) = clients.get(address) {
            return Ok(client.clone());
        }
        let endpoint = Endpoint::from_shared(format!("http://{address}"))
            .map_err(|error| {
                BusError::new(
                    ErrorCode::BadRequest,
                    format!("invalid bus address `{address}`: {error}"),
                )
            })?
            .tcp_nodelay(true)
            .connect_timeout(Duration::from_secs(5));
        let client = BusClient::new(endpoint.connect_lazy())
            .max_decoding_message_size(self.max_message_size)
            .max_encoding_message_size(self.max_message_size);
        clients.insert(address.to_string(), client.clone());
        Ok(client)
    }

    async fn call_remote(
        &self,
        address: &str,
        component: &str,
        method: &str,
        meta: &CallMeta,
        payload: Vec<u8>,
    ) -> Result<Vec<u8>, BusError> {
        let mut client = self.client(address)?;
        let remaining = meta.remaining();
        let message = CallRequest {
            destination: component.to_string(),
            method: method.to_string(),
            tenant: meta.tenant.clone(),
            timeout_nanos: remaining
                .map(|left| u64::try_from(left.as_nanos()).unwrap_or(u64::MAX).max(1))
                .unwrap_or(0),
            trace_parent: meta.trace_parent.clone(),
            caller: meta.caller.clone(),
            payload,
        };
        let mut request = tonic::Request::new(message);
        if let Some(left) = remaining {
            request.set_timeout(left);
        }
        let reply = client
            .call(request)
            .await
            .map_err(|status| status_error(address, &status))?;
        match reply.into_inner().result {
            Some(call_reply::Result::Payload(payload)) => Ok(payload),
            Some(call_reply::Result::Error(error)) => Err(BusError {
                code: error.code,
                retryable: error.retryable,
                message: error.message.into(),
            }),
            None => Err(BusError::new(
                ErrorCode::Internal,
                format!("empty bus reply from {address}"),
            )),
        }
    }
}

async fn call_service(
    service: &Service,
    method: &str,
    meta: &CallMeta,
    payload: Vec<u8>,
) -> Result<Vec<u8>, BusError> {
    let state = service.state();
    if method == READY_METHOD {
        return match state {
            State::Running => Ok(Vec::new()),
            other => Err(BusError::new(
                ErrorCode::Unavailable,
                format!("component `{}` is {other}", service.name),
            )),
        };
    }
    if !matches!(state, State::Starting | State::Running | State::Stopping) {
        return Err(BusError::new(
            ErrorCode::Unavailable,
            format!("component `{}` is not running ({state})", service.name),
        ));
    }
    service.handle.handle(method, meta, payload).await
}

async fn with_deadline<F>(
    meta: &CallMeta,
    call: F,
    on_timeout: impl FnOnce() -> BusError,
) -> Result<Vec<u8>, BusError>
where
    F: std::future::Future<Output = Result<Vec<u8>, BusError>>,
{
    match meta.remaining() {
        None => call.await,
        Some(left) if left.is_zero() => Err(on_timeout()),
        Some(left) => tokio::time::timeout(left, call)
            .await
            .unwrap_or_else(|_| Err(on_timeout())),
    }
}

fn status_error(address: &str, status: &tonic::Status) -> BusError {
    let (code, text) = match status.code() {
        tonic::Code::DeadlineExceeded => (ErrorCode::Timeout, "deadline exceeded"),
        tonic::Code::Cancelled => (ErrorCode::Canceled, "canceled"),
        tonic::Code::ResourceExhausted => (ErrorCode::LimitExceeded, "message too large"),
        tonic::Code::Unavailable => (ErrorCode::Unavailable, "unreachable"),
        _ => (ErrorCode::Internal, "gRPC error"),
    };
    BusError::new(
        code,
        format!("bus peer {address}: {text}: {}", status.message()),
    )
}
