//! mimir-proto: every protobuf message and gRPC service of mimir-host, generated at build time with
//! protox (no system `protoc`). What components say to each other evolves here, never in the ABI.
//! Depends on nothing of ours.

/// Plugin manifest and the HTTP messages the host forwards to components.
pub mod plugin {
    tonic::include_proto!("mimir.plugin.v1");
}

/// The bus envelope used between processes.
pub mod bus {
    tonic::include_proto!("mimir.bus.v1");
}

/// Messages of the example components (`plugins/examples`).
pub mod examples {
    tonic::include_proto!("mimir.examples.v1");
}

pub use bytes;

pub mod wire;
pub use prost::{self, Message};

/// The host's key-value service (bus destination `kv`).
pub mod kv {
    tonic::include_proto!("mimir.kv.v1");
}

/// What the distributor and querier say to ingesters.
pub mod ingester {
    tonic::include_proto!("mimir.ingester.v1");
}
