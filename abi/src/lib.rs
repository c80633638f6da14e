//! mimir-abi: the FFI contract between `mimir-host` and component plugins, and nothing else.
//!
//! It is kept tiny on purpose: what components *say* to each other evolves in protobuf
//! (`mimir-proto`), not here. What crosses the boundary is a root module (a prefix type whose fields
//! are only ever appended), a [`FfiComponent`] trait object, the host's [`FfiBus`] and [`FfiLogSink`],
//! the [`HostContext`] a component is built with, and [`BusError`] with a closed code set.
//!
//! This crate must never depend on tokio, do I/O or hold logic: plugin authors use
//! `mimir-plugin-sdk`, which wraps these types in plain Rust.
//!
//! Futures crossing the boundary are [`async_ffi::FfiFuture`]s. Each `.so` has its own copy of std,
//! tokio and tracing, so the side that creates a future must make it carry its own runtime.

#![allow(non_local_definitions)] // abi_stable's `sabi_trait` expands to impls inside a const block.

use abi_stable::{
    StableAbi, declare_root_module_statics,
    library::RootModule,
    package_version_strings, sabi_trait,
    sabi_types::VersionStrings,
    std_types::{RBox, RResult, RString, RVec},
};
pub use async_ffi::FfiFuture;

pub use abi_stable;
pub use async_ffi;

/// Bumped when the meaning (not only the layout) of the contract changes.
pub const ABI_VERSION: u32 = 1;

/// File name prefix of plugin libraries (`libmimir_<name>.so` on Linux).
pub const PLUGIN_FILE_PREFIX: &str = "mimir_";

/// The closed set of bus error codes. Unknown values are read as [`code::INTERNAL`].
pub mod code {
    /// The destination or method does not exist.
    pub const NOT_FOUND: u32 = 1;
    /// The request is invalid; retrying it unchanged fails again.
    pub const BAD_REQUEST: u32 = 2;
    /// A rate limit was hit; retry later.
    pub const TOO_MANY_REQUESTS: u32 = 3;
    /// The destination cannot serve now (not running, unreachable).
    pub const UNAVAILABLE: u32 = 4;
    /// The call's deadline passed.
    pub const TIMEOUT: u32 = 5;
    /// A bug or unexpected condition on the serving side.
    pub const INTERNAL: u32 = 6;
    /// The serving component panicked while handling the call.
    pub const PANICKED: u32 = 7;
    /// The caller is not authenticated (e.g. no tenant).
    pub const UNAUTHORIZED: u32 = 8;
    /// The caller gave up.
    pub const CANCELED: u32 = 9;
    /// A limit was exceeded that is not a rate (too large, too many series...).
    pub const LIMIT_EXCEEDED: u32 = 10;
}

/// An error crossing the boundary: a code from [`code`], whether retrying may help, and a message
/// fit for the user (internal details are logged, not put here).
#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct BusError {
    pub code: u32,
    pub retryable: bool,
    pub message: RString,
}

/// What every bus call carries besides its method and payload.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Default)]
pub struct CallMeta {
    /// Tenant (`X-Scope-OrgID`) the call is made for; empty when none.
    pub tenant: RString,
    /// Absolute deadline as nanoseconds since the Unix epoch; 0 means none.
    pub deadline_unix_nanos: u64,
    /// W3C `traceparent` of the caller; empty when none.
    pub trace_parent: RString,
    /// Who calls: `component@instance`, or `http` for requests from the HTTP server.
    pub caller: RString,
}

/// [`CallMeta::deadline_unix_nanos`] for a deadline: 0 for none; a deadline past year 2554, which
/// does not fit, is no deadline.
pub fn deadline_to_nanos(deadline: Option<std::time::SystemTime>) -> u64 {
    deadline
        .map(|d| {
            let nanos = d
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos();
            u64::try_from(nanos).unwrap_or(0).max(1)
        })
        .unwrap_or(0)
}

/// The deadline [`CallMeta::deadline_unix_nanos`] holds.
pub fn deadline_from_nanos(nanos: u64) -> Option<std::time::SystemTime> {
    (nanos != 0).then(|| std::time::UNIX_EPOCH + std::time::Duration::from_nanos(nanos))
}

/// One log event of a plugin, already filtered by the host's directives.
#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct LogRecord {
    /// 1 = error, 2 = warn, 3 = info, 4 = debug, 5 = trace.
    pub level: u8,
    pub target: RString,
    pub module_path: RString,
    pub file: RString,
    pub line: u32,
    pub message: RString,
    /// The event's other fields, formatted `key=value key2=value2`.
    pub fields: RString,
    /// The event's span context, outermost first: `span1{a=1}:span2{b=2}`.
    pub spans: RString,
}

/// Result type of every fallible call across the boundary.
pub type FfiResult<T> = RResult<T, BusError>;

/// A component instance, implemented by plugins (through the SDK) and driven by the host.
#[sabi_trait]
pub trait FfiComponent: Send + Sync {
    /// Starts the component. The host calls it once, in dependency order.
    fn start(&self) -> FfiFuture<FfiResult<()>>;

    /// Resolves when the component stops running: `Ok` after `stop`, `Err` when it failed.
    fn run(&self) -> FfiFuture<FfiResult<()>>;

    /// Stops the component. The host calls it once, in reverse dependency order.
    fn stop(&self) -> FfiFuture<FfiResult<()>>;

    /// Serves one bus call. Method `http` carries a protobuf `HttpRequest` and answers an
    /// `HttpResponse`.
    fn handle(
        &self,
        method: RString,
        meta: CallMeta,
        payload: RVec<u8>,
    ) -> FfiFuture<FfiResult<RVec<u8>>>;

    /// The component's metrics in the OpenMetrics text format, without the final `# EOF`.
    #[sabi(last_prefix_field)]
    fn metrics(&self) -> RString;
}

/// An owned component trait object.
pub type ComponentBox = FfiComponent_TO<'static, RBox<()>>;

/// The host's bus, handed to every component.
#[sabi_trait]
pub trait FfiBus: Send + Sync {
    /// Calls `method` on `destination` (`component` or `component@host:port`).
    #[sabi(last_prefix_field)]
    fn call(
        &self,
        destination: RString,
        method: RString,
        meta: CallMeta,
        payload: RVec<u8>,
    ) -> FfiFuture<FfiResult<RVec<u8>>>;
}

/// An owned bus trait object.
pub type BusBox = FfiBus_TO<'static, RBox<()>>;

/// Where a plugin's log events go: the host's log output.
#[sabi_trait]
pub trait FfiLogSink: Send + Sync {
    #[sabi(last_prefix_field)]
    fn log(&self, record: LogRecord);
}

/// An owned log sink trait object.
pub type LogSinkBox = FfiLogSink_TO<'static, RBox<()>>;

/// Everything a component instance is built with.
#[repr(C)]
#[derive(StableAbi)]
pub struct HostContext {
    /// This process' instance id (`-instance-id`, by default the hostname and HTTP port).
    pub instance_id: RString,
    /// The component's config section as JSON (an object, `{}` when it has none).
    pub config_json: RString,
    /// Sections shared by every component, as a JSON object (`server`, `target`, ...).
    pub shared_json: RString,
    /// `tracing` filter directives the host runs with (EnvFilter syntax).
    pub log_filter: RString,
    pub bus: BusBox,
    pub log: LogSinkBox,
}

/// The root module every plugin exports. A prefix type: fields are only ever appended, so an older
/// host can load a newer plugin.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = PluginModRef)))]
#[sabi(missing_field(panic))]
pub struct PluginMod {
    /// [`ABI_VERSION`] the plugin was built with.
    pub abi_version: u32,
    /// The plugin's protobuf `PluginManifest`.
    pub manifest: extern "C" fn() -> RVec<u8>,
    /// Builds one component instance.
    #[sabi(last_prefix_field)]
    pub new_component: extern "C" fn(HostContext) -> FfiResult<ComponentBox>,
}

impl RootModule for PluginModRef {
    declare_root_module_statics! {PluginModRef}
    const BASE_NAME: &'static str = "mimir_plugin";
    const NAME: &'static str = "mimir_plugin";
    const VERSION_STRINGS: VersionStrings = package_version_strings!();
}

/// The plain-Rust view of [`code`], for matching. Unknown codes read as `Internal`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    NotFound,
    BadRequest,
    TooManyRequests,
    Unavailable,
    Timeout,
    Internal,
    Panicked,
    Unauthorized,
    Canceled,
    LimitExceeded,
}

impl ErrorCode {
    /// Every code, in wire order.
    pub const ALL: [ErrorCode; 10] = [
        ErrorCode::NotFound,
        ErrorCode::BadRequest,
        ErrorCode::TooManyRequests,
        ErrorCode::Unavailable,
        ErrorCode::Timeout,
        ErrorCode::Internal,
        ErrorCode::Panicked,
        ErrorCode::Unauthorized,
        ErrorCode::Canceled,
        ErrorCode::LimitExceeded,
    ];

    pub fn as_u32(self) -> u32 {
        match self {
            ErrorCode::NotFound => code::NOT_FOUND,
            ErrorCode::BadRequest => code::BAD_REQUEST,
            ErrorCode::TooManyRequests => code::TOO_MANY_REQUESTS,
            ErrorCode::Unavailable => code::UNAVAILABLE,
            ErrorCode::Timeout => code::TIMEOUT,
            ErrorCode::Internal => code::INTERNAL,
            ErrorCode::Panicked => code::PANICKED,
            ErrorCode::Unauthorized => code::UNAUTHORIZED,
            ErrorCode::Canceled => code::CANCELED,
            ErrorCode::LimitExceeded => code::LIMIT_EXCEEDED,
        }
    }

    pub fn from_u32(value: u32) -> ErrorCode {
        ErrorCode::ALL
            .into_iter()
            .find(|c| c.as_u32() == value)
            .unwrap_or(ErrorCode::Internal)
    }

    /// Snake-case name, used in metrics labels and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NotFound => "not_found",
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::TooManyRequests => "too_many_requests",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Timeout => "timeout",
            ErrorCode::Internal => "internal",
            ErrorCode::Panicked => "panicked",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Canceled => "canceled",
            ErrorCode::LimitExceeded => "limit_exceeded",
        }
    }

    /// The HTTP status an API answers for this code.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::NotFound => 404,
            ErrorCode::BadRequest | ErrorCode::LimitExceeded => 400,
            ErrorCode::Unauthorized => 401,
            ErrorCode::TooManyRequests => 429,
            ErrorCode::Unavailable => 503,
            ErrorCode::Timeout => 504,
            ErrorCode::Canceled => 499,
            ErrorCode::Internal | ErrorCode::Panicked => 500,
        }
    }
}

impl BusError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> BusError {
        let retryable = matches!(
            code,
            ErrorCode::Unavailable | ErrorCode::TooManyRequests | ErrorCode::Timeout
        );
        BusError {
            code: code.as_u32(),
            retryable,
            message: RString::from(message.into()),
        }
    }

    pub fn error_code(&self) -> ErrorCode {
        ErrorCode::from_u32(self.code)
    }
}
