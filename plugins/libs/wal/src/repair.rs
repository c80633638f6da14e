//! Recovery on open: clean up after an interrupted checkpoint, verify every record replay will read, and
//! repair the first damage found in the segments.
//!
//! The rule is the one a crash produces naturally: the log is valid up to its first bad record and
//! nothing after it can be trusted to follow on (a later record may reference a series defined in a lost
//! one). So the segment holding the first bad record (torn header, torn payload, CRC mismatch) is
//! truncated at that record's offset and every later segment is deleted; a gap in the segment numbering
//! is damage at offset 0 of the first segment after the gap, which is deleted with the rest. Each repair
//! is logged with `tracing::warn!` (file, offset, reason, bytes dropped) and returned in the
//! [`OpenReport`]. A damaged checkpoint is never modified: its records up to the damage are kept, the rest
//! is skipped with a warning, and the segments after it are still read (dropping them would lose more).

use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};

use crate::checkpoint;
use crate::error::WalError;
use crate::record::DamageReason;
use crate::report::{Damage, OpenReport};
use crate::segment::{self, DamageAt};

/// The outcome of [`recover`]: the report for the caller, and the last segment left on disk with its
/// length, so the writer can reuse it when it is empty.
#[derive(Debug)]
pub(crate) struct Recovered {
    pub(crate) report: OpenReport,
    pub(crate) last_segment: Option<(u64, u64)>,
}

/// Cleans up, verifies and repairs the WAL in `dir`. The caller holds the directory lock.
pub(crate) fn recover(dir: &Path) -> Result<Recovered, WalError> {
    let listing = segment::list(dir)?;
    let mut report = OpenReport::default();

    for temporary in &listing.temporaries {
        segment::remove_path(temporary)?;
        report.removed.push(temporary.clone());
    }
    let checkpoint = listing.checkpoints.last().copied();
    if let Some(upto) = checkpoint {
        for &older in listing.checkpoints.iter().filter(|&&older| older < upto) {
            let path = dir.join(segment::checkpoint_name(older));
            segment::remove_path(&path)?;
            report.removed.push(path);
        }
        for &covered in listing.segments.iter().filter(|&&number| number <= upto) {
            let path = dir.join(segment::segment_name(covered));
            segment::remove_path(&path)?;
            report.removed.push(path);
        }
    }
    if !report.removed.is_empty() {
        tracing::info!(
            dir = %dir.display(),
            removed = report.removed.len(),
            "removed leftovers of an interrupted WAL checkpoint"
        );
        segment::sync_dir(dir)?;
    }

    report.checkpoint = checkpoint;
    if let Some(upto) = checkpoint {
        let (stats, damage) = checkpoint::read(dir, upto, &mut |_, _| Ok(()))?;
        report.checkpoint_stats = stats;
        if let Some(damage) = damage {
            warn_damage(&damage);
            report.damage.push(damage);
        }
    }

    let mut live: Vec<u64> = listing
        .segments
        .iter()
        .copied()
        .filter(|&number| checkpoint.is_none_or(|upto| number > upto))
        .collect();
    let first_expected = checkpoint.and_then(|upto| upto.checked_add(1));
    let (stats, damage_at) =
        segment::read_sequence(dir, &live, first_expected, None, &mut |_, _| Ok(()))?;
    report.segment_stats = stats;
    if let Some(at) = damage_at {
        let index = at.index;
        let damage = describe(dir, &live, at, true);
        let kept = repair(dir, &live, index, &damage)?;
        warn_damage(&damage);
        report.damage.push(damage);
        live.truncate(kept);
    }

    report.segments = live.first().copied().zip(live.last().copied());
    let last_segment = match live.last() {
        Some(&number) => {
            let path = dir.join(segment::segment_name(number));
            let len = fs::metadata(&path)
                .map_err(|source| WalError::OpenSegment { path, source })?
                .len();
            Some((number, len))
        }
        None => None,
    };
    Ok(Recovered {
        report,
        last_segment,
    })
}

/// Truncates the damaged segment (`numbers[index]`) and deletes every later one; returns how many
/// segments are kept.
fn repair(dir: &Path, numbers: &[u64], index: usize, damage: &Damage) -> Result<usize, WalError> {
    let drop_whole_file = matches!(damage.reason, DamageReason::MissingSegment { .. });
    let kept = if drop_whole_file { index } else { index + 1 };
    // Delete from the end so that a crash half-way leaves a valid prefix, never a gap.
    for &number in numbers[kept..].iter().rev() {
        segment::remove_path(&dir.join(segment::segment_name(number)))?;
    }
    if !drop_whole_file {
        truncate(&damage.path, damage.offset)?;
    }
    segment::sync_dir(dir)?;
    Ok(kept)
}

fn truncate(path: &Path, offset: u64) -> Result<(), WalError> {
    let truncate_error = |source| WalError::Truncate {
        path: path.to_path_buf(),
        offset,
        source,
    };
    let file = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(truncate_error)?;
    file.set_len(offset).map_err(truncate_error)?;
    file.sync_all().map_err(|source| WalError::Sync {
        path: path.to_path_buf(),
        source,
    })
}

/// Turns a [`DamageAt`] found in segments `numbers` of `dir` into a [`Damage`], counting what is dropped.
pub(crate) fn describe(dir: &Path, numbers: &[u64], at: DamageAt, repaired: bool) -> Damage {
    let dropped_files: Vec<PathBuf> = numbers
        .get(at.index + 1..)
        .unwrap_or_default()
        .iter()
        .map(|&number| dir.join(segment::segment_name(number)))
        .collect();
    let later_bytes: u64 = dropped_files
        .iter()
        .map(|path| fs::metadata(path).map_or(0, |meta| meta.len()))
        .sum();
    Damage {
        path: at.path,
        offset: at.offset,
        reason: at.reason,
        dropped_bytes: at.file_len.saturating_sub(at.offset) + later_bytes,
        dropped_files,
        repaired,
    }
}

/// The one log line every damage gets.
pub(crate) fn warn_damage(damage: &Damage) {
    let action = if damage.repaired {
        "truncated the segment and deleted the later ones"
    } else {
        "skipped the rest"
    };
    tracing::warn!(
        path = %damage.path.display(),
        offset = damage.offset,
        reason = %damage.reason,
        dropped_bytes = damage.dropped_bytes,
        dropped_files = damage.dropped_files.len(),
        "damaged WAL record, {action}"
    );
}
