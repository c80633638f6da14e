//! mimir-wal: the ingester's write-ahead log, the guarantee that a sample acknowledged to a client
//! survives `kill -9` (and, with the default fsync policy, power loss).
//!
//! It stores opaque records, a `kind: u8` plus a byte payload; the ingester defines the kinds (series,
//! samples, tenants…) and their encoding. This crate must never depend on `mimir-tsdb` or any other
//! part of the ingester: it knows bytes, files and `fsync`, nothing about series.
//!
//! # On disk
//! A WAL directory holds segment files named by zero-padded sequence number (`00000000`, `00000001`, …),
//! each at most [`WalOptions::segment_size`] bytes (128 MiB by default), an optional checkpoint
//! directory `checkpoint.NNNNNNNN` that replaces segments `<= NNNNNNNN`, and a `lock` file. A segment is a
//! plain concatenation of records, no file header:
//!
//! ```text
//! [kind: u8][len: u32 LE][crc32: u32 LE][payload: len bytes]
//! ```
//!
//! The CRC-32 (IEEE, `crc32fast`) covers kind, length and payload, so a zero-filled tail never passes.
//! A record never spans segments: when it would not fit, the segment is closed and the next one started;
//! a record larger than a segment is [`WalError::RecordTooLarge`]. A checkpoint directory holds segment
//! files in exactly this format, numbered from `00000000`.
//!
//! # Durability and fsync policy
//! [`FsyncPolicy::Always`] (the default): `append` returns only after `fdatasync` of the segment, so an
//! acknowledged record survives power loss. Concurrent appenders are group-committed: one leader `fsync`s
//! everything written so far while the others wait on a condvar, so throughput scales with concurrency
//! instead of paying one `fsync` per call (see `commit.rs`). A closed segment is `fsync`ed when the next
//! one is started and every new segment's directory entry is `fsync`ed. [`FsyncPolicy::Interval`]: a
//! background thread `fsync`s at most once per interval; a process crash loses nothing already written,
//! a machine crash up to one interval. [`FsyncPolicy::Never`]: no `fsync` on the append path at all.
//! Checkpoints and explicit [`Wal::sync`] always `fsync`. A failed `fsync` poisons the WAL
//! ([`WalError::Poisoned`]): the ingester must stop taking writes and reopen (re-replay) it.
//!
//! # Recovery
//! [`Wal::open`] deletes leftovers of an interrupted checkpoint, verifies every record replay will read,
//! and repairs the first damage (torn header, torn payload, CRC mismatch, missing segment) by truncating
//! at the bad record and deleting every later segment, with a `tracing::warn!` and a [`Damage`] entry in
//! the [`OpenReport`]. No byte sequence makes it panic. Appends then go to a new segment. A damaged
//! checkpoint is read up to the damage and never modified. See `repair.rs`.
//!
//! # For the ingester
//! Open, replay (records come back in append order; checkpoint first), then append. To checkpoint: `let n
//! = wal.cut_segment()?`, snapshot live state, `wal.checkpoint(n - 1, |w| write state)`. Records
//! appended between the cut and the snapshot are in both the checkpoint and segment `n`, so replay must
//! be idempotent (series records by ref, samples deduplicated by timestamp), and a sample may refer to a
//! series whose record was lost to damage, so unknown references must be counted and skipped.

mod checkpoint;
mod commit;
mod error;
mod options;
mod record;
mod repair;
mod report;
mod segment;
mod wal;

pub use checkpoint::CheckpointWriter;
pub use error::{BoxError, WalError};
pub use options::{FsyncPolicy, WalOptions};
pub use record::DamageReason;
pub use report::{CheckpointReport, Damage, OpenReport, ReadStats, ReplayReport};
pub use wal::Wal;
