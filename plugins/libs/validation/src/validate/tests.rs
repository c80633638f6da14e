//! Every validation error with its full message, and the request-level behaviour around them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prost::Message as _;

use super::*;
use crate::duration::PromDuration;
use crate::limits::NameValidationScheme;
use crate::remote_write::{
    BucketSpan, Exemplar, Histogram, Label, MetricMetadata, Sample, TimeSeries, histogram,
};

const NOW_MS: i64 = 1_700_000_000_000;

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(NOW_MS as u64)
}

fn raw_series(labels: Vec<Label>, timestamps: &[i64]) -> TimeSeries {
    TimeSeries {
        labels,
        samples: timestamps
            .iter()
            .map(|timestamp| Sample {
                value: 1.0,
                timestamp: *timestamp,
            })
            .collect(),
        exemplars: Vec::new(),
        histograms: Vec::new(),
    }
}

/// An integer native histogram sample at `timestamp` with `count` observations.
fn native(timestamp: i64, count: u64) -> Histogram {
    Histogram {
        count: Some(histogram::Count::CountInt(count)),
        sum: 1.5,
        schema: 0,
        positive_spans: vec![BucketSpan {
            offset: 0,
            length: 1,
        }],
        positive_deltas: vec![count as i64],
        timestamp,
        ..Histogram::default()
    }
}

fn histogram_series(name: &str, histograms: Vec<Histogram>) -> TimeSeries {
    TimeSeries {
        histograms,
        ..series(&[("__name__", name)], &[])
    }
}

fn series(labels: &[(&str, &str)], timestamps: &[i64]) -> TimeSeries {
    let labels = labels
        .iter()
        .map(|(name, value)| Label::new(name, value))
        .collect();
    raw_series(labels, timestamps)
}

fn request(timeseries: Vec<TimeSeries>) -> WriteRequest {
    WriteRequest {
        timeseries,
        metadata: Vec::new(),
    }
}

fn metadata(name: &str, help: &str, unit: &str) -> MetricMetadata {
    MetricMetadata {
        r#type: 0,
        metric_family_name: name.to_owned(),
        help: help.to_owned(),
        unit: unit.to_owned(),
    }
}

const PER_TENANT: &str = "To adjust the related per-tenant limit, configure";
const ADMIN: &str = "or contact your service administrator.";

struct Case {
    name: &'static str,
    limits: Limits,
    series: TimeSeries,
    id: &'static str,
    message: String,
}

fn cases() -> Vec<Case> {
    let defaults = Limits::default;
    let long_value = "x".repeat(250);
    let long_series = format!("up{{a=\"{long_value}\"}}");
    vec![
        Case {
            name: "missing metric name",
            limits: defaults(),
            series: series(&[("job", "a")], &[NOW_MS]),
            id: ids::MISSING_METRIC_NAME,
            message: "received series has no metric name (err-mimir-missing-metric-name)".into(),
        },
        Case {
            name: "empty metric name is removed, then missing",
            limits: defaults(),
            series: series(&[("__name__", ""), ("job", "a")], &[NOW_MS]),
            id: ids::MISSING_METRIC_NAME,
            message: "received series has no metric name (err-mimir-missing-metric-name)".into(),
        },
        Case {
            name: "invalid metric name",
            limits: defaults(),
            series: series(&[("__name__", "1up")], &[NOW_MS]),
            id: ids::METRIC_NAME_INVALID,
            message:
                "received a series with invalid metric name: '1up' (err-mimir-metric-name-invalid)"
                    .into(),
        },
        Case {
            name: "non-ascii metric name",
            limits: defaults(),
            series: series(&[("__name__", "up_é")], &[NOW_MS]),
            id: ids::METRIC_NAME_INVALID,
            message:
                "received a series with invalid metric name: 'up_ (non-ascii characters removed)' \
                      (err-mimir-metric-name-invalid)"
                    .into(),
        },
        Case {
            name: "too many labels",
            limits: Limits {
                max_label_names_per_series: 2,
                ..defaults()
            },
            series: series(&[("__name__", "up"), ("b", "2"), ("a", "1")], &[NOW_MS]),
            id: ids::MAX_LABEL_NAMES_PER_SERIES,
            message: format!(
                "received a series whose number of labels exceeds the limit (actual: 3, limit: 2) \
                 series: 'up{{a=\"1\", b=\"2\"}}' (err-mimir-max-label-names-per-series). \
                 {PER_TENANT} -validation.max-label-names-per-series, {ADMIN}"
            ),
        },
        Case {
            name: "too many labels, long series gets an ellipsis",
            limits: Limits {
                max_label_names_per_series: 1,
                ..defaults()
            },
            series: series(&[("__name__", "up"), ("a", &long_value)], &[NOW_MS]),
            id: ids::MAX_LABEL_NAMES_PER_SERIES,
            message: format!(
                "received a series whose number of labels exceeds the limit (actual: 2, limit: 1) \
                 series: '{}\u{2026}' (err-mimir-max-label-names-per-series). \
                 {PER_TENANT} -validation.max-label-names-per-series, {ADMIN}",
                &long_series[..200]
            ),
        },
        Case {
            name: "too many labels on an info series",
            limits: Limits {
                max_label_names_per_series: 2,
                max_label_names_per_info_series: 3,
                ..defaults()
            },
            series: series(
                &[
                    ("__name__", "build_info"),
                    ("a", "1"),
                    ("b", "2"),
                    ("c", "3"),
                ],
                &[NOW_MS],
            ),
            id: ids::MAX_LABEL_NAMES_PER_INFO_SERIES,
            message: format!(
                "received an info series whose number of labels exceeds the limit (actual: 4, \
                 limit: 3) series: 'build_info{{a=\"1\", b=\"2\", c=\"3\"}}' \
                 (err-mimir-max-label-names-per-info-series). \
                 {PER_TENANT} -validation.max-label-names-per-info-series, {ADMIN}"
            ),
        },
        Case {
            name: "invalid label name",
            limits: defaults(),
            series: series(&[("__name__", "up"), ("bad-label", "x\"\ny")], &[NOW_MS]),
            id: ids::LABEL_INVALID,
            message: "received a series with an invalid label: 'bad-label' series: \
                      'up{bad-label=\"x\\\"\\ny\"}' (err-mimir-label-invalid)"
                .into(),
        },
        Case {
            name: "invalid UTF-8 label name under the utf8 scheme",
            limits: Limits {
                name_validation_scheme: NameValidationScheme::Utf8,
                ..defaults()
            },
            series: raw_series(
                vec![
                    Label::new("__name__", "up"),
                    Label {
                        name: b"\xff".to_vec().into(),
                        value: b"x".to_vec().into(),
                    },
                ],
                &[NOW_MS],
            ),
            id: ids::LABEL_INVALID,
            message: "received a series with an invalid label: '\u{FFFD}' series: \
                      'up{\u{FFFD}=\"x\"}' (err-mimir-label-invalid)"
                .into(),
        },
        Case {
            name: "label name too long",
            limits: Limits {
                max_label_name_length: 8,
                ..defaults()
            },
            series: series(&[("__name__", "up"), ("abcdefghi", "x")], &[NOW_MS]),
            id: ids::LABEL_NAME_TOO_LONG,
            message: format!(
                "received a series whose label name length exceeds the limit, label: 'abcdefghi' \
                 series: 'up{{abcdefghi=\"x\"}}' (err-mimir-label-name-too-long). \
                 {PER_TENANT} -validation.max-length-label-name, {ADMIN}"
            ),
        },
        Case {
            name: "label value not UTF-8",
            limits: defaults(),
            series: raw_series(
                vec![
                    Label::new("__name__", "up"),
                    Label {
                        name: b"a".to_vec().into(),
                        value: b"\xff\xfeok".to_vec().into(),
                    },
                ],
                &[NOW_MS],
            ),
            id: ids::LABEL_VALUE_INVALID,
            message:
                "received a series with invalid value in label 'a': '\u{FFFD}ok' metric: 'up' \
                      (err-mimir-label-value-invalid)"
                    .into(),
        },
        Case {
            name: "label value too long",
            limits: Limits {
                max_label_value_length: 3,
                ..defaults()
            },
            series: series(&[("__name__", "up"), ("a", "abcd")], &[NOW_MS]),
            id: ids::LABEL_VALUE_TOO_LONG,
            message: format!(
                "received a series whose label value length of 4 exceeds the limit of 3, label: \
                 'a', value: 'abcd' (truncated) series: 'up{{a=\"abcd\"}}' \
                 (err-mimir-label-value-too-long). {PER_TENANT} -validation.max-length-label-value, \
                 {ADMIN}"
            ),
        },
        Case {
            name: "metric name too long counts as a label value",
            limits: Limits {
                max_label_value_length: 3,
                ..defaults()
            },
            series: series(&[("__name__", "toolong")], &[NOW_MS]),
            id: ids::LABEL_VALUE_TOO_LONG,
            message: format!(
                "received a series whose label value length of 7 exceeds the limit of 3, label: \
                 '__name__', value: 'toolong' (truncated) series: 'toolong' \
                 (err-mimir-label-value-too-long). {PER_TENANT} -validation.max-length-label-value, \
                 {ADMIN}"
            ),
        },
        Case {
            name: "duplicate label names",
            limits: defaults(),
            series: series(&[("__name__", "up"), ("a", "1"), ("a", "2")], &[NOW_MS]),
            id: ids::DUPLICATE_LABEL_NAMES,
            message: "received a series with duplicate label name, label: 'a' series: \
                      'up{a=\"1\", a=\"2\"}' (err-mimir-duplicate-label-names)"
                .into(),
        },
        Case {
            name: "sample too far in the future",
            limits: defaults(),
            series: series(&[("__name__", "up")], &[NOW_MS, NOW_MS + 600_001]),
            id: ids::TOO_FAR_IN_FUTURE,
            message: format!(
                "received a sample whose timestamp is too far in the future, timestamp: \
                 1700000600001 series: 'up' (err-mimir-too-far-in-future). \
                 {PER_TENANT} -validation.create-grace-period, {ADMIN}"
            ),
        },
        Case {
            name: "sample too far in the past",
            limits: Limits {
                past_grace_period: PromDuration::from_mins(60),
                ..defaults()
            },
            series: series(&[("__name__", "up")], &[NOW_MS - 3_600_001]),
            id: ids::TOO_FAR_IN_PAST,
            message: format!(
                "received a sample whose timestamp is too far in the past, timestamp: \
                 1699996399999 series: 'up' (err-mimir-too-far-in-past). \
                 {PER_TENANT} -validation.past-grace-period, {ADMIN}"
            ),
        },
        Case {
            name: "sample too far in the past, out-of-order window included",
            limits: Limits {
                past_grace_period: PromDuration::from_mins(60),
                out_of_order_time_window: PromDuration::from_mins(30),
                ..defaults()
            },
            series: series(
                &[("__name__", "up")],
                &[NOW_MS - 5_400_000, NOW_MS - 5_400_001],
            ),
            id: ids::TOO_FAR_IN_PAST,
            message: format!(
                "received a sample whose timestamp is too far in the past, timestamp: \
                 1699994599999 series: 'up' (err-mimir-too-far-in-past). \
                 {PER_TENANT} -validation.past-grace-period, {ADMIN}"
            ),
        },
    ]
}

#[test]
fn every_series_error_has_mimirs_id_status_and_message() {
    for case in cases() {
        let samples = case.series.samples.len();
        let result = validate_request(&case.limits, now(), request(vec![case.series]));
        assert!(result.series.is_empty(), "{}: series kept", case.name);
        assert_eq!(result.dropped_samples, samples, "{}", case.name);
        let [error] = result.errors.as_slice() else {
            panic!("{}: expected one error, got {:?}", case.name, result.errors);
        };
        assert_eq!(error.id, case.id, "{}", case.name);
        assert_eq!(error.status, 400, "{}", case.name);
        assert_eq!(error.message, case.message, "{}", case.name);
    }
}

#[test]
fn a_mixed_request_keeps_the_good_series_and_reports_the_bad_in_order() {
    let mut write = request(vec![
        series(
            &[("__name__", "good_one"), ("job", "a")],
            &[NOW_MS - 1, NOW_MS],
        ),
        series(&[("job", "no-name")], &[NOW_MS, NOW_MS + 1, NOW_MS + 2]),
        series(&[("__name__", "good_two")], &[NOW_MS]),
        series(&[("__name__", "up"), ("bad-label", "x")], &[NOW_MS]),
    ]);
    write.metadata = vec![metadata("good_one", "help", ""), metadata("", "", "")];
    let result = validate_request(&Limits::default(), now(), write);

    let names: Vec<&str> = result
        .series
        .iter()
        .map(|s| std::str::from_utf8(&s.labels[0].1).unwrap())
        .collect();
    assert_eq!(names, ["good_one", "good_two"]);
    let ids_in_order: Vec<&str> = result.errors.iter().map(|error| error.id).collect();
    assert_eq!(
        ids_in_order,
        [
            ids::MISSING_METRIC_NAME,
            ids::LABEL_INVALID,
            ids::METADATA_MISSING_METRIC_NAME
        ]
    );
    assert_eq!(
        result.first_error().map(|error| error.id),
        Some(ids::MISSING_METRIC_NAME)
    );
    assert_eq!(result.dropped_samples, 4);
    assert_eq!(result.accepted_samples(), 3);
    assert_eq!(result.metadata_count, 1);
    assert_eq!(result.ingestion_items(), 4);
    assert!(!result.is_empty());
}

#[test]
fn labels_are_sorted_and_empty_values_removed_not_rejected() {
    let result = validate_request(
        &Limits::default(),
        now(),
        request(vec![series(
            &[
                ("zone", "eu"),
                ("empty", ""),
                ("__name__", "up"),
                ("Job", "x"),
            ],
            &[NOW_MS],
        )]),
    );
    assert!(result.errors.is_empty(), "{:?}", result.errors);
    let expected = [("Job", "x"), ("__name__", "up"), ("zone", "eu")]
        .map(|(name, value)| (bytes::Bytes::from(name), bytes::Bytes::from(value)));
    assert_eq!(result.series[0].labels, expected);
    assert!(
        result
            .errors
            .iter()
            .all(|error| error.id != ids::LABELS_NOT_SORTED)
    );
}

#[test]
fn a_series_with_only_empty_values_is_dropped_silently() {
    let result = validate_request(
        &Limits::default(),
        now(),
        request(vec![series(
            &[("__name__", ""), ("job", "")],
            &[NOW_MS, NOW_MS + 1],
        )]),
    );
    assert!(result.series.is_empty() && result.errors.is_empty());
    assert_eq!(result.dropped_samples, 2);
    assert!(result.is_empty());
}

#[test]
fn duplicate_timestamps_keep_the_first_sample() {
    let mut one = series(&[("__name__", "up")], &[NOW_MS, NOW_MS, NOW_MS - 1, NOW_MS]);
    one.samples[1].value = 2.0;
    let result = validate_request(&Limits::default(), now(), request(vec![one]));
    assert!(result.errors.is_empty());
    assert_eq!(
        result.series[0].samples,
        vec![(NOW_MS, 1.0), (NOW_MS - 1, 1.0)]
    );
    assert_eq!(result.deduplicated_samples, 2);
}

#[test]
fn grace_period_boundaries_are_inclusive_and_zero_disables_the_past_check() {
    let limits = Limits::default();
    let edge = series(&[("__name__", "up")], &[NOW_MS + 600_000, 0]);
    let result = validate_request(&limits, now(), request(vec![edge]));
    assert!(result.errors.is_empty(), "{:?}", result.errors);
    assert_eq!(result.accepted_samples(), 2);

    let past = Limits {
        past_grace_period: PromDuration::from_mins(60),
        ..Limits::default()
    };
    let edge = series(&[("__name__", "up")], &[NOW_MS - 3_600_000]);
    assert!(
        validate_request(&past, now(), request(vec![edge]))
            .errors
            .is_empty()
    );
}

#[test]
fn info_series_get_their_own_label_limit() {
    let limits = Limits {
        max_label_names_per_series: 2,
        ..Limits::default()
    };
    let info = series(
        &[("__name__", "build_info"), ("a", "1"), ("b", "2")],
        &[NOW_MS],
    );
    let result = validate_request(&limits, now(), request(vec![info]));
    assert!(result.errors.is_empty(), "{:?}", result.errors);
}

#[test]
fn the_utf8_scheme_accepts_dotted_names() {
    let limits = Limits {
        name_validation_scheme: NameValidationScheme::Utf8,
        ..Limits::default()
    };
    let dotted = series(
        &[
            ("__name__", "http.server.duration"),
            ("service.name", "api"),
        ],
        &[NOW_MS],
    );
    let result = validate_request(&limits, now(), request(vec![dotted]));
    assert!(result.errors.is_empty(), "{:?}", result.errors);
    let rejected = series(&[("__name__", "http.server.duration")], &[NOW_MS]);
    let result = validate_request(&Limits::default(), now(), request(vec![rejected]));
    assert_eq!(result.errors[0].id, ids::METRIC_NAME_INVALID);
}

#[test]
fn exemplars_are_dropped_and_histograms_passed_on() {
    let mut one = series(&[("__name__", "up")], &[NOW_MS]);
    one.exemplars.push(Exemplar {
        labels: vec![Label::new("trace_id", "abc")],
        value: 1.0,
        timestamp: NOW_MS,
    });
    one.histograms.push(native(NOW_MS - 1, 2));
    let only_histograms = histogram_series(
        "latency",
        vec![native(NOW_MS - 2, 1), native(NOW_MS, 3), native(NOW_MS, 4)],
    );
    let result = validate_request(
        &Limits::default(),
        now(),
        request(vec![one.clone(), only_histograms.clone()]),
    );
    assert_eq!(result.dropped_exemplars, 1);
    assert!(result.errors.is_empty());
    assert_eq!(
        result.series.len(),
        2,
        "a series of histograms only is stored"
    );
    let bytes = |h: &Histogram| bytes::Bytes::from(h.encode_to_vec());
    assert_eq!(
        result.series[0].histograms,
        [(NOW_MS - 1, bytes(&one.histograms[0]))]
    );
    assert_eq!(
        result.series[1].histograms,
        [
            (NOW_MS - 2, bytes(&only_histograms.histograms[0])),
            (NOW_MS, bytes(&only_histograms.histograms[1])),
        ],
        "a histogram at a timestamp already seen is dropped, the first kept"
    );
    assert_eq!(result.deduplicated_samples, 1);
    assert_eq!(result.accepted_histograms(), 3);
    assert_eq!(result.accepted_samples(), 4);
    assert_eq!(result.ingestion_items(), 4, "histograms count as samples");
}

#[test]
fn histograms_follow_the_sample_time_rules_with_the_same_errors() {
    let limits = Limits {
        past_grace_period: PromDuration::from_mins(60),
        ..Limits::default()
    };
    let future = histogram_series("h", vec![native(NOW_MS, 1), native(NOW_MS + 600_001, 1)]);
    let past = histogram_series("h", vec![native(NOW_MS - 3_600_001, 1)]);
    let mut mixed = series(&[("__name__", "m")], &[NOW_MS]);
    mixed.histograms.push(native(NOW_MS + 600_001, 1));
    let good = histogram_series("g", vec![native(NOW_MS - 3_600_000, 1)]);
    let result = validate_request(&limits, now(), request(vec![future, past, mixed, good]));
    let messages: Vec<(&str, &str)> = result
        .errors
        .iter()
        .map(|e| (e.id, e.message.split(" (err-").next().unwrap()))
        .collect();
    assert_eq!(
        messages,
        [
            (
                ids::TOO_FAR_IN_FUTURE,
                "received a sample whose timestamp is too far in the future, timestamp: \
                 1700000600001 series: 'h'"
            ),
            (
                ids::TOO_FAR_IN_PAST,
                "received a sample whose timestamp is too far in the past, timestamp: \
                 1699996399999 series: 'h'"
            ),
            (
                ids::TOO_FAR_IN_FUTURE,
                "received a sample whose timestamp is too far in the future, timestamp: \
                 1700000600001 series: 'm'"
            ),
        ]
    );
    assert_eq!(result.series.len(), 1);
    assert_eq!(
        result.dropped_samples, 5,
        "every sample of a rejected series"
    );
}

#[test]
fn times_before_the_epoch_do_not_overflow() {
    let before = UNIX_EPOCH - Duration::from_secs(1);
    let result = validate_request(
        &Limits::default(),
        before,
        request(vec![series(&[("__name__", "up")], &[i64::MIN, i64::MAX])]),
    );
    assert_eq!(result.errors[0].id, ids::TOO_FAR_IN_FUTURE);
}

#[test]
fn a_series_is_passed_on_as_it_came_only_when_validation_changed_nothing() {
    let as_sent = series(&[("__name__", "up"), ("job", "a")], &[NOW_MS - 1, NOW_MS]);
    let unsorted = series(&[("job", "a"), ("__name__", "up")], &[NOW_MS]);
    let empty_value = series(&[("__name__", "up"), ("job", "")], &[NOW_MS]);
    let duplicate_sample = series(&[("__name__", "up")], &[NOW_MS, NOW_MS]);
    let mut with_histograms = series(&[("__name__", "up"), ("job", "h")], &[NOW_MS]);
    with_histograms.histograms = vec![native(NOW_MS - 5, 1), native(NOW_MS - 4, 2)];
    let encoded_histograms = with_histograms.encode_to_vec();
    let mut duplicate_histogram = series(&[("__name__", "up")], &[]);
    duplicate_histogram.histograms = vec![native(NOW_MS, 1), native(NOW_MS, 1)];
    let mut with_exemplar = series(&[("__name__", "up")], &[NOW_MS]);
    with_exemplar.exemplars.push(Exemplar {
        labels: vec![Label::new("trace_id", "abc")],
        value: 1.0,
        timestamp: NOW_MS,
    });
    let encoded_first = as_sent.encode_to_vec();
    let buffer = request(vec![
        as_sent,
        unsorted,
        empty_value,
        duplicate_sample,
        with_exemplar,
        with_histograms,
        duplicate_histogram,
    ])
    .encode_to_vec();
    let validated = validate_write_request(&Limits::default(), now(), &buffer).unwrap();
    let encoded: Vec<Option<&[u8]>> = validated.series().map(|s| s.encoded).collect();
    assert_eq!(
        encoded,
        [
            Some(&encoded_first[..]),
            None,
            None,
            None,
            None,
            Some(&encoded_histograms[..]),
            None
        ],
        "only the first series and the one with histograms are unchanged"
    );
    let first = validated.series().next().unwrap();
    let decoded = TimeSeries::decode(first.encoded.unwrap()).unwrap();
    let labels: Vec<(&[u8], &[u8])> = decoded
        .labels
        .iter()
        .map(|l| (&l.name[..], &l.value[..]))
        .collect();
    assert_eq!(labels, first.labels);
    let samples: Vec<(i64, f64)> = decoded
        .samples
        .iter()
        .map(|s| (s.timestamp, s.value))
        .collect();
    assert_eq!(samples, first.samples);
}

#[test]
fn an_undecodable_buffer_fails_whole_with_prosts_message() {
    let buffer = [0x0a, 0x05, 0x0a];
    let error = validate_write_request(&Limits::default(), now(), &buffer).unwrap_err();
    let prost_error = WriteRequest::decode(&buffer[..]).unwrap_err();
    assert_eq!(
        (error.id, error.status, error.message),
        (ids::INVALID_PROTOBUF, 400, prost_error.to_string())
    );
}

proptest::proptest! {
    #[test]
    fn the_borrowed_and_owned_results_agree(
        names in proptest::collection::vec("(__name__|job|a|b|1x)", 0..4),
        values in proptest::collection::vec("[a-z]{0,2}", 0..4),
        offsets in proptest::collection::vec(-2i64..2, 0..4),
    ) {
        let labels: Vec<(&str, &str)> = names
            .iter()
            .zip(&values)
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let timestamps: Vec<i64> = offsets.iter().map(|o| NOW_MS + o * 600_000).collect();
        let mut first = series(&labels, &timestamps);
        first.histograms = timestamps.iter().map(|t| native(*t + 1, 1)).collect();
        let write = request(vec![first, series(&labels, &[NOW_MS])]);
        let buffer = write.encode_to_vec();
        let borrowed = validate_write_request(&Limits::default(), now(), &buffer).unwrap();
        let owned = validate_request(&Limits::default(), now(), write);
        proptest::prop_assert_eq!(&borrowed.errors, &owned.errors);
        proptest::prop_assert_eq!(borrowed.series_count(), owned.series.len());
        for (view, series) in borrowed.series().zip(&owned.series) {
            let labels: Vec<(&[u8], &[u8])> =
                series.labels.iter().map(|(n, v)| (&n[..], &v[..])).collect();
            proptest::prop_assert_eq!(view.labels, &labels[..]);
            proptest::prop_assert_eq!(view.samples, &series.samples[..]);
            let histograms: Vec<(i64, &[u8])> =
                series.histograms.iter().map(|(t, h)| (*t, &h[..])).collect();
            proptest::prop_assert_eq!(view.histograms, &histograms[..]);
        }
        proptest::prop_assert_eq!(borrowed.accepted_samples(), owned.accepted_samples());
        proptest::prop_assert_eq!(borrowed.dropped_samples, owned.dropped_samples);
        proptest::prop_assert_eq!(borrowed.deduplicated_samples, owned.deduplicated_samples);
    }
}
