//! The ring's state as stored in the KV: instances with their address, state, tokens, zone and last
//! heartbeat. Serialized as JSON so `/ingester/ring` and operators can read it.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// Lifecycle of an instance in the ring, as Mimir's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum InstanceState {
    Pending,
    Joining,
    Active,
    Leaving,
}

impl std::fmt::Display for InstanceState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self {
            InstanceState::Pending => "PENDING",
            InstanceState::Joining => "JOINING",
            InstanceState::Active => "ACTIVE",
            InstanceState::Leaving => "LEAVING",
        };
        f.write_str(name)
    }
}

/// One instance of the ring.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceDesc {
    /// Bus address of the instance: `component@host:port`.
    pub addr: String,
    pub state: InstanceState,
    pub tokens: Vec<u32>,
    pub zone: String,
    /// Last heartbeat, milliseconds since the Unix epoch.
    pub heartbeat_ms: i64,
    pub registered_ms: i64,
}

/// The whole ring: instance id → instance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RingDesc {
    pub instances: BTreeMap<String, InstanceDesc>,
}

impl RingDesc {
    pub fn from_json(bytes: &[u8]) -> Result<RingDesc, serde_json::Error> {
        if bytes.is_empty() {
            return Ok(RingDesc::default());
        }
        serde_json::from_slice(bytes)
    }

    pub fn to_json(&self) -> Vec<u8> {
        // Serializing plain maps, strings and numbers cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Every token already owned, to keep new tokens unique.
    pub fn taken_tokens(&self) -> BTreeSet<u32> {
        self.instances
            .values()
            .flat_map(|i| i.tokens.iter().copied())
            .collect()
    }
}

/// Ring settings shared by the instances that join it and the clients that read it
/// (`ingester.ring` in the config).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RingConfig {
    /// Number of instances each series is written to. 0 means: 1 with the in-memory KV store
    /// (which only ever holds this process' ingester), 3 (Mimir's default) otherwise.
    pub replication_factor: u32,
    /// Tokens each instance owns.
    pub num_tokens: u32,
    /// How often an instance refreshes its heartbeat, e.g. `15s`.
    pub heartbeat_period: String,
    /// An instance whose heartbeat is older than this is unhealthy, e.g. `1m`.
    pub heartbeat_timeout: String,
    /// Zone of this instance (zone-aware replication spreads replicas over zones).
    pub instance_availability_zone: String,
}

impl Default for RingConfig {
    fn default() -> RingConfig {
        RingConfig {
            replication_factor: 0,
            num_tokens: 128,
            heartbeat_period: "15s".to_string(),
            heartbeat_timeout: "1m".to_string(),
            instance_availability_zone: String::new(),
        }
    }
}

/// `count` new random tokens, none in `taken`. Deterministic for a seed (tests); callers seed from
/// the instance id and the clock.
pub fn generate_tokens(count: usize, taken: &BTreeSet<u32>, seed: u64) -> Vec<u32> {
    let mut state = seed;
    let mut tokens = BTreeSet::new();
    while tokens.len() < count {
        // splitmix64
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        let token = (z >> 32) as u32;
        if !taken.contains(&token) {
            tokens.insert(token);
        }
    }
    tokens.into_iter().collect()
}
