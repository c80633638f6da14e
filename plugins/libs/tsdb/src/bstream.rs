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

/// Reads bits from a byte slice through a 64-bit window, so most reads are a compare and two
/// shifts instead of a loop over bytes.
#[derive(Debug, Clone)]
pub(crate) struct BitReader<'a> {
    bytes: &'a [u8],
    /// Index of the first byte not yet loaded into `window`.
    next: usize,
    /// Loaded bits, the next one to read at bit 63. Only the top `valid` bits are owed to the
    /// caller; any set bit below them is already the stream's own bit at that place (a refill
    /// loads whole words but only counts whole bytes), so later refills can simply OR in.
    window: u64,
    /// Unread bits at the top of `window`.
    valid: u8,
}

/// The stream ended before the requested bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EndOfStream;

/// The widest read served from one window; after a refill with at least 8 bytes left the window
/// holds 57 or more bits, and wider reads are split.
const MAX_NARROW: u8 = 56;

impl<'a> BitReader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            next: 0,
            window: 0,
            valid: 0,
        }
    }

    /// Bits consumed so far.
    pub(crate) fn position(&self) -> usize {
        self.next * 8 - usize::from(self.valid)
    }

    /// Bits left, loaded or not.
    fn remaining(&self) -> usize {
        (self.bytes.len() - self.next) * 8 + usize::from(self.valid)
    }

    #[inline]
    pub(crate) fn read_bit(&mut self) -> Result<bool, EndOfStream> {
        if self.valid == 0 {
            self.refill();
            if self.valid == 0 {
                return Err(EndOfStream);
            }
        }
        let bit = self.window >> 63 == 1;
        self.window <<= 1;
        self.valid -= 1;
        Ok(bit)
    }

    pub(crate) fn read_byte(&mut self) -> Result<u8, EndOfStream> {
        // Eight bits always fit in a u8.
        Ok(self.read_bits(8)? as u8)
    }

    /// Reads `nbits` (at most 64) bits, most significant first. On error nothing is consumed.
    #[inline]
    pub(crate) fn read_bits(&mut self, nbits: u8) -> Result<u64, EndOfStream> {
        debug_assert!(nbits <= 64);
        if nbits > MAX_NARROW {
            return self.read_wide(nbits);
        }
        if self.valid < nbits {
            self.refill();
            if self.valid < nbits {
                return Err(EndOfStream);
            }
        }
        // Split shift so that `nbits == 0` yields 0 instead of overflowing the shift.
        let value = (self.window >> 1) >> (63 - nbits);
        self.window <<= nbits;
        self.valid -= nbits;
        Ok(value)
    }

    /// Consumes the next bit if it is a `0` and says whether it did; nothing is consumed at the
    /// end of the stream. The XOR format's common cases are a single `0` bit, and a predicted
    /// branch here is cheaper than a full prefix decode.
    #[inline]
    pub(crate) fn skip_zero(&mut self) -> bool {
        if self.valid == 0 {
            self.refill();
        }
        let zero = self.valid > 0 && self.window >> 63 == 0;
        if zero {
            self.window <<= 1;
            self.valid -= 1;
        }
        zero
    }

    /// Reads a run of up to `max` (at most 8) one bits and the zero ending it, if the run is
    /// shorter than `max`: the variable-length prefixes of the XOR format in one step. Returns
    /// the number of ones.
    #[inline]
    pub(crate) fn read_ones(&mut self, max: u8) -> Result<u8, EndOfStream> {
        debug_assert!(max <= 8);
        if self.valid < max {
            self.refill();
        }
        let ones = (self.window.leading_ones() as u8).min(max);
        let used = ones + u8::from(ones < max);
        // Bits below `valid` may be set (see `window`), so a run that needs more than `valid`
        // bits means the stream ended.
        if used > self.valid {
            return Err(EndOfStream);
        }
        self.window <<= used;
        self.valid -= used;
        Ok(ones)
    }

    /// Reads more bits than one window guarantees, as two reads.
    #[cold]
    fn read_wide(&mut self, nbits: u8) -> Result<u64, EndOfStream> {
        // Check up front so that a failure leaves the reader where it was.
        if self.remaining() < usize::from(nbits) {
            return Err(EndOfStream);
        }
        let high = self.read_bits(nbits - 32)?;
        let low = self.read_bits(32)?;
        Ok((high << 32) | low)
    }

    /// Loads as many whole bytes as fit below the unread bits: one big-endian word while 8 bytes
    /// remain, then byte by byte. Called with `valid <= MAX_NARROW`.
    #[inline]
    fn refill(&mut self) {
        debug_assert!(self.valid <= MAX_NARROW);
        let rest = self.bytes.get(self.next..).unwrap_or_default();
        if let Some(word) = rest.first_chunk::<8>() {
            // The word's bits beyond the bytes counted land below `valid`; see `window`.
            self.window |= u64::from_be_bytes(*word) >> self.valid;
            let added = (64 - self.valid) / 8;
            self.next += usize::from(added);
            self.valid += added * 8;
        } else {
            self.refill_tail(rest);
        }
    }

    /// The last few bytes, one at a time: a word load would run past the slice.
    #[cold]
    fn refill_tail(&mut self, rest: &[u8]) {
        for &byte in rest {
            if self.valid > MAX_NARROW {
                break;
            }
            self.window |= u64::from(byte) << (MAX_NARROW - self.valid);
            self.next += 1;
            self.valid += 8;
        }
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
    use proptest::prelude::*;

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

    #[test]
    fn a_run_of_ones_to_the_end_is_the_end_of_the_stream() {
        let mut r = BitReader::new(&[0xff]);
        assert_eq!(r.read_ones(3), Ok(3));
        assert_eq!(r.read_ones(8), Err(EndOfStream));
        assert_eq!(r.position(), 3);
        assert_eq!(r.read_ones(5), Ok(5));
        let mut r = BitReader::new(&[0xfe]);
        assert_eq!(r.read_ones(8), Ok(7));
        assert_eq!(r.position(), 8);
    }

    /// Reads one `nbits` field the way `how` picks, exercising each entry point of the reader.
    fn read_field(r: &mut BitReader<'_>, nbits: u8, how: u8) -> Result<u64, EndOfStream> {
        match how {
            0 => r.read_bits(nbits),
            1 => (0..nbits).try_fold(0, |acc, _| Ok((acc << 1) | u64::from(r.read_bit()?))),
            2 => (0..nbits).try_fold(0, |acc, _| {
                let bit = !r.skip_zero() && r.read_bit()?;
                Ok((acc << 1) | u64::from(bit))
            }),
            _ => {
                // A prefix run of ones through `read_ones`, the rest as plain bits.
                let max = nbits.min(8);
                let ones = r.read_ones(max)?;
                let (prefix, used) = if ones < max {
                    (low_mask(ones) << 1, ones + 1)
                } else {
                    (low_mask(ones), ones)
                };
                let rest = r.read_bits(nbits - used)?;
                Ok((prefix << (nbits - used)) | rest)
            }
        }
    }

    proptest! {
        #[test]
        fn mixed_reads_return_what_was_written(
            fields in prop::collection::vec((any::<u64>(), 0u8..=64, 0u8..4), 0..40),
        ) {
            let mut w = BitWriter::default();
            for (value, nbits, _) in &fields {
                w.write_bits(*value, *nbits);
            }
            let mut r = BitReader::new(w.bytes());
            for (value, nbits, how) in &fields {
                prop_assert_eq!(read_field(&mut r, *nbits, *how), Ok(value & low_mask(*nbits)));
            }
            let written: usize = fields.iter().map(|(_, nbits, _)| usize::from(*nbits)).sum();
            prop_assert_eq!(r.position(), written);
            // Past the end: every kind of read fails and consumes nothing.
            let left = (w.bytes().len() * 8 - written) as u8;
            prop_assert_eq!(r.read_bits(left + 1), Err(EndOfStream));
            prop_assert_eq!(r.read_bits(64.max(left + 1)), Err(EndOfStream));
            prop_assert_eq!(r.position(), written);
            prop_assert_eq!(r.read_bits(left), Ok(0));
            prop_assert!(!r.skip_zero());
            prop_assert_eq!(r.read_bit(), Err(EndOfStream));
            prop_assert_eq!(r.read_ones(1), Err(EndOfStream));
            prop_assert_eq!(r.position(), written + usize::from(left));
        }
    }
}
