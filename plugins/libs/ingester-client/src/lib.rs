//! mimir-ingester-client: what the components that talk to ingesters share with them: the
//! `ingester` config section (a shared section: the distributor and the querier read its ring
//! settings), a typed bus client for the ingester's methods and the ring watcher both keep. It links the SDK and protobuf types,
//! never the ingester itself.

mod client;
mod config;
mod ring_watcher;
mod shared;

pub use client::{IngesterClient, RING_KEY};
pub use config::{IngesterConfig, WalConfig, parse_duration};
pub use ring_watcher::RingWatcher;
pub use shared::{WritePathConfig, reload_overrides, write_path_sections};
