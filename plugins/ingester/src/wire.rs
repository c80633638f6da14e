//! Reads a protobuf `PushRequest` without building it: label names and values are borrowed slices
//! of the payload and samples go into a reused buffer, so a push allocates nothing per series.
//! The ingester's profile was a third protobuf decoding before this; the message layout is
//! `mimir.ingester.v1.PushRequest` (see `proto/proto/ingester.proto`) and unknown fields are
//! skipped as protobuf requires.

use mimir_proto::Message;
use mimir_proto::ingester::MetricMetadata;

/// Why a payload could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed push request: {0}")]
pub struct WireError(&'static str);

const VARINT: u8 = 0;
const FIXED64: u8 = 1;
const LEN: u8 = 2;
const FIXED32: u8 = 5;

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    #[inline]
    fn varint(&mut self) -> Result<u64, WireError> {
        // Keys, lengths of short strings and small numbers: one byte.
        if let Some((&byte, rest)) = self.bytes.split_first()
            && byte < 0x80
        {
            self.bytes = rest;
            return Ok(u64::from(byte));
        }
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = self
                .bytes
                .split_first()
                .ok_or(WireError("truncated varint"))?;
            self.bytes = rest;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(WireError("varint too long"))
    }

    #[inline]
    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if self.bytes.len() < n {
            return Err(WireError("truncated field"));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    /// The next field's number and wire type.
    #[inline]
    fn key(&mut self) -> Result<(u64, u8), WireError> {
        let key = self.varint()?;
        Ok((key >> 3, (key & 7) as u8))
    }

    #[inline]
    fn len_delimited(&mut self) -> Result<&'a [u8], WireError> {
        let len = usize::try_from(self.varint()?).map_err(|_| WireError("length too large"))?;
        self.take(len)
    }

    fn skip(&mut self, wire_type: u8) -> Result<(), WireError> {
        match wire_type {
            VARINT => self.varint().map(|_| ()),
            FIXED64 => self.take(8).map(|_| ()),
            LEN => self.len_delimited().map(|_| ()),
            FIXED32 => self.take(4).map(|_| ()),
            _ => Err(WireError("unsupported wire type")),
        }
    }
}

/// One series of a push, borrowed from the payload.
#[derive(Debug, Default)]
pub struct SeriesView<'a> {
    /// (name, value) as sent: sorted by name and UTF-8 when the distributor sent them.
    pub labels: Vec<(&'a [u8], &'a [u8])>,
    pub samples: Vec<(i64, f64)>,
}

fn read_series<'a>(bytes: &'a [u8], view: &mut SeriesView<'a>) -> Result<(), WireError> {
    view.labels.clear();
    view.samples.clear();
    let mut reader = Reader { bytes };
    while !reader.is_empty() {
        match reader.key()? {
            (1, LEN) => {
                let mut pair = Reader {
                    bytes: reader.len_delimited()?,
                };
                let (mut name, mut value): (&[u8], &[u8]) = (&[], &[]);
                while !pair.is_empty() {
                    match pair.key()? {
                        (1, LEN) => name = pair.len_delimited()?,
                        (2, LEN) => value = pair.len_delimited()?,
                        (_, wire_type) => pair.skip(wire_type)?,
                    }
                }
                view.labels.push((name, value));
            }
            (2, LEN) => {
                let mut sample = Reader {
                    bytes: reader.len_delimited()?,
                };
                let (mut timestamp, mut value) = (0i64, 0f64);
                while !sample.is_empty() {
                    match sample.key()? {
                        (2, VARINT) => timestamp = sample.varint()? as i64,
                        (1, FIXED64) => {
                            let raw: [u8; 8] = sample
                                .take(8)?
                                .try_into()
                                .map_err(|_| WireError("truncated double"))?;
                            value = f64::from_le_bytes(raw);
                        }
                        (_, wire_type) => sample.skip(wire_type)?,
                    }
                }
                view.samples.push((timestamp, value));
            }
            (_, wire_type) => reader.skip(wire_type)?,
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
    let mut reader = Reader { bytes: payload };
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
            (_, wire_type) => reader.skip(wire_type)?,
        }
    }
    Ok(metadata)
}

#[cfg(test)]
mod tests {
    use mimir_proto::ingester::{LabelPair, PushRequest, Sample, Series};
    use proptest::prelude::*;

    use super::*;

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
        let series = (
            prop::collection::vec(label, 0..5),
            prop::collection::vec(sample, 0..4),
        )
            .prop_map(|(labels, samples)| Series { labels, samples });
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
