//! The ingester's membership in the ring: join with tokens (keeping the ones it had, so a restart
//! owns the same series), turn ACTIVE once its WAL is replayed, heartbeat, and leave on shutdown.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mimir_ingester_client::RING_KEY;
use mimir_plugin_sdk::Error;
use mimir_plugin_sdk::kv::Kv;
use mimir_ring::{InstanceDesc, InstanceState, RingDesc, generate_tokens};

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// One ingester's view of its own ring entry.
#[derive(Debug, Clone)]
pub struct Lifecycler {
    kv: Kv,
    /// Instance id (the process' instance id).
    id: String,
    /// Bus address: `ingester@host:port`.
    addr: String,
    zone: String,
    num_tokens: usize,
}

fn decode(bytes: &[u8]) -> Result<RingDesc, Error> {
    RingDesc::from_json(bytes).map_err(|error| Error::internal(format!("unreadable ring: {error}")))
}

impl Lifecycler {
    pub fn new(kv: Kv, id: String, addr: String, zone: String, num_tokens: usize) -> Lifecycler {
        Lifecycler {
            kv,
            id,
            addr,
            zone,
            num_tokens,
        }
    }

    /// Applies `change` to the ring in the KV (compare-and-swap, retried on conflicts); `change`
    /// answers whether it changed anything.
    async fn update_ring<F>(&self, change: F) -> Result<(), Error>
    where
        F: Fn(&mut RingDesc) -> Result<bool, Error> + Send + Sync,
    {
        self.kv
            .update(RING_KEY, |bytes| {
                let updated = decode(&bytes)
                    .and_then(|mut desc| Ok(change(&mut desc)?.then(|| desc.to_json())));
                std::future::ready(updated)
            })
            .await
    }

    /// Sets this instance's state (adding it with fresh tokens if it is not in the ring yet) and
    /// refreshes its heartbeat.
    pub async fn set_state(&self, state: InstanceState) -> Result<(), Error> {
        self.update_ring(|desc| {
            let now = now_ms();
            let taken = desc.taken_tokens();
            let entry = desc.instances.entry(self.id.clone()).or_insert_with(|| {
                let seed = u64::from(mimir_ring::fnv32a(0x811c_9dc5, self.id.as_bytes()))
                    ^ (now as u64).rotate_left(17);
                InstanceDesc {
                    addr: self.addr.clone(),
                    state,
                    tokens: generate_tokens(self.num_tokens, &taken, seed),
                    zone: self.zone.clone(),
                    heartbeat_ms: now,
                    registered_ms: now,
                }
            });
            entry.addr.clone_from(&self.addr);
            entry.zone.clone_from(&self.zone);
            entry.state = state;
            entry.heartbeat_ms = now;
            Ok(true)
        })
        .await
    }

    /// Refreshes the heartbeat, keeping the state.
    pub async fn heartbeat(&self) -> Result<(), Error> {
        self.update_ring(|desc| {
            let Some(entry) = desc.instances.get_mut(&self.id) else {
                return Err(Error::unavailable(format!(
                    "instance {} is no longer in the ring",
                    self.id
                )));
            };
            entry.heartbeat_ms = now_ms();
            Ok(true)
        })
        .await
    }

    /// Removes this instance from the ring.
    pub async fn leave(&self) -> Result<(), Error> {
        self.update_ring(|desc| Ok(desc.instances.remove(&self.id).is_some()))
            .await
    }

    /// The ring as the KV holds it now.
    pub async fn ring(&self) -> Result<RingDesc, Error> {
        let (_, bytes) = self.kv.get(RING_KEY).await?;
        decode(&bytes)
    }

    /// Heartbeats every `period` until the returned future is dropped; failures are logged.
    pub async fn heartbeat_loop(&self, period: Duration) {
        let mut ticker = tokio::time::interval(period);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            if let Err(error) = self.heartbeat().await {
                tracing::warn!(%error, "ring heartbeat failed");
            }
        }
    }
}
