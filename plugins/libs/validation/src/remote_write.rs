//! Prometheus remote-write 1.0 on the wire: the `prompb` messages (`remote.proto`,
//! `types.proto`) as hand-written prost structs with prompb's field numbers, and the decoding of
//! a `POST /api/v1/push` body (snappy *block* format, then protobuf) with Mimir's size limit and
//! error messages.
//!
//! Label names and values are `bytes` on our side although prompb declares `string`: the wire
//! encoding is identical, and it lets a label value with invalid UTF-8 fail only its own series
//! (`err-mimir-label-value-invalid`), as in Mimir, instead of the whole request. Native
//! histograms (field 4) are `prometheus.Histogram` as the ingester protocol declares it
//! ([`Histogram`], same field numbers). Metadata strings stay `string`, so invalid UTF-8 there fails the decode.

pub use mimir_proto::ingester::{BucketSpan, Histogram, histogram};
use prost::Message as _;

use crate::errors::{STATUS_BAD_REQUEST, ValidationError, flags, ids};

/// Mimir's default `-distributor.max-recv-msg-size` (100 MiB).
pub const DEFAULT_MAX_RECV_MSG_SIZE: usize = 100 << 20;

/// `prometheus.WriteRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct WriteRequest {
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
    // Field 2 is reserved by Prometheus (Cortex's `source`).
    #[prost(message, repeated, tag = "3")]
    pub metadata: Vec<MetricMetadata>,
}

/// `prometheus.TimeSeries`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeSeries {
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
    #[prost(message, repeated, tag = "3")]
    pub exemplars: Vec<Exemplar>,
    /// Native histogram samples.
    #[prost(message, repeated, tag = "4")]
    pub histograms: Vec<Histogram>,
}

/// `prometheus.Label`; `string` fields in prompb, raw bytes here (see the module docs).
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct Label {
    #[prost(bytes = "bytes", tag = "1")]
    pub name: bytes::Bytes,
    #[prost(bytes = "bytes", tag = "2")]
    pub value: bytes::Bytes,
}

impl Label {
    /// A label from UTF-8 text.
    pub fn new(name: &str, value: &str) -> Self {
        Self {
            name: bytes::Bytes::copy_from_slice(name.as_bytes()),
            value: bytes::Bytes::copy_from_slice(value.as_bytes()),
        }
    }
}

/// `prometheus.Sample`.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Sample {
    #[prost(double, tag = "1")]
    pub value: f64,
    /// Milliseconds since the Unix epoch.
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

/// `prometheus.Exemplar`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Exemplar {
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    #[prost(double, tag = "2")]
    pub value: f64,
    /// Milliseconds since the Unix epoch.
    #[prost(int64, tag = "3")]
    pub timestamp: i64,
}

/// `prometheus.MetricMetadata`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MetricMetadata {
    #[prost(enumeration = "MetricType", tag = "1")]
    pub r#type: i32,
    #[prost(string, tag = "2")]
    pub metric_family_name: String,
    #[prost(string, tag = "4")]
    pub help: String,
    #[prost(string, tag = "5")]
    pub unit: String,
}

/// `prometheus.MetricMetadata.MetricType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum MetricType {
    Unknown = 0,
    Counter = 1,
    Gauge = 2,
    Histogram = 3,
    Gaugehistogram = 4,
    Summary = 5,
    Info = 6,
    Stateset = 7,
}

/// Decodes a remote-write 1.0 body: snappy block format, then `prometheus.WriteRequest`.
///
/// Both the compressed body and the decompressed length announced in the snappy header are
/// checked against `max_size` before anything is decompressed, so an oversized request never
/// allocates its decompressed size. Every error is an HTTP 400, as in Mimir's remote-write
/// handler (Mimir's OTLP handler answers 413 for the size limit; remote write does not).
pub fn decode_write_request(body: &[u8], max_size: usize) -> Result<WriteRequest, ValidationError> {
    let decompressed = decompress_write_request(body, max_size)?;
    // Decoding from `Bytes` makes every label a slice of one buffer: no allocation per label.
    WriteRequest::decode(bytes::Bytes::from(decompressed)).map_err(|error| ValidationError {
        id: ids::INVALID_PROTOBUF,
        status: STATUS_BAD_REQUEST,
        message: error.to_string(),
    })
}

/// The snappy half of [`decode_write_request`], with its size limit and errors: the protobuf
/// bytes of the request, for [`validate_write_request`](crate::validate_write_request).
pub fn decompress_write_request(body: &[u8], max_size: usize) -> Result<Vec<u8>, ValidationError> {
    if body.len() > max_size {
        return Err(message_too_large(body.len(), "compressed", max_size));
    }
    let decompressed_len = snap::raw::decompress_len(body)
        .map_err(|error| invalid_snappy("getting snappy decoded length", &error))?;
    if decompressed_len > max_size {
        return Err(message_too_large(
            decompressed_len,
            "uncompressed",
            max_size,
        ));
    }
    let mut decompressed = vec![0u8; decompressed_len];
    let written = snap::raw::Decoder::new()
        .decompress(body, &mut decompressed)
        .map_err(|error| invalid_snappy("decompress snappy", &error))?;
    decompressed.truncate(written);
    Ok(decompressed)
}

/// Encodes a request the way Prometheus sends it: protobuf, then snappy block format. Used by
/// tests and by components that write remotely (the ruler's recording results).
///
/// Snappy's block format cannot hold more than 4 GiB; an encoded request beyond that yields an
/// empty body (which any receiver rejects) rather than a panic.
pub fn encode_write_request(request: &WriteRequest) -> Vec<u8> {
    let encoded = request.encode_to_vec();
    snap::raw::Encoder::new()
        .compress_vec(&encoded)
        .unwrap_or_default()
}

/// Mimir's `distributorMaxWriteMessageSizeErr`.
fn message_too_large(size: usize, kind: &str, limit: usize) -> ValidationError {
    crate::errors::Message::new(&format!(
        "the incoming push request has been rejected because its message size of {size} bytes \
         ({kind}) is larger than the allowed limit of {limit} bytes"
    ))
    .finish_per_instance(
        ids::DISTRIBUTOR_MAX_WRITE_MESSAGE_SIZE,
        STATUS_BAD_REQUEST,
        &[flags::MAX_RECV_MSG_SIZE],
    )
}

/// Mimir wraps Go snappy's errors: `<step>: snappy: corrupt input`.
fn invalid_snappy(step: &str, error: &snap::Error) -> ValidationError {
    let cause = match error {
        snap::Error::TooBig { .. } => "snappy: decoded block is too large",
        _ => "snappy: corrupt input",
    };
    ValidationError {
        id: ids::INVALID_SNAPPY,
        status: STATUS_BAD_REQUEST,
        message: format!("{step}: {cause}"),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn sample_request() -> WriteRequest {
        WriteRequest {
            timeseries: vec![TimeSeries {
                labels: vec![Label::new("__name__", "up"), Label::new("job", "node")],
                samples: vec![
                    Sample {
                        value: 1.0,
                        timestamp: 1_000,
                    },
                    Sample {
                        value: 0.5,
                        timestamp: 2_000,
                    },
                ],
                exemplars: vec![Exemplar {
                    labels: vec![Label::new("trace_id", "abc")],
                    value: 1.0,
                    timestamp: 1_000,
                }],
                histograms: vec![Histogram {
                    count: Some(histogram::Count::CountInt(1)),
                    schema: 3,
                    positive_spans: vec![BucketSpan {
                        offset: -2,
                        length: 1,
                    }],
                    positive_deltas: vec![1],
                    timestamp: 1_500,
                    ..Histogram::default()
                }],
            }],
            metadata: vec![MetricMetadata {
                r#type: MetricType::Gauge as i32,
                metric_family_name: "up".to_owned(),
                help: "Whether the target is up.".to_owned(),
                unit: String::new(),
            }],
        }
    }

    #[test]
    fn a_request_round_trips_through_snappy_and_protobuf() {
        let request = sample_request();
        let body = encode_write_request(&request);
        let decoded = decode_write_request(&body, DEFAULT_MAX_RECV_MSG_SIZE).unwrap();
        assert_eq!(decoded, request);
    }

    #[test]
    fn field_numbers_match_prompb() {
        // Hand-encoded: WriteRequest{timeseries: [TimeSeries{labels: [{name:"a", value:"b"}],
        // samples: [{value: 1.0, timestamp: 5}]}], metadata: [{type: COUNTER,
        // metric_family_name: "m", help: "h", unit: "u"}]}.
        let label = [0x0a, 0x01, b'a', 0x12, 0x01, b'b'];
        let mut sample = vec![0x09];
        sample.extend_from_slice(&1.0f64.to_le_bytes());
        sample.extend_from_slice(&[0x10, 0x05]);
        let mut series = vec![0x0a, label.len() as u8];
        series.extend_from_slice(&label);
        series.extend_from_slice(&[0x12, sample.len() as u8]);
        series.extend_from_slice(&sample);
        let metadata = [
            0x08, 0x01, 0x12, 0x01, b'm', 0x22, 0x01, b'h', 0x2a, 0x01, b'u',
        ];
        let mut request = vec![0x0a, series.len() as u8];
        request.extend_from_slice(&series);
        request.extend_from_slice(&[0x1a, metadata.len() as u8]);
        request.extend_from_slice(&metadata);

        let decoded = WriteRequest::decode(request.as_slice()).unwrap();
        let series = &decoded.timeseries[0];
        assert_eq!(series.labels, vec![Label::new("a", "b")]);
        assert_eq!(
            series.samples,
            vec![Sample {
                value: 1.0,
                timestamp: 5
            }]
        );
        let metadata = &decoded.metadata[0];
        assert_eq!(metadata.r#type(), MetricType::Counter);
        assert_eq!(
            (
                metadata.metric_family_name.as_str(),
                metadata.help.as_str(),
                metadata.unit.as_str()
            ),
            ("m", "h", "u")
        );
        assert_eq!(decoded.encode_to_vec(), request);
    }

    #[test]
    fn an_oversized_body_is_refused_before_decompression() {
        let body = encode_write_request(&sample_request());
        let error = decode_write_request(&body, body.len() - 1).unwrap_err();
        assert_eq!(error.id, ids::DISTRIBUTOR_MAX_WRITE_MESSAGE_SIZE);
        assert_eq!(error.status, 400);
        assert_eq!(
            error.message,
            format!(
                "the incoming push request has been rejected because its message size of {} \
                 bytes (compressed) is larger than the allowed limit of {} bytes \
                 (err-mimir-distributor-max-write-message-size). To adjust the related limit, \
                 configure -distributor.max-recv-msg-size, or contact your service administrator.",
                body.len(),
                body.len() - 1
            )
        );
    }

    #[test]
    fn an_oversized_decompressed_length_is_refused_from_the_header_alone() {
        // A snappy header announcing 1 GiB followed by nothing: decompressing it would allocate
        // the announced size, so the limit must fire on the header.
        let mut body = Vec::new();
        let mut announced: u32 = 1 << 30;
        while announced >= 0x80 {
            body.push((announced as u8) | 0x80);
            announced >>= 7;
        }
        body.push(announced as u8);
        let error = decode_write_request(&body, 1 << 20).unwrap_err();
        assert_eq!(error.id, ids::DISTRIBUTOR_MAX_WRITE_MESSAGE_SIZE);
        assert!(
            error
                .message
                .contains("message size of 1073741824 bytes (uncompressed)"),
            "{}",
            error.message
        );
    }

    #[test]
    fn bad_snappy_and_bad_protobuf_are_client_errors() {
        let error =
            decode_write_request(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 1 << 20).unwrap_err();
        assert_eq!(
            (error.id, error.status, error.message.as_str()),
            (
                ids::INVALID_SNAPPY,
                400,
                "getting snappy decoded length: snappy: corrupt input"
            )
        );
        let truncated = {
            let mut body = encode_write_request(&sample_request());
            body.truncate(body.len() - 3);
            body
        };
        let error = decode_write_request(&truncated, 1 << 20).unwrap_err();
        assert_eq!((error.id, error.status), (ids::INVALID_SNAPPY, 400));
        assert!(
            error.message.starts_with("decompress snappy: "),
            "{}",
            error.message
        );

        let not_protobuf = snap::raw::Encoder::new().compress_vec(&[0xff; 8]).unwrap();
        let error = decode_write_request(&not_protobuf, 1 << 20).unwrap_err();
        assert_eq!((error.id, error.status), (ids::INVALID_PROTOBUF, 400));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode_write_request(&body, 1 << 16);
        }

        #[test]
        fn arbitrary_bytes_behind_valid_snappy_never_panic(
            payload in proptest::collection::vec(any::<u8>(), 0..512),
        ) {
            let body = snap::raw::Encoder::new().compress_vec(&payload).unwrap();
            if let Ok(request) = decode_write_request(&body, 1 << 16) {
                let _ = crate::validate::validate_request(
                    &crate::Limits::default(),
                    std::time::UNIX_EPOCH,
                    request,
                );
            }
        }

        #[test]
        fn mutated_valid_requests_never_panic(
            mutations in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
            compress_after in any::<bool>(),
        ) {
            let mut encoded = sample_request().encode_to_vec();
            let mut body = encode_write_request(&sample_request());
            let target = if compress_after { &mut encoded } else { &mut body };
            for (index, byte) in &mutations {
                let position = index.index(target.len());
                target[position] = *byte;
            }
            if compress_after {
                body = snap::raw::Encoder::new().compress_vec(&encoded).unwrap();
            }
            if let Ok(request) = decode_write_request(&body, 1 << 16) {
                let _ = crate::validate::validate_request(
                    &crate::Limits::default(),
                    std::time::UNIX_EPOCH,
                    request,
                );
            }
        }
    }
}
