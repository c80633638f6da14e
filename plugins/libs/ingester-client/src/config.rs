//! The `ingester` config section.

use std::time::Duration;

use mimir_plugin_sdk::Error;
use mimir_ring::RingConfig;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Config section `ingester`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct IngesterConfig {
    /// The ingester ring: replication, tokens, heartbeats.
    pub ring: RingConfig,
    /// Directory the ingester keeps its per-tenant write-ahead logs in.
    pub data_dir: String,
    pub wal: WalConfig,
    /// How often each tenant's WAL is checkpointed (bounds replay time), e.g. `30m`.
    pub checkpoint_interval: String,
    /// Samples older than this are dropped from memory at each checkpoint, e.g. `13h`. Blocks in
    /// object storage keep older data once the store-gateway exists.
    pub retention_period: String,
    /// Series per page when queriers read series (bounds the memory of one reply).
    pub query_batch_series: u32,
}

/// Write-ahead log settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct WalConfig {
    /// `always`: a push is acknowledged only after its samples are fsynced (nothing acknowledged is
    /// lost on a crash). Or a duration such as `100ms`: fsync at most that often (a crash can lose
    /// that much).
    pub fsync: String,
    /// Size a WAL segment file is cut at, in bytes.
    pub segment_size_bytes: u64,
}

impl Default for IngesterConfig {
    fn default() -> IngesterConfig {
        IngesterConfig {
            ring: RingConfig::default(),
            data_dir: "./data/ingester".to_string(),
            wal: WalConfig::default(),
            checkpoint_interval: "30m".to_string(),
            retention_period: "13h".to_string(),
            query_batch_series: 1000,
        }
    }
}

impl Default for WalConfig {
    fn default() -> WalConfig {
        WalConfig {
            fsync: "always".to_string(),
            segment_size_bytes: 128 * 1024 * 1024,
        }
    }
}

/// Parses a duration setting (`15s`, `1m`, `13h`), naming the flag when it is invalid.
pub fn parse_duration(value: &str, flag: &str) -> Result<Duration, Error> {
    humantime::parse_duration(value)
        .map_err(|error| Error::bad_request(format!("{flag}: invalid duration `{value}`: {error}")))
}

impl IngesterConfig {
    /// The replication factor in force: 0 (the default) means 1 when the KV store is the host's
    /// in-memory one, which can only ever hold this process' ingester.
    pub fn replication_factor(&self) -> usize {
        match self.ring.replication_factor {
            0 => 1,
            n => n as usize,
        }
    }

    pub fn heartbeat_period(&self) -> Result<Duration, Error> {
        parse_duration(
            &self.ring.heartbeat_period,
            "-ingester.ring.heartbeat-period",
        )
    }

    pub fn heartbeat_timeout(&self) -> Result<Duration, Error> {
        parse_duration(
            &self.ring.heartbeat_timeout,
            "-ingester.ring.heartbeat-timeout",
        )
    }
}
