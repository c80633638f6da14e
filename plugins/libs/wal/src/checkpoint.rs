//! Checkpoints: a compacted restatement of the WAL up to a segment, so old segments can be deleted.
//!
//! `checkpoint.NNNNNNNN` holds segment files in the WAL's own format (`00000000`, `00000001`, …) whose
//! records the caller wrote from its live state; it replaces segments `<= NNNNNNNN`. It is written as
//! `checkpoint.NNNNNNNN.tmp`, every file `fsync`ed, the directory `fsync`ed, renamed into place and the
//! WAL directory `fsync`ed, whatever the append fsync policy: a crash leaves either the old state or the
//! complete new checkpoint, never half of one. Only then are superseded checkpoints and covered segments
//! deleted; a crash during that cleanup leaves leftovers that the next `open` removes.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::WalError;
use crate::record;
use crate::repair;
use crate::report::{Damage, ReadStats};
use crate::segment::{self, RecordSink, TEMP_SUFFIX};

const WRITE_BUFFER: usize = 256 * 1024;

/// Writes the records of a checkpoint; handed to the closure given to [`crate::Wal::checkpoint`].
#[derive(Debug)]
pub struct CheckpointWriter {
    dir: PathBuf,
    segment_size: u64,
    max_payload: u64,
    current: Option<OpenSegment>,
    next_number: u64,
    stats: ReadStats,
    buf: Vec<u8>,
}

#[derive(Debug)]
struct OpenSegment {
    path: PathBuf,
    writer: BufWriter<File>,
    len: u64,
}

impl CheckpointWriter {
    fn new(dir: PathBuf, segment_size: u64, max_payload: u64) -> Self {
        Self {
            dir,
            segment_size,
            max_payload,
            current: None,
            next_number: 0,
            stats: ReadStats::default(),
            buf: Vec::new(),
        }
    }

    /// Appends one record to the checkpoint. Same limits as [`crate::Wal::append`].
    pub fn append(&mut self, kind: u8, payload: &[u8]) -> Result<(), WalError> {
        self.buf.clear();
        record::encode(
            kind,
            payload,
            self.max_payload,
            self.segment_size,
            &mut self.buf,
        )?;
        let len = self.buf.len() as u64;
        let fits = self
            .current
            .as_ref()
            .is_some_and(|current| current.len + len <= self.segment_size);
        if !fits {
            self.close_current()?;
            self.open_next()?;
        }
        let Some(current) = self.current.as_mut() else {
            debug_assert!(false, "open_next always leaves a segment open");
            return Ok(());
        };
        current
            .writer
            .write_all(&self.buf)
            .map_err(|source| WalError::WriteSegment {
                path: current.path.clone(),
                source,
            })?;
        current.len += len;
        self.stats.records += 1;
        self.stats.bytes += len;
        Ok(())
    }

    /// What has been written so far.
    pub fn stats(&self) -> ReadStats {
        self.stats
    }

    fn open_next(&mut self) -> Result<(), WalError> {
        let path = self.dir.join(segment::segment_name(self.next_number));
        let file = File::create_new(&path).map_err(|source| WalError::CreateSegment {
            path: path.clone(),
            source,
        })?;
        self.next_number += 1;
        self.stats.files += 1;
        self.current = Some(OpenSegment {
            path,
            writer: BufWriter::with_capacity(WRITE_BUFFER, file),
            len: 0,
        });
        Ok(())
    }

    fn close_current(&mut self) -> Result<(), WalError> {
        let Some(current) = self.current.take() else {
            return Ok(());
        };
        let path = current.path;
        let file = current
            .writer
            .into_inner()
            .map_err(|error| WalError::WriteSegment {
                path: path.clone(),
                source: error.into_error(),
            })?;
        file.sync_all()
            .map_err(|source| WalError::Sync { path, source })
    }
}

/// Writes checkpoint `upto` in `wal_dir` from what `write` appends, atomically; returns its path and
/// what was written. On any error the temporary directory is removed and nothing else changed.
pub(crate) fn write(
    wal_dir: &Path,
    upto: u64,
    segment_size: u64,
    max_payload: u64,
    write: impl FnOnce(&mut CheckpointWriter) -> Result<(), WalError>,
) -> Result<(PathBuf, ReadStats), WalError> {
    let final_path = wal_dir.join(segment::checkpoint_name(upto));
    let temp_path = wal_dir.join(format!("{}{TEMP_SUFFIX}", segment::checkpoint_name(upto)));
    segment::remove_path(&temp_path)?;
    fs::create_dir(&temp_path).map_err(|source| WalError::CreateSegment {
        path: temp_path.clone(),
        source,
    })?;
    let mut writer = CheckpointWriter::new(temp_path.clone(), segment_size, max_payload);
    let written = write(&mut writer)
        .and_then(|()| writer.close_current())
        .and_then(|()| segment::sync_dir(&temp_path));
    if let Err(error) = written {
        if let Err(cleanup) = segment::remove_path(&temp_path) {
            tracing::warn!(error = %cleanup, "failed to remove an abandoned WAL checkpoint");
        }
        return Err(error);
    }
    fs::rename(&temp_path, &final_path).map_err(|source| WalError::Rename {
        from: temp_path,
        to: final_path.clone(),
        source,
    })?;
    segment::sync_dir(wal_dir)?;
    Ok((final_path, writer.stats))
}

/// Deletes checkpoints older than `upto` and segments `<= upto`. Failures are logged, not returned: the
/// checkpoint is already in place and the next `open` retries the cleanup.
pub(crate) fn remove_obsolete(wal_dir: &Path, upto: u64) -> (u64, u64) {
    let listing = match segment::list(wal_dir) {
        Ok(listing) => listing,
        Err(error) => {
            tracing::warn!(error = %error, "failed to list the WAL after a checkpoint");
            return (0, 0);
        }
    };
    let remove = |path: PathBuf| match segment::remove_path(&path) {
        Ok(()) => true,
        Err(error) => {
            tracing::warn!(error = %error, "failed to remove an obsolete WAL file");
            false
        }
    };
    let deleted_segments = listing
        .segments
        .iter()
        .filter(|&&number| number <= upto)
        .filter(|&&number| remove(wal_dir.join(segment::segment_name(number))))
        .count();
    let deleted_checkpoints = listing
        .checkpoints
        .iter()
        .filter(|&&older| older < upto)
        .filter(|&&older| remove(wal_dir.join(segment::checkpoint_name(older))))
        .count();
    if let Err(error) = segment::sync_dir(wal_dir) {
        tracing::warn!(error = %error, "failed to sync the WAL directory after a checkpoint");
    }
    (deleted_segments as u64, deleted_checkpoints as u64)
}

/// Reads checkpoint `upto` of `wal_dir`, stopping at its first damage, which is returned (never repaired).
pub(crate) fn read(
    wal_dir: &Path,
    upto: u64,
    f: &mut RecordSink<'_>,
) -> Result<(ReadStats, Option<Damage>), WalError> {
    let dir = wal_dir.join(segment::checkpoint_name(upto));
    let numbers = segment::list(&dir)?.segments;
    let (stats, damage_at) = segment::read_sequence(&dir, &numbers, Some(0), None, f)?;
    let damage = damage_at.map(|at| repair::describe(&dir, &numbers, at, false));
    Ok((stats, damage))
}
