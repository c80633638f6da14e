//! Append, reopen, replay; segment rotation; limits; the directory lock; fsync policies.

use std::fs;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mimir_wal::{FsyncPolicy, Wal, WalError, WalOptions};

use crate::support::{append_each, numbered, options, replay_all, segment_files};

#[test]
fn appended_records_replay_in_order_after_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let records = numbered(100, 40);
    {
        let (wal, report) = Wal::open(dir.path(), WalOptions::default()).unwrap();
        assert_eq!(report.records(), 0);
        assert_eq!(report.writing_segment, 0);
        append_each(&wal, &records[..50]);
        let batch: Vec<(u8, &[u8])> = records[50..]
            .iter()
            .map(|(kind, payload)| (*kind, payload.as_slice()))
            .collect();
        wal.append(&batch).unwrap();
        assert_eq!(wal.appends(), 51);
        // Replay works on the live WAL too.
        assert_eq!(replay_all(&wal).0, records);
    }
    let (wal, report) = Wal::open(dir.path(), WalOptions::default()).unwrap();
    assert_eq!(report.records(), 100);
    assert_eq!(report.segments, Some((0, 0)));
    assert!(report.damage.is_empty());
    assert_eq!(report.writing_segment, 1);
    let (replayed, replay) = replay_all(&wal);
    assert_eq!(replayed, records);
    assert_eq!(replay.segment_stats.records, 100);
    assert_eq!(replay.segment_stats.bytes, report.segment_stats.bytes);
}

#[test]
fn records_never_span_segments_and_batches_stay_together() {
    let dir = tempfile::tempdir().unwrap();
    let segment_size = 200;
    let records = numbered(60, 30);
    {
        let (wal, _) = Wal::open(dir.path(), options(segment_size, FsyncPolicy::Never)).unwrap();
        for chunk in records.chunks(3) {
            let batch: Vec<(u8, &[u8])> = chunk
                .iter()
                .map(|(kind, payload)| (*kind, payload.as_slice()))
                .collect();
            wal.append(&batch).unwrap();
        }
    }
    let files = segment_files(dir.path());
    assert!(
        files.len() > 10,
        "expected many segments, got {}",
        files.len()
    );
    for file in &files {
        let len = fs::metadata(file).unwrap().len();
        assert!(len <= segment_size, "{} is {len} bytes", file.display());
        // 3 records of 9 + 30 bytes: a batch fits a segment, so it is never split.
        assert_eq!(len % (3 * 39), 0, "{} holds a split batch", file.display());
    }
    let (wal, _) = Wal::open(dir.path(), options(segment_size, FsyncPolicy::Never)).unwrap();
    assert_eq!(replay_all(&wal).0, records);
}

#[test]
fn a_batch_larger_than_a_segment_is_split_at_record_boundaries() {
    let dir = tempfile::tempdir().unwrap();
    let records = numbered(20, 50);
    let (wal, _) = Wal::open(dir.path(), options(128, FsyncPolicy::Never)).unwrap();
    let batch: Vec<(u8, &[u8])> = records
        .iter()
        .map(|(kind, payload)| (*kind, payload.as_slice()))
        .collect();
    wal.append(&batch).unwrap();
    assert_eq!(segment_files(dir.path()).len(), 10);
    assert_eq!(replay_all(&wal).0, records);
}

#[test]
fn oversized_records_are_rejected_and_the_wal_stays_usable() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = Wal::open(dir.path(), options(64, FsyncPolicy::Always)).unwrap();
    wal.append(&[(1, &[7; 55])]).unwrap();
    let error = wal.append(&[(1, b"ok"), (2, &[0; 56])]).unwrap_err();
    assert!(
        matches!(
            error,
            WalError::RecordTooLarge {
                len: 65,
                segment_size: 64
            }
        ),
        "{error}"
    );
    wal.append(&[(3, b"")]).unwrap();
    wal.append(&[]).unwrap();
    let (records, _) = replay_all(&wal);
    assert_eq!(records, vec![(1, vec![7; 55]), (3, Vec::new())]);
}

#[test]
fn invalid_options_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let error = Wal::open(dir.path(), options(8, FsyncPolicy::Always)).unwrap_err();
    assert!(
        matches!(
            error,
            WalError::InvalidOption {
                key: "segment_size",
                ..
            }
        ),
        "{error}"
    );
}

#[test]
fn a_second_open_of_the_same_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = Wal::open(dir.path(), WalOptions::default()).unwrap();
    let error = Wal::open(dir.path(), WalOptions::default()).unwrap_err();
    assert!(matches!(error, WalError::Locked { .. }), "{error}");
    drop(wal);
    Wal::open(dir.path(), WalOptions::default()).unwrap();
}

#[test]
fn reopening_without_appends_reuses_the_empty_segment() {
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..3 {
        let (wal, report) = Wal::open(dir.path(), WalOptions::default()).unwrap();
        assert_eq!(report.writing_segment, 0);
        assert_eq!(wal.current_segment(), 0);
    }
    assert_eq!(segment_files(dir.path()).len(), 1);
}

#[test]
fn open_creates_missing_parent_directories() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("a/b/wal");
    let (wal, _) = Wal::open(&nested, WalOptions::default()).unwrap();
    assert_eq!(wal.dir(), nested);
    wal.append(&[(1, b"x")]).unwrap();
}

#[test]
fn cut_segment_starts_a_new_segment() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = Wal::open(dir.path(), WalOptions::default()).unwrap();
    wal.append(&[(1, b"a")]).unwrap();
    assert_eq!(wal.cut_segment().unwrap(), 1);
    wal.append(&[(1, b"b")]).unwrap();
    assert_eq!(wal.cut_segment().unwrap(), 2);
    assert_eq!(segment_files(dir.path()).len(), 3);
    assert_eq!(
        replay_all(&wal).0,
        vec![(1, b"a".to_vec()), (1, b"b".to_vec())]
    );
}

#[test]
fn interval_policy_syncs_in_the_background_and_on_close() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = Wal::open(
        dir.path(),
        options(1 << 20, FsyncPolicy::Interval(Duration::from_millis(5))),
    )
    .unwrap();
    wal.append(&[(1, b"a")]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while wal.fsyncs() == 0 {
        assert!(Instant::now() < deadline, "the sync thread never synced");
        std::thread::sleep(Duration::from_millis(5));
    }
    wal.append(&[(2, b"b")]).unwrap();
    wal.close().unwrap();
    let (wal, report) = Wal::open(dir.path(), WalOptions::default()).unwrap();
    assert_eq!(report.records(), 2);
    drop(wal);
}

#[test]
fn never_policy_does_not_fsync_appends_but_sync_does() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = Wal::open(dir.path(), options(64, FsyncPolicy::Never)).unwrap();
    append_each(&wal, &numbered(10, 20));
    assert_eq!(wal.fsyncs(), 0);
    wal.sync().unwrap();
    assert_eq!(wal.fsyncs(), 1);
}

#[test]
fn replay_callback_errors_stop_replay() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = Wal::open(dir.path(), WalOptions::default()).unwrap();
    append_each(&wal, &numbered(5, 10));
    let mut seen = 0;
    let error = wal
        .replay(|_, _| {
            seen += 1;
            if seen == 3 {
                return Err(WalError::callback("decode failed"));
            }
            Ok(())
        })
        .unwrap_err();
    assert_eq!(seen, 3);
    assert!(matches!(error, WalError::Callback(_)));
    assert_eq!(
        std::error::Error::source(&error).unwrap().to_string(),
        "decode failed"
    );
}

#[test]
fn replay_while_appending_sees_a_clean_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = Wal::open(dir.path(), options(4096, FsyncPolicy::Never)).unwrap();
    let wal = Arc::new(wal);
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let wal = Arc::clone(&wal);
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                wal.append(&[(1, &i.to_le_bytes()), (2, &[0; 100])])
                    .unwrap();
                i += 1;
            }
        })
    };
    for _ in 0..20 {
        let (records, report) = replay_all(&wal);
        assert!(report.damage.is_empty(), "{:?}", report.damage);
        for (i, pair) in records.chunks(2).enumerate() {
            assert_eq!(pair[0], (1, (i as u64).to_le_bytes().to_vec()));
        }
    }
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
}

#[test]
fn wal_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Wal>();
    assert_send_sync::<WalError>();
}
