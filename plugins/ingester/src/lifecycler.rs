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

    /// Sets this instance's state (adding it with fresh tokens if it is not in the ring yet) and
    /// refreshes its heartbeat.
    pub async fn set_state(&self, state: InstanceState) -> Result<(), Error> {
        let this = self.clone();
        self.kv
            .update(RING_KEY, move |bytes| {
                let this = this.clone();
                async move {
                    let mut desc = decode(&bytes)?;
                    let now = now_ms();
                    let taken = desc.taken_tokens();
                    let entry = desc.instances.entry(this.id.clone()).or_insert_with(|| {
                        let seed = mimir_ring::fnv32a(0x811c_9dc5, this.id.as_bytes()) as u64
                            ^ (now as u64).rotate_left(17);
                        InstanceDesc {
                            addr: this.addr.clone(),
                            state,
                            tokens: generate_tokens(this.num_tokens, &taken, seed),
                            zone: this.zone.clone(),
                            heartbeat_ms: now,
                            registered_ms: now,
                        }
                    });
                    entry.addr.clone_from(&this.addr);
                    entry.zone.clone_from(&this.zone);
                    entry.state = state;
                    entry.heartbeat_ms = now;
                    Ok(Some(desc.to_json()))
                }
            })
            .await
    }

    /// Refreshes the heartbeat, keeping the state.
    pub async fn heartbeat(&self) -> Result<(), Error> {
        let id = self.id.clone();
        self.kv
            .update(RING_KEY, move |bytes| {
                let id = id.clone();
                async move {
                    let mut desc = decode(&bytes)?;
                    let Some(entry) = desc.instances.get_mut(&id) else {
                        return Err(Error::unavailable(format!(
                            "instance {id} is no longer in the ring"
                        )));
                    };
                    entry.heartbeat_ms = now_ms();
                    Ok(Some(desc.to_json()))
                }
            })
            .await
    }

    /// Removes this instance from the ring.
    pub async fn leave(&self) -> Result<(), Error> {
        let id = self.id.clone();
        self.kv
            .update(RING_KEY, move |bytes| {
                let id = id.clone();
                async move {
                    let mut desc = decode(&bytes)?;
                    if desc.instances.remove(&id).is_none() {
                        return Ok(None);
                    }
                    Ok(Some(desc.to_json()))
                }
            })
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
