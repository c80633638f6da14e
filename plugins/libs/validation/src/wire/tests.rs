//! The zero-copy reader against prost's decoding of the same bytes.

use proptest::prelude::*;

use super::*;
use crate::remote_write::{Exemplar, Label, MetricType, Sample, TimeSeries, WriteRequest};
use mimir_proto::wire::{END_GROUP, FIXED32, START_GROUP};

/// What the reader saw, per series: labels, samples as (timestamp, value bits), exemplar and
/// histogram counts, whether other fields were present; plus the metadata.
type Seen = (
    Vec<(Vec<(Vec<u8>, Vec<u8>)>, Vec<(i64, u64)>, usize, usize, bool)>,
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
            view.histograms,
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
                series.histograms.len(),
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
        prop::collection::vec(prop::collection::vec(any::<u8>(), 0..4), 0..2),
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
            prop_assert_eq!(
                got.4,
                !sent.exemplars.is_empty() || !sent.histograms.is_empty()
            );
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
