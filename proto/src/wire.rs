//! A cursor over protobuf wire data that reads fields without building messages, checking what
//! prost checks (ten-byte varints, wire types, tag 0, group nesting) with prost's error texts. The
//! remote-write reader of `mimir-validation` and the ingester's push reader both walk their
//! messages with it, so neither allocates per field. The `put_*` functions are the other way:
//! the distributor's push requests and the ingester's query replies are written with them,
//! straight from the data, without building messages.

/// Why bytes are not valid protobuf, in prost's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireError(pub &'static str);

pub const VARINT: u8 = 0;
pub const FIXED64: u8 = 1;
pub const LEN: u8 = 2;
pub const START_GROUP: u8 = 3;
pub const END_GROUP: u8 = 4;
pub const FIXED32: u8 = 5;

/// prost's recursion limit: the depth budget of a message's top-level fields.
pub const RECURSION_LIMIT: u32 = 100;

/// How many bytes `value` takes as a varint.
#[inline]
pub fn varint_len(value: u64) -> usize {
    // One byte per started group of 7 bits, at least one.
    (64 - (value | 1).leading_zeros() as usize).div_ceil(7)
}

/// Appends `value` as a varint.
#[inline]
pub fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Appends the key of field `field` with wire type `wire_type`.
#[inline]
pub fn put_key(out: &mut Vec<u8>, field: u32, wire_type: u8) {
    put_varint(out, u64::from(field << 3 | u32::from(wire_type)));
}

/// Appends a length-delimited field.
#[inline]
pub fn put_len_field(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    put_key(out, field, LEN);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// A cursor over protobuf wire data.
pub struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    #[inline]
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes }
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// A varint as prost reads it: at most ten bytes, the tenth at most 1.
    #[inline(always)]
    pub fn varint(&mut self) -> Result<u64, WireError> {
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
    pub fn take(&mut self, len: usize) -> Result<&'a [u8], WireError> {
        if self.bytes.len() < len {
            return Err(WireError("buffer underflow"));
        }
        let (head, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        Ok(head)
    }

    #[inline]
    pub fn fixed64(&mut self) -> Result<[u8; 8], WireError> {
        let Some((head, rest)) = self.bytes.split_first_chunk::<8>() else {
            return Err(WireError("buffer underflow"));
        };
        self.bytes = rest;
        Ok(*head)
    }

    /// The next field's number and wire type, checked as prost checks them.
    #[inline]
    pub fn key(&mut self) -> Result<(u32, u8), WireError> {
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
    pub fn len_delimited(&mut self) -> Result<&'a [u8], WireError> {
        let len = self.varint()?;
        if len > self.bytes.len() as u64 {
            return Err(WireError("buffer underflow"));
        }
        self.take(len as usize)
    }

    /// Skips an unknown field as prost's `skip_field` does, `depth` being its recursion budget.
    pub fn skip(&mut self, field: u32, wire_type: u8, depth: u32) -> Result<(), WireError> {
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
