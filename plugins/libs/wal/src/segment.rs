//! Segment files: their names, listing a WAL directory, reading records back with damage detection, and
//! appending to the segment being written.
//!
//! A segment is a plain concatenation of framed records (see `record.rs`) with no file header, named by
//! its zero-padded sequence number (`00000000`). Only canonical names count: `0` or `000000001` are not
//! segments, so two files can never claim the same number. Readers trust nothing: every length is checked
//! against the bytes left in the file before anything is allocated, and every CRC is verified.

use std::fs::{self, File, OpenOptions};
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::WalError;
use crate::record::{self, DamageReason, HEADER_LEN, HEADER_LEN_U64, Header};
use crate::report::ReadStats;

/// Prefix of checkpoint directory names (`checkpoint.00000042`).
pub(crate) const CHECKPOINT_PREFIX: &str = "checkpoint.";
/// Suffix of a checkpoint being written; such a directory is garbage after a crash.
pub(crate) const TEMP_SUFFIX: &str = ".tmp";
/// Name of the lock file held while a `Wal` is open.
pub(crate) const LOCK_FILE: &str = "lock";

const READ_BUFFER: usize = 64 * 1024;

/// Receives each good record read: its kind and payload.
pub(crate) type RecordSink<'a> = dyn FnMut(u8, &[u8]) -> Result<(), WalError> + 'a;

/// File name of segment `number`.
pub(crate) fn segment_name(number: u64) -> String {
    format!("{number:08}")
}

/// Segment number of a file name, if it is a canonical segment name.
pub(crate) fn parse_segment_name(name: &str) -> Option<u64> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let number = name.parse::<u64>().ok()?;
    (segment_name(number) == name).then_some(number)
}

/// Directory name of the checkpoint covering segments `<= upto`.
pub(crate) fn checkpoint_name(upto: u64) -> String {
    format!("{CHECKPOINT_PREFIX}{upto:08}")
}

/// Checkpoint index of a directory name, if it is a canonical checkpoint name.
pub(crate) fn parse_checkpoint_name(name: &str) -> Option<u64> {
    name.strip_prefix(CHECKPOINT_PREFIX)
        .and_then(parse_segment_name)
}

/// What a WAL (or checkpoint) directory holds, each list sorted ascending.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    pub(crate) segments: Vec<u64>,
    pub(crate) checkpoints: Vec<u64>,
    /// Half-written checkpoints (`checkpoint.*.tmp`), to delete.
    pub(crate) temporaries: Vec<PathBuf>,
}

/// Lists segments, checkpoints and leftover temporaries in `dir`; anything else is ignored.
pub(crate) fn list(dir: &Path) -> Result<Listing, WalError> {
    let list_error = |source| WalError::ListDir {
        path: dir.to_path_buf(),
        source,
    };
    let mut listing = Listing::default();
    for entry in fs::read_dir(dir).map_err(list_error)? {
        let entry = entry.map_err(list_error)?;
        let file_type = entry.file_type().map_err(list_error)?;
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        if let Some(number) = parse_segment_name(&name).filter(|_| file_type.is_file()) {
            listing.segments.push(number);
        } else if let Some(upto) = parse_checkpoint_name(&name).filter(|_| file_type.is_dir()) {
            listing.checkpoints.push(upto);
        } else if name.starts_with(CHECKPOINT_PREFIX) && name.ends_with(TEMP_SUFFIX) {
            listing.temporaries.push(entry.path());
        }
    }
    listing.segments.sort_unstable();
    listing.checkpoints.sort_unstable();
    listing.temporaries.sort_unstable();
    Ok(listing)
}

/// `fsync`s a directory so that file creations, renames and deletions in it are durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), WalError> {
    let sync_error = |source| WalError::Sync {
        path: dir.to_path_buf(),
        source,
    };
    File::open(dir)
        .and_then(|handle| handle.sync_all())
        .map_err(sync_error)
}

/// Deletes a file or a directory tree.
pub(crate) fn remove_path(path: &Path) -> Result<(), WalError> {
    let result = if path.is_dir() {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    };
    match result {
        Ok(()) => Ok(()),
        Err(source) if source.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(WalError::Remove {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// One step of [`SegmentReader::next`].
#[derive(Debug)]
pub(crate) enum Next<'a> {
    Record { kind: u8, payload: &'a [u8] },
    End,
    Damaged { offset: u64, reason: DamageReason },
}

/// Reads the records of one segment file, up to `limit` bytes.
#[derive(Debug)]
pub(crate) struct SegmentReader {
    path: PathBuf,
    reader: BufReader<File>,
    /// End of the last good record.
    offset: u64,
    limit: u64,
    file_len: u64,
    payload: Vec<u8>,
}

impl SegmentReader {
    /// Opens `path`; reads stop at `limit` bytes when given (a snapshot of a segment being written).
    pub(crate) fn open(path: &Path, limit: Option<u64>) -> Result<Self, WalError> {
        let open_error = |source| WalError::OpenSegment {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(open_error)?;
        let file_len = file.metadata().map_err(open_error)?.len();
        Ok(Self {
            path: path.to_path_buf(),
            reader: BufReader::with_capacity(READ_BUFFER, file),
            offset: 0,
            limit: limit.map_or(file_len, |limit| limit.min(file_len)),
            file_len,
            payload: Vec::new(),
        })
    }

    /// Length of the file when it was opened.
    pub(crate) fn file_len(&self) -> u64 {
        self.file_len
    }

    /// The next record, the end, or the first damage. After `Damaged` the caller must stop.
    pub(crate) fn next(&mut self) -> Result<Next<'_>, WalError> {
        let available = self.limit.saturating_sub(self.offset);
        if available == 0 {
            return Ok(Next::End);
        }
        if available < HEADER_LEN_U64 {
            return Ok(self.damaged(DamageReason::TornHeader { available }));
        }
        let mut header_bytes = [0u8; HEADER_LEN];
        self.read_exact(&mut header_bytes)?;
        let header = Header::decode(&header_bytes);
        let payload_available = available - HEADER_LEN_U64;
        if u64::from(header.len) > payload_available {
            return Ok(self.damaged(DamageReason::TornPayload {
                len: header.len,
                available: payload_available,
            }));
        }
        // The length is bounded by the bytes left in the file, so this allocation is too.
        let mut payload = std::mem::take(&mut self.payload);
        payload.clear();
        payload.resize(header.len as usize, 0);
        let read = self.read_exact(&mut payload);
        self.payload = payload;
        read?;
        let computed = record::checksum(header.kind, header.len, &self.payload);
        if computed != header.crc {
            return Ok(self.damaged(DamageReason::ChecksumMismatch {
                stored: header.crc,
                computed,
            }));
        }
        self.offset += HEADER_LEN_U64 + u64::from(header.len);
        Ok(Next::Record {
            kind: header.kind,
            payload: &self.payload,
        })
    }

    fn damaged(&self, reason: DamageReason) -> Next<'static> {
        Next::Damaged {
            offset: self.offset,
            reason,
        }
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), WalError> {
        self.reader
            .read_exact(buf)
            .map_err(|source| WalError::ReadSegment {
                path: self.path.clone(),
                source,
            })
    }
}

/// Where a run of segments first went bad.
#[derive(Debug)]
pub(crate) struct DamageAt {
    /// Index into the `numbers` slice given to [`read_sequence`].
    pub(crate) index: usize,
    pub(crate) path: PathBuf,
    pub(crate) offset: u64,
    pub(crate) file_len: u64,
    pub(crate) reason: DamageReason,
}

/// Reads segments `numbers` of `dir` in order, stopping at the first damage (a bad record, or a gap in
/// the numbering when `first_expected` or the previous number says which segment must come next).
/// `limit` stops reading segment `.0` at byte `.1` and ignores any later segment.
pub(crate) fn read_sequence(
    dir: &Path,
    numbers: &[u64],
    mut expected: Option<u64>,
    limit: Option<(u64, u64)>,
    f: &mut RecordSink<'_>,
) -> Result<(ReadStats, Option<DamageAt>), WalError> {
    let mut stats = ReadStats::default();
    for (index, &number) in numbers.iter().enumerate() {
        let path = dir.join(segment_name(number));
        if let Some(expected) = expected.filter(|&expected| expected != number) {
            let file_len = fs::metadata(&path).map_or(0, |meta| meta.len());
            let reason = DamageReason::MissingSegment {
                expected,
                found: number,
            };
            let damage = DamageAt {
                index,
                path,
                offset: 0,
                file_len,
                reason,
            };
            return Ok((stats, Some(damage)));
        }
        let byte_limit = match limit {
            Some((last, _)) if number > last => break,
            Some((last, offset)) if number == last => Some(offset),
            _ => None,
        };
        let mut reader = SegmentReader::open(&path, byte_limit)?;
        stats.files += 1;
        loop {
            match reader.next()? {
                Next::Record { kind, payload } => {
                    f(kind, payload)?;
                    stats.records += 1;
                    stats.bytes += record::encoded_len(payload.len());
                }
                Next::End => break,
                Next::Damaged { offset, reason } => {
                    let file_len = reader.file_len();
                    let damage = DamageAt {
                        index,
                        path,
                        offset,
                        file_len,
                        reason,
                    };
                    return Ok((stats, Some(damage)));
                }
            }
        }
        expected = number.checked_add(1);
    }
    Ok((stats, None))
}

/// A segment open for appending. Writes go through `O_APPEND`, so after a rolled-back partial write the
/// next write lands at the (restored) end of the file.
#[derive(Debug)]
pub(crate) struct SegmentFile {
    pub(crate) number: u64,
    pub(crate) path: PathBuf,
    /// Shared so a group-commit leader can `fsync` it without holding the writer lock.
    pub(crate) file: Arc<File>,
    pub(crate) len: u64,
}

/// A write that failed; `rolled_back` says whether the file was restored to its previous length.
#[derive(Debug)]
pub(crate) struct WriteFailure {
    pub(crate) error: WalError,
    pub(crate) rolled_back: bool,
}

impl SegmentFile {
    /// Creates segment `number` in `dir` (it must not exist). The caller syncs the directory.
    pub(crate) fn create(dir: &Path, number: u64) -> Result<Self, WalError> {
        let path = dir.join(segment_name(number));
        let file = OpenOptions::new()
            .append(true)
            .create_new(true)
            .open(&path)
            .map_err(|source| WalError::CreateSegment {
                path: path.clone(),
                source,
            })?;
        Ok(Self {
            number,
            path,
            file: Arc::new(file),
            len: 0,
        })
    }

    /// Opens existing segment `number` for appending at its current end.
    pub(crate) fn open_append(dir: &Path, number: u64) -> Result<Self, WalError> {
        let path = dir.join(segment_name(number));
        let open_error = |source| WalError::OpenSegment {
            path: path.clone(),
            source,
        };
        let file = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(open_error)?;
        let len = file.metadata().map_err(open_error)?.len();
        Ok(Self {
            number,
            path,
            file: Arc::new(file),
            len,
        })
    }

    /// Appends `bytes`; on failure truncates the file back to where it was.
    pub(crate) fn append(&mut self, bytes: &[u8]) -> Result<(), WriteFailure> {
        match (&*self.file).write_all(bytes) {
            Ok(()) => {
                self.len += bytes.len() as u64;
                Ok(())
            }
            Err(source) => {
                let rolled_back = self.file.set_len(self.len).is_ok();
                let error = WalError::WriteSegment {
                    path: self.path.clone(),
                    source,
                };
                Err(WriteFailure { error, rolled_back })
            }
        }
    }
}

/// `fdatasync`s `file`, naming `path` in the error.
pub(crate) fn sync_file(file: &File, path: &Path) -> Result<(), WalError> {
    file.sync_data().map_err(|source| WalError::Sync {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_reject_non_canonical() {
        assert_eq!(segment_name(42), "00000042");
        assert_eq!(parse_segment_name("00000042"), Some(42));
        assert_eq!(parse_segment_name("123456789"), Some(123_456_789));
        assert_eq!(parse_segment_name("42"), None);
        assert_eq!(parse_segment_name("000000042"), None);
        assert_eq!(parse_segment_name("0000004x"), None);
        assert_eq!(parse_segment_name("99999999999999999999999"), None);
        assert_eq!(parse_segment_name(""), None);
        assert_eq!(checkpoint_name(7), "checkpoint.00000007");
        assert_eq!(parse_checkpoint_name("checkpoint.00000007"), Some(7));
        assert_eq!(parse_checkpoint_name("checkpoint.00000007.tmp"), None);
    }

    #[test]
    fn listing_sorts_and_classifies() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["00000002", "00000000", "junk", "12"] {
            fs::write(dir.path().join(name), b"").unwrap();
        }
        fs::create_dir(dir.path().join("checkpoint.00000003")).unwrap();
        fs::create_dir(dir.path().join("checkpoint.00000001")).unwrap();
        fs::create_dir(dir.path().join("checkpoint.00000004.tmp")).unwrap();
        fs::create_dir(dir.path().join("00000009")).unwrap();
        let listing = list(dir.path()).unwrap();
        assert_eq!(listing.segments, vec![0, 2]);
        assert_eq!(listing.checkpoints, vec![1, 3]);
        assert_eq!(listing.temporaries.len(), 1);
    }

    #[test]
    fn reader_reports_torn_and_corrupt_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(segment_name(0));
        let mut bytes = Vec::new();
        record::encode(1, b"first", 1000, 1009, &mut bytes).unwrap();
        let second_at = bytes.len() as u64;
        record::encode(2, b"second", 1000, 1009, &mut bytes).unwrap();

        fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
        let mut reader = SegmentReader::open(&path, None).unwrap();
        assert!(
            matches!(reader.next().unwrap(), Next::Record { kind: 1, payload } if payload == b"first")
        );
        match reader.next().unwrap() {
            Next::Damaged { offset, reason } => {
                assert_eq!(offset, second_at);
                assert_eq!(
                    reason,
                    DamageReason::TornPayload {
                        len: 6,
                        available: 5
                    }
                );
            }
            other => panic!("expected damage, got {other:?}"),
        }

        let last = bytes.len() - 1;
        bytes[last] ^= 0x40;
        fs::write(&path, &bytes).unwrap();
        let mut reader = SegmentReader::open(&path, None).unwrap();
        assert!(matches!(reader.next().unwrap(), Next::Record { .. }));
        assert!(matches!(
            reader.next().unwrap(),
            Next::Damaged {
                reason: DamageReason::ChecksumMismatch { .. },
                ..
            }
        ));
    }
}
