//! Text forms of a histogram: the HTTP API's JSON for a histogram point (Prometheus'
//! `jsonutil.MarshalHistogram`), Go's `FloatHistogram.String()` (what `count_values` uses as a label
//! value) and `TestExpression()` (the `{{…}}` literal, for harness messages), with the Go float
//! formatting each of them relies on.

use std::fmt;

use super::{Bucket, CounterResetHint, FloatHistogram};

/// The shortest decimal digits that round-trip `v` (finite, non-zero) and the decimal exponent of the
/// first digit: `v = 0.d1d2… × 10^(exp+1)`, i.e. `d1.d2… × 10^exp`.
fn shortest_digits(v: f64) -> (String, i32) {
    let text = format!("{:e}", v.abs());
    let (mantissa, exponent) = text.split_once('e').unwrap_or((text.as_str(), "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    (digits, exponent.parse().unwrap_or(0))
}

fn special(v: f64) -> Option<&'static str> {
    if v.is_nan() {
        Some("NaN")
    } else if v == f64::INFINITY {
        Some("+Inf")
    } else if v == f64::NEG_INFINITY {
        Some("-Inf")
    } else {
        None
    }
}

/// Go's `%e` with the shortest precision: `1e-07`, `1.5e+21`.
fn format_exponent(v: f64) -> String {
    let (digits, exp) = shortest_digits(v);
    let sign = if v.is_sign_negative() { "-" } else { "" };
    let mantissa = if digits.len() > 1 {
        format!("{}.{}", &digits[..1], &digits[1..])
    } else {
        digits
    };
    let exp_sign = if exp < 0 { '-' } else { '+' };
    format!("{sign}{mantissa}e{exp_sign}{:02}", exp.abs())
}

/// Go's `strconv.FormatFloat(v, 'f', -1, 64)` for finite values (Rust's `Display` does the same).
fn format_fixed(v: f64) -> String {
    format!("{v}")
}

/// A float as the HTTP API writes sample values and histogram fields (Prometheus'
/// `jsonutil.MarshalFloat`, without the quotes): plain decimal, or exponent form when the magnitude is
/// below 1e-6 or at least 1e21; `NaN`, `+Inf`, `-Inf`.
pub fn format_api_float(v: f64) -> String {
    if let Some(s) = special(v) {
        return s.to_string();
    }
    let abs = v.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        format_exponent(v)
    } else {
        format_fixed(v)
    }
}

/// Go's `%g` (`threshold` 6) or `%v` (`threshold` 21) for a float: exponent form if the decimal
/// exponent is below −4 or at least the threshold.
fn format_go_general(v: f64, threshold: i32) -> String {
    if let Some(s) = special(v) {
        return s.to_string();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    let (_, exp) = shortest_digits(v);
    if exp < -4 || exp >= threshold {
        format_exponent(v)
    } else {
        format_fixed(v)
    }
}

/// Go's `fmt` `%g` of a float64.
pub fn format_go_g(v: f64) -> String {
    format_go_general(v, 6)
}

/// Go's `fmt` `%v` of a float64.
pub fn format_go_v(v: f64) -> String {
    format_go_general(v, 21)
}

/// The JSON of a histogram point in query results (Prometheus' `MarshalHistogram`):
/// `{"count":"…","sum":"…","buckets":[[rule,"lower","upper","count"],…]}` with the non-empty buckets in
/// ascending order (negative, zero, positive) and `rule` 0 = `(lower, upper]`, 1 = `[lower, upper)`,
/// 2 = `(lower, upper)`, 3 = `[lower, upper]`. `buckets` is left out if every bucket is empty.
pub fn histogram_json(h: &FloatHistogram) -> String {
    let mut out = String::with_capacity(64);
    out.push_str("{\"count\":\"");
    out.push_str(&format_api_float(h.count));
    out.push_str("\",\"sum\":\"");
    out.push_str(&format_api_float(h.sum));
    out.push('"');
    let mut first = true;
    for b in h.all_buckets() {
        if b.count == 0.0 {
            continue;
        }
        out.push_str(if first { ",\"buckets\":[" } else { "," });
        first = false;
        let rule = match (b.lower_inclusive, b.upper_inclusive) {
            (false, true) => 0,
            (true, false) => 1,
            (false, false) => 2,
            (true, true) => 3,
        };
        out.push_str(&format!(
            "[{rule},\"{}\",\"{}\",\"{}\"]",
            format_api_float(b.lower),
            format_api_float(b.upper),
            format_api_float(b.count)
        ));
    }
    if !first {
        out.push(']');
    }
    out.push('}');
    out
}

fn write_bucket(f: &mut fmt::Formatter<'_>, b: &Bucket) -> fmt::Result {
    write!(
        f,
        ", {}{},{}{}:{}",
        if b.lower_inclusive { '[' } else { '(' },
        format_go_g(b.lower),
        format_go_g(b.upper),
        if b.upper_inclusive { ']' } else { ')' },
        format_go_v(b.count)
    )
}

/// Prometheus' `FloatHistogram.String()`:
/// `{count:20, sum:10, [-2,-1):2, [-0.001,0.001]:2, (0.5,1]:1}` with the non-empty buckets in ascending
/// order (the zero bucket if its count is not 0). `count_values` uses it as the label value.
impl fmt::Display for FloatHistogram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{{count:{}, sum:{}",
            format_go_g(self.count),
            format_go_g(self.sum)
        )?;
        let negatives: Vec<Bucket> = self
            .negative_bucket_iter()
            .filter(|b| b.count != 0.0)
            .collect();
        for b in negatives.iter().rev() {
            write_bucket(f, b)?;
        }
        if self.zero_count != 0.0 && !self.uses_custom_buckets() {
            write_bucket(f, &self.zero_bucket())?;
        }
        for b in self.positive_bucket_iter().filter(|b| b.count != 0.0) {
            write_bucket(f, &b)?;
        }
        f.write_str("}")
    }
}

impl FloatHistogram {
    /// The histogram as a test-script literal (Prometheus' `TestExpression`), for harness messages:
    /// fields that are zero are left out, buckets are compacted into one span per side.
    pub fn test_expression(&self) -> String {
        let mut m = self.clone();
        m.compact(usize::MAX);
        let mut parts: Vec<String> = Vec::new();
        if m.schema != 0 {
            parts.push(format!("schema:{}", m.schema));
        }
        if m.count != 0.0 {
            parts.push(format!("count:{}", format_go_g(m.count)));
        }
        if m.sum != 0.0 {
            parts.push(format!("sum:{}", format_go_g(m.sum)));
        }
        if m.zero_count != 0.0 {
            parts.push(format!("z_bucket:{}", format_go_g(m.zero_count)));
        }
        if m.zero_threshold != 0.0 {
            parts.push(format!("z_bucket_w:{}", format_go_g(m.zero_threshold)));
        }
        if m.uses_custom_buckets() {
            let values: Vec<String> = m.custom_values.iter().map(|v| format_go_g(*v)).collect();
            parts.push(format!("custom_values:[{}]", values.join(" ")));
        }
        match m.counter_reset_hint {
            CounterResetHint::Unknown => {}
            CounterResetHint::CounterReset => parts.push("counter_reset_hint:reset".to_string()),
            CounterResetHint::NotCounterReset => {
                parts.push("counter_reset_hint:not_reset".to_string())
            }
            CounterResetHint::Gauge => parts.push("counter_reset_hint:gauge".to_string()),
        }
        let mut side = |key: &str, offset_key: &str, spans: &[super::Span], buckets: &[f64]| {
            if let Some(span) = spans.first()
                && span.offset != 0
            {
                parts.push(format!("{offset_key}:{}", span.offset));
            }
            if !buckets.is_empty() {
                let values: Vec<String> = buckets.iter().map(|v| format_go_g(*v)).collect();
                parts.push(format!("{key}:[{}]", values.join(" ")));
            }
        };
        side("buckets", "offset", &m.positive_spans, &m.positive_buckets);
        side(
            "n_buckets",
            "n_offset",
            &m.negative_spans,
            &m.negative_buckets,
        );
        format!("{{{{{}}}}}", parts.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::histogram::parse_histogram_literal;

    fn h(text: &str) -> FloatHistogram {
        parse_histogram_literal(text).expect("valid literal")
    }

    #[test]
    fn api_floats_follow_marshal_float() {
        assert_eq!(format_api_float(42.0), "42");
        assert_eq!(format_api_float(34593.34), "34593.34");
        assert_eq!(format_api_float(0.25), "0.25");
        assert_eq!(format_api_float(1e-6), "0.000001");
        assert_eq!(format_api_float(1e-7), "1e-07");
        assert_eq!(format_api_float(-1.5e-7), "-1.5e-07");
        assert_eq!(format_api_float(1e21), "1e+21");
        assert_eq!(format_api_float(1e20), "100000000000000000000");
        assert_eq!(format_api_float(f64::MAX), "1.7976931348623157e+308");
        assert_eq!(format_api_float(0.0), "0");
        assert_eq!(format_api_float(f64::NAN), "NaN");
        assert_eq!(format_api_float(f64::NEG_INFINITY), "-Inf");
    }

    #[test]
    fn go_general_formats() {
        assert_eq!(format_go_g(123456.0), "123456");
        assert_eq!(format_go_g(1234567.0), "1.234567e+06");
        assert_eq!(format_go_g(0.0001), "0.0001");
        assert_eq!(format_go_g(0.00001), "1e-05");
        assert_eq!(format_go_v(1234567.0), "1234567");
        assert_eq!(format_go_g(f64::INFINITY), "+Inf");
    }

    #[test]
    fn histogram_point_json() {
        let json = histogram_json(&h(
            "{{schema:0 count:42 sum:34593.34 z_bucket:3 z_bucket_w:0.25 offset:-1 buckets:[12 21 0 6]}}",
        ));
        assert_eq!(
            json,
            r#"{"count":"42","sum":"34593.34","buckets":[[3,"-0.25","0.25","3"],[0,"0.25","0.5","12"],[0,"0.5","1","21"],[0,"2","4","6"]]}"#
        );
        // Negative buckets are open at the bottom and closed at the top; empty histograms have no
        // bucket list.
        let json = histogram_json(&h("{{count:2 sum:-3 n_buckets:[1 1]}}"));
        assert_eq!(
            json,
            r#"{"count":"2","sum":"-3","buckets":[[1,"-2","-1","1"],[1,"-1","-0.5","1"]]}"#
        );
        assert_eq!(histogram_json(&h("{{}}")), r#"{"count":"0","sum":"0"}"#);
        // Custom buckets: the first is closed at -Inf, the others open below.
        let json = histogram_json(&h(
            "{{schema:-53 count:3 sum:1 custom_values:[0.1 0.2] buckets:[1 1 1]}}",
        ));
        assert_eq!(
            json,
            r#"{"count":"3","sum":"1","buckets":[[3,"-Inf","0.1","1"],[0,"0.1","0.2","1"],[0,"0.2","+Inf","1"]]}"#
        );
    }

    #[test]
    fn string_form_as_count_values_uses_it() {
        // aggregators.test, count_values over a histogram.
        let v = h(
            "{{schema:0 sum:10 count:20 z_bucket_w:0.001 z_bucket:2 buckets:[1 2] n_buckets:[1 2]}}",
        );
        assert_eq!(
            v.to_string(),
            "{count:20, sum:10, [-2,-1):2, [-1,-0.5):1, [-0.001,0.001]:2, (0.5,1]:1, (1,2]:2}"
        );
    }

    #[test]
    fn test_expression_round_trips() {
        for text in [
            "{{schema:1 count:10 sum:15 buckets:[3 2 5 7 9]}}",
            "{{schema:-53 count:3 sum:1 custom_values:[0.1 0.2] buckets:[1 1 1]}}",
            "{{count:2 sum:-3 z_bucket:1 z_bucket_w:0.001 counter_reset_hint:gauge offset:2 buckets:[1] n_buckets:[1 1]}}",
        ] {
            let parsed = h(text);
            assert_eq!(parsed.test_expression(), text);
        }
        assert_eq!(h("{{}}").test_expression(), "{{}}");
    }
}
