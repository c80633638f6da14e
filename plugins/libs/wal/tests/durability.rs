//! Acknowledged means durable: a child process appends and acknowledges on stdout, is killed with
//! SIGKILL mid-stream, and every acknowledged record must be in the reopened WAL, ungarbled and in order.
//!
//! The child is this test binary re-executed with `--exact durability::child_writer` and
//! `MIMIR_WAL_CHILD_DIR` set; without the variable that test does nothing. SIGKILL keeps the page cache,
//! so this proves the process-crash path (nothing acknowledged is only in user-space buffers, repair
//! copes with whatever the kill left); power loss is what the `fsync` in `FsyncPolicy::Always` is for.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mimir_wal::{FsyncPolicy, Wal, WalOptions};

use crate::support::{numbered, options, replay_all};

const CHILD_ENV: &str = "MIMIR_WAL_CHILD_DIR";
const THREADS: u64 = 4;
const KILL_AFTER_ACKS: usize = 3000;

fn payload(thread: u64, seq: u64) -> Vec<u8> {
    let mut payload = format!("thread={thread} seq={seq};").into_bytes();
    // Vary the size so records straddle page and segment boundaries.
    let len = payload.len() + ((seq * 37 + thread * 11) % 700) as usize;
    payload.resize(len, b'0' + (seq % 10) as u8);
    payload
}

/// The child half: appends forever from a few threads, printing `ack <thread> <seq>` after each append.
#[test]
fn child_writer() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let (wal, _) = Wal::open(Path::new(&dir), options(64 * 1024, FsyncPolicy::Always)).unwrap();
    let wal = Arc::new(wal);
    let workers: Vec<_> = (0..THREADS)
        .map(|thread| {
            let wal = Arc::clone(&wal);
            std::thread::spawn(move || {
                // Bounded in case the parent dies without killing us.
                for seq in 0..1_000_000 {
                    let record = payload(thread, seq);
                    wal.append(&[(thread as u8, &record), (100, &seq.to_le_bytes())])
                        .unwrap();
                    println!("ack {thread} {seq}");
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
}

#[test]
fn acknowledged_records_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "durability::child_writer",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut acked: BTreeMap<u64, u64> = BTreeMap::new();
    let mut acks = 0;
    let mut killed = false;
    let deadline = Instant::now() + Duration::from_secs(120);
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        // libtest may print "test durability::child_writer ... " in front of the first ack.
        let Some(rest) = line.rfind("ack ").map(|at| &line[at + 4..]) else {
            continue;
        };
        let (thread, seq) = rest.split_once(' ').unwrap();
        let (thread, seq): (u64, u64) = (thread.parse().unwrap(), seq.parse().unwrap());
        let highest = acked.entry(thread).or_insert(seq);
        *highest = (*highest).max(seq);
        acks += 1;
        if !killed && (acks >= KILL_AFTER_ACKS || Instant::now() > deadline) {
            // SIGKILL mid-stream; keep reading: acks already in the pipe were acknowledged too.
            child.kill().unwrap();
            killed = true;
        }
    }
    child.wait().unwrap();
    assert!(killed, "the child exited on its own after {acks} acks");
    assert!(
        acks >= KILL_AFTER_ACKS.min(100),
        "the child acknowledged only {acks} records"
    );

    let (wal, report) = Wal::open(dir.path(), WalOptions::default()).unwrap();
    let (records, _) = replay_all(&wal);
    assert_eq!(records.len() as u64, report.records());
    let mut next: BTreeMap<u64, u64> = BTreeMap::new();
    for pair in records.chunks(2) {
        let [(kind, data), (marker, seq_bytes)] = pair else {
            panic!("a batch was split: {pair:?}");
        };
        let thread = u64::from(*kind);
        let seq = u64::from_le_bytes(seq_bytes.as_slice().try_into().unwrap());
        assert_eq!(*marker, 100);
        let expected = next.entry(thread).or_insert(0);
        assert_eq!(
            seq, *expected,
            "thread {thread} out of order or missing a record"
        );
        assert_eq!(*data, payload(thread, seq), "garbled record");
        *expected += 1;
    }
    for (thread, highest) in &acked {
        let replayed = next.get(thread).copied().unwrap_or(0);
        assert!(
            replayed > *highest,
            "thread {thread}: acknowledged up to {highest}, replayed only {replayed}"
        );
    }
    eprintln!(
        "kill -9 test: {acks} acks, {} records replayed, {} damage repaired",
        records.len() / 2,
        report.damage.len()
    );
}

#[test]
fn dropping_without_close_loses_nothing_appended_with_always() {
    let dir = tempfile::tempdir().unwrap();
    let records = numbered(200, 100);
    {
        let (wal, _) = Wal::open(dir.path(), options(4096, FsyncPolicy::Always)).unwrap();
        for (kind, payload) in &records {
            wal.append(&[(*kind, payload.as_slice())]).unwrap();
        }
        assert!(
            wal.fsyncs() >= 200,
            "every append with `Always` needs an fsync when alone"
        );
    }
    let (wal, report) = Wal::open(dir.path(), WalOptions::default()).unwrap();
    assert!(report.damage.is_empty());
    assert_eq!(replay_all(&wal).0, records);
}
