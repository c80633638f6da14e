//! Record framing: `[kind: u8][len: u32 LE][crc32: u32 LE][payload: len bytes]`, 9 header bytes.
//!
//! The CRC (IEEE CRC-32 via `crc32fast`) covers `kind`, the little-endian `len` and the payload, in that
//! order: a flipped bit in the header is caught as surely as one in the payload, and a zero-filled tail
//! (what some filesystems leave after a crash that extended a file without writing its data) never
//! validates, because the CRC of five zero bytes is not zero. The payload is opaque; `kind` is the caller's.

use std::fmt;

use crate::error::WalError;

/// Bytes in a record header.
pub(crate) const HEADER_LEN: usize = 9;

/// Same as [`HEADER_LEN`], for offset arithmetic.
pub(crate) const HEADER_LEN_U64: u64 = HEADER_LEN as u64;

/// A decoded record header; the payload follows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) kind: u8,
    pub(crate) len: u32,
    pub(crate) crc: u32,
}

impl Header {
    /// Decodes the 9 header bytes. Every byte sequence decodes; validity is decided by [`checksum`].
    pub(crate) fn decode(bytes: &[u8; HEADER_LEN]) -> Self {
        let [kind, l0, l1, l2, l3, c0, c1, c2, c3] = *bytes;
        Self {
            kind,
            len: u32::from_le_bytes([l0, l1, l2, l3]),
            crc: u32::from_le_bytes([c0, c1, c2, c3]),
        }
    }
}

/// The CRC stored in a record header.
pub(crate) fn checksum(kind: u8, len: u32, payload: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&[kind]);
    hasher.update(&len.to_le_bytes());
    hasher.update(payload);
    hasher.finalize()
}

/// Bytes a record with `payload_len` payload bytes occupies on disk.
pub(crate) fn encoded_len(payload_len: usize) -> u64 {
    // usize -> u64 is lossless on every platform Rust supports.
    HEADER_LEN_U64.saturating_add(payload_len as u64)
}

/// Appends the framed record to `out`. `max_payload` is the largest payload a segment can hold.
pub(crate) fn encode(
    kind: u8,
    payload: &[u8],
    max_payload: u64,
    segment_size: u64,
    out: &mut Vec<u8>,
) -> Result<(), WalError> {
    let too_large = || WalError::RecordTooLarge {
        len: encoded_len(payload.len()),
        segment_size,
    };
    if payload.len() as u64 > max_payload {
        return Err(too_large());
    }
    let len = u32::try_from(payload.len()).map_err(|_| too_large())?;
    out.reserve(HEADER_LEN + payload.len());
    out.push(kind);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&checksum(kind, len, payload).to_le_bytes());
    out.extend_from_slice(payload);
    Ok(())
}

/// Why a record could not be read. Damage is repaired (segments) or skipped (checkpoints), never fatal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DamageReason {
    /// Fewer than the 9 header bytes are left in the file: a write torn inside the header.
    TornHeader {
        /// Bytes left in the file at the record's offset.
        available: u64,
    },
    /// The header announces more payload than the file holds: a torn write, or a corrupt length.
    TornPayload {
        /// Payload length from the header.
        len: u32,
        /// Payload bytes actually left in the file.
        available: u64,
    },
    /// The stored CRC does not match the record's bytes.
    ChecksumMismatch {
        /// CRC from the header.
        stored: u32,
        /// CRC computed over kind, length and payload.
        computed: u32,
    },
    /// A segment number is missing, so the records after it cannot be trusted to follow on.
    MissingSegment {
        /// The segment number that should have come next.
        expected: u64,
        /// The segment number found instead.
        found: u64,
    },
}

impl fmt::Display for DamageReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TornHeader { available } => {
                write!(
                    f,
                    "torn record header: {available} of {HEADER_LEN} bytes present"
                )
            }
            Self::TornPayload { len, available } => write!(
                f,
                "torn record: header announces {len} payload bytes, {available} present"
            ),
            Self::ChecksumMismatch { stored, computed } => write!(
                f,
                "checksum mismatch: stored {stored:#010x}, computed {computed:#010x}"
            ),
            Self::MissingSegment { expected, found } => {
                write!(f, "segment {expected} is missing, found {found} instead")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_then_decode_header() {
        let mut out = Vec::new();
        encode(7, b"hello", 100, 109, &mut out).unwrap();
        assert_eq!(out.len(), HEADER_LEN + 5);
        let header = Header::decode(out[..HEADER_LEN].try_into().unwrap());
        assert_eq!(header.kind, 7);
        assert_eq!(header.len, 5);
        assert_eq!(header.crc, checksum(7, 5, b"hello"));
        assert_eq!(&out[HEADER_LEN..], b"hello");
    }

    #[test]
    fn checksum_covers_kind_and_len() {
        assert_ne!(checksum(1, 3, b"abc"), checksum(2, 3, b"abc"));
        assert_ne!(checksum(1, 3, b"abc"), checksum(1, 4, b"abc"));
    }

    #[test]
    fn zeroed_header_is_never_valid() {
        let header = Header::decode(&[0; HEADER_LEN]);
        assert_ne!(header.crc, checksum(header.kind, header.len, &[]));
    }

    #[test]
    fn oversized_payload_is_rejected() {
        let mut out = Vec::new();
        let error = encode(1, &[0; 10], 9, 18, &mut out).unwrap_err();
        assert!(matches!(
            error,
            WalError::RecordTooLarge {
                len: 19,
                segment_size: 18
            }
        ));
        assert!(out.is_empty());
    }
}
