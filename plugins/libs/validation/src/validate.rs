//! Turns a decoded remote-write request into the series to store and the per-series errors,
//! following Mimir's distributor (`prePushSortAndFilterMiddleware` then
//! `prePushValidationMiddleware`):
//!
//! 1. Labels with an empty value are removed; a series left without labels is dropped silently.
//! 2. Labels are sorted by name (so unsorted input is accepted, as in current Mimir).
//! 3. Labels are checked, first failure wins: missing metric name, invalid metric name, too
//!    many labels (`*_info` series get `max_label_names_per_info_series`), then per label in
//!    sorted order: invalid name, name too long, value not UTF-8, value too long, duplicate name.
//! 4. Samples with a timestamp already seen in the series are dropped silently (first kept);
//!    the others must not be after now + `creation_grace_period`, nor, when
//!    `past_grace_period` is set, before now - `past_grace_period` - `out_of_order_time_window`.
//!    One bad sample rejects the whole series.
//! 5. Metadata entries are cleaned and checked one by one (see `metadata.rs`).
//!
//! A rejected series does not fail the request: the good series are stored and Mimir answers
//! HTTP 400 with the message of the FIRST error (series errors before metadata errors) once the
//! rest is ingested, or without ingesting anything when nothing valid is left.
//! Exemplars are dropped (Mimir's default `max_global_exemplars_per_user: 0` drops them too) and
//! native histograms are counted but not ingested yet.

use std::collections::HashSet;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::errors::{Message, STATUS_BAD_REQUEST, ValidationError, flags, format_series, ids};
use crate::gofmt;
use crate::limits::{Limits, METRIC_NAME_LABEL};
use crate::metadata;
use crate::remote_write::{Label, MetricMetadata, Sample, TimeSeries, WriteRequest};

#[cfg(test)]
mod tests;

/// A series that passed validation.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidSeries {
    /// Labels sorted by name, none with an empty value, names unique; valid UTF-8 (slices of the
    /// request buffer).
    pub labels: Vec<(bytes::Bytes, bytes::Bytes)>,
    /// `(timestamp in ms, value)` in request order, timestamps unique.
    pub samples: Vec<(i64, f64)>,
}

/// The outcome of validating one request.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ValidatedRequest {
    /// Series to store (series without samples are left out).
    pub series: Vec<ValidSeries>,
    /// Metadata to store, HELP truncated.
    pub metadata: Vec<MetricMetadata>,
    /// One error per rejected series or metadata entry, series first, each in request order.
    pub errors: Vec<ValidationError>,
    /// Samples of rejected series and of series left without labels.
    pub dropped_samples: usize,
    /// Samples dropped because their series already had a sample at that timestamp.
    pub deduplicated_samples: usize,
    /// Exemplars received (all dropped: exemplar ingestion is not enabled).
    pub dropped_exemplars: usize,
    /// Native histogram samples received (not ingested).
    pub ignored_histograms: usize,
    /// Number of metadata entries accepted (`metadata.len()`).
    pub metadata_count: usize,
}

impl ValidatedRequest {
    /// The error the HTTP response must carry when nothing worse happens (status 400).
    pub fn first_error(&self) -> Option<&ValidationError> {
        self.errors.first()
    }

    /// Samples accepted across all series.
    pub fn accepted_samples(&self) -> usize {
        self.series.iter().map(|series| series.samples.len()).sum()
    }

    /// What the ingestion rate limiter is charged: samples + exemplars + metadata accepted.
    pub fn ingestion_items(&self) -> usize {
        self.accepted_samples() + self.metadata_count
    }

    /// Whether there is nothing to store.
    pub fn is_empty(&self) -> bool {
        self.series.is_empty() && self.metadata.is_empty()
    }
}

/// Validates `request` for a tenant with `limits`, at wall-clock time `now`.
pub fn validate_request(
    limits: &Limits,
    now: SystemTime,
    request: WriteRequest,
) -> ValidatedRequest {
    let now_ms = unix_millis(now);
    let mut result = ValidatedRequest::default();
    for series in request.timeseries {
        validate_series(limits, now_ms, series, &mut result);
    }
    for mut entry in request.metadata {
        match metadata::clean_and_validate(limits, &mut entry) {
            Ok(()) => result.metadata.push(entry),
            Err(error) => result.errors.push(error),
        }
    }
    result.metadata_count = result.metadata.len();
    result
}

fn validate_series(
    limits: &Limits,
    now_ms: i64,
    series: TimeSeries,
    result: &mut ValidatedRequest,
) {
    let TimeSeries {
        mut labels,
        samples,
        exemplars,
        histograms,
    } = series;
    result.dropped_exemplars += exemplars.len();
    result.ignored_histograms += histograms.len();

    labels.retain(|label| !label.value.is_empty());
    if labels.is_empty() {
        result.dropped_samples += samples.len();
        return;
    }
    if !labels.is_sorted_by(|left, right| left.name <= right.name) {
        labels.sort_by(|left, right| left.name.cmp(&right.name));
    }

    let checked = check_labels(limits, &labels)
        .and_then(|metric_name| check_samples(limits, now_ms, metric_name, &samples));
    let kept = match checked {
        Ok(kept) => kept,
        Err(error) => {
            result.dropped_samples += samples.len();
            result.errors.push(error);
            return;
        }
    };
    result.deduplicated_samples += samples.len() - kept.len();
    if kept.is_empty() {
        return;
    }
    let Some(labels) = into_strings(labels) else {
        debug_assert!(false, "validated labels are UTF-8");
        result.dropped_samples += kept.len();
        return;
    };
    result.series.push(ValidSeries {
        labels,
        samples: kept,
    });
}

/// Mimir's `validateLabels` over sorted, non-empty-valued labels. Returns the metric name.
fn check_labels<'a>(limits: &Limits, labels: &'a [Label]) -> Result<&'a [u8], ValidationError> {
    let Some(metric_name) = labels
        .iter()
        .find(|label| label.name == METRIC_NAME_LABEL.as_bytes())
        .map(|label| &label.value[..])
    else {
        return Err(Message::new("received series has no metric name")
            .finish(ids::MISSING_METRIC_NAME, STATUS_BAD_REQUEST));
    };
    let scheme = limits.name_validation_scheme;
    if !scheme.is_valid_metric_name(metric_name) {
        return Err(
            Message::new("received a series with invalid metric name: '")
                .truncated(&remove_non_ascii(metric_name))
                .text("'")
                .finish(ids::METRIC_NAME_INVALID, STATUS_BAD_REQUEST),
        );
    }
    if labels.len() > limits.max_label_names_per_series {
        let info_series = metric_name.ends_with(b"_info");
        if !info_series {
            return Err(too_many_labels(
                "received a series",
                labels,
                limits.max_label_names_per_series,
                ids::MAX_LABEL_NAMES_PER_SERIES,
                flags::MAX_LABEL_NAMES_PER_SERIES,
            ));
        }
        if labels.len() > limits.max_label_names_per_info_series {
            return Err(too_many_labels(
                "received an info series",
                labels,
                limits.max_label_names_per_info_series,
                ids::MAX_LABEL_NAMES_PER_INFO_SERIES,
                flags::MAX_LABEL_NAMES_PER_INFO_SERIES,
            ));
        }
    }

    let mut previous_name: &[u8] = b"";
    for label in labels {
        let name = &label.name[..];
        let value = &label.value[..];
        if !scheme.is_valid_label_name(name) {
            return Err(Message::new("received a series with an invalid label: '")
                .truncated(name)
                .text("' series: '")
                .truncated(&format_series(labels))
                .text("'")
                .finish(ids::LABEL_INVALID, STATUS_BAD_REQUEST));
        }
        if name.len() > limits.max_label_name_length {
            return Err(Message::new(
                "received a series whose label name length exceeds the limit, label: '",
            )
            .truncated(name)
            .text("' series: '")
            .truncated(&format_series(labels))
            .text("'")
            .finish_per_tenant(
                ids::LABEL_NAME_TOO_LONG,
                STATUS_BAD_REQUEST,
                &[flags::MAX_LABEL_NAME_LENGTH],
            ));
        }
        if std::str::from_utf8(value).is_err() {
            return Err(
                Message::new("received a series with invalid value in label '")
                    .truncated(name)
                    .text("': '")
                    .truncated(gofmt::to_valid_utf8(value).as_bytes())
                    .text("' metric: '")
                    .truncated(metric_name)
                    .text("'")
                    .finish(ids::LABEL_VALUE_INVALID, STATUS_BAD_REQUEST),
            );
        }
        if value.len() > limits.max_label_value_length {
            return Err(Message::new(&format!(
                "received a series whose label value length of {} exceeds the limit of {}, label: '",
                value.len(),
                limits.max_label_value_length
            ))
            .bytes(name)
            .text("', value: '")
            .truncated(value)
            .text("' (truncated) series: '")
            .truncated(&format_series(labels))
            .text("'")
            .finish_per_tenant(
                ids::LABEL_VALUE_TOO_LONG,
                STATUS_BAD_REQUEST,
                &[flags::MAX_LABEL_VALUE_LENGTH],
            ));
        }
        if name == previous_name {
            return Err(
                Message::new("received a series with duplicate label name, label: '")
                    .truncated(name)
                    .text("' series: '")
                    .truncated(&format_series(labels))
                    .text("'")
                    .finish(ids::DUPLICATE_LABEL_NAMES, STATUS_BAD_REQUEST),
            );
        }
        previous_name = name;
    }
    Ok(metric_name)
}

fn too_many_labels(
    subject: &str,
    labels: &[Label],
    limit: usize,
    id: &'static str,
    flag: &'static str,
) -> ValidationError {
    let series = format_series(labels);
    let ellipsis = if gofmt::rune_count(&series) > 200 {
        "\u{2026}"
    } else {
        ""
    };
    Message::new(&format!(
        "{subject} whose number of labels exceeds the limit (actual: {}, limit: {limit}) series: '",
        labels.len()
    ))
    .truncated(&series)
    .text(ellipsis)
    .text("'")
    .finish_per_tenant(id, STATUS_BAD_REQUEST, &[flag])
}

/// Mimir's `removeNonASCIIChars`: every byte above 0x7F goes (a multi-byte character and an
/// invalid byte alike), and a note says so.
fn remove_non_ascii(name: &[u8]) -> Vec<u8> {
    let mut ascii: Vec<u8> = name.iter().copied().filter(u8::is_ascii).collect();
    if ascii.len() != name.len() {
        ascii.extend_from_slice(b" (non-ascii characters removed)");
    }
    ascii
}

/// Mimir's `validateSamples`: duplicate timestamps dropped, grace periods enforced.
fn check_samples(
    limits: &Limits,
    now_ms: i64,
    metric_name: &[u8],
    samples: &[Sample],
) -> Result<Vec<(i64, f64)>, ValidationError> {
    let newest_allowed = now_ms.saturating_add(limits.creation_grace_period.as_millis_i64());
    let oldest_allowed = (!limits.past_grace_period.is_zero()).then(|| {
        now_ms
            .saturating_sub(limits.past_grace_period.as_millis_i64())
            .saturating_sub(limits.out_of_order_time_window.as_millis_i64())
    });
    let mut seen = HashSet::with_capacity(if samples.len() > 1 { samples.len() } else { 0 });
    let mut kept = Vec::with_capacity(samples.len());
    for sample in samples {
        if samples.len() > 1 && !seen.insert(sample.timestamp) {
            continue;
        }
        if sample.timestamp > newest_allowed {
            return Err(sample_out_of_bounds(
                Bound::Future,
                sample.timestamp,
                metric_name,
            ));
        }
        if oldest_allowed.is_some_and(|oldest| sample.timestamp < oldest) {
            return Err(sample_out_of_bounds(
                Bound::Past,
                sample.timestamp,
                metric_name,
            ));
        }
        kept.push((sample.timestamp, sample.value));
    }
    Ok(kept)
}

/// Which grace period a sample broke.
#[derive(Clone, Copy)]
enum Bound {
    Future,
    Past,
}

fn sample_out_of_bounds(bound: Bound, timestamp: i64, metric_name: &[u8]) -> ValidationError {
    let (direction, id, flag) = match bound {
        Bound::Future => (
            "future",
            ids::TOO_FAR_IN_FUTURE,
            flags::CREATION_GRACE_PERIOD,
        ),
        Bound::Past => ("past", ids::TOO_FAR_IN_PAST, flags::PAST_GRACE_PERIOD),
    };
    Message::new(&format!(
        "received a sample whose timestamp is too far in the {direction}, timestamp: {timestamp} series: '"
    ))
    .truncated(metric_name)
    .text("'")
    .finish_per_tenant(id, STATUS_BAD_REQUEST, &[flag])
}

/// Validated labels as (name, value) byte strings that are UTF-8, or `None` if one is not, which
/// `check_labels` rules out (legacy names are ASCII; UTF-8 names and every value are checked).
/// They stay slices of the request buffer: no copy.
fn into_strings(labels: Vec<Label>) -> Option<Vec<(bytes::Bytes, bytes::Bytes)>> {
    labels
        .into_iter()
        .map(|label| {
            std::str::from_utf8(&label.name).ok()?;
            std::str::from_utf8(&label.value).ok()?;
            Some((label.name, label.value))
        })
        .collect()
}

/// Milliseconds since the Unix epoch, negative before it, saturating.
fn unix_millis(now: SystemTime) -> i64 {
    match now.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_millis()).map_or(i64::MIN, |ms| -ms),
    }
}
