//! Gorilla XOR chunks, bit-compatible with Prometheus' `tsdb/chunkenc/xor.go`.
//!
//! Layout (bit fields are written most significant bit first, bytes filled from the top):
//!
//! ```text
//! u16 big-endian sample count
//! sample 0: t as a Go varint (zig-zag), v as 64 raw bits
//! sample 1: t - t0 as a Go uvarint, then the value XOR block
//! sample n: delta-of-delta of t in a bucket, then the value XOR block
//!   dod == 0                  '0'
//!   -(2^13 - 1) ..= 2^13      '10'   + 14 bits
//!   -(2^16 - 1) ..= 2^16      '110'  + 17 bits
//!   -(2^19 - 1) ..= 2^19      '1110' + 20 bits
//!   otherwise                 '1111' + 64 bits
//! value XOR block, x = bits(v) ^ bits(previous v):
//!   x == 0                               '0'
//!   x fits the previous leading/trailing  '10' + the meaningful bits
//!   otherwise                             '11' + 5 bits leading zeros (capped at 31)
//!                                         + 6 bits meaningful length (64 written as 0)
//!                                         + the meaningful bits
//! ```
//!
//! Values are carried as raw bits, so any NaN payload (Prometheus' staleness marker
//! `0x7ff0000000000002` included) round-trips exactly.

use crate::bstream::{BitReader, BitWriter, EndOfStream, write_uvarint, write_varint};
use crate::error::TsdbError;

/// The number of samples after which the head cuts a new chunk (Prometheus' default).
pub const SAMPLES_PER_CHUNK: usize = 120;

/// Prometheus' staleness marker, a NaN that must never be rewritten by arithmetic.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// Marks "no leading/trailing window yet" in the appender, as Prometheus does.
const NO_WINDOW: u8 = 0xff;

/// An XOR-encoded chunk of float samples.
#[derive(Debug, Clone)]
pub struct XorChunk {
    stream: BitWriter,
    /// Appender state: the last sample and the encoding window, as Prometheus' `xorAppender`.
    t: i64,
    v_bits: u64,
    t_delta: u64,
    leading: u8,
    trailing: u8,
}

impl Default for XorChunk {
    fn default() -> Self {
        Self::new()
    }
}

impl XorChunk {
    /// An empty chunk (two zero header bytes).
    pub fn new() -> Self {
        let mut bytes = Vec::with_capacity(128);
        bytes.extend_from_slice(&[0, 0]);
        Self {
            stream: BitWriter::resume(bytes, 0),
            t: 0,
            v_bits: 0,
            t_delta: 0,
            leading: NO_WINDOW,
            trailing: 0,
        }
    }

    /// Opens encoded chunk bytes (for example read from a block) so they can be read and appended to.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, TsdbError> {
        let mut decoder = Decoder::new(&bytes)?;
        while decoder
            .next_sample()
            .map_err(|EndOfStream| corrupt("sample data ends early"))?
            .is_some()
        {}
        let used_bits = 16 + decoder.reader.position();
        if bytes.len() != used_bits.div_ceil(8) {
            return Err(corrupt("trailing bytes after the last sample"));
        }
        let free = ((8 - used_bits % 8) % 8) as u8;
        // Prometheus' `XORChunk.Appender()` takes the iterator's final state, except that an
        // empty chunk starts without a window.
        let leading = if decoder.total == 0 {
            NO_WINDOW
        } else {
            decoder.leading
        };
        let (t, v_bits, t_delta, trailing) =
            (decoder.t, decoder.v_bits, decoder.t_delta, decoder.trailing);
        Ok(Self {
            stream: BitWriter::resume(bytes, free),
            t,
            v_bits,
            t_delta,
            leading,
            trailing,
        })
    }

    /// The encoded bytes, header included.
    pub fn bytes(&self) -> &[u8] {
        self.stream.bytes()
    }

    /// Number of samples held.
    pub fn num_samples(&self) -> usize {
        usize::from(self.count())
    }

    /// Releases spare capacity once the chunk is closed.
    pub fn shrink_to_fit(&mut self) {
        self.stream.shrink_to_fit();
    }

    /// Appends a sample. Timestamps are expected to increase; the caller (the head) enforces it.
    pub fn append(&mut self, t: i64, v: f64) -> Result<(), TsdbError> {
        let num = self.count();
        if num == u16::MAX {
            return Err(TsdbError::ChunkFull);
        }
        let v_bits = v.to_bits();
        let mut t_delta = 0;
        match num {
            0 => {
                write_varint(&mut self.stream, t);
                self.stream.write_bits(v_bits, 64);
            }
            1 => {
                t_delta = t.wrapping_sub(self.t) as u64;
                write_uvarint(&mut self.stream, t_delta);
                self.write_value(v_bits);
            }
            _ => {
                t_delta = t.wrapping_sub(self.t) as u64;
                let dod = t_delta.wrapping_sub(self.t_delta) as i64;
                self.write_dod(dod);
                self.write_value(v_bits);
            }
        }
        self.t = t;
        self.v_bits = v_bits;
        self.t_delta = t_delta;
        self.stream.bytes_mut()[..2].copy_from_slice(&(num + 1).to_be_bytes());
        Ok(())
    }

    /// The samples in order.
    pub fn iter(&self) -> XorIter<'_> {
        XorIter {
            decoder: Decoder::new(self.bytes()).ok(),
        }
    }

    fn count(&self) -> u16 {
        let bytes = self.bytes();
        u16::from_be_bytes([bytes[0], bytes[1]])
    }

    fn write_dod(&mut self, dod: i64) {
        let w = &mut self.stream;
        // Each bucket stores the low bits of the two's complement value.
        if dod == 0 {
            w.write_bit(false);
        } else if fits(dod, 14) {
            w.write_bits(0b10, 2);
            w.write_bits(dod as u64, 14);
        } else if fits(dod, 17) {
            w.write_bits(0b110, 3);
            w.write_bits(dod as u64, 17);
        } else if fits(dod, 20) {
            w.write_bits(0b1110, 4);
            w.write_bits(dod as u64, 20);
        } else {
            w.write_bits(0b1111, 4);
            w.write_bits(dod as u64, 64);
        }
    }

    fn write_value(&mut self, v_bits: u64) {
        let xor = v_bits ^ self.v_bits;
        if xor == 0 {
            self.stream.write_bit(false);
            return;
        }
        self.stream.write_bit(true);
        // Five bits hold the leading count, so it is capped at 31.
        let leading = (xor.leading_zeros() as u8).min(31);
        let trailing = xor.trailing_zeros() as u8;
        if self.leading != NO_WINDOW && leading >= self.leading && trailing >= self.trailing {
            self.stream.write_bit(false);
            let meaningful = 64 - self.leading - self.trailing;
            self.stream.write_bits(xor >> self.trailing, meaningful);
            return;
        }
        self.leading = leading;
        self.trailing = trailing;
        self.stream.write_bit(true);
        self.stream.write_bits(u64::from(leading), 5);
        // 64 meaningful bits do not fit in 6 bits; 0 cannot occur (xor != 0), so 0 stands for 64.
        let meaningful = 64 - leading - trailing;
        self.stream.write_bits(u64::from(meaningful), 6);
        self.stream.write_bits(xor >> trailing, meaningful);
    }
}

/// Whether `x` fits Prometheus' `nbits` bucket: `-(2^(n-1) - 1) ..= 2^(n-1)`.
fn fits(x: i64, nbits: u8) -> bool {
    let half = 1i64 << (nbits - 1);
    -(half - 1) <= x && x <= half
}

fn corrupt(reason: &'static str) -> TsdbError {
    TsdbError::CorruptChunk { reason }
}

/// Iterator over a chunk's samples.
#[derive(Debug, Clone)]
pub struct XorIter<'a> {
    decoder: Option<Decoder<'a>>,
}

impl Iterator for XorIter<'_> {
    type Item = (i64, f64);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let decoder = self.decoder.as_mut()?;
        match decoder.next_sample() {
            Ok(Some((t, v_bits))) => Some((t, f64::from_bits(v_bits))),
            // Chunks are validated when built or opened, so an error here means the bytes were
            // produced by a buggy writer; stop rather than yield garbage.
            Ok(None) | Err(EndOfStream) => {
                self.decoder = None;
                None
            }
        }
    }

    /// At most the samples the header still promises (fewer only for corrupt bytes), so that
    /// collecting a chunk reserves once.
    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self
            .decoder
            .as_ref()
            .map_or(0, |d| usize::from(d.total.saturating_sub(d.read)));
        (0, Some(left))
    }
}

/// Appends to `out` the samples of encoded chunk `bytes` (header included, as
/// [`XorChunk::bytes`] gives them) with `mint <= t <= maxt`, decoding the chunk once. Bytes from
/// elsewhere (a query reply) may be damaged: a chunk that ends before its sample count is an error,
/// and `out` then holds what was decoded before it.
pub fn decode_chunk_into(
    bytes: &[u8],
    mint: i64,
    maxt: i64,
    out: &mut Vec<(i64, f64)>,
) -> Result<(), TsdbError> {
    let mut decoder = Decoder::new(bytes)?;
    out.reserve(usize::from(decoder.total));
    while let Some((t, v_bits)) = decoder
        .next_sample()
        .map_err(|EndOfStream| corrupt("sample data ends early"))?
    {
        if t > maxt {
            break;
        }
        if t >= mint {
            out.push((t, f64::from_bits(v_bits)));
        }
    }
    Ok(())
}

/// Prometheus' `xorIterator`: decodes samples and tracks the state an appender needs.
#[derive(Debug, Clone)]
struct Decoder<'a> {
    reader: BitReader<'a>,
    total: u16,
    read: u16,
    t: i64,
    v_bits: u64,
    t_delta: u64,
    leading: u8,
    trailing: u8,
}

impl<'a> Decoder<'a> {
    fn new(bytes: &'a [u8]) -> Result<Self, TsdbError> {
        let (header, data) = bytes
            .split_first_chunk::<2>()
            .ok_or_else(|| corrupt("missing the 2-byte sample count"))?;
        Ok(Self {
            reader: BitReader::new(data),
            total: u16::from_be_bytes(*header),
            read: 0,
            t: 0,
            v_bits: 0,
            t_delta: 0,
            leading: 0,
            trailing: 0,
        })
    }

    #[inline]
    fn next_sample(&mut self) -> Result<Option<(i64, u64)>, EndOfStream> {
        if self.read == self.total {
            return Ok(None);
        }
        if self.read < 2 {
            self.read_head_sample()?;
        } else {
            let dod = self.read_dod()?;
            self.t_delta = self.t_delta.wrapping_add(dod as u64);
            self.t = self.t.wrapping_add(self.t_delta as i64);
            self.read_value()?;
        }
        self.read += 1;
        Ok(Some((self.t, self.v_bits)))
    }

    /// The first two samples, stored differently from the rest; kept out of the hot loop.
    #[inline(never)]
    fn read_head_sample(&mut self) -> Result<(), EndOfStream> {
        if self.read == 0 {
            self.t = self.reader.read_varint()?;
            self.v_bits = self.reader.read_bits(64)?;
        } else {
            self.t_delta = self.reader.read_uvarint()?;
            self.t = self.t.wrapping_add(self.t_delta as i64);
            self.read_value()?;
        }
        Ok(())
    }

    #[inline]
    fn read_dod(&mut self) -> Result<i64, EndOfStream> {
        // Regular scrapes: dod == 0 is a single '0'.
        if self.reader.skip_zero() {
            return Ok(0);
        }
        // The bucket prefix in one read; it starts with the '1' just seen, so it is never empty.
        let size: u8 = match self.reader.read_ones(4)? {
            1 => 14,
            2 => 17,
            3 => 20,
            _ => return Ok(self.reader.read_bits(64)? as i64),
        };
        let bits = self.reader.read_bits(size)? as i64;
        // Values above 2^(size-1) are negative numbers in `size`-bit two's complement.
        if bits > 1i64 << (size - 1) {
            Ok(bits - (1i64 << size))
        } else {
            Ok(bits)
        }
    }

    #[inline]
    fn read_value(&mut self) -> Result<(), EndOfStream> {
        // The value repeats: a single '0'.
        if self.reader.skip_zero() {
            return Ok(());
        }
        // The '1' just seen (or the end of the stream).
        self.reader.read_bit()?;
        if !self.reader.skip_zero() {
            // '11': a new window. The second '1', the leading count and the meaningful length
            // in one read.
            let header = self.reader.read_bits(12)?;
            let leading = ((header >> 6) & 0x1f) as u8;
            let meaningful = match (header & 0x3f) as u8 {
                0 => 64,
                n => n,
            };
            // A corrupt header could claim more than 64 bits in total.
            self.trailing = 64u8.checked_sub(leading + meaningful).ok_or(EndOfStream)?;
            self.leading = leading;
        }
        // '10' reuses the previous window.
        let meaningful = 64 - self.leading - self.trailing;
        let bits = self.reader.read_bits(meaningful)?;
        self.v_bits ^= bits << self.trailing;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn encode(samples: &[(i64, f64)]) -> XorChunk {
        let mut chunk = XorChunk::new();
        for (t, v) in samples {
            chunk.append(*t, *v).unwrap();
        }
        chunk
    }

    fn bits(samples: impl IntoIterator<Item = (i64, f64)>) -> Vec<(i64, u64)> {
        samples.into_iter().map(|(t, v)| (t, v.to_bits())).collect()
    }

    /// Hand-derived from xor.go for (1000, 1.0), (2000, 1.0), (3000, 2.0):
    ///
    /// ```text
    /// 00 03                    sample count 3
    /// d0 0f                    varint(1000): zig-zag 2000 = 0x7d0 -> 0xd0 0x0f
    /// 3f f0 00 00 00 00 00 00  1.0 as raw bits
    /// e8 07                    uvarint(1000) -> 0xe8 0x07
    /// then bits:
    ///   0                      sample 2 value: xor == 0
    ///   0                      sample 3 dod == 0
    ///   1 1                    value changed, new window (the appender starts with none)
    ///   00001                  leading zeros of 0x3ff0.. ^ 0x4000.. = 0x7ff0..: 1
    ///   001011                 meaningful bits: 64 - 1 - 52 = 11
    ///   11111111111            0x7ff
    /// = 0011_0000 1001_0111 1111_1111 11(00_0000 padding) = 30 97 ff c0
    /// ```
    #[test]
    fn layout_matches_prometheus_xor_encoding() {
        let chunk = encode(&[(1000, 1.0), (2000, 1.0), (3000, 2.0)]);
        let expected: &[u8] = &[
            0x00, 0x03, 0xd0, 0x0f, 0x3f, 0xf0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xe8, 0x07,
            0x30, 0x97, 0xff, 0xc0,
        ];
        assert_eq!(chunk.bytes(), expected);
        assert_eq!(chunk.num_samples(), 3);
    }

    #[test]
    fn empty_chunk_is_two_zero_bytes() {
        let chunk = XorChunk::new();
        assert_eq!(chunk.bytes(), &[0, 0]);
        assert_eq!(chunk.iter().count(), 0);
    }

    #[test]
    fn dod_buckets_round_trip_at_their_edges() {
        // Deltas chosen so successive delta-of-deltas hit each bucket boundary and sign.
        let dods = [
            0i64,
            1,
            -1,
            8192,
            -8191,
            8193,
            -8192,
            65536,
            -65535,
            65537,
            524_288,
            -524_287,
            524_289,
            i64::from(i32::MAX),
        ];
        let mut samples = vec![(0i64, 0.0), (1_000_000_000_000, 1.0)];
        let mut delta = 1_000_000_000_000i64;
        for (i, dod) in dods.iter().enumerate() {
            delta += dod;
            let t = samples[samples.len() - 1].0 + delta;
            samples.push((t, i as f64));
        }
        let chunk = encode(&samples);
        assert_eq!(bits(chunk.iter()), bits(samples.iter().copied()));
    }

    #[test]
    fn stale_marker_round_trips_bit_exactly() {
        let stale = f64::from_bits(STALE_NAN_BITS);
        let samples = [
            (10, 1.5),
            (20, stale),
            (30, 2.5),
            (40, stale),
            (50, f64::NAN),
        ];
        let decoded = bits(encode(&samples).iter());
        assert_eq!(decoded[1].1, STALE_NAN_BITS);
        assert_eq!(decoded[3].1, STALE_NAN_BITS);
        assert_eq!(decoded, bits(samples));
    }

    #[test]
    fn from_bytes_reopens_for_appending() {
        let first: Vec<(i64, f64)> = (0..50).map(|i| (i * 15_000, (i % 7) as f64)).collect();
        let more: Vec<(i64, f64)> = (50..90).map(|i| (i * 15_000 + i, i as f64 * 0.5)).collect();
        let chunk = encode(&first);
        let mut reopened = XorChunk::from_bytes(chunk.bytes().to_vec()).unwrap();
        for (t, v) in &more {
            reopened.append(*t, *v).unwrap();
        }
        let all: Vec<(i64, f64)> = first.iter().chain(&more).copied().collect();
        assert_eq!(bits(reopened.iter()), bits(all.iter().copied()));
        // Continuing without reopening produces the same bytes: the appender state was rebuilt.
        // (This holds once a value window exists; Prometheus itself differs after one sample.)
        assert_eq!(reopened.bytes(), encode(&all).bytes());
    }

    #[test]
    fn from_bytes_rejects_corrupt_input() {
        assert!(XorChunk::from_bytes(vec![0]).is_err());
        let chunk = encode(&[(1, 1.0), (2, 2.0), (3, 4.0)]);
        let mut truncated = chunk.bytes().to_vec();
        truncated.truncate(truncated.len() - 2);
        assert!(XorChunk::from_bytes(truncated).is_err());
        let mut trailing = chunk.bytes().to_vec();
        trailing.push(0);
        assert!(XorChunk::from_bytes(trailing).is_err());
    }

    /// How a generated series moves its timestamp from one sample to the next.
    #[derive(Debug, Clone)]
    enum TimeStep {
        /// The previous delta again: dod == 0.
        SameDelta,
        /// The previous delta plus this dod.
        Dod(i64),
        /// A fresh delta.
        Delta(i64),
        /// Any timestamp at all, backwards and wrapping included: the appender does not care.
        Anywhere(i64),
    }

    /// How a generated series moves its value.
    #[derive(Debug, Clone)]
    enum ValueStep {
        Same,
        /// XOR a run of `len` bits at `shift`, moving the leading/trailing window around.
        Flip {
            len: u8,
            shift: u8,
        },
        /// Counter-like arithmetic.
        Add(u16),
        Bits(u64),
    }

    /// Bit patterns the encoder must carry untouched.
    const SPECIAL_VALUES: [u64; 12] = [
        0,                     // 0.0
        0x8000_0000_0000_0000, // -0.0
        0x7ff8_0000_0000_0000, // the usual quiet NaN
        STALE_NAN_BITS,
        0xfff8_0000_0000_0001, // negative NaN with a payload
        0x7ff0_0000_0000_0001, // signalling NaN
        u64::MAX,              // all-ones NaN
        0x7ff0_0000_0000_0000, // +inf
        0xfff0_0000_0000_0000, // -inf
        1,                     // smallest subnormal
        0x3ff0_0000_0000_0000, // 1.0
        0x7fef_ffff_ffff_ffff, // f64::MAX
    ];

    fn time_step() -> impl Strategy<Value = TimeStep> {
        // Bucket edges of the dod encoding and small jitter around zero.
        let edges = prop::sample::select(vec![
            1i64,
            -1,
            8192,
            -8191,
            8193,
            -8192,
            65536,
            -65535,
            65537,
            -65536,
            524_288,
            -524_287,
            524_289,
            -524_288,
            i64::MAX,
            i64::MIN,
        ]);
        prop_oneof![
            4 => Just(TimeStep::SameDelta),
            2 => (-5i64..=5).prop_map(TimeStep::Dod),
            2 => edges.prop_map(TimeStep::Dod),
            2 => prop_oneof![1i64..=2, 1i64..=20_000, 1i64..=1 << 40].prop_map(TimeStep::Delta),
            1 => any::<i64>().prop_map(TimeStep::Anywhere),
        ]
    }

    fn value_step() -> impl Strategy<Value = ValueStep> {
        prop_oneof![
            3 => Just(ValueStep::Same),
            3 => (1u8..=64, 0u8..64).prop_map(|(len, shift)| ValueStep::Flip { len, shift }),
            2 => any::<u16>().prop_map(ValueStep::Add),
            1 => prop::sample::select(SPECIAL_VALUES.to_vec()).prop_map(ValueStep::Bits),
            1 => any::<u64>().prop_map(ValueStep::Bits),
        ]
    }

    fn samples_strategy() -> impl Strategy<Value = Vec<(i64, u64)>> {
        let start = prop_oneof![
            -(1i64 << 61)..(1i64 << 61),
            prop::sample::select(vec![i64::MIN, i64::MAX, 0, -1]),
        ];
        let first_value = prop_oneof![any::<u64>(), prop::sample::select(SPECIAL_VALUES.to_vec()),];
        (
            start,
            first_value,
            prop::collection::vec((time_step(), value_step()), 0..=SAMPLES_PER_CHUNK),
        )
            .prop_map(|(start, first_value, steps)| {
                let (mut t, mut delta, mut v_bits) = (start, 15_000i64, first_value);
                steps
                    .into_iter()
                    .map(|(time, value)| {
                        match time {
                            TimeStep::SameDelta => {}
                            TimeStep::Dod(dod) => delta = delta.wrapping_add(dod),
                            TimeStep::Delta(d) => delta = d,
                            TimeStep::Anywhere(to) => delta = to.wrapping_sub(t),
                        }
                        t = t.wrapping_add(delta);
                        v_bits = match value {
                            ValueStep::Same => v_bits,
                            ValueStep::Flip { len, shift } => {
                                v_bits ^ (u64::MAX >> (64 - u32::from(len))) << shift
                            }
                            ValueStep::Add(k) => (f64::from_bits(v_bits) + f64::from(k)).to_bits(),
                            ValueStep::Bits(bits) => bits,
                        };
                        (t, v_bits)
                    })
                    .collect()
            })
    }

    fn encode_bits(samples: &[(i64, u64)]) -> XorChunk {
        let mut chunk = XorChunk::new();
        for (t, v_bits) in samples {
            chunk.append(*t, f64::from_bits(*v_bits)).unwrap();
        }
        chunk
    }

    /// A bit-at-a-time reader, as simple as possible: the reference the windowed reader is
    /// held to.
    struct NaiveBits<'a> {
        bytes: &'a [u8],
        pos: usize,
    }

    impl NaiveBits<'_> {
        fn bits(&mut self, n: u8) -> Option<u64> {
            // All or nothing, as `BitReader::read_bits`.
            if self.pos + usize::from(n) > self.bytes.len() * 8 {
                return None;
            }
            let mut value = 0;
            for _ in 0..n {
                let bit = (self.bytes[self.pos / 8] >> (7 - self.pos % 8)) & 1;
                value = (value << 1) | u64::from(bit);
                self.pos += 1;
            }
            Some(value)
        }

        fn uvarint(&mut self) -> Option<u64> {
            let mut value = 0u64;
            for shift in (0..70).step_by(7) {
                let byte = self.bits(8)?;
                if shift == 63 && byte > 1 {
                    return None;
                }
                value |= (byte & 0x7f) << shift;
                if byte < 0x80 {
                    return Some(value);
                }
            }
            None
        }
    }

    /// What a decoder makes of chunk bytes: the samples it yields, and where it stopped
    /// cleanly (in bits after the header), or `None` if it hit the end of the stream.
    type Outcome = (Vec<(i64, u64)>, Option<usize>);

    /// Prometheus' `xorIterator`, written out bit by bit with no fast paths.
    fn naive_decode(bytes: &[u8]) -> Option<Outcome> {
        let (header, data) = bytes.split_first_chunk::<2>()?;
        let total = u16::from_be_bytes(*header);
        let mut r = NaiveBits {
            bytes: data,
            pos: 0,
        };
        let mut out = Vec::new();
        let (mut t, mut delta, mut v, mut leading, mut trailing) = (0i64, 0u64, 0u64, 0u8, 0u8);
        let mut sample = |r: &mut NaiveBits<'_>, i: u16| -> Option<(i64, u64)> {
            match i {
                0 => {
                    let zigzag = r.uvarint()?;
                    t = ((zigzag >> 1) as i64) ^ -((zigzag & 1) as i64);
                    v = r.bits(64)?;
                    return Some((t, v));
                }
                1 => {
                    delta = r.uvarint()?;
                }
                _ => {
                    let mut ones = 0;
                    while ones < 4 && r.bits(1)? == 1 {
                        ones += 1;
                    }
                    let dod = match ones {
                        0 => 0,
                        4 => r.bits(64)? as i64,
                        _ => {
                            let size = [0u8, 14, 17, 20][ones];
                            let bits = r.bits(size)? as i64;
                            if bits > 1 << (size - 1) {
                                bits - (1 << size)
                            } else {
                                bits
                            }
                        }
                    };
                    delta = delta.wrapping_add(dod as u64);
                }
            }
            t = t.wrapping_add(delta as i64);
            if r.bits(1)? == 1 {
                if r.bits(1)? == 1 {
                    leading = r.bits(5)? as u8;
                    let meaningful = match r.bits(6)? as u8 {
                        0 => 64,
                        n => n,
                    };
                    trailing = 64u8.checked_sub(leading + meaningful)?;
                }
                v ^= r.bits(64 - leading - trailing)? << trailing;
            }
            Some((t, v))
        };
        for i in 0..total {
            match sample(&mut r, i) {
                Some(decoded) => out.push(decoded),
                None => return Some((out, None)),
            }
        }
        Some((out, Some(r.pos)))
    }

    fn fast_decode(bytes: &[u8]) -> Option<Outcome> {
        let mut decoder = Decoder::new(bytes).ok()?;
        let mut out = Vec::new();
        loop {
            match decoder.next_sample() {
                Ok(Some(sample)) => out.push(sample),
                Ok(None) => return Some((out, Some(decoder.reader.position()))),
                Err(EndOfStream) => return Some((out, None)),
            }
        }
    }

    /// Damage to apply to a valid chunk.
    #[derive(Debug, Clone)]
    enum Damage {
        Truncate(usize),
        FlipBit(usize),
        SetByte(usize, u8),
        Append(u8),
    }

    fn damage() -> impl Strategy<Value = Damage> {
        prop_oneof![
            any::<usize>().prop_map(Damage::Truncate),
            any::<usize>().prop_map(Damage::FlipBit),
            (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Damage::SetByte(at, byte)),
            any::<u8>().prop_map(Damage::Append),
        ]
    }

    fn apply(bytes: &mut Vec<u8>, damage: &Damage) {
        let len = bytes.len().max(1);
        match *damage {
            Damage::Truncate(at) => bytes.truncate(at % len),
            Damage::FlipBit(at) => {
                if let Some(byte) = bytes.get_mut(at / 8 % len) {
                    *byte ^= 1 << (at % 8);
                }
            }
            Damage::SetByte(at, value) => {
                if let Some(byte) = bytes.get_mut(at % len) {
                    *byte = value;
                }
            }
            Damage::Append(value) => bytes.push(value),
        }
    }

    proptest! {
        #[test]
        fn any_samples_round_trip_exactly(samples in samples_strategy()) {
            let chunk = encode_bits(&samples);
            prop_assert_eq!(chunk.num_samples(), samples.len());
            prop_assert_eq!(&bits(chunk.iter()), &samples);
            let used_bits = (chunk.bytes().len() - 2) * 8;
            prop_assert_eq!(
                fast_decode(chunk.bytes()),
                naive_decode(chunk.bytes()),
                "{} bits",
                used_bits
            );
            let reopened = XorChunk::from_bytes(chunk.bytes().to_vec()).unwrap();
            prop_assert_eq!(&bits(reopened.iter()), &samples);
        }

        /// Damaged chunks decode to exactly what the bit-by-bit reference makes of them, end of
        /// stream included, and never panic.
        #[test]
        fn damaged_chunks_decode_like_the_reference(
            samples in samples_strategy(),
            damages in prop::collection::vec(damage(), 1..4),
        ) {
            let mut bytes = encode_bits(&samples).bytes().to_vec();
            for d in &damages {
                apply(&mut bytes, d);
            }
            let fast = fast_decode(&bytes);
            prop_assert_eq!(&fast, &naive_decode(&bytes));
            // Opening agrees with decoding, and an opened chunk iterates in full.
            match (XorChunk::from_bytes(bytes.clone()), fast) {
                (Ok(chunk), Some((decoded, Some(used)))) => {
                    prop_assert_eq!((16 + used).div_ceil(8), bytes.len());
                    prop_assert_eq!(bits(chunk.iter()), decoded);
                }
                (Ok(_), other) => prop_assert!(false, "opened, but decoding gave {:?}", other),
                (Err(_), _) => {}
            }
            let iterated = XorIter { decoder: Decoder::new(&bytes).ok() }.count();
            prop_assert!(iterated <= usize::from(u16::MAX));
        }

        #[test]
        fn arbitrary_bytes_decode_like_the_reference(
            bytes in prop::collection::vec(any::<u8>(), 0..96),
        ) {
            prop_assert_eq!(fast_decode(&bytes), naive_decode(&bytes));
            let _ = XorChunk::from_bytes(bytes);
        }
    }
}
