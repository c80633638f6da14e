//! Group commit: many threads appending with `FsyncPolicy::Always` share `fsync`s, and nothing is lost.
//! The ratio is printed (run with `--nocapture`), never asserted against a timing-dependent bound.

use std::sync::Arc;
use std::time::Instant;

use mimir_wal::{FsyncPolicy, Wal, WalOptions};

use crate::support::{options, replay_all};

const THREADS: u64 = 8;
const APPENDS: u64 = 1000;

#[test]
fn concurrent_appends_share_fsyncs_and_all_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = Wal::open(dir.path(), options(1 << 20, FsyncPolicy::Always)).unwrap();
    let wal = Arc::new(wal);
    let started = Instant::now();
    let workers: Vec<_> = (0..THREADS)
        .map(|thread| {
            let wal = Arc::clone(&wal);
            std::thread::spawn(move || {
                for seq in 0..APPENDS {
                    let payload = [thread.to_le_bytes(), seq.to_le_bytes()].concat();
                    wal.append(&[(thread as u8, &payload)]).unwrap();
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    let elapsed = started.elapsed();
    let fsyncs = wal.fsyncs();
    let appends = wal.appends();
    assert_eq!(appends, THREADS * APPENDS);
    assert!(
        fsyncs <= appends + 64,
        "{fsyncs} fsyncs for {appends} appends"
    );
    eprintln!(
        "group commit: {appends} appends, {fsyncs} fsyncs ({:.3} fsyncs per append, {:.1} appends per \
         fsync) in {elapsed:?}",
        fsyncs as f64 / appends as f64,
        appends as f64 / fsyncs.max(1) as f64,
    );
    drop(wal);

    let (wal, report) = Wal::open(dir.path(), WalOptions::default()).unwrap();
    assert_eq!(report.records(), THREADS * APPENDS);
    let (records, _) = replay_all(&wal);
    let mut next = vec![0u64; THREADS as usize];
    for (kind, payload) in records {
        let thread = u64::from(kind);
        assert_eq!(payload[..8], thread.to_le_bytes());
        let seq = u64::from_le_bytes(payload[8..].try_into().unwrap());
        assert_eq!(
            seq, next[thread as usize],
            "thread {thread} lost or reordered a record"
        );
        next[thread as usize] += 1;
    }
    assert!(next.iter().all(|&count| count == APPENDS));
}
