//! A typed bus client for the ingester's methods.

use mimir_plugin_sdk::{Bus, CallMeta, Error};
use mimir_proto::Message;
use mimir_proto::ingester::{
    LabelNamesRequest, LabelNamesResponse, LabelValuesRequest, LabelValuesResponse,
    MetadataRequest, MetadataResponse, PushResponse, QueryRequest, SeriesRequest, SeriesResponse,
};

/// KV key of the ingester ring.
pub const RING_KEY: &str = "ring/ingester";

/// Calls one ingester instance; `destination` is its bus address (`ingester@host:port`) as the
/// ring records it, or `ingester` for any instance.
#[derive(Debug, Clone)]
pub struct IngesterClient {
    bus: Bus,
}

impl IngesterClient {
    pub fn new(bus: Bus) -> IngesterClient {
        IngesterClient { bus }
    }

    /// Pushes an already encoded `PushRequest` (the distributor writes it without building it).
    pub async fn push_encoded(
        &self,
        destination: &str,
        meta: &CallMeta,
        request: Vec<u8>,
    ) -> Result<PushResponse, Error> {
        let reply = self.bus.call(destination, "Push", meta, request).await?;
        PushResponse::decode(reply.as_slice()).map_err(|error| {
            Error::internal(format!("malformed reply from {destination}: {error}"))
        })
    }

    /// One page of series as the encoded `QueryResponse` (the querier reads it without building
    /// the message); pass its `next_cursor` back until it is empty.
    pub async fn query_page(
        &self,
        destination: &str,
        meta: &CallMeta,
        request: &QueryRequest,
    ) -> Result<Vec<u8>, Error> {
        self.bus
            .call(destination, "QueryStream", meta, request.encode_to_vec())
            .await
    }

    pub async fn label_names(
        &self,
        destination: &str,
        meta: &CallMeta,
        request: &LabelNamesRequest,
    ) -> Result<LabelNamesResponse, Error> {
        self.bus
            .call_message(destination, "LabelNames", meta, request)
            .await
    }

    pub async fn label_values(
        &self,
        destination: &str,
        meta: &CallMeta,
        request: &LabelValuesRequest,
    ) -> Result<LabelValuesResponse, Error> {
        self.bus
            .call_message(destination, "LabelValues", meta, request)
            .await
    }

    pub async fn series(
        &self,
        destination: &str,
        meta: &CallMeta,
        request: &SeriesRequest,
    ) -> Result<SeriesResponse, Error> {
        self.bus
            .call_message(destination, "Series", meta, request)
            .await
    }

    pub async fn metadata(
        &self,
        destination: &str,
        meta: &CallMeta,
        request: &MetadataRequest,
    ) -> Result<MetadataResponse, Error> {
        self.bus
            .call_message(destination, "Metadata", meta, request)
            .await
    }
}
