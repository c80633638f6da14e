//! What every call carries besides its payload: tenant, deadline, trace context, caller.

use std::time::{Duration, SystemTime};

use abi_stable::std_types::RString;

/// Call metadata in plain Rust.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallMeta {
    /// Tenant the call is made for; empty when none.
    pub tenant: String,
    /// When the caller gives up.
    pub deadline: Option<SystemTime>,
    /// W3C `traceparent` of the caller; empty when none.
    pub trace_parent: String,
    /// `component@instance` of the caller, or `http`.
    pub caller: String,
}

impl CallMeta {
    /// Metadata for a new call made for `tenant` that gives up after `timeout`.
    pub fn for_tenant(tenant: impl Into<String>, timeout: Option<Duration>) -> CallMeta {
        CallMeta {
            tenant: tenant.into(),
            deadline: timeout.map(|t| SystemTime::now() + t),
            ..CallMeta::default()
        }
    }

    /// Time left until the deadline: `None` without one, zero once it passed.
    pub fn remaining(&self) -> Option<Duration> {
        let deadline = self.deadline?;
        Some(
            deadline
                .duration_since(SystemTime::now())
                .unwrap_or(Duration::ZERO),
        )
    }

    pub(crate) fn from_ffi(meta: mimir_abi::CallMeta) -> CallMeta {
        CallMeta {
            tenant: meta.tenant.into_string(),
            deadline: mimir_abi::deadline_from_nanos(meta.deadline_unix_nanos),
            trace_parent: meta.trace_parent.into_string(),
            caller: meta.caller.into_string(),
        }
    }

    pub(crate) fn to_ffi(&self, caller: &str) -> mimir_abi::CallMeta {
        mimir_abi::CallMeta {
            tenant: RString::from(self.tenant.as_str()),
            deadline_unix_nanos: mimir_abi::deadline_to_nanos(self.deadline),
            trace_parent: RString::from(self.trace_parent.as_str()),
            caller: RString::from(caller),
        }
    }
}

/// One bus call as a component receives it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub meta: CallMeta,
    pub payload: Vec<u8>,
}

impl Request {
    /// Decodes the payload as protobuf message `M`; a malformed payload is a `BadRequest`.
    pub fn decode<M: mimir_proto::Message + Default>(&self) -> Result<M, crate::Error> {
        Ok(M::decode(self.payload.as_slice())?)
    }
}
