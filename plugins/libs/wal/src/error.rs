//! The crate's one error enum. Every I/O variant names the file or directory it was working on; damaged
//! data is *not* an error (it is repaired and reported through [`crate::Damage`]), so a `WalError` always
//! means "the operation did not happen", never "some records were dropped".

use std::path::PathBuf;
use std::sync::Arc;

/// Boxed error a replay or checkpoint callback can wrap into [`WalError::Callback`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong in the WAL.
#[derive(Debug, thiserror::Error)]
pub enum WalError {
    /// A [`crate::WalOptions`] field is out of range.
    #[error("invalid WAL option `{key}`: {message}")]
    InvalidOption {
        /// The option's field name.
        key: &'static str,
        /// What is wrong with it.
        message: String,
    },

    /// The WAL directory could not be created or opened.
    #[error("failed to create WAL directory {path}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Another `Wal` (in this or another process) holds the directory's lock file.
    #[error("WAL directory {path} is already open in another WAL instance")]
    Locked { path: PathBuf },

    /// The lock file could not be created or locked.
    #[error("failed to lock WAL directory {path}")]
    Lock {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Listing the WAL or a checkpoint directory failed.
    #[error("failed to list WAL directory {path}")]
    ListDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Opening an existing segment failed.
    #[error("failed to open WAL segment {path}")]
    OpenSegment {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Creating a new segment (or checkpoint directory) failed.
    #[error("failed to create WAL segment {path}")]
    CreateSegment {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Reading a segment failed at the OS level (damage is not reported here).
    #[error("failed to read WAL segment {path}")]
    ReadSegment {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Writing a segment failed; the partial write was rolled back.
    #[error("failed to write WAL segment {path}")]
    WriteSegment {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// `fsync` of a file or directory failed.
    #[error("failed to sync {path}")]
    Sync {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Truncating a damaged or partially written segment failed.
    #[error("failed to truncate WAL segment {path} at offset {offset}")]
    Truncate {
        path: PathBuf,
        offset: u64,
        #[source]
        source: std::io::Error,
    },

    /// Deleting a segment or checkpoint failed.
    #[error("failed to remove {path}")]
    Remove {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Renaming a finished checkpoint into place failed.
    #[error("failed to rename {from} to {to}")]
    Rename {
        from: PathBuf,
        to: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A record (header included) is larger than a whole segment.
    #[error("record of {len} bytes does not fit in a WAL segment of {segment_size} bytes")]
    RecordTooLarge { len: u64, segment_size: u64 },

    /// `checkpoint(upto)` was called with a segment that is still being written (or newer).
    #[error(
        "cannot checkpoint up to segment {upto}: segment {current} is being written, cut it first"
    )]
    CheckpointRange { upto: u64, current: u64 },

    /// `checkpoint(upto)` was called with a segment an existing checkpoint already covers.
    #[error("cannot checkpoint up to segment {upto}: checkpoint {existing} already covers it")]
    CheckpointStale { upto: u64, existing: u64 },

    /// The background thread of `FsyncPolicy::Interval` could not be started.
    #[error("failed to start the WAL sync thread")]
    SpawnSyncer(#[source] std::io::Error),

    /// Segment numbers ran out (`u64::MAX` segments).
    #[error("WAL segment number overflow")]
    SegmentNumberOverflow,

    /// An earlier `fsync` (or an unrecoverable write) failed. After a failed fsync the kernel may have
    /// dropped dirty pages, so nothing written since the last good sync can be trusted: the WAL refuses
    /// further writes and must be reopened (which re-reads what actually is on disk).
    #[error("WAL is unusable after an earlier I/O failure, reopen it to recover: {reason}")]
    Poisoned { reason: Arc<str> },

    /// A replay or checkpoint callback failed; the callback's error is the source.
    #[error("WAL callback failed")]
    Callback(#[source] BoxError),
}

impl WalError {
    /// Wraps a caller's error so a replay or checkpoint callback can return it.
    pub fn callback(error: impl Into<BoxError>) -> Self {
        Self::Callback(error.into())
    }
}
