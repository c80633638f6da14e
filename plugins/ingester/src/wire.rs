//! Reads a protobuf `PushRequest` without building it: label names and values are borrowed slices
//! of the payload and samples go into a reused buffer, so a push allocates nothing per series.
//! The ingester's profile was a third protobuf decoding before this; the message layout is
//! `mimir.ingester.v1.PushRequest` (see `proto/proto/ingester.proto`), walked with
//! [`mimir_proto::wire::Reader`]; unknown fields (groups included) are skipped as protobuf requires.

use mimir_proto::Message;
use mimir_proto::ingester::MetricMetadata;
use mimir_proto::wire::{self, FIXED64, LEN, RECURSION_LIMIT, Reader, VARINT};

/// Why a payload could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed push request: {0}")]
pub struct WireError(&'static str);

impl From<wire::WireError> for WireError {
    fn from(error: wire::WireError) -> Self {
        WireError(error.0)
    }
}

/// One series of a push, borrowed from the payload.
#[derive(Debug, Default)]
pub struct SeriesView<'a> {
    /// (name, value) as sent: sorted by name and UTF-8 when the distributor sent them.
    pub labels: Vec<(&'a [u8], &'a [u8])>,
    pub samples: Vec<(i64, f64)>,
    /// The encoded `Histogram` messages (field 4), as sent; see `histograms::canonical`.
    pub histograms: Vec<&'a [u8]>,
}

fn read_series<'a>(bytes: &'a [u8], view: &mut SeriesView<'a>) -> Result<(), WireError> {
    view.labels.clear();
    view.samples.clear();
    view.histograms.clear();
    let mut reader = Reader::new(bytes);
    while !reader.is_empty() {
        match reader.key()? {
            (1, LEN) => {
                let mut pair = Reader::new(reader.len_delimited()?);
                let (mut name, mut value): (&[u8], &[u8]) = (&[], &[]);
                while !pair.is_empty() {
                    match pair.key()? {
                        (1, LEN) => name = pair.len_delimited()?,
                        (2, LEN) => value = pair.len_delimited()?,
                        (field, wire_type) => pair.skip(field, wire_type, RECURSION_LIMIT)?,
                    }
                }
                view.labels.push((name, value));
            }
            (2, LEN) => {
                let mut sample = Reader::new(reader.len_delimited()?);
                let (mut timestamp, mut value) = (0i64, 0f64);
                while !sample.is_empty() {
                    match sample.key()? {
                        (2, VARINT) => timestamp = sample.varint()? as i64,
                        (1, FIXED64) => {
                            value = f64::from_le_bytes(sample.fixed64()?);
                        }
                        (field, wire_type) => sample.skip(field, wire_type, RECURSION_LIMIT)?,
                    }
                }
                view.samples.push((timestamp, value));
            }
            (4, LEN) => view.histograms.push(reader.len_delimited()?),
            (field, wire_type) => reader.skip(field, wire_type, RECURSION_LIMIT)?,
        }
    }
    Ok(())
}

/// Calls `each` with every series of the push in order (its index and a borrowed view, valid
/// during the call), and returns the push's metadata.
pub fn for_each_series<'a>(
    payload: &'a [u8],
    mut each: impl FnMut(usize, &SeriesView<'a>),
) -> Result<Vec<MetricMetadata>, WireError> {
    let mut reader = Reader::new(payload);
    let mut view = SeriesView::default();
    let mut metadata = Vec::new();
    let mut index = 0;
    while !reader.is_empty() {
        match reader.key()? {
            (1, LEN) => {
                read_series(reader.len_delimited()?, &mut view)?;
                each(index, &view);
                index += 1;
            }
            (2, LEN) => {
                let entry = MetricMetadata::decode(reader.len_delimited()?)
                    .map_err(|_| WireError("malformed metadata"))?;
                metadata.push(entry);
            }
            (field, wire_type) => reader.skip(field, wire_type, RECURSION_LIMIT)?,
        }
    }
    Ok(metadata)
}

#[cfg(test)]
mod tests {
    use mimir_proto::ingester::{BucketSpan, Histogram, LabelPair, PushRequest, Sample, Series};
    use proptest::prelude::*;

    use super::*;
    use mimir_proto::wire::{END_GROUP, START_GROUP};

    fn read_all(payload: &[u8]) -> Result<(Vec<Series>, Vec<MetricMetadata>), WireError> {
        let mut series = Vec::new();
        let metadata = for_each_series(payload, |_, view| {
            series.push(Series {
                labels: view
                    .labels
                    .iter()
                    .map(|(n, v)| LabelPair {
                        name: n.to_vec().into(),
                        value: v.to_vec().into(),
                    })
                    .collect(),
                samples: view
                    .samples
                    .iter()
                    .map(|(t, v)| Sample {
                        timestamp_ms: *t,
                        value: *v,
                    })
                    .collect(),
                histograms: view
                    .histograms
                    .iter()
                    .map(|h| Histogram::decode(*h).expect("prost reads it"))
                    .collect(),
                ..Series::default()
            });
        })?;
        Ok((series, metadata))
    }

    fn request() -> impl Strategy<Value = PushRequest> {
        let label = ("[a-z_]{0,6}", "[ -~]{0,8}").prop_map(|(n, v)| LabelPair {
            name: n.into_bytes().into(),
            value: v.into_bytes().into(),
        });
        let sample = (any::<i64>(), any::<f64>()).prop_map(|(t, v)| Sample {
            timestamp_ms: t,
            value: v,
        });
        let histogram = (
            any::<i64>(),
            any::<i32>(),
            prop::collection::vec(any::<i64>(), 0..3),
        )
            .prop_map(|(timestamp, offset, deltas)| Histogram {
                timestamp,
                schema: 3,
                positive_spans: vec![BucketSpan {
                    offset,
                    length: deltas.len() as u32,
                }],
                positive_deltas: deltas,
                ..Histogram::default()
            });
        let series = (
            prop::collection::vec(label, 0..5),
            prop::collection::vec(sample, 0..4),
            prop::collection::vec(histogram, 0..3),
        )
            .prop_map(|(labels, samples, histograms)| Series {
                labels,
                samples,
                histograms,
                ..Series::default()
            });
        (
            prop::collection::vec(series, 0..6),
            prop::collection::vec("[a-z]{0,5}", 0..2),
        )
            .prop_map(|(series, names)| PushRequest {
                series,
                metadata: names
                    .into_iter()
                    .map(|name| MetricMetadata {
                        metric_family_name: name,
                        ..MetricMetadata::default()
                    })
                    .collect(),
            })
    }

    fn same_f64(a: f64, b: f64) -> bool {
        a.to_bits() == b.to_bits()
    }

    #[test]
    fn groups_in_a_series_passed_on_as_it_came_are_skipped() {
        // Series{labels: [{name: "a", <group 9 {field 1: 5}>, value: "b"}],
        //        samples: [{value: 1.5, <group 7 {}>, timestamp: 3}]}
        let group = |field: u8, body: &[u8]| {
            let mut out = vec![(field << 3) | START_GROUP];
            out.extend_from_slice(body);
            out.push((field << 3) | END_GROUP);
            out
        };
        let label = [
            &[0x0a, 1, b'a'][..],
            &group(9, &[0x08, 5]),
            &[0x12, 1, b'b'],
        ]
        .concat();
        let mut sample = vec![0x09];
        sample.extend_from_slice(&1.5f64.to_le_bytes());
        sample.extend(group(7, &[]));
        sample.extend([0x10, 3]);
        let mut series = vec![0x0a, label.len() as u8];
        series.extend(&label);
        series.extend([0x12, sample.len() as u8]);
        series.extend(&sample);
        let mut push = vec![0x0a, series.len() as u8];
        push.extend(&series);
        let (read, _) = read_all(&push).unwrap();
        assert_eq!(read, PushRequest::decode(push.as_slice()).unwrap().series);
        assert_eq!(read[0].samples[0].timestamp_ms, 3);

        let unterminated = [&[0x0a, 3][..], &[(9 << 3) | START_GROUP, 0x08, 5]].concat();
        assert!(read_all(&unterminated).is_err());
    }

    proptest! {
        #[test]
        fn reads_what_prost_writes(sent in request()) {
            let encoded = sent.encode_to_vec();
            // Compare with prost's own reading (proto3 does not keep -0.0, for one).
            let push = PushRequest::decode(encoded.as_slice()).unwrap();
            let (series, metadata) = read_all(&encoded).unwrap();
            prop_assert_eq!(metadata, push.metadata.clone());
            prop_assert_eq!(series.len(), push.series.len());
            for (got, sent) in series.iter().zip(&push.series) {
                prop_assert_eq!(&got.labels, &sent.labels);
                prop_assert_eq!(got.samples.len(), sent.samples.len());
                for (a, b) in got.samples.iter().zip(&sent.samples) {
                    prop_assert_eq!(a.timestamp_ms, b.timestamp_ms);
                    prop_assert!(same_f64(a.value, b.value));
                }
                prop_assert_eq!(&got.histograms, &sent.histograms);
            }
        }

        #[test]
        fn never_panics_on_garbage(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
            let _ = read_all(&bytes);
        }

        #[test]
        fn agrees_with_prost_on_truncation(push in request(), cut in 0usize..512) {
            let encoded = push.encode_to_vec();
            let cut = cut.min(encoded.len());
            let ours = read_all(&encoded[..cut]).is_ok();
            let theirs = PushRequest::decode(&encoded[..cut]).is_ok();
            // Whatever prost refuses we refuse too (we may also refuse a few it accepts, never
            // the reverse on well-formed prefixes).
            if !theirs {
                prop_assert!(!ours);
            }
        }
    }
}
