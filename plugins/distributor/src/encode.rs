//! Writes the ingester's `PushRequest` straight from validated series into one buffer per
//! ingester, without building protobuf structs: a series accepted as it came is copied as it
//! came (a remote-write `TimeSeries` is laid out as a `Series`), any other has its label bytes
//! copied once, from the remote-write buffer to the request. The layout is `mimir.ingester.v1.PushRequest`; the
//! ingester's tests read what prost writes, and this module's tests check prost reads what it writes.

use mimir_proto::Message;
use mimir_proto::ingester::MetricMetadata;
use mimir_proto::wire::{put_len_field, put_varint, varint_len};

const LEN: u8 = 2;

fn key(field: u8, wire_type: u8) -> u8 {
    (field << 3) | wire_type
}

fn pair_len(name: &[u8], value: &[u8]) -> usize {
    2 + varint_len(name.len() as u64) + name.len() + varint_len(value.len() as u64) + value.len()
}

/// A sample is written with both fields present: value (fixed64) and timestamp (varint).
fn sample_len(timestamp: i64) -> usize {
    1 + 8 + 1 + varint_len(timestamp as u64)
}

fn series_len(
    labels: &[(&[u8], &[u8])],
    samples: &[(i64, f64)],
    histograms: &[(i64, &[u8])],
) -> usize {
    let labels: usize = labels
        .iter()
        .map(|(n, v)| {
            let len = pair_len(n, v);
            1 + varint_len(len as u64) + len
        })
        .sum();
    let samples: usize = samples
        .iter()
        .map(|(t, _)| {
            let len = sample_len(*t);
            1 + varint_len(len as u64) + len
        })
        .sum();
    let histograms: usize = histograms
        .iter()
        .map(|(_, h)| 1 + varint_len(h.len() as u64) + h.len())
        .sum();
    labels + samples + histograms
}

/// Appends a series of `labels`, `samples` and native `histograms` (encoded `Histogram`
/// messages, copied verbatim as field 4; their timestamps are inside) as field 1 of a
/// `PushRequest`.
pub fn put_series(
    out: &mut Vec<u8>,
    labels: &[(&[u8], &[u8])],
    samples: &[(i64, f64)],
    histograms: &[(i64, &[u8])],
) {
    out.push(key(1, LEN));
    put_varint(out, series_len(labels, samples, histograms) as u64);
    for (name, value) in labels {
        out.push(key(1, LEN));
        put_varint(out, pair_len(name, value) as u64);
        put_len_field(out, 1, name);
        put_len_field(out, 2, value);
    }
    for (timestamp, value) in samples {
        out.push(key(2, LEN));
        put_varint(out, sample_len(*timestamp) as u64);
        out.push(key(1, 1));
        out.extend_from_slice(&value.to_le_bytes());
        out.push(key(2, 0));
        put_varint(out, *timestamp as u64);
    }
    for (_, histogram) in histograms {
        put_len_field(out, 4, histogram);
    }
}

/// Appends an already encoded `Series` message (a remote-write `TimeSeries` accepted as it came:
/// the two share their layout) as field 1 of a `PushRequest`.
pub fn put_encoded_series(out: &mut Vec<u8>, encoded: &[u8]) {
    put_len_field(out, 1, encoded);
}

/// Appends `metadata` as field 2 entries of a `PushRequest`.
pub fn put_metadata(out: &mut Vec<u8>, metadata: &[MetricMetadata]) {
    for entry in metadata {
        out.push(key(2, LEN));
        put_varint(out, entry.encoded_len() as u64);
        entry.encode_raw(out);
    }
}

#[cfg(test)]
mod tests {
    use mimir_proto::ingester::{BucketSpan, Histogram, PushRequest, histogram};
    use mimir_validation::{Label, Sample, TimeSeries};

    fn histogram(timestamp: i64, float: bool) -> Histogram {
        Histogram {
            count: Some(if float {
                histogram::Count::CountFloat(2.5)
            } else {
                histogram::Count::CountInt(3)
            }),
            sum: 7.25,
            schema: 1,
            zero_threshold: 1e-128,
            zero_count: Some(histogram::ZeroCount::ZeroCountInt(1)),
            positive_spans: vec![BucketSpan {
                offset: -1,
                length: 2,
            }],
            positive_deltas: if float { vec![] } else { vec![1, 0] },
            positive_counts: if float { vec![0.5, 1.0] } else { vec![] },
            timestamp,
            ..Histogram::default()
        }
    }

    use super::*;

    #[test]
    fn prost_reads_what_we_write() {
        let long = "x".repeat(200);
        let first_labels: Vec<(&[u8], &[u8])> =
            vec![(b"__name__", b"up"), (b"job", long.as_bytes())];
        let first_samples = vec![
            (0, 0.0),
            (-5, -0.0),
            (1_700_000_000_000, f64::NAN),
            (i64::MAX, 1.5),
        ];
        let second_labels: Vec<(&[u8], &[u8])> = vec![(b"__name__", b"b")];
        let metadata = vec![MetricMetadata {
            metric_family_name: "up".to_string(),
            r#type: "gauge".to_string(),
            help: "h".to_string(),
            unit: String::new(),
        }];
        let histograms = [histogram(5, false), histogram(9, true)];
        let encoded: Vec<Vec<u8>> = histograms.iter().map(|h| h.encode_to_vec()).collect();
        let first_histograms: Vec<(i64, &[u8])> = encoded
            .iter()
            .zip(&histograms)
            .map(|(bytes, h)| (h.timestamp, &bytes[..]))
            .collect();
        let mut out = Vec::new();
        put_series(&mut out, &first_labels, &first_samples, &first_histograms);
        put_series(&mut out, &second_labels, &[], &[]);
        put_metadata(&mut out, &metadata);
        let decoded = PushRequest::decode(out.as_slice()).unwrap();
        assert_eq!(decoded.series.len(), 2);
        assert_eq!(decoded.metadata, metadata);
        let first = &decoded.series[0];
        assert_eq!(first.labels[1].value, long.as_bytes());
        let samples: Vec<(i64, u64)> = first
            .samples
            .iter()
            .map(|s| (s.timestamp_ms, s.value.to_bits()))
            .collect();
        let expected: Vec<(i64, u64)> = first_samples
            .iter()
            .map(|(t, v)| (*t, v.to_bits()))
            .collect();
        assert_eq!(samples, expected);
        assert_eq!(first.histograms, histograms);
        assert!(decoded.series[1].samples.is_empty());
        assert!(decoded.series[1].histograms.is_empty());
    }

    #[test]
    fn a_remote_write_series_passed_on_as_it_came_is_a_series() {
        let sent = TimeSeries {
            labels: vec![Label::new("__name__", "up"), Label::new("job", "a")],
            samples: vec![
                Sample {
                    value: 2.5,
                    timestamp: 1_000,
                },
                Sample {
                    value: 0.0,
                    timestamp: 2_000,
                },
            ],
            histograms: vec![histogram(3_000, false), histogram(4_000, true)],
            ..TimeSeries::default()
        };
        let mut out = Vec::new();
        put_encoded_series(&mut out, &sent.encode_to_vec());
        let decoded = PushRequest::decode(out.as_slice()).unwrap();
        let series = &decoded.series[0];
        let labels: Vec<(&[u8], &[u8])> = series
            .labels
            .iter()
            .map(|l| (&l.name[..], &l.value[..]))
            .collect();
        assert_eq!(labels, [(&b"__name__"[..], &b"up"[..]), (b"job", b"a")]);
        let samples: Vec<(i64, f64)> = series
            .samples
            .iter()
            .map(|s| (s.timestamp_ms, s.value))
            .collect();
        assert_eq!(samples, [(1_000, 2.5), (2_000, 0.0)]);
        assert_eq!(series.histograms, sent.histograms);
    }
}
