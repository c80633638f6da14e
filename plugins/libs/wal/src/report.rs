//! What `open`, `replay` and `checkpoint` tell their caller: counts for metrics and logs, and every piece
//! of damage found, with the file, offset, reason and what was dropped. Plain data, no behaviour.

use std::path::PathBuf;

use crate::record::DamageReason;

/// Counts of what was read from a run of segment files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Segment files read (a damaged file counts).
    pub files: u64,
    /// Good records read.
    pub records: u64,
    /// Bytes of good records, headers included.
    pub bytes: u64,
}

/// The first bad record of a run of segments, and what was dropped because of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    /// The file holding the first bad record (for a missing segment: the first file after the gap).
    pub path: PathBuf,
    /// Byte offset of the bad record in that file.
    pub offset: u64,
    /// Why the record is bad.
    pub reason: DamageReason,
    /// Bytes not read from `path` and from the files in `dropped_files`.
    pub dropped_bytes: u64,
    /// Later files whose records were dropped with it (deleted when `repaired`; for a missing segment
    /// `path` itself is deleted too).
    pub dropped_files: Vec<PathBuf>,
    /// `true` when the WAL was changed on disk (segment truncated at `offset`, `dropped_files` deleted);
    /// `false` when the bad data was only skipped (a checkpoint is never modified, and `replay` only reads).
    pub repaired: bool,
}

/// What [`crate::Wal::open`] found, repaired, and left for `replay` to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenReport {
    /// The checkpoint replay starts from: it covers segments `<=` this number.
    pub checkpoint: Option<u64>,
    /// The checkpoint's good records.
    pub checkpoint_stats: ReadStats,
    /// First and last segment replay reads after the checkpoint (none for an empty WAL).
    pub segments: Option<(u64, u64)>,
    /// The good records in those segments.
    pub segment_stats: ReadStats,
    /// Damage found, in the order found: at most one in the checkpoint and one in the segments.
    pub damage: Vec<Damage>,
    /// Leftovers of an interrupted checkpoint that were deleted: `.tmp` directories, superseded
    /// checkpoints, segments the checkpoint covers.
    pub removed: Vec<PathBuf>,
    /// The segment new appends go to.
    pub writing_segment: u64,
}

impl OpenReport {
    /// Records `replay` will read (checkpoint and segments).
    pub fn records(&self) -> u64 {
        self.checkpoint_stats.records + self.segment_stats.records
    }
}

/// What [`crate::Wal::replay`] read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayReport {
    /// The checkpoint read first, if any.
    pub checkpoint: Option<u64>,
    /// Records read from the checkpoint.
    pub checkpoint_stats: ReadStats,
    /// Records read from the segments after it.
    pub segment_stats: ReadStats,
    /// Damage met while reading; empty unless the files changed after `open` repaired them.
    pub damage: Vec<Damage>,
}

impl ReplayReport {
    /// Records handed to the callback.
    pub fn records(&self) -> u64 {
        self.checkpoint_stats.records + self.segment_stats.records
    }
}

/// What [`crate::Wal::checkpoint`] wrote and deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckpointReport {
    /// The new checkpoint covers segments `<=` this number.
    pub upto: u64,
    /// The checkpoint directory.
    pub path: PathBuf,
    /// What was written into it.
    pub stats: ReadStats,
    /// Segments the checkpoint made obsolete that were deleted.
    pub deleted_segments: u64,
    /// Older checkpoints that were deleted.
    pub deleted_checkpoints: u64,
}
