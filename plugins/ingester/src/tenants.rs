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
    dbs: Arc<RwLock<HashMap<String, Arc<TenantDb>>>>,
    /// Serializes opening, so one tenant is never opened twice. Taken on the blocking thread that
    /// opens, so a caller that gives up (a push timing out) cannot leave a half-open WAL behind.
    opening: Arc<parking_lot::Mutex<()>>,
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
            dbs: Arc::new(RwLock::new(HashMap::new())),
            opening: Arc::new(parking_lot::Mutex::new(())),
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
        let dir = wal_dir(&self.data_dir, tenant);
        let name = tenant.to_string();
        let config = head_config(limits);
        let durability = self.durability;
        let segment_size = self.segment_size;
        let dbs = Arc::clone(&self.dbs);
        let opening = Arc::clone(&self.opening);
        // Opening, replaying and registering run to completion on the blocking thread even when this
        // future is dropped, so a retry finds the tenant open instead of its WAL locked.
        tokio::task::spawn_blocking(move || {
            let _opening = opening.lock();
            if let Some(db) = dbs.read().get(&name) {
                return Ok(Arc::clone(db));
            }
            let (db, replayed) = TenantDb::open(&name, &dir, config, durability, segment_size)?;
            if replayed.series > 0 {
                tracing::info!(
                    tenant = %name,
                    series = replayed.series,
                    samples = replayed.samples,
                    "tenant WAL replayed"
                );
            }
            let db = Arc::new(db);
            dbs.write().insert(name, Arc::clone(&db));
            Ok(db)
        })
        .await
        .map_err(|error| {
            Error::internal(format!("opening tenant storage did not finish: {error}"))
        })?
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// A push that gives up while its tenant is being opened (the distributor's timeout) must not
    /// leave the tenant's WAL locked for the retry.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_caller_giving_up_during_open_does_not_block_the_retry() {
        let dir = tempfile::tempdir().expect("temp dir");
        let tenants = Tenants::new(dir.path().to_path_buf(), Durability::Always, 1 << 20);
        let limits = Limits::default();
        for i in 0..20 {
            let tenant = format!("tenant-{i}");
            // Polled once or a little more, then dropped mid-open.
            let _ = tokio::time::timeout(
                Duration::from_micros(50),
                tenants.get_or_open(&tenant, &limits),
            )
            .await;
            let db = tenants.get_or_open(&tenant, &limits).await;
            assert!(db.is_ok(), "retry for {tenant}: {:?}", db.err());
        }
        assert_eq!(tenants.all().len(), 20);
    }
}
