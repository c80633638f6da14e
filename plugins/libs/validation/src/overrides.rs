//! Per-tenant limits: the configured defaults plus the `overrides` section of Mimir's runtime
//! config file, re-read periodically so limits change without a restart.
//!
//! ```yaml
//! overrides:
//!   tenant-a:
//!     ingestion_rate: 5
//!     creation_grace_period: 1h
//! ```
//!
//! A tenant's entry overrides only the keys it sets; every other key comes from the defaults,
//! as in Mimir. Unknown keys are errors. A file that fails to read or parse never replaces the
//! overrides in force: [`Overrides::reload`] returns the error and the previous values stay.
//! The caller drives the period (`reload_period`) with its own timer; reading the file is
//! blocking I/O, so call `reload` from a blocking-friendly context.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;
use serde_yaml_ng::{Mapping, Value};

use crate::errors::ConfigError;
use crate::limits::Limits;

/// Tenant id → its effective limits (defaults with the tenant's keys on top).
type TenantLimits = HashMap<String, Arc<Limits>>;

/// The runtime config file. Only the `overrides` section belongs to this crate.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RuntimeConfigFile {
    #[serde(default)]
    overrides: BTreeMap<String, Value>,
}

/// The defaults plus hot-reloaded per-tenant overrides.
#[derive(Debug)]
pub struct Overrides {
    defaults: Arc<Limits>,
    path: Option<PathBuf>,
    reload_period: Duration,
    tenants: RwLock<Arc<TenantLimits>>,
}

impl Overrides {
    /// Validates the defaults and, when a runtime config file is given, loads it once: a file
    /// that cannot be loaded at startup is an error, like in Mimir.
    pub fn new(
        defaults: Limits,
        runtime_config: Option<PathBuf>,
        reload_period: Duration,
    ) -> Result<Self, ConfigError> {
        defaults.validate()?;
        let overrides = Self {
            defaults: Arc::new(defaults),
            path: runtime_config,
            reload_period,
            tenants: RwLock::new(Arc::new(TenantLimits::new())),
        };
        overrides.reload()?;
        Ok(overrides)
    }

    /// The limits of tenants without overrides.
    pub fn defaults(&self) -> Arc<Limits> {
        Arc::clone(&self.defaults)
    }

    /// The runtime config file, if any.
    pub fn runtime_config_path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// How often the caller should call [`Overrides::reload`].
    pub fn reload_period(&self) -> Duration {
        self.reload_period
    }

    /// The effective limits of `tenant`.
    pub fn for_tenant(&self, tenant: &str) -> Arc<Limits> {
        let tenants = Arc::clone(&self.tenants.read());
        tenants
            .get(tenant)
            .map_or_else(|| self.defaults(), Arc::clone)
    }

    /// Tenants that have an entry in the runtime config, sorted.
    pub fn tenants_with_overrides(&self) -> Vec<String> {
        let tenants = Arc::clone(&self.tenants.read());
        let mut names: Vec<String> = tenants.keys().cloned().collect();
        names.sort();
        names
    }

    /// Re-reads the runtime config file. `Ok(true)` when the effective overrides changed,
    /// `Ok(false)` when they did not or there is no file; on error the previous overrides stay.
    pub fn reload(&self) -> Result<bool, ConfigError> {
        let Some(path) = &self.path else {
            return Ok(false);
        };
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::ReadRuntimeConfig {
                path: path.clone(),
                source,
            })?;
        let parsed = parse_runtime_config(&self.defaults, &text, path)?;
        let mut tenants = self.tenants.write();
        if **tenants == parsed {
            return Ok(false);
        }
        *tenants = Arc::new(parsed);
        Ok(true)
    }
}

/// Parses a runtime config text into effective per-tenant limits. `path` only names the file
/// in errors.
fn parse_runtime_config(
    defaults: &Limits,
    text: &str,
    path: &Path,
) -> Result<TenantLimits, ConfigError> {
    let parse_error = |source| ConfigError::ParseRuntimeConfig {
        path: path.to_owned(),
        source,
    };
    // An empty (or comments-only) file is a valid, empty runtime config.
    let file: Option<RuntimeConfigFile> = serde_yaml_ng::from_str(text).map_err(parse_error)?;
    let file = file.unwrap_or_default();
    let default_keys = match serde_yaml_ng::to_value(defaults).map_err(ConfigError::Limits)? {
        Value::Mapping(mapping) => mapping,
        _ => Mapping::new(),
    };
    let mut tenants = TenantLimits::with_capacity(file.overrides.len());
    for (tenant, entry) in file.overrides {
        let limits =
            merge(&default_keys, entry).map_err(|source| ConfigError::TenantOverrides {
                tenant: tenant.clone(),
                path: path.to_owned(),
                source: Box::new(source),
            })?;
        tenants.insert(tenant, Arc::new(limits));
    }
    Ok(tenants)
}

/// The defaults with the keys a tenant sets replaced.
fn merge(default_keys: &Mapping, entry: Value) -> Result<Limits, ConfigError> {
    let mut merged = default_keys.clone();
    match entry {
        Value::Null => {}
        Value::Mapping(keys) => merged.extend(keys),
        _ => return Err(ConfigError::OverridesNotAMapping),
    }
    let limits: Limits =
        serde_yaml_ng::from_value(Value::Mapping(merged)).map_err(ConfigError::Limits)?;
    limits.validate()?;
    Ok(limits)
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::write(path, text).unwrap();
    }

    fn overrides_with(text: &str) -> (tempfile::TempDir, PathBuf, Overrides) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runtime.yaml");
        write(&path, text);
        let overrides = Overrides::new(
            Limits::default(),
            Some(path.clone()),
            Duration::from_secs(10),
        )
        .unwrap();
        (dir, path, overrides)
    }

    #[test]
    fn a_tenant_entry_overrides_only_its_keys() {
        let (_dir, _path, overrides) = overrides_with(
            "overrides:\n  tenant-a:\n    ingestion_rate: 5\n    creation_grace_period: 1h\n",
        );
        let tenant_a = overrides.for_tenant("tenant-a");
        assert_eq!(tenant_a.ingestion_rate, 5.0);
        assert_eq!(tenant_a.creation_grace_period.to_string(), "1h");
        assert_eq!(tenant_a.ingestion_burst_size, 200_000);
        assert_eq!(tenant_a.max_label_names_per_series, 30);
        assert_eq!(*overrides.for_tenant("tenant-b"), Limits::default());
        assert_eq!(
            overrides.tenants_with_overrides(),
            vec!["tenant-a".to_owned()]
        );
        assert_eq!(overrides.reload_period(), Duration::from_secs(10));
    }

    #[test]
    fn non_default_defaults_apply_under_tenant_entries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runtime.yaml");
        write(
            &path,
            "overrides:\n  tenant-a:\n    ingestion_rate: 5\n  tenant-b:\n",
        );
        let defaults = Limits {
            max_label_names_per_series: 50,
            ..Limits::default()
        };
        let overrides = Overrides::new(defaults, Some(path), Duration::from_secs(10)).unwrap();
        assert_eq!(
            overrides.for_tenant("tenant-a").max_label_names_per_series,
            50
        );
        assert_eq!(
            overrides.for_tenant("tenant-b").max_label_names_per_series,
            50
        );
    }

    #[test]
    fn reload_picks_up_changes_and_reports_them() {
        let (_dir, path, overrides) =
            overrides_with("overrides:\n  tenant-a:\n    ingestion_rate: 5\n");
        assert!(!overrides.reload().unwrap(), "unchanged file");
        write(&path, "overrides:\n  tenant-a:\n    ingestion_rate: 7\n");
        assert!(overrides.reload().unwrap());
        assert_eq!(overrides.for_tenant("tenant-a").ingestion_rate, 7.0);
        write(&path, "overrides: {}\n");
        assert!(overrides.reload().unwrap());
        assert_eq!(overrides.for_tenant("tenant-a").ingestion_rate, 10_000.0);
    }

    #[test]
    fn a_broken_file_keeps_the_previous_overrides() {
        let (_dir, path, overrides) =
            overrides_with("overrides:\n  tenant-a:\n    ingestion_rate: 5\n");
        let broken = [
            "overrides:\n  tenant-a:\n    ingestion_rate: [\n",
            "overrides:\n  tenant-a:\n    no_such_limit: 1\n",
            "overrides:\n  tenant-a:\n    creation_grace_period: soon\n",
            "overrides:\n  tenant-a:\n    ingestion_rate: -3\n",
            "overrides:\n  tenant-a: 12\n",
            "overrides: {}\nsomething_else: true\n",
        ];
        for text in broken {
            write(&path, text);
            assert!(overrides.reload().is_err(), "{text}");
            assert_eq!(
                overrides.for_tenant("tenant-a").ingestion_rate,
                5.0,
                "{text}"
            );
        }
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(
            overrides.reload(),
            Err(ConfigError::ReadRuntimeConfig { .. })
        ));
        assert_eq!(overrides.for_tenant("tenant-a").ingestion_rate, 5.0);
    }

    #[test]
    fn errors_name_the_tenant_and_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runtime.yaml");
        write(&path, "overrides:\n  tenant-a:\n    no_such_limit: 1\n");
        let error =
            Overrides::new(Limits::default(), Some(path), Duration::from_secs(1)).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("invalid overrides for tenant \"tenant-a\""),
            "{error}"
        );
        let cause = error
            .source()
            .and_then(|source| source.source())
            .unwrap()
            .to_string();
        assert!(cause.contains("unknown field `no_such_limit`"), "{cause}");
    }

    #[test]
    fn empty_files_and_no_file_mean_no_overrides() {
        let (_dir, _path, overrides) = overrides_with("# nothing yet\n");
        assert!(overrides.tenants_with_overrides().is_empty());
        let without_file =
            Overrides::new(Limits::default(), None, Duration::from_secs(10)).unwrap();
        assert!(!without_file.reload().unwrap());
        assert_eq!(*without_file.for_tenant("anyone"), Limits::default());
    }
}
