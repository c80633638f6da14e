//! mimir-host: the small process that finds component plugins, loads them through the stable ABI
//! (`mimir-abi`), starts the set `-target` names in dependency order, serves one HTTP and one gRPC
//! port for all of them, and routes the bus between them: a function call in one process, gRPC
//! across processes.
//!
//! The host never depends on a component crate; it knows components only through their manifests.
//! FFI types appear only in `loader.rs` and `ffi.rs`.

pub mod app;
pub mod bus;
pub mod config;
pub mod ffi;
pub mod grpc;
pub mod http;
pub mod kv;
pub mod loader;
pub mod logging;
pub mod metrics;
pub mod modules;
pub mod runner;
pub mod services;
pub mod settings;
