//! The `distributor` config section.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Config section `distributor`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct DistributorConfig {
    /// Largest remote-write request accepted, compressed or not, in bytes.
    pub max_recv_msg_size: usize,
    /// How long a push to one ingester may take, e.g. `2s`.
    pub remote_timeout: String,
    /// How often the distributor re-reads the ingester ring, e.g. `1s`.
    pub ring_refresh_period: String,
}

impl Default for DistributorConfig {
    fn default() -> DistributorConfig {
        DistributorConfig {
            max_recv_msg_size: 100 << 20,
            remote_timeout: "2s".to_string(),
            ring_refresh_period: "1s".to_string(),
        }
    }
}
