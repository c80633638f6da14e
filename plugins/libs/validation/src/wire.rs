//! Reads a decompressed remote-write 1.0 `prometheus.WriteRequest` without building it: label
//! names and values are borrowed slices of the buffer and each series is handed to a callback in
//! reused buffers, so reading allocates nothing per series or label. It accepts exactly what
//! prost's decoding of [`WriteRequest`](crate::WriteRequest) accepts (the tests compare both):
//! wire types are checked for known fields, unknown fields (groups included) are skipped, a
//! repeated scalar field keeps its last value, exemplars are read through to be checked, and
//! native histograms (field 4) are checked field by field and kept as their message bytes (with
//! their timestamp), to be passed on to ingesters as they came. Metadata entries, rare and small,
//! are decoded with prost.

use mimir_proto::wire::{FIXED64, LEN, RECURSION_LIMIT, Reader, VARINT, WireError};
use prost::Message as _;

use crate::remote_write::MetricMetadata;

fn expect(wire_type: u8, expected: u8) -> Result<(), WireError> {
    if wire_type == expected {
        Ok(())
    } else {
        Err(WireError("invalid wire type"))
    }
}

/// One series of a request, borrowed from the buffer; the vectors are reused between series.
#[derive(Debug, Default)]
pub(crate) struct SeriesView<'a> {
    /// (name, value) in request order.
    pub(crate) labels: Vec<(&'a [u8], &'a [u8])>,
    /// (timestamp in ms, value) in request order.
    pub(crate) samples: Vec<(i64, f64)>,
    pub(crate) exemplars: usize,
    /// (timestamp in ms, encoded `prometheus.Histogram` message) in request order.
    pub(crate) histograms: Vec<(i64, &'a [u8])>,
    /// The encoded `prometheus.TimeSeries` message.
    pub(crate) encoded: &'a [u8],
    /// Whether `encoded` has fields other than labels (1), samples (2) and histograms (4).
    pub(crate) other_fields: bool,
}

/// A `prometheus.Label`; `depth` is the recursion budget of its fields.
fn read_label(bytes: &[u8], depth: u32) -> Result<(&[u8], &[u8]), WireError> {
    let mut reader = Reader::new(bytes);
    let (mut name, mut value): (&[u8], &[u8]) = (&[], &[]);
    while !reader.is_empty() {
        match reader.key()? {
            (1, wire_type) => {
                expect(wire_type, LEN)?;
                name = reader.len_delimited()?;
            }
            (2, wire_type) => {
                expect(wire_type, LEN)?;
                value = reader.len_delimited()?;
            }
            (field, wire_type) => reader.skip(field, wire_type, depth)?,
        }
    }
    Ok((name, value))
}

/// A `prometheus.Sample` as (timestamp, value).
fn read_sample(bytes: &[u8], depth: u32) -> Result<(i64, f64), WireError> {
    let mut reader = Reader::new(bytes);
    let (mut timestamp, mut value) = (0i64, 0f64);
    while !reader.is_empty() {
        match reader.key()? {
            (1, wire_type) => {
                expect(wire_type, FIXED64)?;
                value = f64::from_le_bytes(reader.fixed64()?);
            }
            (2, wire_type) => {
                expect(wire_type, VARINT)?;
                timestamp = reader.varint()? as i64;
            }
            (field, wire_type) => reader.skip(field, wire_type, depth)?,
        }
    }
    Ok((timestamp, value))
}

/// A `prometheus.Exemplar`, read only to be checked (exemplars are dropped).
fn check_exemplar(bytes: &[u8], depth: u32) -> Result<(), WireError> {
    let mut reader = Reader::new(bytes);
    while !reader.is_empty() {
        match reader.key()? {
            (1, wire_type) => {
                expect(wire_type, LEN)?;
                read_label(reader.len_delimited()?, depth - 1)?;
            }
            (2, wire_type) => {
                expect(wire_type, FIXED64)?;
                reader.fixed64()?;
            }
            (3, wire_type) => {
                expect(wire_type, VARINT)?;
                reader.varint()?;
            }
            (field, wire_type) => reader.skip(field, wire_type, depth)?,
        }
    }
    Ok(())
}

/// A `prometheus.BucketSpan`, read only to be checked.
fn check_span(bytes: &[u8], depth: u32) -> Result<(), WireError> {
    let mut reader = Reader::new(bytes);
    while !reader.is_empty() {
        match reader.key()? {
            (1 | 2, wire_type) => {
                expect(wire_type, VARINT)?;
                reader.varint()?;
            }
            (field, wire_type) => reader.skip(field, wire_type, depth)?,
        }
    }
    Ok(())
}

/// A repeated `sint64` (varint) or `double` (fixed64) field, packed or not, as prost reads it.
fn check_repeated(reader: &mut Reader<'_>, wire_type: u8, element: u8) -> Result<(), WireError> {
    if wire_type == LEN {
        let mut packed = Reader::new(reader.len_delimited()?);
        while !packed.is_empty() {
            if element == VARINT {
                packed.varint()?;
            } else {
                packed.fixed64()?;
            }
        }
        return Ok(());
    }
    expect(wire_type, element)?;
    if element == VARINT {
        reader.varint()?;
    } else {
        reader.fixed64()?;
    }
    Ok(())
}

/// A `prometheus.Histogram`, checked as prost would decode it; returns its timestamp.
fn read_histogram(bytes: &[u8], depth: u32) -> Result<i64, WireError> {
    let mut reader = Reader::new(bytes);
    let mut timestamp = 0i64;
    while !reader.is_empty() {
        match reader.key()? {
            // count_int, schema, zero_count_int, reset_hint.
            (1 | 4 | 6 | 14, wire_type) => {
                expect(wire_type, VARINT)?;
                reader.varint()?;
            }
            // count_float, sum, zero_threshold, zero_count_float.
            (2 | 3 | 5 | 7, wire_type) => {
                expect(wire_type, FIXED64)?;
                reader.fixed64()?;
            }
            // Spans.
            (8 | 11, wire_type) => {
                expect(wire_type, LEN)?;
                check_span(reader.len_delimited()?, depth - 1)?;
            }
            // Deltas.
            (9 | 12, wire_type) => check_repeated(&mut reader, wire_type, VARINT)?,
            // Counts and custom values.
            (10 | 13 | 16, wire_type) => check_repeated(&mut reader, wire_type, FIXED64)?,
            (15, wire_type) => {
                expect(wire_type, VARINT)?;
                timestamp = reader.varint()? as i64;
            }
            (field, wire_type) => reader.skip(field, wire_type, depth)?,
        }
    }
    Ok(timestamp)
}

/// A `prometheus.TimeSeries` into `view`; `depth` is the recursion budget of its fields.
fn read_series<'a>(
    bytes: &'a [u8],
    depth: u32,
    view: &mut SeriesView<'a>,
) -> Result<(), WireError> {
    view.labels.clear();
    view.samples.clear();
    view.exemplars = 0;
    view.histograms.clear();
    view.encoded = bytes;
    view.other_fields = false;
    let mut reader = Reader::new(bytes);
    while !reader.is_empty() {
        match reader.key()? {
            (1, wire_type) => {
                expect(wire_type, LEN)?;
                view.labels
                    .push(read_label(reader.len_delimited()?, depth - 1)?);
            }
            (2, wire_type) => {
                expect(wire_type, LEN)?;
                view.samples
                    .push(read_sample(reader.len_delimited()?, depth - 1)?);
            }
            (3, wire_type) => {
                expect(wire_type, LEN)?;
                check_exemplar(reader.len_delimited()?, depth - 1)?;
                view.exemplars += 1;
                view.other_fields = true;
            }
            (4, wire_type) => {
                expect(wire_type, LEN)?;
                let histogram = reader.len_delimited()?;
                let timestamp = read_histogram(histogram, depth - 1)?;
                view.histograms.push((timestamp, histogram));
            }
            (field, wire_type) => {
                reader.skip(field, wire_type, depth)?;
                view.other_fields = true;
            }
        }
    }
    Ok(())
}

/// Reads `buffer` as a `prometheus.WriteRequest`: calls `each` with every series in order (a
/// view valid during the call) and returns the metadata entries. An error means the whole buffer
/// is not a `WriteRequest`; `each` may have seen some series by then.
pub(crate) fn read_write_request<'a>(
    buffer: &'a [u8],
    mut each: impl FnMut(&mut SeriesView<'a>),
) -> Result<Vec<MetricMetadata>, WireError> {
    let mut reader = Reader::new(buffer);
    let mut view = SeriesView::default();
    let mut metadata = Vec::new();
    while !reader.is_empty() {
        match reader.key()? {
            (1, wire_type) => {
                expect(wire_type, LEN)?;
                read_series(reader.len_delimited()?, RECURSION_LIMIT - 1, &mut view)?;
                each(&mut view);
            }
            (3, wire_type) => {
                expect(wire_type, LEN)?;
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
mod tests;
