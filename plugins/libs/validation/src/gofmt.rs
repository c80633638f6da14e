//! Go formatting rules that Mimir's user-facing messages depend on, so ours read byte for byte
//! the same: `%.200s` truncates to 200 *runes* (each byte of an invalid UTF-8 sequence counts as
//! one), `strconv.Quote` escapes label values inside series strings, `strings.ToValidUTF8`
//! cleans the final message, and `%v` prints floats such as the ingestion rate.
//!
//! Label names and values reach this module as raw bytes because remote-write does not promise
//! valid UTF-8 (Mimir reports bad values per series instead of failing the request).

use std::fmt::Write as _;

/// Go's `%.Ns` precision: the prefix of `bytes` holding at most `max_runes` runes.
pub(crate) fn truncate_runes(bytes: &[u8], max_runes: usize) -> &[u8] {
    let mut runes = 0;
    let mut end = 0;
    for chunk in bytes.utf8_chunks() {
        for ch in chunk.valid().chars() {
            if runes == max_runes {
                return &bytes[..end];
            }
            runes += 1;
            end += ch.len_utf8();
        }
        for _ in chunk.invalid() {
            if runes == max_runes {
                return &bytes[..end];
            }
            runes += 1;
            end += 1;
        }
    }
    bytes
}

/// Go's `utf8.RuneCount`: invalid bytes count one rune each.
pub(crate) fn rune_count(bytes: &[u8]) -> usize {
    bytes
        .utf8_chunks()
        .map(|chunk| chunk.valid().chars().count() + chunk.invalid().len())
        .sum()
}

/// Go's `strings.ToValidUTF8(s, "\uFFFD")`: each run of invalid bytes becomes one U+FFFD.
pub(crate) fn to_valid_utf8(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    let mut in_invalid_run = false;
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid();
        if !valid.is_empty() {
            out.push_str(valid);
            in_invalid_run = false;
        }
        if !chunk.invalid().is_empty() {
            if !in_invalid_run {
                out.push(char::REPLACEMENT_CHARACTER);
            }
            in_invalid_run = true;
        }
    }
    out
}

/// Go's `strconv.Quote`, appended to `out`.
pub(crate) fn quote_into(bytes: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for chunk in bytes.utf8_chunks() {
        for ch in chunk.valid().chars() {
            quote_char(ch, out);
        }
        for byte in chunk.invalid() {
            push_fmt(out, format_args!("\\x{byte:02x}"));
        }
    }
    out.push(b'"');
}

fn quote_char(ch: char, out: &mut Vec<u8>) {
    let code = u32::from(ch);
    match ch {
        '"' | '\\' => {
            out.push(b'\\');
            out.push(code as u8);
        }
        _ if is_go_printable(ch) => {
            let mut buf = [0u8; 4];
            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
        }
        '\u{7}' => out.extend_from_slice(b"\\a"),
        '\u{8}' => out.extend_from_slice(b"\\b"),
        '\u{c}' => out.extend_from_slice(b"\\f"),
        '\n' => out.extend_from_slice(b"\\n"),
        '\r' => out.extend_from_slice(b"\\r"),
        '\t' => out.extend_from_slice(b"\\t"),
        '\u{b}' => out.extend_from_slice(b"\\v"),
        _ if code < 0x20 || code == 0x7f => push_fmt(out, format_args!("\\x{code:02x}")),
        _ if code < 0x1_0000 => push_fmt(out, format_args!("\\u{code:04x}")),
        _ => push_fmt(out, format_args!("\\U{code:08x}")),
    }
}

/// An approximation of Go's `unicode.IsPrint` (letters, marks, numbers, punctuation, symbols and
/// the ASCII space). Rust's std has no general-category table, so controls, non-ASCII spaces,
/// the common format characters and the private-use planes are treated as non-printable and
/// everything else as printable; unassigned code points are the only known divergence.
fn is_go_printable(ch: char) -> bool {
    if ch == ' ' {
        return true;
    }
    if ch.is_control() || ch.is_whitespace() {
        return false;
    }
    !matches!(
        u32::from(ch),
        0xAD | 0x600..=0x605
            | 0x61C
            | 0x6DD
            | 0x70F
            | 0x890..=0x891
            | 0x8E2
            | 0x180E
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x206F
            | 0xE000..=0xF8FF
            | 0xFEFF
            | 0xFFF9..=0xFFFB
            | 0xFFFE..=0xFFFF
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0001
            | 0xE0020..=0xE007F
            | 0xF0000..=0x10FFFF
    )
}

/// Go's `%v` for a `float64` (`%g` with the shortest precision): plain digits while the decimal
/// exponent is in `-4..6`, otherwise `d.ddde±XX`; `10000` stays `10000`, one million is `1e+06`.
pub(crate) fn format_float(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    if value == 0.0 {
        return if value.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    let scientific = format!("{value:e}");
    let Some((mantissa, exponent)) = scientific.split_once('e') else {
        return value.to_string();
    };
    let Ok(exponent) = exponent.parse::<i32>() else {
        return value.to_string();
    };
    if (-4..6).contains(&exponent) {
        return value.to_string();
    }
    let sign = if exponent < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exponent.unsigned_abs())
}

fn push_fmt(out: &mut Vec<u8>, args: std::fmt::Arguments<'_>) {
    let mut text = String::new();
    // Writing into a String cannot fail.
    let _ = text.write_fmt(args);
    out.extend_from_slice(text.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quoted(bytes: &[u8]) -> String {
        let mut out = Vec::new();
        quote_into(bytes, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn truncation_counts_runes_and_invalid_bytes() {
        assert_eq!(truncate_runes(b"abcdef", 3), b"abc");
        assert_eq!(truncate_runes("héllo".as_bytes(), 2), "hé".as_bytes());
        assert_eq!(truncate_runes(b"a\xff\xfeb", 3), b"a\xff\xfe");
        assert_eq!(truncate_runes(b"ab", 200), b"ab");
        assert_eq!(rune_count("é\u{2026}\u{ff}".as_bytes()), 3);
        assert_eq!(rune_count(b"a\xe2\x82"), 3);
    }

    #[test]
    fn invalid_runs_collapse_into_one_replacement() {
        assert_eq!(to_valid_utf8(b"a\xff\xfeb\xffc"), "a\u{FFFD}b\u{FFFD}c");
        assert_eq!(to_valid_utf8("ok é".as_bytes()), "ok é");
    }

    #[test]
    fn quoting_matches_strconv_quote() {
        assert_eq!(quoted(b"plain"), r#""plain""#);
        assert_eq!(quoted(b"a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(quoted(b"\n\t\x07\x01\x7f"), r#""\n\t\a\x01\x7f""#);
        assert_eq!(quoted("é€😀".as_bytes()), "\"é€😀\"");
        assert_eq!(quoted("\u{a0}\u{200b}".as_bytes()), r#""\u00a0\u200b""#);
        assert_eq!(quoted(b"\xff"), r#""\xff""#);
        assert_eq!(quoted("\u{f0000}".as_bytes()), r#""\U000f0000""#);
    }

    #[test]
    fn floats_print_like_go_percent_v() {
        assert_eq!(format_float(10000.0), "10000");
        assert_eq!(format_float(10.0), "10");
        assert_eq!(format_float(5.5), "5.5");
        assert_eq!(format_float(200000.0), "200000");
        assert_eq!(format_float(1_000_000.0), "1e+06");
        assert_eq!(format_float(1_234_567.0), "1.234567e+06");
        assert_eq!(format_float(0.0001), "0.0001");
        assert_eq!(format_float(0.00001), "1e-05");
        assert_eq!(format_float(0.0), "0");
        assert_eq!(format_float(f64::INFINITY), "+Inf");
    }
}
