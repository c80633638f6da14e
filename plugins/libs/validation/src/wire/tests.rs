//! The zero-copy reader against prost's decoding of the same bytes.

use proptest::prelude::*;

use super::*;
use crate::remote_write::{
    BucketSpan, Exemplar, Histogram, Label, MetricType, Sample, TimeSeries, WriteRequest, histogram,
};
use mimir_proto::wire::{END_GROUP, FIXED32, START_GROUP};

/// Histograms as (timestamp, prost's encoding of the message).
type Histograms = Vec<(i64, Vec<u8>)>;

/// What the reader saw, per series: labels, samples as (timestamp, value bits), exemplar count,
/// histograms, whether other fields were present; plus the metadata.
type Seen = (
    Vec<(
        Vec<(Vec<u8>, Vec<u8>)>,
        Vec<(i64, u64)>,
        usize,
        Histograms,
        bool,
    )>,
    Vec<MetricMetadata>,
);

fn read_all(buffer: &[u8]) -> Result<Seen, WireError> {
    let mut series = Vec::new();
    let metadata = read_write_request(buffer, |view| {
        assert!(
            view.encoded.as_ptr_range().start >= buffer.as_ptr_range().start
                && view.encoded.as_ptr_range().end <= buffer.as_ptr_range().end
        );
        series.push((
            view.labels
                .iter()
                .map(|(n, v)| (n.to_vec(), v.to_vec()))
                .collect(),
            view.samples
                .iter()
                .map(|(t, v)| (*t, v.to_bits()))
                .collect(),
            view.exemplars,
            view.histograms
                .iter()
                .map(|(t, bytes)| {
                    assert!(
                        bytes.as_ptr_range().start >= buffer.as_ptr_range().start
                            && bytes.as_ptr_range().end <= buffer.as_ptr_range().end
                    );
                    // The reader accepted it, so prost must read it: a panic here is a mismatch.
                    let decoded = Histogram::decode(*bytes).expect("prost reads the histogram");
                    (*t, decoded.encode_to_vec())
                })
                .collect(),
            view.other_fields,
        ));
    })?;
    Ok((series, metadata))
}

/// prost's view of the same bytes, in the reader's shape (`other_fields` is not compared).
fn prost_view(request: &WriteRequest) -> Seen {
    let series = request
        .timeseries
        .iter()
        .map(|series| {
            (
                series
                    .labels
                    .iter()
                    .map(|l| (l.name.to_vec(), l.value.to_vec()))
                    .collect(),
                series
                    .samples
                    .iter()
                    .map(|s| (s.timestamp, s.value.to_bits()))
                    .collect(),
                series.exemplars.len(),
                series
                    .histograms
                    .iter()
                    .map(|h| (h.timestamp, h.encode_to_vec()))
                    .collect(),
                false,
            )
        })
        .collect();
    (series, request.metadata.clone())
}

fn without_other_fields(mut seen: Seen) -> Seen {
    for series in &mut seen.0 {
        series.4 = false;
    }
    seen
}

fn label() -> impl Strategy<Value = Label> {
    (
        prop::collection::vec(any::<u8>(), 0..6),
        prop::collection::vec(any::<u8>(), 0..8),
    )
        .prop_map(|(name, value)| Label {
            name: name.into(),
            value: value.into(),
        })
}

fn request() -> impl Strategy<Value = WriteRequest> {
    let sample =
        (any::<i64>(), any::<f64>()).prop_map(|(timestamp, value)| Sample { value, timestamp });
    let exemplar = (
        prop::collection::vec(label(), 0..2),
        any::<f64>(),
        any::<i64>(),
    )
        .prop_map(|(labels, value, timestamp)| Exemplar {
            labels,
            value,
            timestamp,
        });
    let series = (
        prop::collection::vec(label(), 0..5),
        prop::collection::vec(sample, 0..4),
        prop::collection::vec(exemplar, 0..2),
        prop::collection::vec(histogram_strategy(), 0..3),
    )
        .prop_map(|(labels, samples, exemplars, histograms)| TimeSeries {
            labels,
            samples,
            exemplars,
            histograms,
        });
    let metadata = (0..9i32, "[a-z]{0,4}", "\\PC{0,4}", "[a-z]{0,2}").prop_map(
        |(r#type, metric_family_name, help, unit)| MetricMetadata {
            r#type,
            metric_family_name,
            help,
            unit,
        },
    );
    (
        prop::collection::vec(series, 0..6),
        prop::collection::vec(metadata, 0..2),
    )
        .prop_map(|(timeseries, metadata)| WriteRequest {
            timeseries,
            metadata,
        })
}

fn histogram_strategy() -> impl Strategy<Value = Histogram> {
    let span = (any::<i32>(), 0u32..4).prop_map(|(offset, length)| BucketSpan { offset, length });
    let count = prop_oneof![
        Just(None),
        any::<u64>().prop_map(|c| Some(histogram::Count::CountInt(c))),
        any::<f64>().prop_map(|c| Some(histogram::Count::CountFloat(c))),
    ];
    let zero_count = prop_oneof![
        Just(None),
        any::<u64>().prop_map(|c| Some(histogram::ZeroCount::ZeroCountInt(c))),
        any::<f64>().prop_map(|c| Some(histogram::ZeroCount::ZeroCountFloat(c))),
    ];
    (
        (count, any::<f64>(), -60i32..10, any::<f64>(), zero_count),
        (
            prop::collection::vec(span.clone(), 0..3),
            prop::collection::vec(any::<i64>(), 0..3),
            prop::collection::vec(any::<f64>(), 0..3),
        ),
        (
            prop::collection::vec(span, 0..3),
            prop::collection::vec(any::<i64>(), 0..3),
            prop::collection::vec(any::<f64>(), 0..3),
        ),
        (
            -1i32..5,
            any::<i64>(),
            prop::collection::vec(any::<f64>(), 0..3),
        ),
    )
        .prop_map(
            |(
                (count, sum, schema, zero_threshold, zero_count),
                (negative_spans, negative_deltas, negative_counts),
                (positive_spans, positive_deltas, positive_counts),
                (reset_hint, timestamp, custom_values),
            )| Histogram {
                count,
                sum,
                schema,
                zero_threshold,
                zero_count,
                negative_spans,
                negative_deltas,
                negative_counts,
                positive_spans,
                positive_deltas,
                positive_counts,
                reset_hint,
                timestamp,
                custom_values,
            },
        )
}

/// The reader accepts `buffer` exactly when prost does, and then sees what prost sees.
fn agrees_with_prost(buffer: &[u8]) -> Result<(), TestCaseError> {
    let ours = read_all(buffer);
    let theirs = WriteRequest::decode(buffer);
    match (ours, theirs) {
        (Ok(ours), Ok(theirs)) => {
            prop_assert_eq!(without_other_fields(ours), prost_view(&theirs));
        }
        (Err(_), Err(_)) => {}
        (ours, theirs) => {
            prop_assert!(
                false,
                "reader: {:?}, prost: {:?}",
                ours.map(|_| ()),
                theirs.map(|_| ())
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn reads_what_prost_writes(sent in request()) {
        let encoded = sent.encode_to_vec();
        let (series, metadata) = read_all(&encoded).unwrap();
        prop_assert_eq!(&metadata, &sent.metadata);
        prop_assert_eq!(series.len(), sent.timeseries.len());
        for (got, sent) in series.iter().zip(&sent.timeseries) {
            prop_assert_eq!(got.4, !sent.exemplars.is_empty());
            let timestamps: Vec<i64> = got.3.iter().map(|(t, _)| *t).collect();
            let sent_timestamps: Vec<i64> = sent.histograms.iter().map(|h| h.timestamp).collect();
            prop_assert_eq!(timestamps, sent_timestamps);
        }
        agrees_with_prost(&encoded)?;
    }

    #[test]
    fn agrees_with_prost_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        agrees_with_prost(&bytes)?;
    }

    #[test]
    fn agrees_with_prost_on_mutated_requests(
        sent in request(),
        mutations in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut encoded = sent.encode_to_vec();
        if encoded.is_empty() {
            encoded.push(0x0a);
        }
        for (index, byte) in &mutations {
            let position = index.index(encoded.len());
            encoded[position] = *byte;
        }
        if truncate {
            encoded.truncate(cut.index(encoded.len()));
        }
        agrees_with_prost(&encoded)?;
    }
}

fn key(field: u32, wire_type: u8) -> Vec<u8> {
    let mut out = Vec::new();
    prost::encoding::encode_varint(u64::from(field << 3 | u32::from(wire_type)), &mut out);
    out
}

fn len_field(field: u32, body: &[u8]) -> Vec<u8> {
    let mut out = key(field, LEN);
    prost::encoding::encode_varint(body.len() as u64, &mut out);
    out.extend_from_slice(body);
    out
}

fn check(buffer: &[u8]) {
    let result: Result<(), TestCaseError> = agrees_with_prost(buffer);
    result.unwrap();
}

#[test]
fn unknown_fields_and_groups_are_skipped_everywhere() {
    let group = [
        key(9, START_GROUP),
        key(1, VARINT),
        vec![5],
        key(9, END_GROUP),
    ]
    .concat();
    let label = [len_field(1, b"a"), group.clone(), len_field(2, b"b")].concat();
    let series = [
        len_field(1, &label),
        group.clone(),
        key(7, FIXED32),
        vec![0; 4],
    ]
    .concat();
    let request = [
        group.clone(),
        len_field(1, &series),
        key(2, VARINT),
        vec![1],
    ]
    .concat();
    check(&request);
    let (seen, _) = read_all(&request).unwrap();
    assert_eq!(seen[0].0, vec![(b"a".to_vec(), b"b".to_vec())]);
    assert!(seen[0].4, "unknown fields are reported");
}

#[test]
fn the_last_value_of_a_field_wins() {
    let label = [len_field(1, b"a"), len_field(2, b"b"), len_field(2, b"c")].concat();
    let mut sample = key(2, VARINT);
    sample.push(3);
    sample.extend(key(2, VARINT));
    sample.push(4);
    let series = [len_field(1, &label), len_field(2, &sample)].concat();
    let request = len_field(1, &series);
    check(&request);
    let (seen, _) = read_all(&request).unwrap();
    assert_eq!(seen[0].0, vec![(b"a".to_vec(), b"c".to_vec())]);
    assert_eq!(seen[0].1, vec![(4, 0f64.to_bits())]);
    assert!(!seen[0].4);
}

#[test]
fn wrong_wire_types_and_bad_keys_are_refused_as_prost_refuses_them() {
    let bad = [
        // A label name as a varint.
        len_field(1, &len_field(1, &[key(1, VARINT), vec![1]].concat())),
        // A sample value as a varint.
        len_field(1, &len_field(2, &[key(1, VARINT), vec![1]].concat())),
        // Series as a varint.
        [key(1, VARINT), vec![1]].concat(),
        // Field number 0, wire type 6, a stray end-group, a mismatched group.
        vec![0x02, 0x00],
        vec![0x0e],
        key(5, END_GROUP),
        [key(5, START_GROUP), key(6, END_GROUP)].concat(),
        // An eleven-byte varint and a ten-byte one whose last byte is too large.
        [key(2, VARINT), vec![0xff; 10], vec![0]].concat(),
        [key(2, VARINT), vec![0xff; 9], vec![2]].concat(),
        // Metadata whose help is not UTF-8.
        len_field(3, &len_field(4, &[0xff])),
        // A length past the end.
        [key(1, LEN), vec![5, 0]].concat(),
    ];
    for buffer in bad {
        assert!(read_all(&buffer).is_err(), "{buffer:?}");
        check(&buffer);
    }
    let largest = [key(2, VARINT), vec![0xff; 9], vec![1]].concat();
    assert!(read_all(&largest).is_ok());
    check(&largest);
}

#[test]
fn deeply_nested_groups_hit_prosts_recursion_limit() {
    for depth in [98, 99, 100, 101] {
        let mut buffer = Vec::new();
        for _ in 0..depth {
            buffer.extend(key(5, START_GROUP));
        }
        for _ in 0..depth {
            buffer.extend(key(5, END_GROUP));
        }
        check(&buffer);
    }
}

#[test]
fn metadata_is_read_with_its_type() {
    let sent = WriteRequest {
        timeseries: Vec::new(),
        metadata: vec![MetricMetadata {
            r#type: MetricType::Counter as i32,
            metric_family_name: "m".into(),
            help: "h".into(),
            unit: "u".into(),
        }],
    };
    let (_, metadata) = read_all(&sent.encode_to_vec()).unwrap();
    assert_eq!(metadata, sent.metadata);
}

/// A request of one series holding one histogram message with body `histogram`.
fn with_histogram(histogram: &[u8]) -> Vec<u8> {
    let label = [len_field(1, b"__name__"), len_field(2, b"h")].concat();
    let series = [len_field(1, &label), len_field(4, histogram)].concat();
    len_field(1, &series)
}

#[test]
fn histogram_fields_are_checked_as_prost_checks_them() {
    let varint = |field: u32, value: u8| [key(field, VARINT), vec![value]].concat();
    let double = |field: u32| [key(field, FIXED64), 1.5f64.to_le_bytes().to_vec()].concat();
    let good = [
        // Unpacked deltas and counts, next to packed ones.
        [varint(12, 2), varint(12, 3), len_field(12, &[2, 4])].concat(),
        [double(13), len_field(13, &[0; 16]), double(16)].concat(),
        // Both members of a oneof: the last wins.
        [varint(1, 3), double(2), varint(6, 1), double(7)].concat(),
        // A span with an unknown field, a group in the histogram, any reset hint.
        [
            len_field(11, &[varint(1, 3), varint(2, 2), varint(9, 1)].concat()),
            key(20, START_GROUP),
            key(20, END_GROUP),
            varint(14, 77),
        ]
        .concat(),
        varint(15, 42),
        Vec::new(),
    ];
    for histogram in good {
        let buffer = with_histogram(&histogram);
        assert!(read_all(&buffer).is_ok(), "{histogram:?}");
        check(&buffer);
    }
    let (seen, _) = read_all(&with_histogram(&varint(15, 42))).unwrap();
    assert_eq!(seen[0].3[0].0, 42);
    assert!(
        !seen[0].4,
        "a histogram alone lets the series pass on as it came"
    );
    let bad = [
        // Packed doubles whose length is not a multiple of 8.
        len_field(13, &[0; 9]),
        len_field(16, &[0; 7]),
        // A packed varint cut short.
        len_field(9, &[0x80]),
        // Wrong wire types: count_int as fixed64, sum as varint, a span as varint, timestamp as
        // fixed64, a span's offset as fixed64, deltas as fixed64.
        double(1),
        varint(3, 1),
        varint(8, 1),
        double(15),
        len_field(11, &double(1)),
        double(9),
        // Counts as a varint.
        varint(10, 1),
    ];
    for histogram in bad {
        let buffer = with_histogram(&histogram);
        assert!(read_all(&buffer).is_err(), "{histogram:?}");
        check(&buffer);
    }
}
