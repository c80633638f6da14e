//! The Prometheus HTTP API's JSON, byte for byte: the envelope (`status`, `data`, `errorType`,
//! `error`, `warnings`, `infos`, in that order, empty ones left out), timestamps as seconds with the
//! milliseconds after the point, sample values as strings the way Prometheus' jsoniter encoder
//! writes them, and strings escaped as Go's JSON encoders do (`<`, `>` and `&` as `\u003c`…).
//!
//! Prometheus mixes two encoders and this module follows it: vector and matrix samples go through
//! its jsoniter codec (3-digit milliseconds; values in exponent form below 1e-6 and from 1e21),
//! while label sets, scalars and strings use their own `MarshalJSON` with Go's `encoding/json`
//! (timestamps as shortest floats, `2.5`; scalar values always in `'f'` form; `\b` and `\f`
//! escaped by name).
//!
//! Written by hand rather than through serde so that key order and number formatting are exactly
//! Prometheus' and a large result is built in one buffer.

use std::fmt::Write as _;

use mimir_promql::engine::histogram::{FloatHistogram, json::histogram_json};
use mimir_promql::engine::{HistogramSample, Labels, QueryResult, Sample, Value};

/// Appends `text` as a JSON string, escaped as Prometheus' jsoniter encoder escapes it.
pub fn push_str(out: &mut String, text: &str) {
    push_escaped(out, text, false);
}

/// Appends `text` as a JSON string, escaped as Go's `encoding/json` escapes it (labels, strings).
pub fn push_str_std(out: &mut String, text: &str) {
    push_escaped(out, text, true);
}

fn push_escaped(out: &mut String, text: &str, std: bool) {
    out.push('"');
    for ch in text.chars() {
        match ch {
            '\u{8}' if std => out.push_str("\\b"),
            '\u{c}' if std => out.push_str("\\f"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(ch));
            }
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A timestamp in milliseconds as Prometheus writes it: seconds, and when there are milliseconds,
/// a point and exactly three digits (`1435781451.781`, `1.500`, `-0.001`).
pub fn push_timestamp(out: &mut String, t_ms: i64) {
    let abs = t_ms.unsigned_abs();
    if t_ms < 0 {
        out.push('-');
    }
    let _ = write!(out, "{}", abs / 1000);
    let fraction = abs % 1000;
    if fraction != 0 {
        let _ = write!(out, ".{fraction:03}");
    }
}

/// A sample value as Prometheus writes it (without the quotes): Go's
/// `strconv.FormatFloat(v, 'f', -1, 64)`, except below 1e-6 and from 1e21 up (in absolute value)
/// where it is `'e'` (`1e-07`, `1e+21`); `+Inf`, `-Inf`, `NaN`.
pub fn format_value(v: f64) -> String {
    if v.is_nan() {
        return "NaN".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    let abs = v.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        return go_exponent(v);
    }
    // Rust's shortest round-trip digits, never in exponent form for `{}`: Go's `'f', -1`.
    format!("{v}")
}

/// Go's `strconv.FormatFloat(v, 'e', -1, 64)`: shortest digits, an exponent with a sign and at
/// least two digits.
fn go_exponent(v: f64) -> String {
    let rust = format!("{v:e}");
    let Some((mantissa, exponent)) = rust.split_once('e') else {
        return rust;
    };
    let (sign, digits) = match exponent.strip_prefix('-') {
        Some(digits) => ('-', digits),
        None => ('+', exponent),
    };
    if digits.len() < 2 {
        format!("{mantissa}e{sign}0{digits}")
    } else {
        format!("{mantissa}e{sign}{digits}")
    }
}

/// Go's `strconv.FormatFloat(v, 'f', -1, 64)` (scalar results).
pub fn format_f(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_string()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.to_string()
    } else {
        format!("{v}")
    }
}

/// A timestamp as Go's `encoding/json` writes `float64(t) / 1000`: the shortest float (`2.5`).
pub fn push_float_timestamp(out: &mut String, t_ms: i64) {
    let seconds = t_ms as f64 / 1000.0;
    let _ = write!(out, "{seconds}");
}

/// `[<seconds>,"<value>"]`.
pub fn push_point(out: &mut String, t_ms: i64, v: f64) {
    out.push('[');
    push_timestamp(out, t_ms);
    out.push_str(",\"");
    out.push_str(&format_value(v));
    out.push_str("\"]");
}

/// A label set as a JSON object, in label order (Go's `encoding/json` of its map).
pub fn push_labels(out: &mut String, labels: &Labels) {
    out.push('{');
    for (i, (name, value)) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_str_std(out, name);
        out.push(':');
        push_str_std(out, value);
    }
    out.push('}');
}

/// A list of strings as a JSON array.
pub fn push_strings<S: AsRef<str>>(out: &mut String, items: &[S]) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_str(out, item.as_ref());
    }
    out.push(']');
}

/// `[<seconds>,{<histogram>}]` (Prometheus' `MarshalHistogram`).
fn push_histogram_point(out: &mut String, t_ms: i64, h: &FloatHistogram) {
    out.push('[');
    push_timestamp(out, t_ms);
    out.push(',');
    out.push_str(&histogram_json(h));
    out.push(']');
}

fn push_histograms(out: &mut String, histograms: &[HistogramSample]) {
    out.push('[');
    for (i, sample) in histograms.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_histogram_point(out, sample.t, &sample.h);
    }
    out.push(']');
}

fn push_samples(out: &mut String, samples: &[Sample]) {
    out.push('[');
    for (i, sample) in samples.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_point(out, sample.t, sample.v);
    }
    out.push(']');
}

/// The `data` of a query: `{"resultType":…,"result":…}`.
pub fn push_query_data(out: &mut String, value: &Value) {
    out.push_str("{\"resultType\":\"");
    out.push_str(value.type_name());
    out.push_str("\",\"result\":");
    match value {
        Value::Scalar { t, v } => {
            out.push('[');
            push_float_timestamp(out, *t);
            out.push_str(",\"");
            out.push_str(&format_f(*v));
            out.push_str("\"]");
        }
        Value::String { t, s } => {
            out.push('[');
            push_float_timestamp(out, *t);
            out.push(',');
            push_str_std(out, s);
            out.push(']');
        }
        Value::Vector(samples) => {
            out.push('[');
            for (i, sample) in samples.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str("{\"metric\":");
                push_labels(out, &sample.labels);
                match &sample.h {
                    Some(h) => {
                        out.push_str(",\"histogram\":");
                        push_histogram_point(out, sample.t, h);
                    }
                    None => {
                        out.push_str(",\"value\":");
                        push_point(out, sample.t, sample.v);
                    }
                }
                out.push('}');
            }
            out.push(']');
        }
        Value::Matrix(series) => {
            out.push('[');
            for (i, one) in series.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str("{\"metric\":");
                push_labels(out, &one.labels);
                // Keys only for the kinds of points the series has.
                if !one.samples.is_empty() {
                    out.push_str(",\"values\":");
                    push_samples(out, &one.samples);
                }
                if !one.histograms.is_empty() {
                    out.push_str(",\"histograms\":");
                    push_histograms(out, &one.histograms);
                }
                out.push('}');
            }
            out.push(']');
        }
    }
    out.push('}');
}

/// A success envelope around `data` (already JSON), with `warnings` and `infos` when there are any.
pub fn success(data: &str, warnings: &[String], infos: &[String]) -> String {
    let mut out = String::with_capacity(data.len() + 64);
    out.push_str("{\"status\":\"success\",\"data\":");
    out.push_str(data);
    if !warnings.is_empty() {
        out.push_str(",\"warnings\":");
        push_strings(&mut out, warnings);
    }
    if !infos.is_empty() {
        out.push_str(",\"infos\":");
        push_strings(&mut out, infos);
    }
    out.push('}');
    out
}

/// The whole answer to a successful query.
pub fn query_success(result: &QueryResult) -> String {
    let mut data = String::new();
    push_query_data(&mut data, &result.value);
    success(
        &data,
        &result.annotations.warnings,
        &result.annotations.infos,
    )
}

/// An error envelope: `{"status":"error","errorType":…,"error":…}`.
pub fn error(error_type: &str, message: &str) -> String {
    let mut out = String::with_capacity(message.len() + 64);
    out.push_str("{\"status\":\"error\",\"errorType\":");
    push_str(&mut out, error_type);
    out.push_str(",\"error\":");
    push_str(&mut out, message);
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use mimir_promql::engine::{Annotations, Series, VectorSample};

    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        Labels::new(
            pairs
                .iter()
                .map(|(n, v)| ((*n).to_string(), (*v).to_string()))
                .collect(),
        )
    }

    #[test]
    fn values_are_formatted_as_prometheus_formats_them() {
        let cases: &[(f64, &str)] = &[
            (1.0, "1"),
            (0.0, "0"),
            (-0.0, "-0"),
            (0.1, "0.1"),
            (-2.5, "-2.5"),
            (1e20, "100000000000000000000"),
            (1e21, "1e+21"),
            (1.5e300, "1.5e+300"),
            (1e-6, "0.000001"),
            (1e-7, "1e-07"),
            (-1.25e-10, "-1.25e-10"),
            (123456789.123, "123456789.123"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (1.0 / 3.0, "0.3333333333333333"),
        ];
        for (value, expected) in cases {
            assert_eq!(format_value(*value), *expected, "{value:?}");
        }
    }

    #[test]
    fn timestamps_have_three_digit_milliseconds_or_none() {
        let cases: &[(i64, &str)] = &[
            (1_435_781_451_781, "1435781451.781"),
            (1_500, "1.500"),
            (1_000, "1"),
            (0, "0"),
            (5, "0.005"),
            (-1, "-0.001"),
            (-1_500, "-1.500"),
            (i64::MIN, "-9223372036854775.808"),
        ];
        for (t, expected) in cases {
            let mut out = String::new();
            push_timestamp(&mut out, *t);
            assert_eq!(out, *expected);
        }
    }

    #[test]
    fn strings_are_escaped_as_go_escapes_them() {
        let mut out = String::new();
        push_str(&mut out, "a\"b\\c\nd\te<f>&g\u{1}h\u{2028}é\u{8}");
        assert_eq!(
            out,
            r#""a\"b\\c\nd\te\u003cf\u003e\u0026g\u0001h\u2028é\u0008""#
        );
        let mut out = String::new();
        push_str_std(&mut out, "<\u{8}\u{c}\u{1}");
        assert_eq!(out, r#""\u003c\b\f\u0001""#);
    }

    #[test]
    fn vector_result() {
        let result = QueryResult {
            value: Value::Vector(vec![
                VectorSample {
                    labels: labels(&[
                        ("__name__", "up"),
                        ("job", "prometheus"),
                        ("instance", "localhost:9090"),
                    ]),
                    t: 1_435_781_451_781,
                    v: 1.0,
                    h: None,
                },
                VectorSample {
                    labels: labels(&[("job", "node")]),
                    t: 1_435_781_451_781,
                    v: 0.0,
                    h: None,
                },
            ]),
            annotations: Annotations::default(),
        };
        assert_eq!(
            query_success(&result),
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"up","instance":"localhost:9090","job":"prometheus"},"value":[1435781451.781,"1"]},{"metric":{"job":"node"},"value":[1435781451.781,"0"]}]}}"#
        );
    }

    #[test]
    fn empty_vector_and_matrix_results_are_empty_arrays() {
        for (value, kind) in [
            (Value::Vector(vec![]), "vector"),
            (Value::Matrix(vec![]), "matrix"),
        ] {
            let result = QueryResult {
                value,
                annotations: Annotations::default(),
            };
            assert_eq!(
                query_success(&result),
                format!(r#"{{"status":"success","data":{{"resultType":"{kind}","result":[]}}}}"#)
            );
        }
    }

    #[test]
    fn matrix_scalar_and_string_results() {
        let matrix = QueryResult {
            value: Value::Matrix(vec![Series {
                labels: labels(&[("__name__", "up"), ("job", "node")]),
                samples: vec![
                    Sample {
                        t: 1_435_781_430_781,
                        v: 1.0,
                    },
                    Sample {
                        t: 1_435_781_445_781,
                        v: f64::NAN,
                    },
                ],
                start_ts: Vec::new(),
                histograms: Vec::new(),
            }]),
            annotations: Annotations::default(),
        };
        assert_eq!(
            query_success(&matrix),
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"up","job":"node"},"values":[[1435781430.781,"1"],[1435781445.781,"NaN"]]}]}}"#
        );
        let scalar = QueryResult {
            value: Value::Scalar {
                t: 1_000,
                v: f64::NEG_INFINITY,
            },
            annotations: Annotations::default(),
        };
        assert_eq!(
            query_success(&scalar),
            r#"{"status":"success","data":{"resultType":"scalar","result":[1,"-Inf"]}}"#
        );
        // Scalars: the time as a shortest float, the value always in 'f' form.
        let scalar = QueryResult {
            value: Value::Scalar {
                t: 1_435_781_451_500,
                v: 1e-7,
            },
            annotations: Annotations::default(),
        };
        assert_eq!(
            query_success(&scalar),
            r#"{"status":"success","data":{"resultType":"scalar","result":[1435781451.5,"0.0000001"]}}"#
        );
        let string = QueryResult {
            value: Value::String {
                t: 2_500,
                s: "a\"b".to_string(),
            },
            annotations: Annotations::default(),
        };
        assert_eq!(
            query_success(&string),
            r#"{"status":"success","data":{"resultType":"string","result":[2.5,"a\"b"]}}"#
        );
    }

    #[test]
    fn a_matrix_series_without_points_has_no_values() {
        let result = QueryResult {
            value: Value::Matrix(vec![Series {
                labels: labels(&[("a", "<&>")]),
                samples: vec![],
                start_ts: Vec::new(),
                histograms: Vec::new(),
            }]),
            annotations: Annotations::default(),
        };
        assert_eq!(
            query_success(&result),
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"a":"\u003c\u0026\u003e"}}]}}"#
        );
    }

    #[test]
    fn native_histograms_are_histogram_points() {
        let h = std::sync::Arc::new(
            mimir_promql::engine::histogram::literal::parse_histogram_literal(
                "{{schema:0 count:3 sum:5 buckets:[1 2]}}",
            )
            .unwrap(),
        );
        let histogram = r#"{"count":"3","sum":"5","buckets":[[0,"0.5","1","1"],[0,"1","2","2"]]}"#;
        let vector = QueryResult {
            value: Value::Vector(vec![VectorSample {
                labels: labels(&[("__name__", "h")]),
                t: 1_500,
                v: 0.0,
                h: Some(h.clone()),
            }]),
            annotations: Annotations::default(),
        };
        assert_eq!(
            query_success(&vector),
            format!(
                r#"{{"status":"success","data":{{"resultType":"vector","result":[{{"metric":{{"__name__":"h"}},"histogram":[1.500,{histogram}]}}]}}}}"#
            )
        );
        let matrix = QueryResult {
            value: Value::Matrix(vec![Series {
                labels: labels(&[("__name__", "h")]),
                samples: vec![Sample { t: 0, v: 1.0 }],
                start_ts: Vec::new(),
                histograms: vec![HistogramSample { t: 1_000, h, st: 0 }],
            }]),
            annotations: Annotations::default(),
        };
        assert_eq!(
            query_success(&matrix),
            format!(
                r#"{{"status":"success","data":{{"resultType":"matrix","result":[{{"metric":{{"__name__":"h"}},"values":[[0,"1"]],"histograms":[[1,{histogram}]]}}]}}}}"#
            )
        );
    }

    #[test]
    fn warnings_and_infos_only_when_present() {
        let result = QueryResult {
            value: Value::Scalar { t: 0, v: 1.0 },
            annotations: Annotations {
                warnings: vec!["w1".to_string()],
                infos: vec![],
            },
        };
        assert_eq!(
            query_success(&result),
            r#"{"status":"success","data":{"resultType":"scalar","result":[0,"1"]},"warnings":["w1"]}"#
        );
        assert_eq!(
            success("[]", &[], &["i".to_string()]),
            r#"{"status":"success","data":[],"infos":["i"]}"#
        );
    }

    #[test]
    fn errors() {
        assert_eq!(
            error(
                "bad_data",
                "invalid parameter \"query\": 1:1: parse error: no expression found in input"
            ),
            r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:1: parse error: no expression found in input"}"#
        );
    }
}
