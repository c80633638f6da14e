//! Clients the end-to-end tests talk to `mimir-host` with: Prometheus remote write (snappy +
//! protobuf over HTTP, as Prometheus sends it) and the bus over gRPC (to read an ingester directly).

use std::io::Read as _;
use std::time::Duration;

use mimir_proto::Message;
use mimir_proto::bus::bus_client::BusClient;
use mimir_proto::bus::{CallRequest, call_reply};
use mimir_proto::ingester::{LabelMatcher, QueryRequest, QueryResponse, Series, label_matcher};
use mimir_validation::{Label, Sample, TimeSeries, WriteRequest, encode_write_request};

/// One series to write: labels (any order) and `(timestamp ms, value)` samples.
pub type TestSeries<'a> = (&'a [(&'a str, &'a str)], &'a [(i64, f64)]);

/// Encodes a remote-write 1.0 body (protobuf, then snappy block format).
pub fn write_body(series: &[TestSeries<'_>]) -> Vec<u8> {
    let request = WriteRequest {
        timeseries: series
            .iter()
            .map(|(labels, samples)| TimeSeries {
                labels: labels.iter().map(|(n, v)| Label::new(n, v)).collect(),
                samples: samples
                    .iter()
                    .map(|(timestamp, value)| Sample {
                        value: *value,
                        timestamp: *timestamp,
                    })
                    .collect(),
                ..TimeSeries::default()
            })
            .collect(),
        ..WriteRequest::default()
    };
    // Already snappy-compressed.
    encode_write_request(&request)
}

/// Snappy block format, as remote write uses.
pub fn snappy(bytes: &[u8]) -> Vec<u8> {
    snap::raw::Encoder::new()
        .compress_vec(bytes)
        .unwrap_or_else(|error| panic!("snappy: {error}"))
}

/// POSTs a raw body to `/api/v1/push`: status and body.
pub fn push_raw(base_url: &str, tenant: Option<&str>, body: &[u8]) -> (u16, String) {
    remote_write(&format!("{base_url}/api/v1/push"), tenant, body)
}

/// POSTs an encoded remote-write `body` to the receiver at `url` (mimir-host's
/// `/api/v1/push`, Prometheus' `/api/v1/write`) with remote write 1.0's headers: status and body.
pub fn remote_write(url: &str, tenant: Option<&str>, body: &[u8]) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let mut request = agent
        .post(url)
        .header("Content-Type", "application/x-protobuf")
        .header("Content-Encoding", "snappy")
        .header("X-Prometheus-Remote-Write-Version", "0.1.0");
    if let Some(tenant) = tenant {
        request = request.header("X-Scope-OrgID", tenant);
    }
    let mut response = request
        .send(body)
        .unwrap_or_else(|error| panic!("POST {url}: {error}"));
    let status = response.status().as_u16();
    let mut text = String::new();
    let _ = response.body_mut().as_reader().read_to_string(&mut text);
    (status, text)
}

/// Writes `series` with remote write: status and body.
pub fn push(base_url: &str, tenant: Option<&str>, series: &[TestSeries<'_>]) -> (u16, String) {
    push_raw(base_url, tenant, &write_body(series))
}

/// An equality matcher.
pub fn eq(name: &str, value: &str) -> LabelMatcher {
    LabelMatcher {
        r#type: label_matcher::Type::Eq as i32,
        name: name.to_string(),
        value: value.to_string(),
    }
}

/// A regex matcher.
pub fn re(name: &str, value: &str) -> LabelMatcher {
    LabelMatcher {
        r#type: label_matcher::Type::Re as i32,
        name: name.to_string(),
        value: value.to_string(),
    }
}

/// Reads every series matching `matchers` in [start, end] from the ingester of the process at
/// `grpc_address`, over the gRPC bus, paging through `QueryStream`.
pub fn query_ingester(
    grpc_address: &str,
    tenant: &str,
    matchers: Vec<LabelMatcher>,
    start_ms: i64,
    end_ms: i64,
) -> Result<Vec<Series>, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| error.to_string())?;
    runtime.block_on(async {
        let mut client = BusClient::connect(format!("http://{grpc_address}"))
            .await
            .map_err(|error| format!("cannot connect to {grpc_address}: {error}"))?;
        let mut series = Vec::new();
        let mut cursor = Vec::new();
        loop {
            let request = QueryRequest {
                start_ms,
                end_ms,
                matchers: matchers.clone(),
                cursor,
                limit: 100,
            };
            let call = CallRequest {
                destination: "ingester".to_string(),
                method: "QueryStream".to_string(),
                tenant: tenant.to_string(),
                timeout_nanos: 10_000_000_000,
                caller: "test".to_string(),
                payload: request.encode_to_vec(),
                ..CallRequest::default()
            };
            let reply = client
                .call(call)
                .await
                .map_err(|status| format!("bus call failed: {status}"))?
                .into_inner();
            let payload = match reply.result {
                Some(call_reply::Result::Payload(payload)) => payload,
                Some(call_reply::Result::Error(error)) => return Err(error.message),
                None => return Err("empty reply".to_string()),
            };
            let page = QueryResponse::decode(payload.as_slice()).map_err(|e| e.to_string())?;
            series.extend(
                page.series
                    .into_iter()
                    .map(|s| unpack_samples(s, start_ms, end_ms)),
            );
            if page.next_cursor.is_empty() {
                return Ok(series);
            }
            cursor = page.next_cursor;
        }
    })
}

/// A reply's series with its samples in `samples`, by time: query replies carry in-order samples
/// as XOR chunks (decoded here, keeping `start_ms..=end_ms`) and out-of-order ones as the packed
/// `timestamp_deltas_ms` and `values` columns.
fn unpack_samples(mut series: Series, start_ms: i64, end_ms: i64) -> Series {
    let mut samples = Vec::new();
    for chunk in std::mem::take(&mut series.chunks) {
        mimir_tsdb::decode_chunk_into(&chunk, start_ms, end_ms, &mut samples)
            .expect("a well-formed chunk");
    }
    let mut t = 0i64;
    let deltas = std::mem::take(&mut series.timestamp_deltas_ms);
    let values = std::mem::take(&mut series.values);
    assert_eq!(deltas.len(), values.len(), "uneven sample columns");
    for (delta, value) in deltas.into_iter().zip(values) {
        t += delta;
        samples.push((t, value));
    }
    samples.sort_by_key(|(t, _)| *t);
    series
        .samples
        .extend(
            samples
                .into_iter()
                .map(|(timestamp_ms, value)| mimir_proto::ingester::Sample {
                    timestamp_ms,
                    value,
                }),
        );
    series
}
