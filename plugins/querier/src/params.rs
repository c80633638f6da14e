//! Request parameters read as Prometheus' API reads them: form values from a form-encoded POST body
//! first, then from the URL; times as RFC 3339 or Unix seconds (a float); durations as Prometheus
//! durations or float seconds; `limit` as Go's `strconv.Atoi`; `match[]` as series selectors. The
//! error texts are Prometheus'.

use mimir_plugin_sdk::http::{self, HttpRequest};
use mimir_promql::{Expr, Matcher, MatcherOp};

/// Prometheus' earliest time (`minTime`), in milliseconds: the default `start` of the metadata
/// endpoints.
pub const MIN_TIME_MS: i64 = -9_223_309_901_257_974_000;
/// Prometheus' latest time (`maxTime`), in milliseconds: the default `end`.
pub const MAX_TIME_MS: i64 = 9_223_309_901_257_974_999;
/// How Prometheus prints those two (Go's time parser cannot read them back, so they are special).
const MIN_TIME_FORMATTED: &str = "-292273086-05-16T16:47:06Z";
const MAX_TIME_FORMATTED: &str = "292277025-08-18T07:12:54.999999999Z";

/// The form values of a request, body values before URL values (as Go's `Request.Form`).
#[derive(Debug, Default, Clone)]
pub struct Form {
    values: Vec<(String, String)>,
}

impl Form {
    /// Reads the URL query and, for a POST with `Content-Type: application/x-www-form-urlencoded`,
    /// the body.
    pub fn from_request(request: &HttpRequest) -> Form {
        let mut values = Vec::new();
        let form_body = request.method.eq_ignore_ascii_case("POST")
            && http::header(request, "content-type").is_some_and(|ct| {
                ct.split(';').next().is_some_and(|media| {
                    media
                        .trim()
                        .eq_ignore_ascii_case("application/x-www-form-urlencoded")
                })
            });
        if form_body {
            values.extend(
                form_urlencoded::parse(&request.body)
                    .map(|(k, v)| (k.into_owned(), v.into_owned())),
            );
        }
        values.extend(
            form_urlencoded::parse(request.query.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned())),
        );
        Form { values }
    }

    /// Builds a form from pairs (tests).
    #[cfg(test)]
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Form {
        Form {
            values: pairs
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect(),
        }
    }

    /// The first value of `name`, `""` when absent (Go's `FormValue`).
    pub fn value(&self, name: &str) -> &str {
        self.values
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Every value of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.values
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// Go's `strconv.Quote`, for error messages.
pub fn go_quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Prometheus' `parseTime`: Unix seconds as a float (rounded to the millisecond) or RFC 3339.
pub fn parse_time(text: &str) -> Result<i64, String> {
    let cannot = || format!("cannot parse {} to a valid timestamp", go_quote(text));
    if let Some(seconds) = parse_go_float(text) {
        if !seconds.is_finite() {
            return Err(cannot());
        }
        let whole = seconds.trunc();
        let millis = ((seconds - whole) * 1000.0).round();
        // Beyond ±9.2e15 s the milliseconds do not fit in an i64.
        if whole.abs() >= 9.2e15 {
            return Err(cannot());
        }
        return Ok((whole as i64) * 1000 + millis as i64);
    }
    if let Some(ms) = parse_rfc3339(text) {
        return Ok(ms);
    }
    match text {
        MIN_TIME_FORMATTED => Ok(MIN_TIME_MS),
        MAX_TIME_FORMATTED => Ok(MAX_TIME_MS),
        _ => Err(cannot()),
    }
}

/// A time parameter with a default when it is absent or empty (Prometheus' `parseTimeParam`).
pub fn parse_time_param(form: &Form, name: &str, default: i64) -> Result<i64, String> {
    let value = form.value(name);
    if value.is_empty() {
        return Ok(default);
    }
    parse_time(value).map_err(|error| format!("Invalid time value for '{name}': {error}"))
}

/// Go's `strconv.ParseFloat(s, 64)` for decimal input (with `inf`, `infinity` and `nan` in any case
/// and an optional sign); `None` when it would fail.
fn parse_go_float(text: &str) -> Option<f64> {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let special = ["inf", "infinity", "nan"]
        .iter()
        .any(|s| unsigned.eq_ignore_ascii_case(s));
    if special {
        let negative = text.starts_with('-');
        return Some(if unsigned.eq_ignore_ascii_case("nan") {
            f64::NAN
        } else if negative {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    // Rust accepts the same decimal forms (`1`, `1.`, `.5`, `1e9`, `1E+9`) and nothing else once
    // the special words are handled; it also reads out-of-range values as ±inf, as Go does (with
    // an error Prometheus then reports as a failed parse).
    let bytes = unsigned.as_bytes();
    if bytes.is_empty()
        || !bytes
            .iter()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return None;
    }
    let value: f64 = text.parse().ok()?;
    value.is_finite().then_some(value)
}

fn digits(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Go's `time.Parse(time.RFC3339Nano, s)`: `2006-01-02T15:04:05[.fraction](Z|±07:00)`, to
/// milliseconds (the fraction truncated).
fn parse_rfc3339(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if bytes.len() < 20
        || bytes[4] != b'-'
        || bytes[7] != b'-'
        || bytes[10] != b'T'
        || bytes[13] != b':'
        || bytes[16] != b':'
    {
        return None;
    }
    let year = digits(text.get(0..4)?)?;
    let month = digits(text.get(5..7)?)?;
    let day = digits(text.get(8..10)?)?;
    let hour = digits(text.get(11..13)?)?;
    let minute = digits(text.get(14..16)?)?;
    let second = digits(text.get(17..19)?)?;
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let mut rest = text.get(19..)?;
    let mut millis = 0i64;
    if let Some(fraction) = rest.strip_prefix('.') {
        let len = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if len == 0 || len > 9 {
            return None;
        }
        let padded = format!("{:0<3}", &fraction[..len.min(3)]);
        millis = digits(&padded)?;
        rest = &fraction[len..];
    }
    let offset_seconds = if rest == "Z" {
        0
    } else {
        let rb = rest.as_bytes();
        if rb.len() != 6 || !matches!(rb[0], b'+' | b'-') || rb[3] != b':' {
            return None;
        }
        let hours = digits(rest.get(1..3)?)?;
        let minutes = digits(rest.get(4..6)?)?;
        if hours > 23 || minutes > 59 {
            return None;
        }
        let offset = hours * 3600 + minutes * 60;
        if rb[0] == b'-' { -offset } else { offset }
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds;
    Some(seconds * 1000 + millis)
}

/// A duration in nanoseconds as Go's `time.Duration` holds it.
pub type Nanos = i64;

/// Prometheus' `parseDuration`: float seconds or a Prometheus duration (`5m`, `1h30m`).
pub fn parse_duration(text: &str) -> Result<Nanos, String> {
    if let Some(seconds) = parse_go_float_any(text) {
        let nanos = seconds * 1e9;
        if nanos > i64::MAX as f64 || nanos < i64::MIN as f64 {
            return Err(format!(
                "cannot parse {} to a valid duration. It overflows int64",
                go_quote(text)
            ));
        }
        // Go converts NaN to the smallest int64 on amd64: a negative step.
        return Ok(if nanos.is_nan() {
            i64::MIN
        } else {
            nanos as i64
        });
    }
    match mimir_validation::parse_duration(text) {
        Ok(duration) => Ok(i64::try_from(duration.as_nanos()).unwrap_or(i64::MAX)),
        Err(_) => Err(format!(
            "cannot parse {} to a valid duration",
            go_quote(text)
        )),
    }
}

/// Like [`parse_go_float`] but keeps infinities and NaN (a duration of `Inf` overflows).
fn parse_go_float_any(text: &str) -> Option<f64> {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    if ["inf", "infinity"]
        .iter()
        .any(|s| unsigned.eq_ignore_ascii_case(s))
    {
        return Some(if text.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    if unsigned.eq_ignore_ascii_case("nan") {
        return Some(f64::NAN);
    }
    parse_go_float(text)
}

/// Go's `strconv.Atoi` with its error texts.
fn atoi(text: &str) -> Result<i64, String> {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    if unsigned.is_empty() || !unsigned.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "strconv.Atoi: parsing {}: invalid syntax",
            go_quote(text)
        ));
    }
    text.parse::<i64>().map_err(|_| {
        format!(
            "strconv.Atoi: parsing {}: value out of range",
            go_quote(text)
        )
    })
}

/// Prometheus' `parseLimitParam`: empty is 0 (no limit).
pub fn parse_limit(text: &str) -> Result<usize, String> {
    if text.is_empty() {
        return Ok(0);
    }
    let limit = atoi(text)?;
    if limit < 0 {
        return Err("limit must be non-negative".to_string());
    }
    Ok(usize::try_from(limit).unwrap_or(usize::MAX))
}

/// A number parameter of the metadata endpoint (`-1`, no limit, when empty); the error names it.
pub fn parse_metadata_limit(form: &Form, name: &str) -> Result<i64, String> {
    let text = form.value(name);
    if text.is_empty() {
        return Ok(-1);
    }
    atoi(text).map_err(|_| format!("{name} must be a number"))
}

/// The matchers of a series selector, including the one its metric name implies.
pub fn selector_matchers(text: &str) -> Result<Vec<Matcher>, String> {
    let expr = mimir_promql::parse(text).map_err(|error| {
        // Prometheus reads `match[]` with a selector-only parse that leaves this check to its
        // caller, which words it as below.
        if error.message == "vector selector must contain at least one non-empty matcher" {
            EMPTY_MATCHERS.to_string()
        } else {
            error.to_string()
        }
    })?;
    match expr {
        Expr::VectorSelector(selector) if selector.offset.is_none() && selector.at.is_none() => {
            let mut matchers = Vec::with_capacity(selector.matchers.len() + 1);
            if let Some(name) = selector.name {
                matchers.push(Matcher {
                    name: "__name__".to_string(),
                    op: MatcherOp::Equal,
                    value: name,
                });
            }
            matchers.extend(selector.matchers);
            Ok(matchers)
        }
        other => {
            let span = other.span();
            let col = span.start + 1;
            Err(format!(
                "1:{col}: parse error: expected a series selector, got {:?}",
                text.get(span.start..span.end).unwrap_or(text)
            ))
        }
    }
}

/// Whether a matcher matches the empty string (a label the series does not have). The parser
/// already checked regexes; one that does not compile here counts as not matching.
fn matches_empty(matcher: &Matcher) -> bool {
    mimir_promql::engine::CompiledMatcher::new(matcher).is_ok_and(|m| m.matches(""))
}

const EMPTY_MATCHERS: &str = "match[] must contain at least one non-empty matcher";

/// Prometheus' `parseMatchersParam`: every `match[]` a selector, each with at least one matcher
/// that does not match the empty string.
pub fn parse_match_sets(values: &[&str]) -> Result<Vec<Vec<Matcher>>, String> {
    let mut sets = Vec::with_capacity(values.len());
    for value in values {
        sets.push(selector_matchers(value)?);
    }
    for set in &sets {
        if set.iter().all(matches_empty) {
            return Err(EMPTY_MATCHERS.to_string());
        }
    }
    Ok(sets)
}

/// Decodes `%XX` escapes of a URL path segment (no `+` for space there).
pub fn decode_path_segment(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}

/// Undoes Prometheus' `U__` escaping of label names in URL paths (`model.ValueEncodingEscaping`):
/// `_` followed by a hex code point and `_` is that character, `__` is `_`. `None` when malformed.
pub fn unescape_label_name(name: &str) -> Option<String> {
    let Some(escaped) = name.strip_prefix("U__") else {
        return Some(name.to_string());
    };
    let mut out = String::with_capacity(escaped.len());
    let mut chars = escaped.chars().peekable();
    while let Some(ch) = chars.next() {
        if ch != '_' {
            out.push(ch);
            continue;
        }
        if chars.peek() == Some(&'_') {
            chars.next();
            out.push('_');
            continue;
        }
        let mut hex = String::new();
        loop {
            match chars.next() {
                Some('_') => break,
                Some(c) if c.is_ascii_hexdigit() && hex.len() < 8 => hex.push(c),
                _ => return None,
            }
        }
        let code = u32::from_str_radix(&hex, 16).ok()?;
        out.push(char::from_u32(code)?);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_as_unix_seconds_and_rfc3339() {
        assert_eq!(parse_time("1435781451.781"), Ok(1_435_781_451_781));
        assert_eq!(parse_time("1435781451"), Ok(1_435_781_451_000));
        assert_eq!(parse_time("1.0006"), Ok(1_001));
        assert_eq!(parse_time("1.0004"), Ok(1_000));
        assert_eq!(parse_time("-1.5"), Ok(-1_500));
        assert_eq!(parse_time("1e3"), Ok(1_000_000));
        assert_eq!(
            parse_time("2015-07-01T20:10:51.781Z"),
            Ok(1_435_781_451_781)
        );
        assert_eq!(parse_time("2015-07-01T20:10:51Z"), Ok(1_435_781_451_000));
        assert_eq!(
            parse_time("2015-07-01T22:10:51.781123456+02:00"),
            Ok(1_435_781_451_781)
        );
        assert_eq!(parse_time("1970-01-01T00:00:00-01:30"), Ok(5_400_000));
        assert_eq!(parse_time("2024-02-29T00:00:00Z"), Ok(1_709_164_800_000));
        assert_eq!(parse_time(MIN_TIME_FORMATTED), Ok(MIN_TIME_MS));
        assert_eq!(parse_time(MAX_TIME_FORMATTED), Ok(MAX_TIME_MS));
        for bad in [
            "",
            "abc",
            "2023-02-29T00:00:00Z",
            "2015-07-01 20:10:51Z",
            "2015-07-01T20:10:51",
            "2015-07-01T25:10:51Z",
            "NaN",
            "Inf",
            "1e300",
            "0x10",
        ] {
            assert_eq!(
                parse_time(bad),
                Err(format!(
                    "cannot parse {} to a valid timestamp",
                    go_quote(bad)
                )),
                "{bad}"
            );
        }
    }

    #[test]
    fn time_params_default_and_name_themselves() {
        let form = Form::from_pairs(&[("time", "x"), ("start", "")]);
        assert_eq!(parse_time_param(&form, "start", 7), Ok(7));
        assert_eq!(parse_time_param(&form, "end", 8), Ok(8));
        assert_eq!(
            parse_time_param(&form, "time", 0),
            Err(
                "Invalid time value for 'time': cannot parse \"x\" to a valid timestamp"
                    .to_string()
            )
        );
    }

    #[test]
    fn durations_as_float_seconds_or_prometheus_durations() {
        assert_eq!(parse_duration("15"), Ok(15_000_000_000));
        assert_eq!(parse_duration("0.5"), Ok(500_000_000));
        assert_eq!(parse_duration("-1"), Ok(-1_000_000_000));
        assert_eq!(parse_duration("1m30s"), Ok(90_000_000_000));
        assert_eq!(parse_duration("1h"), Ok(3_600_000_000_000));
        assert_eq!(parse_duration("0"), Ok(0));
        assert_eq!(
            parse_duration(""),
            Err("cannot parse \"\" to a valid duration".to_string())
        );
        assert_eq!(
            parse_duration("1x"),
            Err("cannot parse \"1x\" to a valid duration".to_string())
        );
        assert_eq!(
            parse_duration("1e10"),
            Err("cannot parse \"1e10\" to a valid duration. It overflows int64".to_string())
        );
        assert_eq!(
            parse_duration("Inf"),
            Err("cannot parse \"Inf\" to a valid duration. It overflows int64".to_string())
        );
    }

    #[test]
    fn limits_as_go_atoi() {
        assert_eq!(parse_limit(""), Ok(0));
        assert_eq!(parse_limit("10"), Ok(10));
        assert_eq!(parse_limit("+3"), Ok(3));
        assert_eq!(
            parse_limit("-1"),
            Err("limit must be non-negative".to_string())
        );
        assert_eq!(
            parse_limit("ten"),
            Err("strconv.Atoi: parsing \"ten\": invalid syntax".to_string())
        );
        assert_eq!(
            parse_limit("1.5"),
            Err("strconv.Atoi: parsing \"1.5\": invalid syntax".to_string())
        );
        assert_eq!(
            parse_limit("99999999999999999999"),
            Err("strconv.Atoi: parsing \"99999999999999999999\": value out of range".to_string())
        );
    }

    #[test]
    fn form_values_body_first_then_url() {
        let request = HttpRequest {
            method: "POST".to_string(),
            path: "/prometheus/api/v1/series".to_string(),
            query: "match[]=a&limit=5".to_string(),
            headers: vec![http::Header {
                name: "Content-Type".to_string(),
                value: "application/x-www-form-urlencoded; charset=utf-8".to_string(),
            }],
            body: b"match[]=b%7Bx%3D%22y%22%7D&limit=2&q=a+b".to_vec(),
        };
        let form = Form::from_request(&request);
        assert_eq!(form.value("limit"), "2");
        assert_eq!(form.all("match[]"), vec!["b{x=\"y\"}", "a"]);
        assert_eq!(form.value("q"), "a b");
        assert_eq!(form.value("missing"), "");
        // Without the form content type the body is not read.
        let request = HttpRequest {
            headers: vec![],
            ..request
        };
        assert_eq!(Form::from_request(&request).value("limit"), "5");
    }

    #[test]
    fn match_sets() {
        let sets = parse_match_sets(&["up{job=\"a\"}", "{__name__=~\"x.*\"}"]).unwrap();
        assert_eq!(sets.len(), 2);
        assert_eq!(sets[0][0].name, "__name__");
        assert_eq!(sets[0][0].value, "up");
        assert_eq!(sets[0][1].name, "job");
        assert_eq!(
            parse_match_sets(&["{job=~\".*\"}"]),
            Err("match[] must contain at least one non-empty matcher".to_string())
        );
        assert_eq!(
            parse_match_sets(&["{job=\"\"}"]),
            Err("match[] must contain at least one non-empty matcher".to_string())
        );
        assert!(parse_match_sets(&["{job!=\"\"}"]).is_ok());
        assert!(parse_match_sets(&["up{"]).is_err());
        assert!(parse_match_sets(&["rate(up[5m])"]).is_err());
    }

    #[test]
    fn label_names_in_paths() {
        assert_eq!(decode_path_segment("a%20b+c"), "a b+c");
        assert_eq!(unescape_label_name("job").as_deref(), Some("job"));
        assert_eq!(
            unescape_label_name("U__http_2e_status").as_deref(),
            Some("http.status")
        );
        assert_eq!(unescape_label_name("U__a__b").as_deref(), Some("a_b"));
        assert_eq!(unescape_label_name("U__a_zz_"), None);
    }

    #[test]
    fn go_quote_escapes() {
        assert_eq!(go_quote("a\"b\\\n\u{1}é"), "\"a\\\"b\\\\\\n\\x01é\"");
    }
}
