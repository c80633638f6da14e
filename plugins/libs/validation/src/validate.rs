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
//!    Native histogram samples follow the same rules (among themselves for duplicates), with
//!    the same errors. One bad sample rejects the whole series.
//! 5. Metadata entries are cleaned and checked one by one (see `metadata.rs`).
//!
//! A rejected series does not fail the request: the good series are stored and Mimir answers
//! HTTP 400 with the message of the FIRST error (series errors before metadata errors) once the
//! rest is ingested, or without ingesting anything when nothing valid is left.
//! Exemplars are dropped (Mimir's default `max_global_exemplars_per_user: 0` drops them too).
//! Native histograms are passed on as their `prometheus.Histogram` message bytes (the ingester
//! checks and stores them); they count as samples for the ingestion rate limit, as in Mimir.
//!
//! [`validate_write_request`] works on the decompressed request buffer through the zero-copy
//! reader (`wire.rs`) and returns a [`Validated`] batch that borrows from it: no allocation per
//! series or label. [`validate_request`] takes an already decoded [`WriteRequest`] and returns
//! an owned [`ValidatedRequest`]; it runs the same code.

use std::collections::HashSet;
use std::time::{SystemTime, UNIX_EPOCH};

use prost::Message as _;

use crate::errors::{Message, STATUS_BAD_REQUEST, ValidationError, flags, format_series, ids};
use crate::gofmt;
use crate::limits::{Limits, METRIC_NAME_LABEL};
use crate::metadata;
use crate::remote_write::{MetricMetadata, WriteRequest};
use crate::wire::{self, SeriesView};

#[cfg(test)]
mod tests;

/// A series that passed validation, owned (see [`ValidatedRequest`]).
#[derive(Clone, Debug, PartialEq)]
pub struct ValidSeries {
    /// Labels sorted by name, none with an empty value, names unique; valid UTF-8 (slices of the
    /// request buffer).
    pub labels: Vec<(bytes::Bytes, bytes::Bytes)>,
    /// `(timestamp in ms, value)` in request order, timestamps unique.
    pub samples: Vec<(i64, f64)>,
    /// `(timestamp in ms, encoded prometheus.Histogram)` in request order, timestamps unique.
    pub histograms: Vec<(i64, bytes::Bytes)>,
}

/// The outcome of validating one decoded request (see [`validate_request`]).
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
    /// The samples (floats and histograms) of each rejected series, by its error's id, in
    /// request order: what `cortex_discarded_samples_total` counts.
    pub discarded_samples: Vec<(&'static str, usize)>,
    /// Samples dropped because their series already had a sample at that timestamp.
    pub deduplicated_samples: usize,
    /// Exemplars received (all dropped: exemplar ingestion is not enabled).
    pub dropped_exemplars: usize,
    /// Number of metadata entries accepted (`metadata.len()`).
    pub metadata_count: usize,
}

impl ValidatedRequest {
    /// The error the HTTP response must carry when nothing worse happens (status 400).
    pub fn first_error(&self) -> Option<&ValidationError> {
        self.errors.first()
    }

    /// Samples accepted across all series, native histogram samples included.
    pub fn accepted_samples(&self) -> usize {
        self.series
            .iter()
            .map(|series| series.samples.len() + series.histograms.len())
            .sum()
    }

    /// Native histogram samples accepted across all series.
    pub fn accepted_histograms(&self) -> usize {
        self.series
            .iter()
            .map(|series| series.histograms.len())
            .sum()
    }

    /// What the ingestion rate limiter is charged: samples (histograms included) + metadata
    /// accepted.
    pub fn ingestion_items(&self) -> usize {
        self.accepted_samples() + self.metadata_count
    }

    /// Whether there is nothing to store.
    pub fn is_empty(&self) -> bool {
        self.series.is_empty() && self.metadata.is_empty()
    }
}

/// A series that passed validation, borrowed from a [`Validated`] batch and its request buffer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ValidSeriesView<'v, 'a> {
    /// Labels sorted by name, none with an empty value, names unique; valid UTF-8.
    pub labels: &'v [(&'a [u8], &'a [u8])],
    /// `(timestamp in ms, value)` in request order, timestamps unique.
    pub samples: &'v [(i64, f64)],
    /// `(timestamp in ms, encoded prometheus.Histogram)` in request order, timestamps unique.
    pub histograms: &'v [(i64, &'a [u8])],
    /// The series' encoded `prometheus.TimeSeries` message when it holds exactly `labels`,
    /// `samples` and `histograms`, in this order, and nothing else (no exemplar or unknown
    /// field), so that it can be passed on as it came.
    pub encoded: Option<&'a [u8]>,
}

/// Where one valid series' labels and samples sit in a [`Validated`] batch.
#[derive(Clone, Copy, Debug)]
struct Span<'a> {
    labels: (usize, usize),
    samples: (usize, usize),
    histograms: (usize, usize),
    encoded: Option<&'a [u8]>,
}

/// The outcome of validating one request buffer (see [`validate_write_request`]): the valid
/// series borrow their labels from the buffer and share two flat vectors.
#[derive(Clone, Debug, Default)]
pub struct Validated<'a> {
    labels: Vec<(&'a [u8], &'a [u8])>,
    samples: Vec<(i64, f64)>,
    histograms: Vec<(i64, &'a [u8])>,
    spans: Vec<Span<'a>>,
    /// Metadata to store, HELP truncated.
    pub metadata: Vec<MetricMetadata>,
    /// One error per rejected series or metadata entry, series first, each in request order.
    pub errors: Vec<ValidationError>,
    /// Samples of rejected series and of series left without labels.
    pub dropped_samples: usize,
    /// The samples (floats and histograms) of each rejected series, by its error's id, in
    /// request order: what `cortex_discarded_samples_total` counts.
    pub discarded_samples: Vec<(&'static str, usize)>,
    /// Samples dropped because their series already had a sample at that timestamp.
    pub deduplicated_samples: usize,
    /// Exemplars received (all dropped: exemplar ingestion is not enabled).
    pub dropped_exemplars: usize,
}

impl<'a> Validated<'a> {
    /// Number of series to store (series without samples are left out).
    pub fn series_count(&self) -> usize {
        self.spans.len()
    }

    /// The series to store, in request order.
    pub fn series(&self) -> impl ExactSizeIterator<Item = ValidSeriesView<'_, 'a>> + '_ {
        self.spans.iter().map(|span| ValidSeriesView {
            labels: &self.labels[span.labels.0..span.labels.1],
            samples: &self.samples[span.samples.0..span.samples.1],
            histograms: &self.histograms[span.histograms.0..span.histograms.1],
            encoded: span.encoded,
        })
    }

    /// The error the HTTP response must carry when nothing worse happens (status 400).
    pub fn first_error(&self) -> Option<&ValidationError> {
        self.errors.first()
    }

    /// Samples accepted across all series, native histogram samples included.
    pub fn accepted_samples(&self) -> usize {
        self.samples.len() + self.histograms.len()
    }

    /// Native histogram samples accepted across all series.
    pub fn accepted_histograms(&self) -> usize {
        self.histograms.len()
    }

    /// What the ingestion rate limiter is charged: samples (histograms included) + metadata
    /// accepted.
    pub fn ingestion_items(&self) -> usize {
        self.accepted_samples() + self.metadata.len()
    }

    /// Whether there is nothing to store.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty() && self.metadata.is_empty()
    }

    /// The owned form, label bytes sliced from `buffer` (the buffer this batch was read from).
    fn to_owned_request(&self, buffer: &bytes::Bytes) -> ValidatedRequest {
        ValidatedRequest {
            series: self
                .series()
                .map(|series| ValidSeries {
                    labels: series
                        .labels
                        .iter()
                        .map(|(name, value)| (buffer.slice_ref(name), buffer.slice_ref(value)))
                        .collect(),
                    samples: series.samples.to_vec(),
                    histograms: series
                        .histograms
                        .iter()
                        .map(|(t, h)| (*t, buffer.slice_ref(h)))
                        .collect(),
                })
                .collect(),
            metadata: self.metadata.clone(),
            errors: self.errors.clone(),
            dropped_samples: self.dropped_samples,
            discarded_samples: self.discarded_samples.clone(),
            deduplicated_samples: self.deduplicated_samples,
            dropped_exemplars: self.dropped_exemplars,
            metadata_count: self.metadata.len(),
        }
    }
}

/// Validates the decompressed remote-write request in `buffer` for a tenant with `limits`, at
/// wall-clock time `now`. A buffer that is not a `prometheus.WriteRequest` fails as a whole with
/// prost's message (`err-mimir-invalid-protobuf` class, HTTP 400), as decoding it would.
pub fn validate_write_request<'a>(
    limits: &Limits,
    now: SystemTime,
    buffer: &'a [u8],
) -> Result<Validated<'a>, ValidationError> {
    let now_ms = unix_millis(now);
    let mut result = Validated::default();
    let read = wire::read_write_request(buffer, |series| {
        validate_series(limits, now_ms, series, &mut result);
    });
    let entries = match read {
        Ok(entries) => entries,
        Err(error) => {
            // The reader refuses what prost refuses; prost words the message.
            let message = match WriteRequest::decode(buffer) {
                Err(prost_error) => prost_error.to_string(),
                Ok(_) => format!("failed to decode Protobuf message: {}", error.0),
            };
            return Err(ValidationError {
                id: ids::INVALID_PROTOBUF,
                status: STATUS_BAD_REQUEST,
                message,
            });
        }
    };
    for mut entry in entries {
        match metadata::clean_and_validate(limits, &mut entry) {
            Ok(()) => result.metadata.push(entry),
            Err(error) => result.errors.push(error),
        }
    }
    Ok(result)
}

/// Validates a decoded `request` for a tenant with `limits`, at wall-clock time `now`.
pub fn validate_request(
    limits: &Limits,
    now: SystemTime,
    request: WriteRequest,
) -> ValidatedRequest {
    let buffer = bytes::Bytes::from(request.encode_to_vec());
    match validate_write_request(limits, now, &buffer) {
        Ok(validated) => validated.to_owned_request(&buffer),
        Err(error) => {
            // prost's encoding of a request always reads back; should that ever change, the
            // request fails as an undecodable one would.
            debug_assert!(false, "an encoded WriteRequest did not read back: {error}");
            ValidatedRequest {
                errors: vec![error],
                ..ValidatedRequest::default()
            }
        }
    }
}

fn validate_series<'a>(
    limits: &Limits,
    now_ms: i64,
    series: &mut SeriesView<'a>,
    result: &mut Validated<'a>,
) {
    result.dropped_exemplars += series.exemplars;
    let samples = &series.samples;
    let histograms = &series.histograms;
    let received = samples.len() + histograms.len();
    let labels = &mut series.labels;
    let received_labels = labels.len();
    labels.retain(|(_, value)| !value.is_empty());
    if labels.is_empty() {
        result.dropped_samples += received;
        return;
    }
    let mut as_received = !series.other_fields && labels.len() == received_labels;
    if !labels.is_sorted_by(|left, right| left.0 <= right.0) {
        labels.sort_by(|left, right| left.0.cmp(right.0));
        as_received = false;
    }

    let samples_start = result.samples.len();
    let histograms_start = result.histograms.len();
    let checked = check_labels(limits, labels).and_then(|metric_name| {
        check_samples(limits, now_ms, metric_name, samples, &mut result.samples)?;
        check_samples(
            limits,
            now_ms,
            metric_name,
            histograms,
            &mut result.histograms,
        )
    });
    if let Err(error) = checked {
        result.samples.truncate(samples_start);
        result.histograms.truncate(histograms_start);
        result.dropped_samples += received;
        result.discarded_samples.push((error.id, received));
        result.errors.push(error);
        return;
    }
    let kept = result.samples.len() - samples_start + result.histograms.len() - histograms_start;
    result.deduplicated_samples += received - kept;
    if kept == 0 {
        return;
    }
    let labels_start = result.labels.len();
    result.labels.extend_from_slice(labels);
    result.spans.push(Span {
        labels: (labels_start, result.labels.len()),
        samples: (samples_start, result.samples.len()),
        histograms: (histograms_start, result.histograms.len()),
        encoded: (as_received && kept == received).then_some(series.encoded),
    });
}

/// Mimir's `validateLabels` over sorted, non-empty-valued labels. Returns the metric name.
fn check_labels<'a>(
    limits: &Limits,
    labels: &[(&'a [u8], &'a [u8])],
) -> Result<&'a [u8], ValidationError> {
    let Some(metric_name) = labels
        .iter()
        .find(|(name, _)| *name == METRIC_NAME_LABEL.as_bytes())
        .map(|(_, value)| *value)
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
    for &(name, value) in labels {
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
        if !value.is_ascii() && std::str::from_utf8(value).is_err() {
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
    labels: &[(&[u8], &[u8])],
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

/// Series with at most this many samples find duplicate timestamps by a scan of the kept ones
/// instead of a hash set.
const SCAN_DUPLICATES_UP_TO: usize = 16;

/// Mimir's `validateSamples` (and `validateSampleHistogram`'s time checks, for `(timestamp,
/// histogram)` pairs): duplicate timestamps dropped (the first kept), grace periods enforced.
/// Appends the kept samples to `kept`; on error some may have been appended.
fn check_samples<V: Copy>(
    limits: &Limits,
    now_ms: i64,
    metric_name: &[u8],
    samples: &[(i64, V)],
    kept: &mut Vec<(i64, V)>,
) -> Result<(), ValidationError> {
    let newest_allowed = now_ms.saturating_add(limits.creation_grace_period.as_millis_i64());
    let oldest_allowed = (!limits.past_grace_period.is_zero()).then(|| {
        now_ms
            .saturating_sub(limits.past_grace_period.as_millis_i64())
            .saturating_sub(limits.out_of_order_time_window.as_millis_i64())
    });
    let start = kept.len();
    let mut seen = HashSet::with_capacity(if samples.len() > SCAN_DUPLICATES_UP_TO {
        samples.len()
    } else {
        0
    });
    for &(timestamp, value) in samples {
        // Every sample seen so far was kept (an out-of-bounds one ends the series), so the
        // kept samples are the seen timestamps.
        let duplicate = if samples.len() > SCAN_DUPLICATES_UP_TO {
            !seen.insert(timestamp)
        } else {
            kept[start..].iter().any(|(seen, _)| *seen == timestamp)
        };
        if duplicate {
            continue;
        }
        if timestamp > newest_allowed {
            return Err(sample_out_of_bounds(Bound::Future, timestamp, metric_name));
        }
        if oldest_allowed.is_some_and(|oldest| timestamp < oldest) {
            return Err(sample_out_of_bounds(Bound::Past, timestamp, metric_name));
        }
        kept.push((timestamp, value));
    }
    Ok(())
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

/// Milliseconds since the Unix epoch, negative before it, saturating.
fn unix_millis(now: SystemTime) -> i64 {
    match now.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_millis()).map_or(i64::MIN, |ms| -ms),
    }
}
