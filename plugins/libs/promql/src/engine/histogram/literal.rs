//! The native-histogram literal of PromQL test scripts and `promtool` unit tests,
//! `{{schema:0 sum:5 count:4 buckets:[1 2 1]}}`, read as Prometheus' series-description lexer
//! (`lexHistogram`, `lexBuckets`) and grammar (`histogram_desc_item`, `buildHistogramFromMap`) read it,
//! and the test harness' comparison of an expected histogram with a result (`compareNativeHistogram`).
//!
//! Keys (case-insensitive, each at most once, any order): `schema:<int>`, `sum:<n>`, `count:<n>`,
//! `z_bucket:<n>`, `z_bucket_w:<unsigned n>`, `buckets:[n …]`, `offset:<int>`, `n_buckets:[n …]`,
//! `n_offset:<int>`, `custom_values:[n …]`, `counter_reset_hint:unknown|reset|not_reset|gauge`. Every
//! field defaults to zero/empty; `buckets` with `offset` make one span `{offset, len(buckets)}` (none
//! without buckets), and likewise for the negative side. Items are separated by whitespace; there is no
//! whitespace around `:`, after `{{` (unless the literal is empty) or after `[`. Numbers are decimal
//! (`010` is octal, as `strconv.ParseInt(s, 0, 64)` reads it), `Inf` and `NaN` in any case, signed only
//! with `-` (and `z_bucket_w` not at all). Inside brackets a stray word is dropped as Prometheus' lexer
//! drops it (`[1 2 foo]` is `[1 2]`), and `Inf`/`NaN` cannot take a sign there.
//!
//! Unlike Prometheus, which accepts any schema here and fails later when the sample is stored or
//! evaluated, the parser rejects schemas other than −4…8 and −53.

use super::bounds::{is_custom_buckets_schema, is_valid_schema};
use super::ops::{custom_bounds_match, spans_match};
use super::{CounterResetHint, FloatHistogram, Span};
use crate::engine::kernels::almost_equal;

/// The tokens of Prometheus' histogram lexer.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Space,
    Colon,
    Sub,
    LeftBracket,
    RightBracket,
    Close,
    /// A number's text (digits, `.`, `_`, exponent) or `Inf`/`NaN`.
    Number(String),
    Key(Key),
    Hint(CounterResetHint),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Schema,
    Sum,
    Count,
    ZeroBucket,
    ZeroBucketWidth,
    CustomValues,
    Buckets,
    Offset,
    NegativeBuckets,
    NegativeOffset,
    CounterResetHint,
}

impl Key {
    fn from_word(word: &str) -> Option<Key> {
        Some(match word.to_ascii_lowercase().as_str() {
            "schema" => Key::Schema,
            "sum" => Key::Sum,
            "count" => Key::Count,
            "z_bucket" => Key::ZeroBucket,
            "z_bucket_w" => Key::ZeroBucketWidth,
            "custom_values" => Key::CustomValues,
            "buckets" => Key::Buckets,
            "offset" => Key::Offset,
            "n_buckets" => Key::NegativeBuckets,
            "n_offset" => Key::NegativeOffset,
            "counter_reset_hint" => Key::CounterResetHint,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Key::Schema => "schema",
            Key::Sum => "sum",
            Key::Count => "count",
            Key::ZeroBucket => "z_bucket",
            Key::ZeroBucketWidth => "z_bucket_w",
            Key::CustomValues => "custom_values",
            Key::Buckets => "buckets",
            Key::Offset => "offset",
            Key::NegativeBuckets => "n_buckets",
            Key::NegativeOffset => "n_offset",
            Key::CounterResetHint => "counter_reset_hint",
        }
    }
}

fn is_alpha(c: u8) -> bool {
    c == b'_' || c.is_ascii_alphabetic()
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

fn is_special_number(word: &str) -> bool {
    matches!(word.to_ascii_lowercase().as_str(), "inf" | "nan")
}

/// Prometheus' `scanNumber` in series descriptions (no hexadecimal): returns the number of bytes of
/// `bytes[start..]` that form the number, or an error for a malformed one.
fn scan_number(bytes: &[u8], start: usize) -> Result<usize, String> {
    let mut pos = start;
    let digit = |c: Option<&u8>| c.is_some_and(u8::is_ascii_digit);
    if bytes.get(pos) == Some(&b'.') {
        pos += 1;
    }
    if digit(bytes.get(pos)) {
        pos += 1;
    }
    let (mut dot, mut exponent) = (false, false);
    while let Some(&c) = bytes.get(pos) {
        match c {
            b'.' => {
                if dot {
                    return Err("bad number syntax".to_string());
                }
                dot = true;
                pos += 1;
                if matches!(bytes.get(pos), Some(b'_' | b'.')) {
                    return Err("bad number syntax".to_string());
                }
            }
            b'e' | b'E' => {
                if exponent {
                    return Err("bad number syntax".to_string());
                }
                exponent = true;
                pos += 1;
                if matches!(bytes.get(pos), Some(b'+' | b'-')) {
                    pos += 1;
                }
                if matches!(bytes.get(pos), Some(b'.' | b'_' | b'e' | b'E') | None) {
                    return Err("bad number syntax".to_string());
                }
            }
            b'_' => {
                pos += 1;
                if matches!(bytes.get(pos), Some(b'.' | b'_' | b'e' | b'E') | None) {
                    return Err("bad number syntax".to_string());
                }
            }
            c if c.is_ascii_digit() => pos += 1,
            _ => break,
        }
    }
    if pos == start {
        return Err("bad number syntax".to_string());
    }
    Ok(pos - start)
}

/// Splits the literal into tokens as Prometheus' lexer does; the text must start with `{{`.
fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let bytes = text.as_bytes();
    if !text.starts_with("{{") {
        return Err("histogram literal must start with '{{'".to_string());
    }
    let mut tokens = Vec::new();
    let mut pos = 2;
    let mut in_brackets = false;
    loop {
        let Some(&c) = bytes.get(pos) else {
            return Err("unclosed histogram literal, missing '}}'".to_string());
        };
        if in_brackets {
            // Prometheus' lexBuckets.
            match c {
                _ if is_space(c) => {
                    tokens.push(Token::Space);
                    while bytes.get(pos).is_some_and(|c| is_space(*c)) {
                        pos += 1;
                    }
                }
                b'-' => {
                    tokens.push(Token::Sub);
                    pos += 1;
                    let len = scan_number(bytes, pos)?;
                    tokens.push(Token::Number(text[pos..pos + len].to_string()));
                    pos += len;
                }
                _ if c.is_ascii_digit() => {
                    let len = scan_number(bytes, pos)?;
                    tokens.push(Token::Number(text[pos..pos + len].to_string()));
                    pos += len;
                }
                b']' => {
                    tokens.push(Token::RightBracket);
                    in_brackets = false;
                    pos += 1;
                }
                _ if is_alpha(c) => {
                    // Letters accumulate until they spell Inf or NaN; others are dropped.
                    let start = pos;
                    while bytes.get(pos).is_some_and(|c| is_alpha(*c)) {
                        pos += 1;
                        if is_special_number(&text[start..pos]) {
                            tokens.push(Token::Number(text[start..pos].to_string()));
                            break;
                        }
                    }
                }
                _ => {
                    return Err(format!(
                        "invalid character in buckets description: {:?}",
                        text[pos..].chars().next().unwrap_or(' ')
                    ));
                }
            }
            continue;
        }
        // Prometheus' lexHistogram.
        match c {
            _ if is_space(c) => {
                tokens.push(Token::Space);
                while bytes.get(pos).is_some_and(|c| is_space(*c)) {
                    pos += 1;
                }
            }
            _ if is_alpha(c) => {
                let start = pos;
                while bytes.get(pos).is_some_and(|c| is_alpha(*c)) {
                    pos += 1;
                }
                let word = &text[start..pos];
                if let Some(key) = Key::from_word(word) {
                    if bytes.get(pos) != Some(&b':') {
                        return Err("missing `:` for histogram descriptor".to_string());
                    }
                    tokens.push(Token::Key(key));
                } else if is_special_number(word) {
                    tokens.push(Token::Number(word.to_string()));
                } else {
                    let hint = match word.to_ascii_lowercase().as_str() {
                        "unknown" => CounterResetHint::Unknown,
                        "reset" => CounterResetHint::CounterReset,
                        "not_reset" => CounterResetHint::NotCounterReset,
                        "gauge" => CounterResetHint::Gauge,
                        _ => return Err(format!("bad histogram descriptor found: {word:?}")),
                    };
                    tokens.push(Token::Hint(hint));
                }
            }
            b':' => {
                tokens.push(Token::Colon);
                pos += 1;
            }
            b'-' => {
                tokens.push(Token::Sub);
                pos += 1;
            }
            _ if c.is_ascii_digit() => {
                let len = scan_number(bytes, pos)?;
                tokens.push(Token::Number(text[pos..pos + len].to_string()));
                pos += len;
            }
            b'[' => {
                tokens.push(Token::LeftBracket);
                in_brackets = true;
                pos += 1;
            }
            b'}' if bytes.get(pos + 1) == Some(&b'}') => {
                tokens.push(Token::Close);
                pos += 2;
                if pos != bytes.len() {
                    return Err(format!(
                        "unexpected text after histogram: {:?}",
                        &text[pos..]
                    ));
                }
                return Ok(tokens);
            }
            _ => {
                return Err(format!(
                    "histogram description incomplete unexpected: {:?}",
                    text[pos..].chars().next().unwrap_or(' ')
                ));
            }
        }
    }
}

/// The value of a number token as Prometheus' `parser.number` reads it: `strconv.ParseInt(s, 0, 64)`
/// (decimal, `0`-prefixed octal, `_` between digits), else `strconv.ParseFloat(s, 64)`.
fn number_value(text: &str) -> Result<f64, String> {
    let lower = text.to_ascii_lowercase();
    match lower.as_str() {
        "inf" => return Ok(f64::INFINITY),
        "nan" => return Ok(f64::NAN),
        _ => {}
    }
    let invalid = || format!("error parsing number: {text:?}");
    if lower.bytes().all(|b| b.is_ascii_digit() || b == b'_') {
        let underscores_ok =
            !lower.starts_with('_') && !lower.ends_with('_') && !lower.contains("__");
        if underscores_ok {
            let digits: String = lower.chars().filter(|c| *c != '_').collect();
            let parsed = if digits.len() > 1 && digits.starts_with('0') {
                i64::from_str_radix(&digits[1..], 8).ok()
            } else {
                digits.parse::<i64>().ok()
            };
            if let Some(v) = parsed {
                return Ok(v as f64);
            }
        }
    }
    if lower.contains('_') {
        return Err(invalid());
    }
    lower.parse::<f64>().map_err(|_| invalid())
}

/// A parsed value of one descriptor.
enum DescValue {
    Int(i64),
    Float(f64),
    List(Vec<f64>),
    Hint(CounterResetHint),
}

/// Reads the tokens after `{{` up to `}}` as `histogram_desc_map`.
struct Reader {
    tokens: Vec<Token>,
    pos: usize,
}

impl Reader {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        token
    }

    fn expect_number(&mut self) -> Result<String, String> {
        match self.next() {
            Some(Token::Number(text)) => Ok(text),
            other => Err(format!("expected a number, found {other:?}")),
        }
    }

    /// `uint`: a decimal number, `strconv.ParseUint(s, 10, 64)`.
    fn uint(&mut self) -> Result<u64, String> {
        let text = self.expect_number()?;
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("invalid integer {text:?} in histogram description"));
        }
        text.parse::<u64>()
            .map_err(|_| format!("invalid integer {text:?} in histogram description"))
    }

    /// `int`: `-`? `uint`.
    fn int(&mut self) -> Result<i64, String> {
        let negative = self.peek() == Some(&Token::Sub);
        if negative {
            self.pos += 1;
        }
        let magnitude = self.uint()?;
        Ok(if negative {
            (magnitude as i64).wrapping_neg()
        } else {
            magnitude as i64
        })
    }

    /// `signed_or_unsigned_number`: `-`? number.
    fn signed_number(&mut self) -> Result<f64, String> {
        let negative = self.peek() == Some(&Token::Sub);
        if negative {
            self.pos += 1;
        }
        let value = number_value(&self.expect_number()?)?;
        Ok(if negative { -value } else { value })
    }

    /// `bucket_set`: `[` value (SPACE value)* SPACE? `]`.
    fn bucket_set(&mut self) -> Result<Vec<f64>, String> {
        if self.next() != Some(Token::LeftBracket) {
            return Err("expected '[' in histogram description".to_string());
        }
        let mut values = vec![self.signed_number()?];
        loop {
            match self.next() {
                Some(Token::RightBracket) => return Ok(values),
                Some(Token::Space) => {
                    if self.peek() == Some(&Token::RightBracket) {
                        self.pos += 1;
                        return Ok(values);
                    }
                    values.push(self.signed_number()?);
                }
                other => return Err(format!("unexpected {other:?} in bucket list")),
            }
        }
    }

    fn item(&mut self) -> Result<(Key, DescValue), String> {
        let Some(Token::Key(key)) = self.next() else {
            return Err(
                "unexpected token in histogram description, expected a key such as buckets:[5 10 7]"
                    .to_string(),
            );
        };
        if self.next() != Some(Token::Colon) {
            return Err(format!("expected ':' after {}", key.name()));
        }
        let value = match key {
            Key::Schema | Key::Offset | Key::NegativeOffset => DescValue::Int(self.int()?),
            Key::Sum | Key::Count | Key::ZeroBucket => DescValue::Float(self.signed_number()?),
            Key::ZeroBucketWidth => DescValue::Float(number_value(&self.expect_number()?)?),
            Key::CustomValues | Key::Buckets | Key::NegativeBuckets => {
                DescValue::List(self.bucket_set()?)
            }
            Key::CounterResetHint => match self.next() {
                Some(Token::Hint(hint)) => DescValue::Hint(hint),
                other => return Err(format!("invalid counter_reset_hint {other:?}")),
            },
        };
        Ok((key, value))
    }
}

/// Parses a `{{…}}` native-histogram literal (Prometheus' `histogram_series_value` with
/// `buildHistogramFromMap`).
pub fn parse_histogram_literal(text: &str) -> Result<FloatHistogram, String> {
    parse_histogram_literal_with_hint(text).map(|(h, _)| h)
}

/// Like [`parse_histogram_literal`], also telling whether `counter_reset_hint:` was spelled out (the
/// harness compares hints only then).
pub fn parse_histogram_literal_with_hint(text: &str) -> Result<(FloatHistogram, bool), String> {
    let wrap = |message: String| format!("invalid histogram literal {text}: {message}");
    let tokens = tokenize(text).map_err(wrap)?;
    let mut reader = Reader { tokens, pos: 0 };
    let mut items: Vec<(Key, DescValue)> = Vec::new();
    // `{{}}` and `{{ }}` are empty histograms.
    match reader.tokens.as_slice() {
        [Token::Close] | [Token::Space, Token::Close] => {}
        _ => loop {
            let (key, value) = reader.item().map_err(wrap)?;
            if items.iter().any(|(k, _)| *k == key) {
                return Err(wrap(format!(
                    "duplicate key \"{}\" in histogram",
                    key.name()
                )));
            }
            items.push((key, value));
            match reader.next() {
                Some(Token::Close) => break,
                Some(Token::Space) => {
                    if reader.peek() == Some(&Token::Close) {
                        break;
                    }
                }
                other => return Err(wrap(format!("unexpected {other:?} after {}", key.name()))),
            }
        },
    }

    let mut h = FloatHistogram::default();
    let mut has_hint = false;
    let (mut buckets, mut offset, mut n_buckets, mut n_offset) =
        (Vec::new(), 0i64, Vec::new(), 0i64);
    for (key, value) in items {
        match (key, value) {
            (Key::Schema, DescValue::Int(v)) => h.schema = v as i32,
            (Key::Sum, DescValue::Float(v)) => h.sum = v,
            (Key::Count, DescValue::Float(v)) => h.count = v,
            (Key::ZeroBucket, DescValue::Float(v)) => h.zero_count = v,
            (Key::ZeroBucketWidth, DescValue::Float(v)) => h.zero_threshold = v,
            (Key::CustomValues, DescValue::List(v)) => h.custom_values = v,
            (Key::Buckets, DescValue::List(v)) => buckets = v,
            (Key::Offset, DescValue::Int(v)) => offset = v,
            (Key::NegativeBuckets, DescValue::List(v)) => n_buckets = v,
            (Key::NegativeOffset, DescValue::Int(v)) => n_offset = v,
            (Key::CounterResetHint, DescValue::Hint(hint)) => {
                h.counter_reset_hint = hint;
                has_hint = true;
            }
            (key, _) => return Err(wrap(format!("bad value for {}", key.name()))),
        }
    }
    if !buckets.is_empty() {
        h.positive_spans = vec![Span::new(offset as i32, buckets.len() as u32)];
        h.positive_buckets = buckets;
    }
    if !n_buckets.is_empty() {
        h.negative_spans = vec![Span::new(n_offset as i32, n_buckets.len() as u32)];
        h.negative_buckets = n_buckets;
    }
    if !is_valid_schema(h.schema) {
        return Err(wrap(format!(
            "invalid schema {}, must be between -4 and 8, or -53 for custom buckets",
            h.schema
        )));
    }
    Ok((h, has_hint))
}

/// Compares an expected histogram with a result as Prometheus' test harness does
/// (`compareNativeHistogram` after `Compact(0)` of both): equal schema; count, sum, zero count and
/// bucket counts equal within `almost_equal(…, 1e-6)`; zero threshold exactly equal; the same custom
/// bounds (custom buckets only); spans describing the same layout; and the counter-reset hint equal if
/// the expected literal spelled one out.
pub fn harness_equal(
    expected: &FloatHistogram,
    actual: &FloatHistogram,
    expected_literal_has_hint: bool,
) -> bool {
    const EPSILON: f64 = 1e-6;
    let mut exp = expected.clone();
    let mut cur = actual.clone();
    exp.compact(0);
    cur.compact(0);
    let floats_match = |a: &[f64], b: &[f64]| {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| almost_equal(*x, *y, EPSILON))
    };
    if exp.schema != cur.schema
        || !almost_equal(exp.count, cur.count, EPSILON)
        || !almost_equal(exp.sum, cur.sum, EPSILON)
    {
        return false;
    }
    if is_custom_buckets_schema(exp.schema)
        && !custom_bounds_match(&exp.custom_values, &cur.custom_values)
    {
        return false;
    }
    if exp.zero_threshold != cur.zero_threshold
        || !almost_equal(exp.zero_count, cur.zero_count, EPSILON)
    {
        return false;
    }
    if !spans_match(&exp.negative_spans, &cur.negative_spans)
        || !floats_match(&exp.negative_buckets, &cur.negative_buckets)
        || !spans_match(&exp.positive_spans, &cur.positive_spans)
        || !floats_match(&exp.positive_buckets, &cur.positive_buckets)
    {
        return false;
    }
    !expected_literal_has_hint || exp.counter_reset_hint == cur.counter_reset_hint
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> FloatHistogram {
        parse_histogram_literal(text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn fields_and_defaults() {
        let h = parse("{{schema:0 sum:5 count:4 buckets:[1 2 1]}}");
        assert_eq!(h.schema, 0);
        assert_eq!((h.sum, h.count), (5.0, 4.0));
        assert_eq!(h.positive_spans, vec![Span::new(0, 3)]);
        assert_eq!(h.positive_buckets, vec![1.0, 2.0, 1.0]);
        assert!(h.negative_spans.is_empty() && h.negative_buckets.is_empty());
        assert_eq!(h.counter_reset_hint, CounterResetHint::Unknown);

        let h = parse(
            "{{schema:-1 count:3 sum:-2.5 z_bucket:1 z_bucket_w:0.001 offset:-2 buckets:[0 1] n_offset:3 n_buckets:[4 5 6] counter_reset_hint:gauge}}",
        );
        assert_eq!(h.schema, -1);
        assert_eq!(h.sum, -2.5);
        assert_eq!((h.zero_count, h.zero_threshold), (1.0, 0.001));
        assert_eq!(h.positive_spans, vec![Span::new(-2, 2)]);
        assert_eq!(h.negative_spans, vec![Span::new(3, 3)]);
        assert_eq!(h.negative_buckets, vec![4.0, 5.0, 6.0]);
        assert_eq!(h.counter_reset_hint, CounterResetHint::Gauge);

        let h = parse("{{schema:-53 sum:1 count:1 custom_values:[5 10] buckets:[1]}}");
        assert!(h.uses_custom_buckets());
        assert_eq!(h.custom_values, vec![5.0, 10.0]);

        assert_eq!(parse("{{}}"), FloatHistogram::default());
        assert_eq!(parse("{{ }}"), FloatHistogram::default());
        // An offset without buckets makes no span.
        assert!(parse("{{offset:3}}").positive_spans.is_empty());
    }

    #[test]
    fn numbers_as_the_lexer_reads_them() {
        assert!(parse("{{sum:NaN}}").sum.is_nan());
        assert_eq!(parse("{{sum:-Inf}}").sum, f64::NEG_INFINITY);
        assert_eq!(parse("{{sum:1e3}}").sum, 1000.0);
        assert_eq!(parse("{{sum:010}}").sum, 8.0);
        assert_eq!(parse("{{sum:09}}").sum, 9.0);
        assert_eq!(parse("{{count:1_000}}").count, 1000.0);
        assert_eq!(
            parse("{{buckets:[-.5 Inf 2 ]}}").positive_buckets,
            vec![-0.5, f64::INFINITY, 2.0]
        );
        assert_eq!(
            parse("{{buckets:[1 2 foo]}}").positive_buckets,
            vec![1.0, 2.0]
        );
        assert_eq!(parse("{{SCHEMA:1 Counter_Reset_Hint:NOT_RESET}}").schema, 1);
        let (h, hint) =
            parse_histogram_literal_with_hint("{{counter_reset_hint:reset}}").expect("valid");
        assert!(hint);
        assert_eq!(h.counter_reset_hint, CounterResetHint::CounterReset);
        assert!(
            !parse_histogram_literal_with_hint("{{sum:1}}")
                .expect("valid")
                .1
        );
    }

    #[test]
    fn malformed_literals_are_rejected() {
        for text in [
            "{{",
            "{{sum:1",
            "{{sum:1}",
            "sum:1}}",
            "{{ sum:1}}",
            "{{sum: 1}}",
            "{{sum :1}}",
            "{{sum:1 sum:2}}",
            "{{sum:+1}}",
            "{{sum:.5}}",
            "{{z_bucket_w:-1}}",
            "{{schema:1.5}}",
            "{{schema:9}}",
            "{{schema:-5}}",
            "{{buckets:[]}}",
            "{{buckets:[ 1]}}",
            "{{buckets:[-Inf]}}",
            "{{buckets:1}}",
            "{{foo:1}}",
            "{{sum}}",
            "{{counter_reset_hint:maybe}}",
            "{{counter_reset_hint:1}}",
            "{{sum:1}}x",
            "{{sum:1e}}",
            "{{sum:1..2}}",
        ] {
            assert!(
                parse_histogram_literal(text).is_err(),
                "{text} should not parse"
            );
        }
    }

    #[test]
    fn harness_comparison() {
        let expected = parse("{{schema:0 sum:5 count:4 buckets:[1 2 1]}}");
        let mut actual = parse("{{schema:0 sum:5.000001 count:4 offset:-1 buckets:[0 1 2 1 0]}}");
        assert!(harness_equal(&expected, &actual, false));
        actual.sum = 5.1;
        assert!(!harness_equal(&expected, &actual, false));
        // The hint counts only when the expected literal spells it out.
        let (gauge, has_hint) =
            parse_histogram_literal_with_hint("{{sum:1 counter_reset_hint:gauge}}").expect("valid");
        let unknown = parse("{{sum:1}}");
        assert!(!harness_equal(&gauge, &unknown, has_hint));
        assert!(harness_equal(&unknown, &gauge, false));
        // Zero thresholds compare exactly, custom bounds must match.
        assert!(!harness_equal(
            &parse("{{z_bucket_w:0.001}}"),
            &parse("{{z_bucket_w:0.0010000001}}"),
            false
        ));
        assert!(!harness_equal(
            &parse("{{schema:-53 custom_values:[1] buckets:[1]}}"),
            &parse("{{schema:-53 custom_values:[2] buckets:[1]}}"),
            false
        ));
        // Near zero the float rule is effectively exact.
        assert!(!harness_equal(
            &parse("{{buckets:[0 1]}}"),
            &parse("{{buckets:[1e-17 1]}}"),
            false
        ));
    }
}
