//! The `querier` config section, with Mimir's flag names and defaults.

use std::time::Duration;

use mimir_validation::PromDuration;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Config section `querier`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct QuerierConfig {
    /// Maximum number of samples a single query can load into memory. Flag `-querier.max-samples`.
    #[schemars(extend("x-flag" = "querier.max-samples"))]
    pub max_samples: usize,
    /// The timeout for a query; a query's `timeout` parameter can only shorten it. Flag
    /// `-querier.timeout`.
    #[schemars(extend("x-flag" = "querier.timeout"))]
    pub timeout: PromDuration,
    /// How far back an instant selector looks for the latest sample of a series. Flag
    /// `-querier.lookback-delta`.
    #[schemars(extend("x-flag" = "querier.lookback-delta"))]
    pub lookback_delta: PromDuration,
    /// The maximum number of queries evaluated at the same time; more wait for their turn. Flag
    /// `-querier.max-concurrent`.
    #[schemars(extend("x-flag" = "querier.max-concurrent"))]
    pub max_concurrent: usize,
    /// The step of subqueries written without one (`foo[10m:]`). Flag
    /// `-querier.default-evaluation-interval`.
    #[schemars(extend("x-flag" = "querier.default-evaluation-interval"))]
    pub default_evaluation_interval: PromDuration,
    /// How often the querier re-reads the ingester ring.
    pub ring_refresh_period: PromDuration,
}

impl Default for QuerierConfig {
    fn default() -> QuerierConfig {
        QuerierConfig {
            max_samples: 50_000_000,
            timeout: PromDuration::from_mins(2),
            lookback_delta: PromDuration::from_mins(5),
            max_concurrent: 20,
            default_evaluation_interval: PromDuration::from_mins(1),
            ring_refresh_period: PromDuration::from_duration(Duration::from_secs(1)),
        }
    }
}
