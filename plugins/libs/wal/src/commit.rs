//! Group commit: how appends become durable, sharing `fsync`s between concurrent callers.
//!
//! Every byte appended since `open` has a logical position (`Writer::written`, monotonic across
//! segments). `Commit::durable` is the position known to be on disk. A caller that needs its records
//! durable up to `end` waits on a condvar until `durable >= end`; if no `fsync` is in flight it becomes
//! the leader: it reads the current position and segment under the writer lock (a few nanoseconds),
//! releases it, `fsync`s the segment, publishes the new `durable` and wakes everyone. Appends that arrived
//! during that `fsync` are covered by the next leader's single `fsync`, so the number of `fsync`s grows
//! with the number of *waves* of concurrent appends, not with the number of appends. Earlier segments are
//! `fsync`ed when they are rotated out (under the writer lock), so syncing the current segment is enough.
//!
//! A failed `fsync` poisons the WAL: after one the kernel may have dropped the dirty pages and marked them
//! clean, so a retry could "succeed" without the data. Every later call returns [`WalError::Poisoned`].
//!
//! Lock order: `writer` before `commit`; `poison` is a leaf taken under either.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::{Condvar, Mutex, MutexGuard};

use crate::error::WalError;
use crate::wal::Inner;

/// Durability state shared by appenders; see the module docs.
#[derive(Debug, Default)]
pub(crate) struct Commit {
    /// Everything before this logical position is on disk.
    pub(crate) durable: u64,
    /// A leader is `fsync`ing right now.
    pub(crate) syncing: bool,
}

impl Inner {
    /// Returns once everything before logical position `end` is durable, leading an `fsync` if none is
    /// in flight.
    pub(crate) fn wait_durable(&self, end: u64) -> Result<(), WalError> {
        let mut commit = self.commit.lock();
        loop {
            self.check_poison()?;
            if commit.durable >= end {
                return Ok(());
            }
            if commit.syncing {
                self.committed.wait(&mut commit);
                continue;
            }
            commit.syncing = true;
            let synced = MutexGuard::unlocked(&mut commit, || self.sync_written());
            commit.syncing = false;
            if let Ok(upto) = synced {
                commit.durable = commit.durable.max(upto);
            }
            self.committed.notify_all();
            synced?;
        }
    }

    /// Records that everything before `upto` is durable (after a rotation synced the old segment).
    /// Called with the writer lock held, which the lock order allows.
    pub(crate) fn mark_durable(&self, upto: u64) {
        let mut commit = self.commit.lock();
        commit.durable = commit.durable.max(upto);
        self.committed.notify_all();
    }

    /// `fsync`s the current segment and returns the position it covers.
    fn sync_written(&self) -> Result<u64, WalError> {
        let (upto, file, path) = {
            let writer = self.writer.lock();
            let segment = &writer.segment;
            (
                writer.written,
                Arc::clone(&segment.file),
                segment.path.clone(),
            )
        };
        // If a rotation happens meanwhile this syncs the old segment, which the rotation synced too;
        // either way everything before `upto` is on disk afterwards.
        self.fsync(&file, &path)?;
        Ok(upto)
    }

    /// `fdatasync`s a segment, counting it and poisoning the WAL on failure.
    pub(crate) fn fsync(&self, file: &File, path: &Path) -> Result<(), WalError> {
        self.fsyncs.fetch_add(1, Ordering::Relaxed);
        crate::segment::sync_file(file, path).inspect_err(|error| self.poison(error))
    }

    /// Makes every later call fail with [`WalError::Poisoned`]; the first reason wins.
    pub(crate) fn poison(&self, error: &WalError) {
        let mut poison = self.poison.lock();
        if poison.is_none() {
            tracing::error!(error = %error, "WAL poisoned, it must be reopened");
            *poison = Some(Arc::from(error_chain(error)));
        }
    }

    pub(crate) fn check_poison(&self) -> Result<(), WalError> {
        match &*self.poison.lock() {
            None => Ok(()),
            Some(reason) => Err(WalError::Poisoned {
                reason: Arc::clone(reason),
            }),
        }
    }
}

/// `error` and its sources, `: `-separated.
fn error_chain(error: &WalError) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The background thread of [`crate::FsyncPolicy::Interval`]: wakes every interval and, when something
/// was appended since the last `fsync`, leads one through [`Inner::wait_durable`].
#[derive(Debug)]
pub(crate) struct Syncer {
    stop: Arc<(Mutex<bool>, Condvar)>,
    handle: Option<JoinHandle<()>>,
}

impl Syncer {
    pub(crate) fn spawn(inner: Arc<Inner>, interval: Duration) -> Result<Self, WalError> {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let thread_stop = Arc::clone(&stop);
        let handle = std::thread::Builder::new()
            .name("wal-sync".to_owned())
            .spawn(move || run(&inner, &thread_stop, interval))
            .map_err(WalError::SpawnSyncer)?;
        Ok(Self {
            stop,
            handle: Some(handle),
        })
    }

    /// Stops the thread and waits for it; idempotent.
    pub(crate) fn stop(&mut self) {
        let (stopped, wake) = &*self.stop;
        *stopped.lock() = true;
        wake.notify_all();
        if let Some(handle) = self.handle.take()
            && handle.join().is_err()
        {
            tracing::error!("WAL sync thread panicked");
        }
    }
}

impl Drop for Syncer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn run(inner: &Inner, stop: &(Mutex<bool>, Condvar), interval: Duration) {
    let (stopped, wake) = stop;
    loop {
        {
            let mut stopped = stopped.lock();
            if !*stopped {
                // A timeout is the normal wake-up; `stop` notifies to end the wait early.
                let _timed_out = wake.wait_for(&mut stopped, interval);
            }
            if *stopped {
                return;
            }
        }
        let written = inner.writer.lock().written;
        if let Err(error) = inner.wait_durable(written) {
            // Poisoned: the error was logged once by `poison`, and every caller now sees it.
            tracing::debug!(error = %error, "WAL sync thread stops");
            return;
        }
    }
}
