//! The config sections the write path's components share (the `ingester` ring settings, per-tenant
//! `limits`, the `runtime_config` overrides file and `auth`), read once per component, and the
//! periodic reload of the per-tenant overrides.

use std::sync::Arc;

use mimir_plugin_sdk::{Context, Error, SharedSection, shared_section};
use mimir_validation::{AuthConfig, Limits, Overrides, RuntimeConfigSection};

use crate::config::IngesterConfig;

/// The sections a distributor, ingester or querier declares.
pub fn write_path_sections() -> Vec<SharedSection> {
    vec![
        shared_section::<IngesterConfig>("ingester"),
        shared_section::<Limits>("limits"),
        shared_section::<RuntimeConfigSection>("runtime_config"),
        shared_section::<AuthConfig>("auth"),
    ]
}

/// What those sections hold, with the overrides loaded.
pub struct WritePathConfig {
    pub ingester: IngesterConfig,
    pub auth: AuthConfig,
    pub overrides: Arc<Overrides>,
}

impl WritePathConfig {
    pub fn read(context: &Context) -> Result<WritePathConfig, Error> {
        let limits: Limits = context.shared_section("limits")?;
        let runtime: RuntimeConfigSection = context.shared_section("runtime_config")?;
        let overrides = runtime.overrides(limits).map_err(|error| {
            Error::bad_request(format!("invalid limits or runtime config: {error}"))
        })?;
        Ok(WritePathConfig {
            ingester: context.shared_section("ingester")?,
            auth: context.shared_section("auth")?,
            overrides: Arc::new(overrides),
        })
    }
}

/// Re-reads the runtime config file off the async threads; a file that fails to load keeps the
/// previous overrides and is logged.
pub async fn reload_overrides(overrides: &Arc<Overrides>) {
    let overrides = Arc::clone(overrides);
    match tokio::task::spawn_blocking(move || overrides.reload()).await {
        Ok(Ok(_)) => {}
        Ok(Err(error)) => {
            tracing::error!(%error, "cannot reload the runtime config; keeping the previous one");
        }
        Err(error) => tracing::error!(%error, "runtime config reload did not finish"),
    }
}
