//! The typed face of the host's bus: call another component by name, with protobuf messages.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use abi_stable::std_types::{RString, RVec};
use mimir_abi::BusBox;
use mimir_proto::Message;

use crate::error::{Error, panic_message};
use crate::meta::CallMeta;

/// A handle on the host's bus. Cheap to clone.
#[derive(Clone)]
pub struct Bus {
    inner: Arc<BusBox>,
    caller: Arc<str>,
}

impl std::fmt::Debug for Bus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bus").field("caller", &self.caller).finish()
    }
}

impl Bus {
    pub(crate) fn new(inner: BusBox, caller: String) -> Bus {
        Bus {
            inner: Arc::new(inner),
            caller: caller.into(),
        }
    }

    /// Who this bus calls as: `component@instance`.
    pub fn caller(&self) -> &str {
        &self.caller
    }

    /// Calls `method` on `destination` (`component`, or `component@host:port` for one instance)
    /// with raw bytes. Tenant, deadline and trace context come from `meta`.
    pub async fn call(
        &self,
        destination: &str,
        method: &str,
        meta: &CallMeta,
        payload: Vec<u8>,
    ) -> Result<Vec<u8>, Error> {
        let ffi_meta = meta.to_ffi(&self.caller);
        let started = catch_unwind(AssertUnwindSafe(|| {
            self.inner.call(
                RString::from(destination),
                RString::from(method),
                ffi_meta,
                RVec::from(payload),
            )
        }));
        let future = match started {
            Ok(future) => future,
            Err(payload) => {
                return Err(Error::panicked(format!(
                    "host bus panicked: {}",
                    panic_message(payload.as_ref())
                )));
            }
        };
        match future.await.into_result() {
            Ok(reply) => Ok(reply.into_vec()),
            Err(error) => Err(Error::from(error)),
        }
    }

    /// Calls `method` on `destination` with a protobuf request and decodes the protobuf reply.
    pub async fn call_message<Req: Message, Reply: Message + Default>(
        &self,
        destination: &str,
        method: &str,
        meta: &CallMeta,
        request: &Req,
    ) -> Result<Reply, Error> {
        let reply = self
            .call(destination, method, meta, request.encode_to_vec())
            .await?;
        Reply::decode(reply.as_slice()).map_err(|error| {
            Error::internal(format!("malformed reply from {destination}: {error}"))
        })
    }
}
