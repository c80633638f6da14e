//! Literal values of the test-script language: numbers as Go's `strconv` reads them (scalar result
//! lines use `ParseInt(s, 0, 64)` then `ParseFloat`), numbers as the series-description lexer scans
//! them (no hexadecimal there: `0x5` means "0 repeated"), and durations as `model.ParseDuration`
//! reads them (`1m30s`, `20s500ms`, `0`; units `y w d h m s ms` in that order, each at most once).

/// Reads a whole string as Go's `strconv.ParseInt(s, 0, 64)`, falling back to `ParseFloat(s, 64)`.
/// This is how the harness decides that a result line is a scalar.
pub(crate) fn parse_go_number(text: &str) -> Option<f64> {
    parse_go_int(text).or_else(|| parse_go_float(text))
}

/// `strconv.ParseInt(s, 0, 64)`: a sign, a base prefix (`0x`, `0o`, `0b`, or `0` for octal) and
/// digits with optional `_` separators (only allowed after a base prefix, as in Go).
fn parse_go_int(text: &str) -> Option<f64> {
    let (negative, unsigned) = split_sign(text);
    let lower = unsigned.to_ascii_lowercase();
    let (radix, digits, prefixed) = if let Some(rest) = lower.strip_prefix("0x") {
        (16, rest, true)
    } else if let Some(rest) = lower.strip_prefix("0o") {
        (8, rest, true)
    } else if let Some(rest) = lower.strip_prefix("0b") {
        (2, rest, true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..], true)
    } else {
        (10, lower.as_str(), false)
    };
    if digits.is_empty() || (!prefixed && digits.contains('_')) {
        return None;
    }
    let cleaned: String = digits.chars().filter(|c| *c != '_').collect();
    if cleaned.is_empty() || !cleaned.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = i128::from_str_radix(&cleaned, radix).ok()?;
    let value = if negative { -magnitude } else { magnitude };
    let in_range = i64::try_from(value).ok()?;
    Some(in_range as f64)
}

/// `strconv.ParseFloat(s, 64)` for the decimal forms and the special values Go accepts
/// (`Inf`, `+Inf`, `-Infinity`, `NaN`, any case).
fn parse_go_float(text: &str) -> Option<f64> {
    let (negative, unsigned) = split_sign(text);
    let lower = unsigned.to_ascii_lowercase();
    let magnitude = match lower.as_str() {
        "inf" | "infinity" => f64::INFINITY,
        "nan" => return Some(f64::NAN),
        _ => {
            let well_formed = lower.starts_with(|c: char| c.is_ascii_digit() || c == '.')
                && lower
                    .chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | '+' | '-'));
            if !well_formed {
                return None;
            }
            lower.parse::<f64>().ok()?
        }
    };
    Some(if negative { -magnitude } else { magnitude })
}

fn split_sign(text: &str) -> (bool, &str) {
    if let Some(rest) = text.strip_prefix('-') {
        (true, rest)
    } else {
        (false, text.strip_prefix('+').unwrap_or(text))
    }
}

/// Scans an unsigned number at the start of `text` as the series-description lexer does: `Inf` or
/// `NaN` (any case), or digits and `_` with an optional fraction and exponent. Returns the value and
/// the number of bytes read. Hexadecimal is deliberately not recognised: in series descriptions
/// `0x5` is the value 0 followed by the repetition `x5`.
pub(crate) fn scan_series_number(text: &str) -> Option<(f64, usize)> {
    let bytes = text.as_bytes();
    if bytes.first().is_some_and(u8::is_ascii_alphabetic) {
        let word_len = bytes
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
            .count();
        let value = match text[..word_len].to_ascii_lowercase().as_str() {
            "inf" => f64::INFINITY,
            "nan" => f64::NAN,
            _ => return None,
        };
        return Some((value, word_len));
    }
    let digit_run = |from: usize| {
        bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit() || **b == b'_')
            .count()
    };
    let mut end = digit_run(0);
    if bytes.get(end) == Some(&b'.') {
        end += 1 + digit_run(end + 1);
    }
    let has_digit = bytes[..end].iter().any(u8::is_ascii_digit);
    if !has_digit {
        return None;
    }
    if matches!(bytes.get(end), Some(b'e' | b'E')) {
        let mut exponent_end = end + 1;
        if matches!(bytes.get(exponent_end), Some(b'+' | b'-')) {
            exponent_end += 1;
        }
        let exponent_digits = digit_run(exponent_end);
        if exponent_digits == 0 {
            return None;
        }
        end = exponent_end + exponent_digits;
    }
    let cleaned: String = text[..end].chars().filter(|c| *c != '_').collect();
    Some((number_value(&cleaned)?, end))
}

/// The value of a scanned decimal number; a leading zero followed only by octal digits is octal,
/// as Prometheus' `strconv.ParseInt(s, 0, 64)` reads it.
fn number_value(cleaned: &str) -> Option<f64> {
    let is_octal = cleaned.len() > 1
        && cleaned.starts_with('0')
        && cleaned.bytes().all(|b| b.is_ascii_digit());
    if is_octal && let Ok(value) = i64::from_str_radix(&cleaned[1..], 8) {
        return Some(value as f64);
    }
    cleaned.parse::<f64>().ok()
}

/// `model.ParseDuration`: milliseconds of a duration such as `1m30s`, `20s500ms` or `0` (the
/// parser's duration reader, plus the bare `0` and the empty-string error of the command syntax).
pub(crate) fn parse_duration_ms(text: &str) -> Result<i64, String> {
    if text.is_empty() {
        return Err("empty duration string".to_string());
    }
    if text == "0" {
        return Ok(0);
    }
    crate::parser::literal::parse_duration_ms(text)
}

/// A duration with an optional sign, as start-timestamp offsets are written (`-30s`, `+1m`).
pub(crate) fn parse_signed_duration_ms(text: &str) -> Result<i64, String> {
    let (negative, unsigned) = split_sign(text);
    let magnitude = parse_duration_ms(unsigned)?;
    Ok(if negative { -magnitude } else { magnitude })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_numbers_as_scalar_lines_use_them() {
        assert_eq!(parse_go_number("3"), Some(3.0));
        assert_eq!(parse_go_number("-0.5"), Some(-0.5));
        assert_eq!(parse_go_number("1e3"), Some(1000.0));
        assert_eq!(parse_go_number("0x3d"), Some(61.0));
        assert_eq!(parse_go_number("010"), Some(8.0));
        assert_eq!(parse_go_number("09"), Some(9.0));
        assert_eq!(parse_go_number("+Inf"), Some(f64::INFINITY));
        assert_eq!(parse_go_number("-Inf"), Some(f64::NEG_INFINITY));
        assert!(parse_go_number("NaN").is_some_and(f64::is_nan));
        assert_eq!(parse_go_number("1_000"), None);
        assert_eq!(parse_go_number("{} 3"), None);
        assert_eq!(parse_go_number("foo"), None);
        assert_eq!(parse_go_number(""), None);
    }

    #[test]
    fn series_numbers_stop_before_repetition_and_increment() {
        assert_eq!(scan_series_number("0x10"), Some((0.0, 1)));
        assert_eq!(scan_series_number("10+2x3"), Some((10.0, 2)));
        assert_eq!(scan_series_number("1.5e-3-1x2"), Some((0.0015, 6)));
        assert_eq!(scan_series_number(".5"), Some((0.5, 2)));
        assert_eq!(scan_series_number("Inf"), Some((f64::INFINITY, 3)));
        assert_eq!(scan_series_number("1_000"), Some((1000.0, 5)));
        assert_eq!(scan_series_number("stale"), None);
        assert_eq!(scan_series_number("x"), None);
        assert_eq!(scan_series_number("1e"), None);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("0"), Ok(0));
        assert_eq!(parse_duration_ms("0s"), Ok(0));
        assert_eq!(parse_duration_ms("1m30s"), Ok(90_000));
        assert_eq!(parse_duration_ms("20s500ms"), Ok(20_500));
        assert_eq!(parse_duration_ms("10s53ms"), Ok(10_053));
        assert_eq!(parse_duration_ms("1111111s"), Ok(1_111_111_000));
        assert_eq!(parse_duration_ms("1y"), Ok(31_536_000_000));
        assert!(parse_duration_ms("").is_err());
        assert!(parse_duration_ms("5").is_err());
        assert!(parse_duration_ms("-5m").is_err());
        assert!(parse_duration_ms("1.5s").is_err());
        assert!(parse_duration_ms("30s1m").is_err());
        assert_eq!(parse_signed_duration_ms("-59999ms"), Ok(-59_999));
        assert_eq!(parse_signed_duration_ms("+1m"), Ok(60_000));
    }
}
