//! A component's copy of the ingester ring, refreshed from the KV in the background so that a push
//! or a query never waits on it (except the very first one). The distributor and the querier use it.

use std::sync::Arc;
use std::time::Duration;

use crate::RING_KEY;
use mimir_plugin_sdk::Error;
use mimir_plugin_sdk::kv::Kv;
use mimir_ring::{Ring, RingDesc};
use parking_lot::RwLock;

#[derive(Clone)]
pub struct RingWatcher {
    kv: Kv,
    ring: Arc<RwLock<Arc<Ring>>>,
}

impl RingWatcher {
    pub fn new(kv: Kv) -> RingWatcher {
        RingWatcher {
            kv,
            ring: Arc::new(RwLock::new(Arc::new(Ring::default()))),
        }
    }

    /// Reads the ring from the KV now.
    pub async fn refresh(&self) -> Result<Arc<Ring>, Error> {
        let (_, bytes) = self.kv.get(RING_KEY).await?;
        let desc = RingDesc::from_json(&bytes)
            .map_err(|error| Error::internal(format!("unreadable ingester ring: {error}")))?;
        let ring = Arc::new(Ring::new(desc));
        *self.ring.write() = Arc::clone(&ring);
        Ok(ring)
    }

    /// The latest ring; refreshed first when it is still empty.
    pub async fn current(&self) -> Result<Arc<Ring>, Error> {
        let ring = Arc::clone(&self.ring.read());
        if ring.is_empty() {
            return self.refresh().await;
        }
        Ok(ring)
    }

    /// Refreshes every `period`; errors are logged and the previous ring kept.
    pub async fn watch(&self, period: Duration) {
        let mut ticker = tokio::time::interval(period);
        loop {
            ticker.tick().await;
            if let Err(error) = self.refresh().await {
                tracing::warn!(%error, "cannot refresh the ingester ring");
            }
        }
    }
}
