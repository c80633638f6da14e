//! Config sections that several components share with the limits: `runtime_config` (where the
//! per-tenant overrides file is and how often it is re-read) and `auth` (multi-tenancy).

use std::path::PathBuf;

use crate::duration::PromDuration;
use crate::errors::ConfigError;
use crate::limits::Limits;
use crate::overrides::Overrides;

/// Config section `runtime_config`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RuntimeConfigSection {
    /// File with per-tenant limit overrides (`overrides: {tenant: {ingestion_rate: ...}}`),
    /// re-read every `reload_period`. Empty: no overrides.
    pub file: String,
    /// How often the runtime config file is re-read.
    pub reload_period: PromDuration,
}

impl Default for RuntimeConfigSection {
    fn default() -> Self {
        Self {
            file: String::new(),
            reload_period: PromDuration::from_duration(std::time::Duration::from_secs(10)),
        }
    }
}

impl RuntimeConfigSection {
    /// The overrides these settings describe, over `defaults`.
    pub fn overrides(&self, defaults: Limits) -> Result<Overrides, ConfigError> {
        let file = (!self.file.is_empty()).then(|| PathBuf::from(&self.file));
        let period = self.reload_period.as_duration();
        let period = if period.is_zero() {
            std::time::Duration::from_secs(10)
        } else {
            period
        };
        Overrides::new(defaults, file, period)
    }
}

/// Config section `auth`.
#[derive(
    Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// When true, every request needs an `X-Scope-OrgID` header naming its tenant; when false,
    /// everything belongs to tenant `anonymous`.
    pub multitenancy_enabled: bool,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            multitenancy_enabled: true,
        }
    }
}
