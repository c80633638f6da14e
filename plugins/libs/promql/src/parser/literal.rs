//! Values of literal tokens: numbers (Go `ParseInt(s, 0, 64)` then `ParseFloat` semantics: hex, octal
//! with a leading zero, `_` separators, `Inf`/`NaN`), durations (`model.ParseDuration`: units
//! `y w d h m s ms` in that order, each at most once) and quoted strings (Go escapes).

use crate::token::go_quote;

/// The value of a number token.
pub(crate) fn parse_number(text: &str) -> Result<f64, String> {
    let lower = text.to_ascii_lowercase();
    match lower.as_str() {
        "inf" => return Ok(f64::INFINITY),
        "nan" => return Ok(f64::NAN),
        _ => {}
    }
    let digits: String = lower.chars().filter(|c| *c != '_').collect();
    let invalid = || format!("error parsing number: invalid syntax: {}", go_quote(text));
    if let Some(hex) = digits.strip_prefix("0x") {
        return u128::from_str_radix(hex, 16)
            .map(|v| v as f64)
            .map_err(|_| invalid());
    }
    let is_octal =
        digits.len() > 1 && digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit());
    if is_octal && let Ok(value) = u128::from_str_radix(&digits[1..], 8) {
        return Ok(value as f64);
    }
    digits.parse::<f64>().map_err(|_| invalid())
}

/// The value of a duration token in milliseconds.
pub(crate) fn parse_duration_ms(text: &str) -> Result<i64, String> {
    const UNITS: [(&str, i64); 7] = [
        ("y", 1000 * 60 * 60 * 24 * 365),
        ("w", 1000 * 60 * 60 * 24 * 7),
        ("d", 1000 * 60 * 60 * 24),
        ("h", 1000 * 60 * 60),
        ("m", 1000 * 60),
        ("s", 1000),
        ("ms", 1),
    ];
    let invalid = || format!("not a valid duration string: {}", go_quote(text));
    let mut rest = text;
    let mut next_unit = 0;
    let mut total: i64 = 0;
    while !rest.is_empty() {
        let digits_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits_len == 0 {
            return Err(invalid());
        }
        let count: i64 = rest[..digits_len].parse().map_err(|_| invalid())?;
        rest = &rest[digits_len..];
        let unit_len = if rest.starts_with("ms") {
            2
        } else {
            rest.chars().next().map_or(0, char::len_utf8)
        };
        let unit = &rest[..unit_len];
        let index = UNITS
            .iter()
            .position(|(name, _)| *name == unit)
            .ok_or_else(invalid)?;
        if index < next_unit {
            return Err(invalid());
        }
        next_unit = index + 1;
        total = count
            .checked_mul(UNITS[index].1)
            .and_then(|v| v.checked_add(total))
            .ok_or_else(invalid)?;
        rest = &rest[unit_len..];
    }
    Ok(total)
}

/// The value of a string token (quotes included); escapes were validated by the lexer. Bytes that are
/// not valid UTF-8 read as U+FFFD.
pub(crate) fn unquote(text: &str) -> String {
    String::from_utf8_lossy(&unquote_bytes(text)).into_owned()
}

/// The bytes of a string token, as Go's `strconv.Unquote` gives them: `\xNN` and octal escapes are
/// single bytes (which need not form valid UTF-8), `\u`/`\U` escapes are characters.
pub(crate) fn unquote_bytes(text: &str) -> Vec<u8> {
    if text.len() >= 2 && text.starts_with('`') {
        return text.as_bytes()[1..text.len() - 1].to_vec();
    }
    let inner = text.get(1..text.len().saturating_sub(1)).unwrap_or("");
    let mut out: Vec<u8> = Vec::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    let push_char = |out: &mut Vec<u8>, c: char| {
        let mut buf = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    };
    while let Some(c) = chars.next() {
        if c != '\\' {
            push_char(&mut out, c);
            continue;
        }
        let Some(escape) = chars.next() else { break };
        let (count, radix) = match escape {
            'a' => (0, 0),
            'b' => (1, 0),
            'f' => (2, 0),
            'n' => (3, 0),
            'r' => (4, 0),
            't' => (5, 0),
            'v' => (6, 0),
            '0'..='7' => (2, 8),
            'x' => (2, 16),
            'u' => (4, 16),
            'U' => (8, 16),
            other => {
                push_char(&mut out, other);
                continue;
            }
        };
        if radix == 0 {
            out.push([7u8, 8, 0xc, b'\n', b'\r', b'\t', 0xb][count]);
            continue;
        }
        let mut value = if radix == 8 {
            escape.to_digit(8).unwrap_or(0)
        } else {
            0
        };
        for _ in 0..count {
            if let Some(digit) = chars.next().and_then(|d| d.to_digit(radix)) {
                value = value * radix + digit;
            }
        }
        if matches!(escape, 'u' | 'U') {
            push_char(
                &mut out,
                char::from_u32(value).unwrap_or(char::REPLACEMENT_CHARACTER),
            );
        } else {
            out.push(u8::try_from(value).unwrap_or(u8::MAX));
        }
    }
    out
}

/// Go's `%q` of a byte string: valid UTF-8 runs quoted as [`crate::token::go_quote`] does, each
/// invalid byte as `\xNN`.
pub(crate) fn go_quote_bytes(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    for chunk in bytes.utf8_chunks() {
        let valid = crate::token::go_quote(chunk.valid());
        out.push_str(&valid[1..valid.len() - 1]);
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_number("1_000"), Ok(1000.0));
        assert_eq!(parse_number("0x1f"), Ok(31.0));
        assert_eq!(parse_number("010"), Ok(8.0));
        assert_eq!(parse_number("09"), Ok(9.0));
        assert_eq!(parse_number(".5"), Ok(0.5));
        assert_eq!(parse_number("1e3"), Ok(1000.0));
        assert_eq!(parse_number("Inf"), Ok(f64::INFINITY));
        assert!(parse_number("NaN").is_ok_and(f64::is_nan));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("1h30m"), Ok(5_400_000));
        assert_eq!(parse_duration_ms("20s500ms"), Ok(20_500));
        assert_eq!(parse_duration_ms("1y"), Ok(31_536_000_000));
        assert_eq!(
            parse_duration_ms("5m1h"),
            Err("not a valid duration string: \"5m1h\"".to_string())
        );
        assert!(parse_duration_ms("5m5m").is_err());
    }

    #[test]
    fn strings() {
        assert_eq!(unquote(r#""a\"b\n""#), "a\"b\n");
        assert_eq!(unquote(r"'it\'s'"), "it's");
        assert_eq!(unquote(r"`raw\n`"), r"raw\n");
        assert_eq!(unquote(r#""\x41\u00e9\101""#), "AéA");
        // `\x` escapes are bytes: two of them may make one UTF-8 character.
        assert_eq!(unquote(r#""\xc3\xa5""#), "å");
        assert_eq!(unquote_bytes(r#""a\xc5z""#), b"a\xc5z");
        assert_eq!(go_quote_bytes(b"a\xc5z"), r#""a\xc5z""#);
    }
}
