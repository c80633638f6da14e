//! The gRPC `Bus` service: how other processes call this one's components.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use mimir_proto::bus::bus_server::{Bus, BusServer};
use mimir_proto::bus::{CallError, CallReply, CallRequest, call_reply};
use tonic::{Request, Response, Status};

use crate::bus::{CallMeta, Router};

pub struct BusService {
    router: Arc<Router>,
}

/// The service, with message size limits applied.
pub fn server(router: Arc<Router>, max_message_size: usize) -> BusServer<BusService> {
    BusServer::new(BusService { router })
        .max_decoding_message_size(max_message_size)
        .max_encoding_message_size(max_message_size)
}

#[tonic::async_trait]
impl Bus for BusService {
    async fn call(&self, request: Request<CallRequest>) -> Result<Response<CallReply>, Status> {
        let call = request.into_inner();
        let deadline = (call.timeout_nanos != 0)
            .then(|| SystemTime::now() + Duration::from_nanos(call.timeout_nanos));
        let meta = CallMeta {
            tenant: call.tenant,
            deadline,
            trace_parent: call.trace_parent,
            caller: call.caller,
        };
        let component = call
            .destination
            .split_once('@')
            .map_or(call.destination.as_str(), |(component, _)| component);
        let result = self
            .router
            .call_local(component, &call.method, meta, call.payload)
            .await;
        let reply = match result {
            Ok(payload) => call_reply::Result::Payload(payload),
            Err(error) => call_reply::Result::Error(CallError {
                code: error.code,
                retryable: error.retryable,
                message: error.message.into_string(),
            }),
        };
        Ok(Response::new(CallReply {
            result: Some(reply),
        }))
    }
}
