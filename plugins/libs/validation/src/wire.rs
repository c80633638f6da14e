//! Reads a decompressed remote-write 1.0 `prometheus.WriteRequest` without building it: label
//! names and values are borrowed slices of the buffer and each series is handed to a callback in
//! reused buffers, so reading allocates nothing per series or label. It accepts exactly what
//! prost's decoding of [`WriteRequest`](crate::WriteRequest) accepts (the tests compare both):
//! wire types are checked for known fields, unknown fields (groups included) are skipped, a
//! repeated scalar field keeps its last value, exemplars are read through to be checked, and
//! native histograms (field 4) are taken as opaque bytes. Metadata entries, rare and small, are
//! decoded with prost.

use prost::Message as _;

use crate::remote_write::MetricMetadata;

/// Why a buffer is not a `WriteRequest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WireError(pub(crate) &'static str);

const VARINT: u8 = 0;
const FIXED64: u8 = 1;
const LEN: u8 = 2;
const START_GROUP: u8 = 3;
const END_GROUP: u8 = 4;
const FIXED32: u8 = 5;

/// prost's recursion limit: the depth budget of the request's top-level fields.
const RECURSION_LIMIT: u32 = 100;

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// A varint as prost reads it: at most ten bytes, the tenth at most 1.
    #[inline(always)]
    fn varint(&mut self) -> Result<u64, WireError> {
        if let Some((&byte, rest)) = self.bytes.split_first()
            && byte < 0x80
        {
            self.bytes = rest;
            return Ok(u64::from(byte));
        }
        self.long_varint()
    }

    /// [`Reader::varint`] of more than one byte (or none).
    #[inline(never)]
    fn long_varint(&mut self) -> Result<u64, WireError> {
        let mut value = 0u64;
        for (index, &byte) in self.bytes.iter().take(10).enumerate() {
            if index == 9 && byte > 1 {
                return Err(WireError("invalid varint"));
            }
            value |= u64::from(byte & 0x7f) << (7 * index);
            if byte < 0x80 {
                self.bytes = &self.bytes[index + 1..];
                return Ok(value);
            }
        }
        Err(WireError("invalid varint"))
    }

    #[inline]
    fn take(&mut self, len: usize) -> Result<&'a [u8], WireError> {
        if self.bytes.len() < len {
            return Err(WireError("buffer underflow"));
        }
        let (head, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        Ok(head)
    }

    #[inline]
    fn fixed64(&mut self) -> Result<[u8; 8], WireError> {
        let Some((head, rest)) = self.bytes.split_first_chunk::<8>() else {
            return Err(WireError("buffer underflow"));
        };
        self.bytes = rest;
        Ok(*head)
    }

    /// The next field's number and wire type, checked as prost checks them.
    #[inline]
    fn key(&mut self) -> Result<(u32, u8), WireError> {
        let key = self.varint()?;
        let key = u32::try_from(key).map_err(|_| WireError("invalid key value"))?;
        let wire_type = (key & 7) as u8;
        if wire_type > FIXED32 {
            return Err(WireError("invalid wire type value"));
        }
        let field = key >> 3;
        if field == 0 {
            return Err(WireError("invalid tag value: 0"));
        }
        Ok((field, wire_type))
    }

    #[inline]
    fn len_delimited(&mut self) -> Result<&'a [u8], WireError> {
        let len = self.varint()?;
        if len > self.bytes.len() as u64 {
            return Err(WireError("buffer underflow"));
        }
        self.take(len as usize)
    }

    /// Skips an unknown field as prost's `skip_field` does, `depth` being its recursion budget.
    fn skip(&mut self, field: u32, wire_type: u8, depth: u32) -> Result<(), WireError> {
        if depth == 0 {
            return Err(WireError("recursion limit reached"));
        }
        match wire_type {
            VARINT => self.varint().map(|_| ()),
            FIXED64 => self.take(8).map(|_| ()),
            LEN => self.len_delimited().map(|_| ()),
            FIXED32 => self.take(4).map(|_| ()),
            START_GROUP => loop {
                let (inner, inner_type) = self.key()?;
                if inner_type == END_GROUP {
                    if inner != field {
                        return Err(WireError("unexpected end group tag"));
                    }
                    return Ok(());
                }
                self.skip(inner, inner_type, depth - 1)?;
            },
            _ => Err(WireError("unexpected end group tag")),
        }
    }
}

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
    pub(crate) histograms: usize,
    /// The encoded `prometheus.TimeSeries` message.
    pub(crate) encoded: &'a [u8],
    /// Whether `encoded` has fields other than labels (1) and samples (2).
    pub(crate) other_fields: bool,
}

/// A `prometheus.Label`; `depth` is the recursion budget of its fields.
fn read_label(bytes: &[u8], depth: u32) -> Result<(&[u8], &[u8]), WireError> {
    let mut reader = Reader { bytes };
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
    let mut reader = Reader { bytes };
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
    let mut reader = Reader { bytes };
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

/// A `prometheus.TimeSeries` into `view`; `depth` is the recursion budget of its fields.
fn read_series<'a>(
    bytes: &'a [u8],
    depth: u32,
    view: &mut SeriesView<'a>,
) -> Result<(), WireError> {
    view.labels.clear();
    view.samples.clear();
    view.exemplars = 0;
    view.histograms = 0;
    view.encoded = bytes;
    view.other_fields = false;
    let mut reader = Reader { bytes };
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
                reader.len_delimited()?;
                view.histograms += 1;
                view.other_fields = true;
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
    let mut reader = Reader { bytes: buffer };
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
