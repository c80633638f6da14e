//! Helpers shared by the integration tests.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use mimir_wal::{FsyncPolicy, ReplayReport, Wal, WalOptions};

pub type Records = Vec<(u8, Vec<u8>)>;

pub fn options(segment_size: u64, fsync: FsyncPolicy) -> WalOptions {
    WalOptions {
        segment_size,
        fsync,
    }
}

pub fn replay_all(wal: &Wal) -> (Records, ReplayReport) {
    let mut records = Vec::new();
    let report = wal
        .replay(|kind, payload| {
            records.push((kind, payload.to_vec()));
            Ok(())
        })
        .unwrap();
    (records, report)
}

pub fn append_each(wal: &Wal, records: &[(u8, Vec<u8>)]) {
    for (kind, payload) in records {
        wal.append(&[(*kind, payload.as_slice())]).unwrap();
    }
}

pub fn numbered(count: usize, size: usize) -> Records {
    (0..count)
        .map(|i| {
            let mut payload = format!("record-{i:05}-").into_bytes();
            payload.resize(size.max(payload.len()), b'a' + (i % 26) as u8);
            ((i % 7) as u8, payload)
        })
        .collect()
}

/// Segment files of a WAL (or checkpoint) directory, in order.
pub fn segment_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.is_file()
                && path
                    .file_name()
                    .and_then(|name| name.to_str())
                    .is_some_and(|name| name.len() == 8 && name.bytes().all(|b| b.is_ascii_digit()))
        })
        .collect();
    files.sort();
    files
}

/// Runs `f` with a tracing subscriber that captures log lines; returns `f`'s value and the log.
pub fn capture_logs<T>(f: impl FnOnce() -> T) -> (T, String) {
    #[derive(Clone)]
    struct Capture(Arc<Mutex<Vec<u8>>>);
    impl io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let buffer = Arc::new(Mutex::new(Vec::new()));
    let writer = Capture(Arc::clone(&buffer));
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .with_writer(move || writer.clone())
        .finish();
    let value = tracing::subscriber::with_default(subscriber, f);
    let log = String::from_utf8(buffer.lock().unwrap().clone()).unwrap();
    (value, log)
}
