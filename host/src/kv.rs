//! The host's in-memory key-value store, bus destination `kv` (methods `Get` and `Cas`): where
//! rings live in a single process. Other processes reach it through `-bus.peers=kv=host:port`, so a
//! split deployment can share one; gossip (memberlist) and etcd stores come later behind the same
//! two methods.

use std::collections::HashMap;
use std::sync::Mutex;

use mimir_abi::{BusError, ErrorCode};
use mimir_proto::Message;
use mimir_proto::kv::{CasReply, CasRequest, GetReply, GetRequest};

/// Bus destination of the KV service.
pub const KV_DESTINATION: &str = "kv";

#[derive(Default)]
pub struct InMemoryKv {
    entries: Mutex<HashMap<String, (u64, Vec<u8>)>>,
}

fn bad_request(error: mimir_proto::prost::DecodeError) -> BusError {
    BusError::new(
        ErrorCode::BadRequest,
        format!("malformed kv request: {error}"),
    )
}

impl InMemoryKv {
    pub fn handle(&self, method: &str, payload: &[u8]) -> Result<Vec<u8>, BusError> {
        let mut entries = self
            .entries
            .lock()
            .map_err(|_| BusError::new(ErrorCode::Internal, "kv store lock poisoned"))?;
        match method {
            "Get" => {
                let request = GetRequest::decode(payload).map_err(bad_request)?;
                let reply = match entries.get(&request.key) {
                    Some((version, value)) => GetReply {
                        found: true,
                        version: *version,
                        value: value.clone(),
                    },
                    None => GetReply::default(),
                };
                Ok(reply.encode_to_vec())
            }
            "Cas" => {
                let request = CasRequest::decode(payload).map_err(bad_request)?;
                let current = entries.get(&request.key).map_or(0, |(version, _)| *version);
                if current != request.version {
                    let (version, value) = entries.get(&request.key).cloned().unwrap_or_default();
                    return Ok(CasReply {
                        ok: false,
                        version,
                        value,
                    }
                    .encode_to_vec());
                }
                let version = current + 1;
                entries.insert(request.key, (version, request.value));
                Ok(CasReply {
                    ok: true,
                    version,
                    value: Vec::new(),
                }
                .encode_to_vec())
            }
            other => Err(BusError::new(
                ErrorCode::NotFound,
                format!("kv has no method `{other}`: use Get or Cas"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cas(kv: &InMemoryKv, key: &str, version: u64, value: &[u8]) -> CasReply {
        let request = CasRequest {
            key: key.to_string(),
            version,
            value: value.to_vec(),
        };
        CasReply::decode(
            kv.handle("Cas", &request.encode_to_vec())
                .unwrap()
                .as_slice(),
        )
        .unwrap()
    }

    fn get(kv: &InMemoryKv, key: &str) -> GetReply {
        let request = GetRequest {
            key: key.to_string(),
        };
        GetReply::decode(
            kv.handle("Get", &request.encode_to_vec())
                .unwrap()
                .as_slice(),
        )
        .unwrap()
    }

    #[test]
    fn compare_and_swap_on_versions() {
        let kv = InMemoryKv::default();
        assert!(!get(&kv, "ring").found);
        assert!(cas(&kv, "ring", 0, b"one").ok);
        let stale = cas(&kv, "ring", 0, b"two");
        assert!(!stale.ok);
        assert_eq!(
            (stale.version, stale.value.as_slice()),
            (1, b"one".as_slice())
        );
        assert!(cas(&kv, "ring", 1, b"two").ok);
        let read = get(&kv, "ring");
        assert_eq!(
            (read.version, read.value.as_slice()),
            (2, b"two".as_slice())
        );
    }

    #[test]
    fn unknown_methods_and_garbage_are_errors() {
        let kv = InMemoryKv::default();
        assert_eq!(
            kv.handle("Put", b"").unwrap_err().error_code(),
            ErrorCode::NotFound
        );
        assert_eq!(
            kv.handle("Get", b"\xff\xff").unwrap_err().error_code(),
            ErrorCode::BadRequest
        );
    }
}
