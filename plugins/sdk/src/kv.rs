//! A typed client for the host's key-value service (bus destination `kv`), where rings live.

use std::future::Future;

use mimir_proto::kv::{CasReply, CasRequest, GetReply, GetRequest};

use crate::bus::Bus;
use crate::error::Error;
use crate::meta::CallMeta;

/// Bus destination of the host's KV service.
pub const KV_DESTINATION: &str = "kv";

/// How many times [`Kv::update`] retries a compare-and-swap that lost a race.
const CAS_RETRIES: usize = 16;

#[derive(Debug, Clone)]
pub struct Kv {
    bus: Bus,
}

impl Kv {
    pub fn new(bus: Bus) -> Kv {
        Kv { bus }
    }

    /// The value of `key` and its version (0 and empty when absent).
    pub async fn get(&self, key: &str) -> Result<(u64, Vec<u8>), Error> {
        let request = GetRequest {
            key: key.to_string(),
        };
        let reply: GetReply = self
            .bus
            .call_message(KV_DESTINATION, "Get", &CallMeta::default(), &request)
            .await?;
        Ok((reply.version, reply.value))
    }

    /// Reads `key`, applies `change` to its value and writes the result, retrying when another
    /// writer got there first. `change` gets the current bytes (empty when absent) and returns the
    /// new bytes, or `None` to leave the value as it is.
    pub async fn update<F, Fut>(&self, key: &str, mut change: F) -> Result<(), Error>
    where
        F: FnMut(Vec<u8>) -> Fut,
        Fut: Future<Output = Result<Option<Vec<u8>>, Error>>,
    {
        let (mut version, mut value) = self.get(key).await?;
        for _ in 0..CAS_RETRIES {
            let Some(new_value) = change(value).await? else {
                return Ok(());
            };
            let request = CasRequest {
                key: key.to_string(),
                version,
                value: new_value,
            };
            let reply: CasReply = self
                .bus
                .call_message(KV_DESTINATION, "Cas", &CallMeta::default(), &request)
                .await?;
            if reply.ok {
                return Ok(());
            }
            version = reply.version;
            value = reply.value;
        }
        Err(Error::unavailable(format!(
            "kv key `{key}` kept changing: gave up after {CAS_RETRIES} attempts"
        )))
    }
}
