//! Damage on disk: the issue's acceptance cases ("a WAL with a truncated last record and one with a
//! flipped byte both replay with a warning") and the other shapes of damage, each checked for the exact
//! records kept, the report, the log line, and that a second open finds nothing left to repair.

use std::fs::{self, OpenOptions};
use std::path::Path;

use mimir_wal::{DamageReason, FsyncPolicy, OpenReport, Wal, WalOptions};

use crate::support::{
    Records, append_each, capture_logs, numbered, options, replay_all, segment_files,
};

const RECORD: u64 = 9 + 40;

/// Writes `count` records of 40 bytes into segments of `per_segment` records.
fn write_wal(dir: &Path, count: usize, per_segment: u64) -> Records {
    let records = numbered(count, 40);
    let (wal, _) = Wal::open(dir, wal_options(per_segment)).unwrap();
    append_each(&wal, &records);
    records
}

fn wal_options(per_segment: u64) -> WalOptions {
    options(RECORD * per_segment, FsyncPolicy::Always)
}

/// Opens with log capture, checks the warning, replays; returns the report and the records.
fn open_and_replay(dir: &Path, per_segment: u64) -> (OpenReport, Records) {
    let ((report, records), log) = capture_logs(|| {
        let (wal, report) = Wal::open(dir, wal_options(per_segment)).unwrap();
        let (records, replay) = replay_all(&wal);
        assert!(
            replay.damage.is_empty(),
            "open left damage for replay: {:?}",
            replay.damage
        );
        (report, records)
    });
    if !report.damage.is_empty() {
        assert!(log.contains("WARN"), "no warning logged:\n{log}");
        assert!(
            log.contains("damaged WAL record"),
            "no damage line logged:\n{log}"
        );
        let damage = &report.damage[0];
        assert!(
            log.contains(&damage.path.display().to_string()),
            "log does not name the file:\n{log}"
        );
        assert!(
            log.contains(&format!("offset={}", damage.offset)),
            "log does not give the offset:\n{log}"
        );
    }
    // Repair is complete: a second open finds nothing, and the WAL still takes appends.
    let (wal, again) = Wal::open(dir, wal_options(per_segment)).unwrap();
    assert!(
        again.damage.is_empty(),
        "second open found damage: {:?}",
        again.damage
    );
    assert_eq!(replay_all(&wal).0, records);
    wal.append(&[(42, b"after repair")]).unwrap();
    let mut with_new = records.clone();
    with_new.push((42, b"after repair".to_vec()));
    assert_eq!(replay_all(&wal).0, with_new);
    drop(wal);
    let (wal, _) = Wal::open(dir, wal_options(per_segment)).unwrap();
    assert_eq!(replay_all(&wal).0, with_new);
    // Leave the directory as repair left it, minus the extra record, for the caller's checks.
    drop(wal);
    (report, records)
}

#[test]
fn truncated_last_record_replays_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let records = write_wal(dir.path(), 10, 100);
    let segment = dir.path().join("00000000");
    let len = fs::metadata(&segment).unwrap().len();
    OpenOptions::new()
        .write(true)
        .open(&segment)
        .unwrap()
        .set_len(len - 3)
        .unwrap();

    let (report, replayed) = open_and_replay(dir.path(), 100);
    assert_eq!(replayed, records[..9]);
    assert_eq!(report.damage.len(), 1);
    let damage = &report.damage[0];
    assert_eq!(damage.path, segment);
    assert_eq!(damage.offset, 9 * RECORD);
    assert_eq!(
        damage.reason,
        DamageReason::TornPayload {
            len: 40,
            available: 37
        }
    );
    assert_eq!(damage.dropped_bytes, RECORD - 3);
    assert!(damage.repaired);
}

#[test]
fn torn_header_replays_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let records = write_wal(dir.path(), 10, 100);
    let segment = dir.path().join("00000000");
    OpenOptions::new()
        .write(true)
        .open(&segment)
        .unwrap()
        .set_len(9 * RECORD + 4)
        .unwrap();
    let (report, replayed) = open_and_replay(dir.path(), 100);
    assert_eq!(replayed, records[..9]);
    assert_eq!(
        report.damage[0].reason,
        DamageReason::TornHeader { available: 4 }
    );
}

#[test]
fn flipped_byte_replays_with_a_warning_and_drops_what_follows() {
    let dir = tempfile::tempdir().unwrap();
    let records = write_wal(dir.path(), 30, 10);
    assert_eq!(segment_files(dir.path()).len(), 3);
    // Flip a payload byte of record 14 (segment 1, its 5th record).
    let segment = dir.path().join("00000001");
    let mut bytes = fs::read(&segment).unwrap();
    let at = (4 * RECORD + 20) as usize;
    bytes[at] ^= 0x01;
    fs::write(&segment, &bytes).unwrap();

    let (report, replayed) = open_and_replay(dir.path(), 10);
    assert_eq!(replayed, records[..14]);
    let damage = &report.damage[0];
    assert_eq!(damage.path, segment);
    assert_eq!(damage.offset, 4 * RECORD);
    assert!(
        matches!(damage.reason, DamageReason::ChecksumMismatch { .. }),
        "{}",
        damage.reason
    );
    assert_eq!(damage.dropped_files, vec![dir.path().join("00000002")]);
    assert_eq!(damage.dropped_bytes, 6 * RECORD + 10 * RECORD);
}

#[test]
fn flipped_length_byte_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let records = write_wal(dir.path(), 10, 100);
    let segment = dir.path().join("00000000");
    let mut bytes = fs::read(&segment).unwrap();
    // Shrink record 3's length from 40 to 8: the CRC covers the length.
    bytes[(3 * RECORD + 1) as usize] = 8;
    fs::write(&segment, &bytes).unwrap();
    let (report, replayed) = open_and_replay(dir.path(), 100);
    assert_eq!(replayed, records[..3]);
    assert!(matches!(
        report.damage[0].reason,
        DamageReason::ChecksumMismatch { .. }
    ));
}

#[test]
fn zero_filled_tail_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let records = write_wal(dir.path(), 5, 100);
    let segment = dir.path().join("00000000");
    let mut file = OpenOptions::new().append(true).open(&segment).unwrap();
    std::io::Write::write_all(&mut file, &[0; 4096]).unwrap();
    let (report, replayed) = open_and_replay(dir.path(), 100);
    assert_eq!(replayed, records);
    assert_eq!(report.damage[0].offset, 5 * RECORD);
    assert_eq!(report.damage[0].dropped_bytes, 4096);
}

#[test]
fn a_missing_segment_drops_the_segments_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let records = write_wal(dir.path(), 40, 10);
    fs::remove_file(dir.path().join("00000001")).unwrap();
    let (report, replayed) = open_and_replay(dir.path(), 10);
    assert_eq!(replayed, records[..10]);
    let damage = &report.damage[0];
    assert_eq!(
        damage.reason,
        DamageReason::MissingSegment {
            expected: 1,
            found: 2
        }
    );
    assert_eq!(damage.path, dir.path().join("00000002"));
    assert_eq!(damage.offset, 0);
    assert_eq!(damage.dropped_bytes, 20 * RECORD);
}

#[test]
fn a_damaged_checkpoint_is_skipped_from_the_damage_on_but_segments_still_replay() {
    let dir = tempfile::tempdir().unwrap();
    let opts = options(RECORD * 10, FsyncPolicy::Always);
    let checkpoint_records = numbered(25, 40);
    {
        let (wal, _) = Wal::open(dir.path(), opts).unwrap();
        wal.append(&[(1, b"covered")]).unwrap();
        let cut = wal.cut_segment().unwrap();
        wal.append(&[(1, b"after")]).unwrap();
        wal.checkpoint(cut - 1, |writer| {
            checkpoint_records
                .iter()
                .try_for_each(|(kind, payload)| writer.append(*kind, payload))
        })
        .unwrap();
    }
    let checkpoint_segment = dir.path().join("checkpoint.00000000/00000001");
    let mut bytes = fs::read(&checkpoint_segment).unwrap();
    bytes[(2 * RECORD + 12) as usize] ^= 0xff;
    fs::write(&checkpoint_segment, &bytes).unwrap();

    let ((wal, report), log) = capture_logs(|| Wal::open(dir.path(), opts).unwrap());
    assert!(log.contains("damaged WAL record"), "{log}");
    assert_eq!(report.damage.len(), 1);
    let damage = &report.damage[0];
    assert!(!damage.repaired);
    assert_eq!(damage.path, checkpoint_segment);
    assert_eq!(damage.offset, 2 * RECORD);
    assert_eq!(
        damage.dropped_files,
        vec![dir.path().join("checkpoint.00000000/00000002")]
    );
    assert_eq!(report.checkpoint_stats.records, 12);

    let (records, replay) = replay_all(&wal);
    let mut expected = checkpoint_records[..12].to_vec();
    expected.push((1, b"after".to_vec()));
    assert_eq!(records, expected);
    assert_eq!(replay.damage.len(), 1);
    // The checkpoint is never modified.
    assert_eq!(fs::read(&checkpoint_segment).unwrap(), bytes);
}

#[test]
fn garbage_segment_files_do_not_crash_open() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("00000000"),
        b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
    )
    .unwrap();
    fs::write(dir.path().join("00000001"), [0u8; 3]).unwrap();
    let (report, replayed) = open_and_replay(dir.path(), 10);
    assert!(replayed.is_empty());
    assert_eq!(
        report.damage[0].reason,
        DamageReason::TornPayload {
            len: u32::MAX,
            available: 1
        }
    );
}
