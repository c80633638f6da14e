//! `WalOptions` and the fsync policy. `Default` is the only source of defaults; `validate` names the field
//! that is wrong.

use std::time::Duration;

use crate::error::WalError;
use crate::record::HEADER_LEN_U64;

/// When appended records are forced to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FsyncPolicy {
    /// `fsync` before `append` returns: acknowledged means durable, even across power loss. Concurrent
    /// appends share `fsync`s (group commit). The default.
    #[default]
    Always,
    /// A background thread `fsync`s at most once per interval when something was appended; `append`
    /// returns once the records are written (in the page cache). A process crash loses nothing, a power
    /// loss or kernel crash can lose up to the last interval.
    Interval(Duration),
    /// Never `fsync` appends or segment rotations; the kernel writes back when it likes. An explicit
    /// [`crate::Wal::sync`] and checkpoints still `fsync`. For tests and throwaway data.
    Never,
}

/// How a [`crate::Wal`] lays out and syncs its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalOptions {
    /// Largest size of one segment file in bytes; a record (9 header bytes + payload) never spans two
    /// segments, so this also bounds a record. Between [`WalOptions::MIN_SEGMENT_SIZE`] and
    /// [`WalOptions::MAX_SEGMENT_SIZE`]. Changing it for an existing WAL is fine: old segments are read
    /// whatever their size.
    pub segment_size: u64,
    /// When appends are `fsync`ed.
    pub fsync: FsyncPolicy,
}

impl WalOptions {
    /// 128 MiB, as in Prometheus.
    pub const DEFAULT_SEGMENT_SIZE: u64 = 128 * 1024 * 1024;
    /// Small enough for tests that want many segments.
    pub const MIN_SEGMENT_SIZE: u64 = 64;
    /// The record length field is a `u32`.
    pub const MAX_SEGMENT_SIZE: u64 = u32::MAX as u64;

    /// Checks every field, naming the first one out of range.
    pub fn validate(&self) -> Result<(), WalError> {
        if !(Self::MIN_SEGMENT_SIZE..=Self::MAX_SEGMENT_SIZE).contains(&self.segment_size) {
            return Err(WalError::InvalidOption {
                key: "segment_size",
                message: format!(
                    "must be between {} and {} bytes, got {}",
                    Self::MIN_SEGMENT_SIZE,
                    Self::MAX_SEGMENT_SIZE,
                    self.segment_size
                ),
            });
        }
        if self.fsync == FsyncPolicy::Interval(Duration::ZERO) {
            return Err(WalError::InvalidOption {
                key: "fsync",
                message: "the interval must be positive, use `Always` to sync every append"
                    .to_owned(),
            });
        }
        Ok(())
    }

    /// Largest payload one record can carry.
    pub fn max_payload(&self) -> u64 {
        self.segment_size.saturating_sub(HEADER_LEN_U64)
    }
}

impl Default for WalOptions {
    fn default() -> Self {
        Self {
            segment_size: Self::DEFAULT_SEGMENT_SIZE,
            fsync: FsyncPolicy::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        let options = WalOptions::default();
        options.validate().unwrap();
        assert_eq!(options.fsync, FsyncPolicy::Always);
        assert_eq!(options.max_payload(), WalOptions::DEFAULT_SEGMENT_SIZE - 9);
    }

    #[test]
    fn out_of_range_fields_are_named() {
        let tiny = WalOptions {
            segment_size: 10,
            ..WalOptions::default()
        };
        let error = tiny.validate().unwrap_err();
        assert!(error.to_string().contains("`segment_size`"), "{error}");
        let zero = WalOptions {
            fsync: FsyncPolicy::Interval(Duration::ZERO),
            ..WalOptions::default()
        };
        assert!(zero.validate().unwrap_err().to_string().contains("`fsync`"));
    }
}
