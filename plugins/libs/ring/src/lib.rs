//! mimir-ring: Mimir's hash ring as data. Instances (ingesters, later store-gateways, compactors…)
//! own random 32-bit tokens; a series' key (a hash of tenant and labels) belongs to the first
//! `replication_factor` distinct healthy instances clockwise from it. The ring's state is one JSON
//! document ([`RingDesc`]) kept in the host's KV (bus destination `kv`) and changed by
//! compare-and-swap; this crate only computes, it does no I/O, so it must never depend on the SDK or
//! the host.

mod desc;
mod hash;
mod lookup;

pub use desc::{InstanceDesc, InstanceState, RingConfig, RingDesc, generate_tokens};
pub use hash::{fnv32a, shard_by_all_labels};
pub use lookup::{ReplicationSet, Ring, RingError};
