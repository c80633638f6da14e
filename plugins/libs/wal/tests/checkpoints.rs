//! Checkpoints: what replay reads, what is deleted, misuse, and leftovers of interrupted checkpoints.

use std::fs;

use mimir_wal::{FsyncPolicy, Wal, WalError, WalOptions};

use crate::support::{append_each, numbered, options, replay_all, segment_files};

#[test]
fn replay_reads_the_checkpoint_then_later_segments() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = Wal::open(dir.path(), options(256, FsyncPolicy::Always)).unwrap();
    append_each(&wal, &numbered(20, 30));
    let cut = wal.cut_segment().unwrap();
    assert!(cut > 1);
    wal.append(&[(9, b"after the cut")]).unwrap();

    let report = wal
        .checkpoint(cut - 1, |writer| {
            for i in 0..50u32 {
                writer.append(1, &i.to_le_bytes())?;
            }
            writer.append(2, &[5; 200])?;
            Ok(())
        })
        .unwrap();
    assert_eq!(report.upto, cut - 1);
    assert_eq!(report.stats.records, 51);
    assert_eq!(report.deleted_segments, cut);
    assert_eq!(report.deleted_checkpoints, 0);
    assert!(report.path.ends_with(format!("checkpoint.{:08}", cut - 1)));
    // 50 records of 13 bytes + one of 209 in segments of 256 bytes.
    assert_eq!(segment_files(&report.path).len(), 4);
    assert_eq!(segment_files(dir.path()).len(), 1);

    let mut expected: Vec<(u8, Vec<u8>)> =
        (0..50u32).map(|i| (1, i.to_le_bytes().to_vec())).collect();
    expected.push((2, vec![5; 200]));
    expected.push((9, b"after the cut".to_vec()));
    let (records, replay) = replay_all(&wal);
    assert_eq!(records, expected);
    assert_eq!(replay.checkpoint, Some(cut - 1));
    assert_eq!(replay.checkpoint_stats.records, 51);
    assert_eq!(replay.segment_stats.records, 1);
    drop(wal);

    let (wal, open) = Wal::open(dir.path(), options(256, FsyncPolicy::Always)).unwrap();
    assert_eq!(open.checkpoint, Some(cut - 1));
    assert_eq!(open.records(), 52);
    assert!(open.damage.is_empty());
    assert_eq!(replay_all(&wal).0, expected);
}

#[test]
fn a_newer_checkpoint_replaces_the_older_one() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = Wal::open(dir.path(), WalOptions::default()).unwrap();
    wal.append(&[(1, b"a")]).unwrap();
    let first = wal.cut_segment().unwrap();
    wal.checkpoint(first - 1, |writer| writer.append(1, b"state-1"))
        .unwrap();
    wal.append(&[(1, b"b")]).unwrap();
    let second = wal.cut_segment().unwrap();
    let report = wal
        .checkpoint(second - 1, |writer| writer.append(1, b"state-2"))
        .unwrap();
    assert_eq!(report.deleted_checkpoints, 1);
    assert_eq!(report.deleted_segments, 1);
    wal.append(&[(1, b"c")]).unwrap();
    assert_eq!(
        replay_all(&wal).0,
        vec![(1, b"state-2".to_vec()), (1, b"c".to_vec())]
    );
    assert!(
        !dir.path()
            .join(format!("checkpoint.{:08}", first - 1))
            .exists()
    );
}

#[test]
fn checkpointing_the_current_or_a_covered_segment_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = Wal::open(dir.path(), WalOptions::default()).unwrap();
    let error = wal.checkpoint(0, |_| Ok(())).unwrap_err();
    assert!(
        matches!(
            error,
            WalError::CheckpointRange {
                upto: 0,
                current: 0
            }
        ),
        "{error}"
    );
    wal.cut_segment().unwrap();
    wal.cut_segment().unwrap();
    wal.checkpoint(1, |_| Ok(())).unwrap();
    let error = wal.checkpoint(0, |_| Ok(())).unwrap_err();
    assert!(
        matches!(
            error,
            WalError::CheckpointStale {
                upto: 0,
                existing: 1
            }
        ),
        "{error}"
    );
}

#[test]
fn a_failed_checkpoint_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = Wal::open(dir.path(), WalOptions::default()).unwrap();
    wal.append(&[(1, b"kept")]).unwrap();
    let cut = wal.cut_segment().unwrap();
    let error = wal
        .checkpoint(cut - 1, |writer| {
            writer.append(1, b"partial")?;
            Err(WalError::callback("snapshot failed"))
        })
        .unwrap_err();
    assert!(matches!(error, WalError::Callback(_)));
    let entries: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert!(
        entries
            .iter()
            .all(|name| !name.to_string_lossy().starts_with("checkpoint")),
        "{entries:?}"
    );
    assert_eq!(replay_all(&wal).0, vec![(1, b"kept".to_vec())]);
}

#[test]
fn an_empty_checkpoint_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = Wal::open(dir.path(), WalOptions::default()).unwrap();
    wal.append(&[(1, b"dropped")]).unwrap();
    let cut = wal.cut_segment().unwrap();
    let report = wal.checkpoint(cut - 1, |_| Ok(())).unwrap();
    assert_eq!(report.stats.records, 0);
    drop(wal);
    let (wal, open) = Wal::open(dir.path(), WalOptions::default()).unwrap();
    assert_eq!(open.checkpoint, Some(cut - 1));
    assert_eq!(open.writing_segment, cut);
    assert!(replay_all(&wal).0.is_empty());
}

#[test]
fn open_removes_leftovers_of_an_interrupted_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (wal, _) = Wal::open(dir.path(), WalOptions::default()).unwrap();
        wal.append(&[(1, b"old")]).unwrap();
        wal.cut_segment().unwrap();
        wal.append(&[(1, b"new")]).unwrap();
        wal.cut_segment().unwrap();
    }
    // A crash after renaming checkpoint 0 but before deleting segment 0 and the older checkpoint,
    // plus a half-written later checkpoint.
    let older = dir.path().join("checkpoint.00000000");
    fs::create_dir(&older).unwrap();
    let newer = dir.path().join("checkpoint.00000001");
    fs::create_dir(&newer).unwrap();
    let temporary = dir.path().join("checkpoint.00000002.tmp");
    fs::create_dir(&temporary).unwrap();
    fs::write(temporary.join("00000000"), b"garbage").unwrap();

    let (wal, report) = Wal::open(dir.path(), WalOptions::default()).unwrap();
    let mut removed = report.removed.clone();
    removed.sort();
    let mut expected = vec![
        temporary,
        older,
        dir.path().join("00000000"),
        dir.path().join("00000001"),
    ];
    expected.sort();
    assert_eq!(removed, expected);
    assert_eq!(report.checkpoint, Some(1));
    assert_eq!(report.segments, Some((2, 2)));
    assert!(replay_all(&wal).0.is_empty());
    assert!(newer.is_dir());
}
