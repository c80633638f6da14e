//! Append latency of 1 KiB records: `Always` from one thread (an `fsync` per append), `Always` from 8
//! threads (group commit shares `fsync`s), and `Interval(100ms)` (no `fsync` on the append path).
//! Put `TMPDIR` on a real disk: on tmpfs `fsync` costs nothing.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mimir_wal::{FsyncPolicy, Wal, WalOptions};

const RECORD: usize = 1024;
const THREADS: u64 = 8;

fn open(fsync: FsyncPolicy) -> (tempfile::TempDir, Arc<Wal>) {
    let dir = tempfile::tempdir().unwrap();
    let options = WalOptions {
        fsync,
        ..WalOptions::default()
    };
    let (wal, _) = Wal::open(dir.path(), options).unwrap();
    (dir, Arc::new(wal))
}

fn append(c: &mut Criterion) {
    let payload = vec![0x5a_u8; RECORD];
    let mut group = c.benchmark_group("append_1kib");
    group.throughput(Throughput::Elements(1));

    let policies = [
        ("always", FsyncPolicy::Always),
        (
            "interval_100ms",
            FsyncPolicy::Interval(Duration::from_millis(100)),
        ),
    ];
    for (name, fsync) in policies {
        let (_dir, wal) = open(fsync);
        group.bench_function(name, |b| b.iter(|| wal.append(&[(1, &payload)]).unwrap()));
    }

    let (_dir, wal) = open(FsyncPolicy::Always);
    group.bench_function("always_8_threads", |b| {
        b.iter_custom(|iters| {
            let per_thread = iters.div_ceil(THREADS);
            let started = Instant::now();
            let workers: Vec<_> = (0..THREADS)
                .map(|_| {
                    let wal = Arc::clone(&wal);
                    let payload = payload.clone();
                    std::thread::spawn(move || {
                        for _ in 0..per_thread {
                            wal.append(&[(1, &payload)]).unwrap();
                        }
                    })
                })
                .collect();
            workers
                .into_iter()
                .for_each(|worker| worker.join().unwrap());
            started.elapsed()
        })
    });
    eprintln!(
        "always_8_threads: {} appends, {} fsyncs",
        wal.appends(),
        wal.fsyncs()
    );
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = append
}
criterion_main!(benches);
