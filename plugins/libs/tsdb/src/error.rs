//! Errors of the TSDB head.
//!
//! [`AppendError`] carries the messages of Mimir's ingester, with their immutable
//! `err-mimir-<id>` ids: they are the user-visible contract, so their text is kept exactly
//! (sentences, capitals and periods included). [`TsdbError`] covers everything else.

use crate::labels::Labels;
use crate::postings::SeriesRef;

/// Why a sample or a new series was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AppendError {
    /// Older than the series' newest sample while out-of-order ingestion is disabled.
    #[error(
        "the sample has been rejected because another sample with a more recent timestamp has \
         already been ingested and out-of-order samples are not allowed \
         (err-mimir-sample-out-of-order). The affected sample has timestamp {} and is from series {}",
        format_timestamp(*.timestamp),
        .labels.to_braced_string()
    )]
    OutOfOrder {
        /// The refused sample's timestamp in milliseconds.
        timestamp: i64,
        /// The series the sample was for.
        labels: Labels,
    },

    /// Out of order and older than the out-of-order time window allows.
    #[error(
        "the sample has been rejected because another sample with a more recent timestamp has \
         already been ingested and this sample is beyond the out-of-order time window of {} \
         (err-mimir-sample-timestamp-too-old). The affected sample has timestamp {} and is from \
         series {}",
        format_duration(*.window_ms),
        format_timestamp(*.timestamp),
        .labels.to_braced_string()
    )]
    TooOldSample {
        /// The refused sample's timestamp in milliseconds.
        timestamp: i64,
        /// The series the sample was for.
        labels: Labels,
        /// The configured out-of-order time window.
        window_ms: i64,
    },

    /// Same timestamp as an existing sample of the series, with a different value.
    #[error(
        "the sample has been rejected because another sample with the same timestamp, but a \
         different value, has already been ingested (err-mimir-sample-duplicate-timestamp). The \
         affected sample has timestamp {} and is from series {}",
        format_timestamp(*.timestamp),
        .labels.to_braced_string()
    )]
    DuplicateTimestamp {
        /// The refused sample's timestamp in milliseconds.
        timestamp: i64,
        /// The series the sample was for.
        labels: Labels,
    },

    /// Creating the series would exceed the tenant's series limit.
    #[error(
        "per-user series limit of {limit} exceeded (err-mimir-max-series-per-user). To adjust the \
         related per-tenant limit, configure -ingester.max-global-series-per-user, or contact your \
         service administrator."
    )]
    MaxSeries {
        /// The limit in force.
        limit: usize,
    },

    /// The series reference is not (or no longer) in the head.
    #[error("series ref {series_ref} is not in the head")]
    UnknownSeries {
        /// The reference that was not found.
        series_ref: SeriesRef,
    },

    /// A storage invariant failed; this is a bug, not bad input.
    #[error("{0}")]
    Storage(#[from] TsdbError),
}

impl AppendError {
    /// Whether the error is about the sample itself (Mimir's "soft" errors, HTTP 400): the rest of
    /// the request can still be applied.
    pub fn is_sample_error(&self) -> bool {
        matches!(
            self,
            Self::OutOfOrder { .. } | Self::TooOldSample { .. } | Self::DuplicateTimestamp { .. }
        )
    }
}

/// Errors of matchers, chunks and series restoration.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TsdbError {
    /// A regex matcher value does not compile.
    #[error("invalid regular expression {value:?} in matcher: {reason}")]
    InvalidRegex {
        /// The matcher value as given.
        value: String,
        /// What the regex parser reported.
        reason: String,
    },

    /// The chunk holds as many samples as its 16-bit header can count.
    #[error("chunk is full")]
    ChunkFull,

    /// Encoded chunk bytes could not be decoded.
    #[error("corrupt XOR chunk: {reason}")]
    CorruptChunk {
        /// What was wrong.
        reason: &'static str,
    },

    /// Series ref 0 means "no series" and cannot be restored.
    #[error("series ref 0 is reserved")]
    ReservedSeriesRef,

    /// Restoring a series under a ref that already holds other labels.
    #[error("series ref {series_ref} already holds {existing}, cannot restore {requested}")]
    SeriesRefConflict {
        /// The contested ref.
        series_ref: SeriesRef,
        /// The labels already under that ref.
        existing: Labels,
        /// The labels that were to be restored.
        requested: Labels,
    },

    /// Restoring labels that already exist under another ref.
    #[error(
        "series {labels} already exists with ref {existing_ref}, cannot restore it as ref {requested_ref}"
    )]
    LabelsConflict {
        /// The contested label set.
        labels: Labels,
        /// The ref that already holds them.
        existing_ref: SeriesRef,
        /// The ref that was to be restored.
        requested_ref: SeriesRef,
    },
}

/// A millisecond timestamp as Go's `time.RFC3339Nano` in UTC, as Mimir prints it:
/// `1970-01-19T05:30:43.969Z`, trailing fractional zeros dropped.
pub fn format_timestamp(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let ms_of_day = ms.rem_euclid(86_400_000);
    let (year, month, day) = civil_from_days(days);
    let (hour, minute) = (ms_of_day / 3_600_000, ms_of_day / 60_000 % 60);
    let (second, millis) = (ms_of_day / 1000 % 60, ms_of_day % 1000);
    let mut out = format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}");
    if millis != 0 {
        let fraction = format!("{millis:03}");
        out.push('.');
        out.push_str(fraction.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day), after Howard Hinnant's
/// `civil_from_days`.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A millisecond duration as Prometheus' `model.Duration.String()`: `1h30m`, `10m`, `2w`, `0s`.
pub fn format_duration(ms: i64) -> String {
    const UNITS: [(&str, i64, bool); 7] = [
        // Years and weeks only when exact: "90d" reads better than "12w6d".
        ("y", 365 * 86_400_000, true),
        ("w", 7 * 86_400_000, true),
        ("d", 86_400_000, false),
        ("h", 3_600_000, false),
        ("m", 60_000, false),
        ("s", 1000, false),
        ("ms", 1, false),
    ];
    if ms == 0 {
        return "0s".to_string();
    }
    let mut rest = ms;
    let mut out = String::new();
    for (unit, size, exact_only) in UNITS {
        if exact_only && rest % size != 0 {
            continue;
        }
        let count = rest / size;
        if count > 0 {
            out.push_str(&format!("{count}{unit}"));
            rest -= count * size;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series() -> Labels {
        Labels::from_pairs([("__name__", "test")])
    }

    #[test]
    fn messages_match_mimir() {
        // Mimir's own test uses model.Time(1575043969).
        let timestamp = 1_575_043_969;
        assert_eq!(
            AppendError::OutOfOrder {
                timestamp,
                labels: series()
            }
            .to_string(),
            "the sample has been rejected because another sample with a more recent timestamp has \
             already been ingested and out-of-order samples are not allowed \
             (err-mimir-sample-out-of-order). The affected sample has timestamp \
             1970-01-19T05:30:43.969Z and is from series {__name__=\"test\"}"
        );
        assert_eq!(
            AppendError::DuplicateTimestamp {
                timestamp,
                labels: series()
            }
            .to_string(),
            "the sample has been rejected because another sample with the same timestamp, but a \
             different value, has already been ingested (err-mimir-sample-duplicate-timestamp). \
             The affected sample has timestamp 1970-01-19T05:30:43.969Z and is from series \
             {__name__=\"test\"}"
        );
        assert_eq!(
            AppendError::TooOldSample {
                timestamp,
                labels: series(),
                window_ms: 1_800_000
            }
            .to_string(),
            "the sample has been rejected because another sample with a more recent timestamp has \
             already been ingested and this sample is beyond the out-of-order time window of 30m \
             (err-mimir-sample-timestamp-too-old). The affected sample has timestamp \
             1970-01-19T05:30:43.969Z and is from series {__name__=\"test\"}"
        );
        assert_eq!(
            AppendError::MaxSeries { limit: 150_000 }.to_string(),
            "per-user series limit of 150000 exceeded (err-mimir-max-series-per-user). To adjust \
             the related per-tenant limit, configure -ingester.max-global-series-per-user, or \
             contact your service administrator."
        );
    }

    #[test]
    fn timestamps_format_like_go_rfc3339nano() {
        assert_eq!(format_timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(
            format_timestamp(1_700_000_000_500),
            "2023-11-14T22:13:20.5Z"
        );
        assert_eq!(format_timestamp(951_782_400_010), "2000-02-29T00:00:00.01Z");
        assert_eq!(format_timestamp(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn durations_format_like_prometheus() {
        assert_eq!(format_duration(0), "0s");
        assert_eq!(format_duration(5_400_000), "1h30m");
        assert_eq!(format_duration(14 * 86_400_000), "2w");
        assert_eq!(format_duration(90 * 86_400_000), "90d");
        assert_eq!(format_duration(1500), "1s500ms");
    }
}
