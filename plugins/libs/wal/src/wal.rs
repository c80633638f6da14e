//! The `Wal` handle: open (lock, recover, pick the segment to write), append (frame outside the lock,
//! write under it, rotate segments, then wait for durability per the fsync policy), replay, cut and
//! checkpoint. Group commit lives in `commit.rs`, recovery in `repair.rs`.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::{Condvar, Mutex};

use crate::checkpoint::{self, CheckpointWriter};
use crate::commit::{Commit, Syncer};
use crate::error::WalError;
use crate::options::{FsyncPolicy, WalOptions};
use crate::record;
use crate::repair;
use crate::report::{CheckpointReport, OpenReport, ReplayReport};
use crate::segment::{self, LOCK_FILE, SegmentFile};

/// The write-ahead log. `Send + Sync`; every method takes `&self`, so share it behind an `Arc`.
#[derive(Debug)]
pub struct Wal {
    inner: Arc<Inner>,
    syncer: Option<Syncer>,
}

/// State shared with the `Interval` sync thread.
#[derive(Debug)]
pub(crate) struct Inner {
    dir: PathBuf,
    options: WalOptions,
    pub(crate) writer: Mutex<Writer>,
    pub(crate) commit: Mutex<Commit>,
    pub(crate) committed: Condvar,
    pub(crate) poison: Mutex<Option<Arc<str>>>,
    /// Serialises `checkpoint` and `replay`, so replay never reads files a checkpoint is deleting.
    checkpointing: Mutex<()>,
    pub(crate) fsyncs: AtomicU64,
    appends: AtomicU64,
    /// Holds the advisory lock on `dir/lock` for as long as the WAL is open.
    _lock: File,
}

/// The segment being appended to.
#[derive(Debug)]
pub(crate) struct Writer {
    pub(crate) segment: SegmentFile,
    /// Logical position: bytes appended since `open`, across segments.
    pub(crate) written: u64,
}

impl Wal {
    /// Opens (creating) the WAL in `dir`, repairs a torn or corrupt tail, and returns the WAL plus what
    /// replay must read. Appends go to a fresh segment (or an empty last one), never after a repaired
    /// tail. Fails with [`WalError::Locked`] if another `Wal` has `dir` open.
    pub fn open(dir: &Path, options: WalOptions) -> Result<(Wal, OpenReport), WalError> {
        options.validate()?;
        let existed = dir.is_dir();
        fs::create_dir_all(dir).map_err(|source| WalError::CreateDir {
            path: dir.to_path_buf(),
            source,
        })?;
        if !existed
            && let Some(parent) = dir.parent().filter(|parent| !parent.as_os_str().is_empty())
        {
            segment::sync_dir(parent)?;
        }
        let lock = lock_dir(dir)?;

        let recovered = repair::recover(dir)?;
        let mut report = recovered.report;
        let segment = match recovered.last_segment {
            Some((number, 0)) => SegmentFile::open_append(dir, number)?,
            Some((number, _)) => {
                let next = number
                    .checked_add(1)
                    .ok_or(WalError::SegmentNumberOverflow)?;
                SegmentFile::create(dir, next)?
            }
            None => {
                let first = match report.checkpoint {
                    Some(upto) => upto.checked_add(1).ok_or(WalError::SegmentNumberOverflow)?,
                    None => 0,
                };
                SegmentFile::create(dir, first)?
            }
        };
        segment::sync_dir(dir)?;
        report.writing_segment = segment.number;
        tracing::info!(
            dir = %dir.display(),
            checkpoint = ?report.checkpoint,
            segments = ?report.segments,
            records = report.records(),
            damaged = report.damage.len(),
            writing_segment = segment.number,
            "opened WAL"
        );

        let inner = Arc::new(Inner {
            dir: dir.to_path_buf(),
            options,
            writer: Mutex::new(Writer {
                segment,
                written: 0,
            }),
            commit: Mutex::new(Commit::default()),
            committed: Condvar::new(),
            poison: Mutex::new(None),
            checkpointing: Mutex::new(()),
            fsyncs: AtomicU64::new(0),
            appends: AtomicU64::new(0),
            _lock: lock,
        });
        let syncer = match options.fsync {
            FsyncPolicy::Interval(interval) => Some(Syncer::spawn(Arc::clone(&inner), interval)?),
            FsyncPolicy::Always | FsyncPolicy::Never => None,
        };
        Ok((Wal { inner, syncer }, report))
    }

    /// Appends `records` as one unit of durability: with [`FsyncPolicy::Always`] it returns only once all
    /// of them are on disk, sharing the `fsync` with concurrent callers. The batch is written with one
    /// `write` and kept in one segment when it fits in one (otherwise it is split at record boundaries).
    /// After a crash before this returns, any prefix of the batch may survive (never a partial record);
    /// after an error, likewise. An empty batch is a no-op.
    pub fn append(&self, records: &[(u8, &[u8])]) -> Result<(), WalError> {
        if records.is_empty() {
            return Ok(());
        }
        let inner = &*self.inner;
        inner.check_poison()?;
        let framed = records.iter().fold(0usize, |sum, (_, payload)| {
            sum.saturating_add(payload.len() + 9)
        });
        // Only a hint: the records are validated one by one below.
        let mut buf = Vec::with_capacity(framed.min(inner.options.segment_size as usize));
        let mut ends = Vec::with_capacity(records.len());
        let max_payload = inner.options.max_payload();
        for &(kind, payload) in records {
            record::encode(
                kind,
                payload,
                max_payload,
                inner.options.segment_size,
                &mut buf,
            )?;
            ends.push(buf.len());
        }
        let end = {
            let mut writer = inner.writer.lock();
            inner.check_poison()?;
            inner.write_batch(&mut writer, &buf, &ends)?;
            writer.written
        };
        inner.appends.fetch_add(1, Ordering::Relaxed);
        match inner.options.fsync {
            FsyncPolicy::Always => inner.wait_durable(end),
            FsyncPolicy::Interval(_) | FsyncPolicy::Never => Ok(()),
        }
    }

    /// Forces everything appended so far to disk, whatever the fsync policy.
    pub fn sync(&self) -> Result<(), WalError> {
        let inner = &*self.inner;
        inner.check_poison()?;
        let written = inner.writer.lock().written;
        inner.wait_durable(written)
    }

    /// Reads every record: the latest checkpoint's first, then every segment after it, in append order,
    /// up to what was appended when the call started (so it is safe, if unusual, while appending). Records
    /// are verified again; damage found now (files changed since `open`) is skipped, warned and reported,
    /// not repaired. Holds the checkpoint lock: calling `checkpoint` from `f` deadlocks.
    pub fn replay(
        &self,
        mut f: impl FnMut(u8, &[u8]) -> Result<(), WalError>,
    ) -> Result<ReplayReport, WalError> {
        let inner = &*self.inner;
        let _checkpointing = inner.checkpointing.lock();
        let (last, last_len) = {
            let writer = inner.writer.lock();
            (writer.segment.number, writer.segment.len)
        };
        let listing = segment::list(&inner.dir)?;
        let checkpoint = listing.checkpoints.last().copied();
        let mut report = ReplayReport {
            checkpoint,
            ..ReplayReport::default()
        };
        if let Some(upto) = checkpoint {
            let (stats, damage) = checkpoint::read(&inner.dir, upto, &mut f)?;
            report.checkpoint_stats = stats;
            report.damage.extend(damage);
        }
        let numbers: Vec<u64> = listing
            .segments
            .into_iter()
            .filter(|&number| checkpoint.is_none_or(|upto| number > upto) && number <= last)
            .collect();
        let first_expected = checkpoint.and_then(|upto| upto.checked_add(1));
        let limit = Some((last, last_len));
        let (stats, damage_at) =
            segment::read_sequence(&inner.dir, &numbers, first_expected, limit, &mut f)?;
        report.segment_stats = stats;
        if let Some(at) = damage_at {
            report
                .damage
                .push(repair::describe(&inner.dir, &numbers, at, false));
        }
        report.damage.iter().for_each(repair::warn_damage);
        Ok(report)
    }

    /// Starts a new segment and returns its number: every record appended before this call is in an
    /// earlier segment, so `checkpoint(returned - 1, ..)` may cover them.
    pub fn cut_segment(&self) -> Result<u64, WalError> {
        let inner = &*self.inner;
        inner.check_poison()?;
        let mut writer = inner.writer.lock();
        inner.rotate(&mut writer)?;
        Ok(writer.segment.number)
    }

    /// Writes checkpoint `upto` (replacing segments `<= upto`) from the records `write` appends, then
    /// deletes older checkpoints and the covered segments. `upto` must be older than the segment being
    /// written (cut one first) and newer than the current checkpoint. Appends continue meanwhile.
    pub fn checkpoint(
        &self,
        upto: u64,
        write: impl FnOnce(&mut CheckpointWriter) -> Result<(), WalError>,
    ) -> Result<CheckpointReport, WalError> {
        let inner = &*self.inner;
        let _checkpointing = inner.checkpointing.lock();
        let current = inner.writer.lock().segment.number;
        if upto >= current {
            return Err(WalError::CheckpointRange { upto, current });
        }
        if let Some(&existing) = segment::list(&inner.dir)?.checkpoints.last()
            && upto <= existing
        {
            return Err(WalError::CheckpointStale { upto, existing });
        }
        let (path, stats) = checkpoint::write(
            &inner.dir,
            upto,
            inner.options.segment_size,
            inner.options.max_payload(),
            write,
        )?;
        let (deleted_segments, deleted_checkpoints) = checkpoint::remove_obsolete(&inner.dir, upto);
        tracing::info!(
            path = %path.display(),
            records = stats.records,
            bytes = stats.bytes,
            deleted_segments,
            deleted_checkpoints,
            "wrote WAL checkpoint"
        );
        Ok(CheckpointReport {
            upto,
            path,
            stats,
            deleted_segments,
            deleted_checkpoints,
        })
    }

    /// Syncs and closes the WAL, reporting a failed final `fsync` (dropping it only logs one).
    pub fn close(mut self) -> Result<(), WalError> {
        if let Some(mut syncer) = self.syncer.take() {
            syncer.stop();
        }
        self.sync()
    }

    /// The WAL directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// The segment appends currently go to.
    pub fn current_segment(&self) -> u64 {
        self.inner.writer.lock().segment.number
    }

    /// Segment-data `fsync`s issued since open (group commits, rotations, `sync`); not directory syncs.
    pub fn fsyncs(&self) -> u64 {
        self.inner.fsyncs.load(Ordering::Relaxed)
    }

    /// Successful non-empty `append` calls since open.
    pub fn appends(&self) -> u64 {
        self.inner.appends.load(Ordering::Relaxed)
    }
}

impl Drop for Wal {
    fn drop(&mut self) {
        let Some(mut syncer) = self.syncer.take() else {
            return;
        };
        syncer.stop();
        if let Err(error) = self.sync() {
            tracing::warn!(error = %error, "final WAL sync on drop failed");
        }
    }
}

impl Inner {
    /// Writes a framed batch (`ends` are the record boundaries in `buf`), rotating segments as needed.
    fn write_batch(&self, writer: &mut Writer, buf: &[u8], ends: &[usize]) -> Result<(), WalError> {
        let segment_size = self.options.segment_size;
        let mut start = 0;
        while start < buf.len() {
            let remaining = segment_size.saturating_sub(writer.segment.len);
            let rest = (buf.len() - start) as u64;
            let take_end = if rest <= remaining {
                buf.len()
            } else if rest <= segment_size {
                // The rest fits a fresh segment: keep it together rather than split it.
                start
            } else {
                let limit = (start as u64).saturating_add(remaining);
                let fitting = ends.partition_point(|&end| end as u64 <= limit);
                fitting
                    .checked_sub(1)
                    .map_or(start, |last| ends[last].max(start))
            };
            if take_end == start {
                if writer.segment.len == 0 {
                    // `encode` bounds every record by the segment size, so an empty segment takes one.
                    debug_assert!(false, "a record does not fit an empty segment");
                    return Err(WalError::RecordTooLarge {
                        len: rest,
                        segment_size,
                    });
                }
                self.rotate(writer)?;
                continue;
            }
            let chunk = &buf[start..take_end];
            writer.segment.append(chunk).map_err(|failure| {
                if !failure.rolled_back {
                    self.poison(&failure.error);
                }
                failure.error
            })?;
            writer.written += chunk.len() as u64;
            start = take_end;
        }
        Ok(())
    }

    /// Closes the current segment (syncing it unless the policy is `Never`) and starts the next one.
    fn rotate(&self, writer: &mut Writer) -> Result<(), WalError> {
        let next = writer
            .segment
            .number
            .checked_add(1)
            .ok_or(WalError::SegmentNumberOverflow)?;
        let sync = self.options.fsync != FsyncPolicy::Never;
        if sync {
            self.fsync(&writer.segment.file, &writer.segment.path)?;
        }
        let segment = SegmentFile::create(&self.dir, next)?;
        if sync {
            segment::sync_dir(&self.dir).inspect_err(|error| self.poison(error))?;
        }
        writer.segment = segment;
        if sync {
            self.mark_durable(writer.written);
        }
        Ok(())
    }
}

/// Creates and locks `dir/lock` (an advisory `flock`, released by the kernel when the process dies).
fn lock_dir(dir: &Path) -> Result<File, WalError> {
    let path = dir.join(LOCK_FILE);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| WalError::Lock {
            path: path.clone(),
            source,
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(WalError::Locked {
            path: dir.to_path_buf(),
        }),
        Err(TryLockError::Error(source)) => Err(WalError::Lock { path, source }),
    }
}
