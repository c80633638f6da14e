//! The tenants an ingester holds: opened on their first push, or at start for every tenant that
//! has a WAL on disk (so a restart replays everything before the ingester turns ACTIVE).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use mimir_plugin_sdk::Error;
use mimir_tsdb::HeadConfig;
use mimir_validation::{Limits, Overrides, validate_tenant_id};
use parking_lot::RwLock;

use crate::tenant::{Durability, TenantDb, wal_dir};

pub struct Tenants {
    data_dir: PathBuf,
    durability: Durability,
    segment_size: u64,
    dbs: RwLock<HashMap<String, Arc<TenantDb>>>,
    /// Serializes opening, so one tenant is never opened twice.
    opening: tokio::sync::Mutex<()>,
}

fn head_config(limits: &Limits) -> HeadConfig {
    HeadConfig {
        out_of_order_time_window_ms: i64::try_from(
            limits.out_of_order_time_window.as_duration().as_millis(),
        )
        .unwrap_or(i64::MAX),
        // Enforced by the ingester with its share of the global limit (see `local_series_limit`).
        max_series: 0,
    }
}

impl Tenants {
    pub fn new(data_dir: PathBuf, durability: Durability, segment_size: u64) -> Tenants {
        Tenants {
            data_dir,
            durability,
            segment_size,
            dbs: RwLock::new(HashMap::new()),
            opening: tokio::sync::Mutex::new(()),
        }
    }

    pub fn get(&self, tenant: &str) -> Option<Arc<TenantDb>> {
        self.dbs.read().get(tenant).cloned()
    }

    pub fn all(&self) -> Vec<Arc<TenantDb>> {
        self.dbs.read().values().cloned().collect()
    }

    /// The tenant's storage, opening (and replaying) it when needed.
    pub async fn get_or_open(&self, tenant: &str, limits: &Limits) -> Result<Arc<TenantDb>, Error> {
        if let Some(db) = self.get(tenant) {
            return Ok(db);
        }
        validate_tenant_id(tenant).map_err(|error| Error::bad_request(error.to_string()))?;
        let _opening = self.opening.lock().await;
        if let Some(db) = self.get(tenant) {
            return Ok(db);
        }
        let dir = wal_dir(&self.data_dir, tenant);
        let name = tenant.to_string();
        let config = head_config(limits);
        let durability = self.durability;
        let segment_size = self.segment_size;
        let opened = tokio::task::spawn_blocking(move || {
            TenantDb::open(&name, &dir, config, durability, segment_size)
        })
        .await
        .map_err(|error| {
            Error::internal(format!("opening tenant storage did not finish: {error}"))
        })?;
        let (db, replayed) = opened?;
        if replayed.series > 0 {
            tracing::info!(
                tenant,
                series = replayed.series,
                samples = replayed.samples,
                "tenant WAL replayed"
            );
        }
        let db = Arc::new(db);
        self.dbs.write().insert(tenant.to_string(), Arc::clone(&db));
        Ok(db)
    }

    /// Opens every tenant that has a WAL under the data directory; returns how many.
    pub async fn open_existing(&self, overrides: &Overrides) -> Result<usize, Error> {
        let entries = match std::fs::read_dir(&self.data_dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(error) => {
                return Err(Error::internal(format!(
                    "cannot read the ingester data directory {}: {error}",
                    self.data_dir.display()
                )));
            }
        };
        let mut tenants: Vec<String> = entries
            .filter_map(Result::ok)
            .filter(|entry| entry.path().join("wal").is_dir())
            .filter_map(|entry| entry.file_name().into_string().ok())
            .collect();
        tenants.sort();
        for tenant in &tenants {
            self.get_or_open(tenant, &overrides.for_tenant(tenant))
                .await?;
        }
        Ok(tenants.len())
    }
}
