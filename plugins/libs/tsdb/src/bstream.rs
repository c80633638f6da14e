//! Big-endian bit streams, the layout of Prometheus' `tsdb/chunkenc/bstream.go`: bits fill each
//! byte from its most significant bit, and a byte is only appended when the previous one is full.

/// Appends bits to a byte vector.
#[derive(Debug, Clone, Default)]
pub(crate) struct BitWriter {
    bytes: Vec<u8>,
    /// Bits still free in the last byte (0 = the next bit starts a new byte).
    free: u8,
}

impl BitWriter {
    /// Continues writing after `bytes`, whose last byte has `free` unused low bits.
    pub(crate) fn resume(bytes: Vec<u8>, free: u8) -> Self {
        debug_assert!(free < 8, "a byte has at most 7 free bits once started");
        debug_assert!(!bytes.is_empty() || free == 0, "free bits need a byte");
        Self { bytes, free }
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub(crate) fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.bytes
    }

    pub(crate) fn shrink_to_fit(&mut self) {
        self.bytes.shrink_to_fit();
    }

    pub(crate) fn write_bit(&mut self, bit: bool) {
        self.write_bits(u64::from(bit), 1);
    }

    /// Writes a whole byte (Prometheus writes varints byte by byte, not necessarily aligned).
    pub(crate) fn write_byte(&mut self, byte: u8) {
        self.write_bits(u64::from(byte), 8);
    }

    /// Writes the `nbits` low bits of `value`, most significant first.
    pub(crate) fn write_bits(&mut self, value: u64, nbits: u8) {
        debug_assert!(nbits <= 64);
        let mut remaining = nbits;
        while remaining > 0 {
            if self.free == 0 {
                self.bytes.push(0);
                self.free = 8;
            }
            let take = remaining.min(self.free);
            // The `take` bits of `value` just below bit `remaining`.
            let chunk = (value >> (remaining - take)) & low_mask(take);
            let shift = self.free - take;
            if let Some(last) = self.bytes.last_mut() {
                // `chunk < 2^take` and `take + shift <= 8`, so this fits in a byte.
                *last |= (chunk << shift) as u8;
            }
            self.free -= take;
            remaining -= take;
        }
    }
}

fn low_mask(nbits: u8) -> u64 {
    if nbits >= 64 {
        u64::MAX
    } else {
        (1u64 << nbits) - 1
    }
}

/// Reads bits from a byte slice.
#[derive(Debug, Clone)]
pub(crate) struct BitReader<'a> {
    bytes: &'a [u8],
    /// Position in bits from the start of `bytes`.
    pos: usize,
}

/// The stream ended before the requested bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EndOfStream;

impl<'a> BitReader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    /// Bits consumed so far.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    pub(crate) fn read_bit(&mut self) -> Result<bool, EndOfStream> {
        Ok(self.read_bits(1)? == 1)
    }

    pub(crate) fn read_byte(&mut self) -> Result<u8, EndOfStream> {
        // Eight bits always fit in a u8.
        Ok(self.read_bits(8)? as u8)
    }

    /// Reads `nbits` (at most 64) bits, most significant first.
    pub(crate) fn read_bits(&mut self, nbits: u8) -> Result<u64, EndOfStream> {
        debug_assert!(nbits <= 64);
        if self.pos + usize::from(nbits) > self.bytes.len() * 8 {
            return Err(EndOfStream);
        }
        let mut value = 0u64;
        let mut remaining = nbits;
        while remaining > 0 {
            let byte = self.bytes[self.pos / 8];
            let used = (self.pos % 8) as u8;
            let available = 8 - used;
            let take = remaining.min(available);
            let bits = (u64::from(byte) >> (available - take)) & low_mask(take);
            value = (value << take) | bits;
            self.pos += usize::from(take);
            remaining -= take;
        }
        Ok(value)
    }

    /// Go's `binary.ReadUvarint`: little-endian base-128 groups.
    pub(crate) fn read_uvarint(&mut self) -> Result<u64, EndOfStream> {
        let mut value = 0u64;
        for shift in (0..70).step_by(7) {
            let byte = self.read_byte()?;
            if shift == 63 && byte > 1 {
                // More than 64 bits: corrupt.
                return Err(EndOfStream);
            }
            value |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Ok(value);
            }
        }
        Err(EndOfStream)
    }

    /// Go's `binary.ReadVarint`: a zig-zag encoded uvarint.
    pub(crate) fn read_varint(&mut self) -> Result<i64, EndOfStream> {
        let zigzag = self.read_uvarint()?;
        Ok(((zigzag >> 1) as i64) ^ -((zigzag & 1) as i64))
    }
}

/// Go's `binary.PutUvarint`.
pub(crate) fn write_uvarint(w: &mut BitWriter, mut value: u64) {
    while value >= 0x80 {
        w.write_byte((value as u8) | 0x80);
        value >>= 7;
    }
    w.write_byte(value as u8);
}

/// Go's `binary.PutVarint`: zig-zag, then uvarint.
pub(crate) fn write_varint(w: &mut BitWriter, value: i64) {
    let zigzag = ((value << 1) ^ (value >> 63)) as u64;
    write_uvarint(w, zigzag);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_fill_bytes_from_the_top() {
        let mut w = BitWriter::default();
        w.write_bits(0b101, 3);
        w.write_bits(0b11111, 5);
        w.write_bit(true);
        assert_eq!(w.bytes(), &[0b1011_1111, 0b1000_0000]);
        let mut r = BitReader::new(w.bytes());
        assert_eq!(r.read_bits(3), Ok(0b101));
        assert_eq!(r.read_bits(5), Ok(0b11111));
        assert_eq!(r.read_bit(), Ok(true));
        assert_eq!(r.position(), 9);
    }

    #[test]
    fn unaligned_64_bit_values_round_trip() {
        let mut w = BitWriter::default();
        w.write_bit(true);
        w.write_bits(u64::MAX - 5, 64);
        w.write_bits(0x1234, 14);
        let mut r = BitReader::new(w.bytes());
        assert_eq!(r.read_bit(), Ok(true));
        assert_eq!(r.read_bits(64), Ok(u64::MAX - 5));
        assert_eq!(r.read_bits(14), Ok(0x1234));
    }

    #[test]
    fn varints_match_go_encoding() {
        let mut w = BitWriter::default();
        write_varint(&mut w, -1); // zig-zag 1
        write_varint(&mut w, 64); // zig-zag 128 = 0x80 0x01
        write_uvarint(&mut w, 300); // 0xac 0x02
        assert_eq!(w.bytes(), &[0x01, 0x80, 0x01, 0xac, 0x02]);
        let mut r = BitReader::new(w.bytes());
        assert_eq!(r.read_varint(), Ok(-1));
        assert_eq!(r.read_varint(), Ok(64));
        assert_eq!(r.read_uvarint(), Ok(300));
        assert_eq!(r.read_bit(), Err(EndOfStream));
    }

    #[test]
    fn extreme_varints_round_trip() {
        for value in [i64::MIN, i64::MAX, 0, -64, 63] {
            let mut w = BitWriter::default();
            write_varint(&mut w, value);
            assert_eq!(BitReader::new(w.bytes()).read_varint(), Ok(value));
        }
    }
}
