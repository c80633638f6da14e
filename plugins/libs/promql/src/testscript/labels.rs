//! Label sets in PromQL syntax as series descriptions write them: `name`, `name{l="v"}`, `{l="v"}`,
//! quoted UTF-8 names (`{"my.metric", "a b"="v"}`) and Go string literals with escapes. Labels are
//! returned sorted by name with `__name__` among them, so that two spellings of a set compare equal.

/// A position in a line being read.
pub(crate) struct Cursor<'a> {
    pub(crate) text: &'a str,
    pub(crate) pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Self { text, pos: 0 }
    }

    pub(crate) fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    pub(crate) fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    pub(crate) fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    pub(crate) fn skip_spaces(&mut self) {
        let spaces = self.rest().len() - self.rest().trim_start().len();
        self.pos += spaces;
    }

    /// The next space-separated word, or `None` at the end of the line or at a `#` comment.
    pub(crate) fn next_word(&mut self) -> Option<(usize, &'a str)> {
        self.skip_spaces();
        let rest = self.rest();
        if rest.is_empty() || rest.starts_with('#') {
            return None;
        }
        let len = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let start = self.pos;
        self.pos += len;
        Some((start, &rest[..len]))
    }
}

fn is_name_start(c: char) -> bool {
    c == '_' || c == ':' || c.is_ascii_alphabetic()
}

fn is_name_char(c: char) -> bool {
    is_name_start(c) || c.is_ascii_digit()
}

/// Reads `name`, `name{…}` or `{…}` and returns the labels sorted by name, `__name__` included.
pub(crate) fn read_metric(cursor: &mut Cursor<'_>) -> Result<Vec<(String, String)>, String> {
    cursor.skip_spaces();
    let mut labels = Vec::new();
    match cursor.peek() {
        Some(c) if is_name_start(c) => {
            let start = cursor.pos;
            while cursor.peek().is_some_and(is_name_char) {
                cursor.bump();
            }
            labels.push((
                "__name__".to_string(),
                cursor.text[start..cursor.pos].to_string(),
            ));
            // As in PromQL, spaces may separate the name from its braces; `{{` starts a histogram value.
            let after_name = cursor.pos;
            cursor.skip_spaces();
            if cursor.rest().starts_with('{') && !cursor.rest().starts_with("{{") {
                read_label_set(cursor, &mut labels)?;
            } else {
                cursor.pos = after_name;
            }
        }
        Some('{') => read_label_set(cursor, &mut labels)?,
        _ => {
            return Err(format!(
                "expected a metric name or '{{' in {:?}",
                cursor.text
            ));
        }
    }
    labels.sort();
    if let Some(pair) = labels.windows(2).find(|pair| pair[0].0 == pair[1].0) {
        return Err(format!("duplicate label name {:?}", pair[0].0));
    }
    Ok(labels)
}

/// Reads `{l="v", "quoted name"="v", "metric name"}`; the cursor is on `{`.
fn read_label_set(
    cursor: &mut Cursor<'_>,
    labels: &mut Vec<(String, String)>,
) -> Result<(), String> {
    cursor.bump();
    loop {
        cursor.skip_spaces();
        match cursor.peek() {
            Some('}') => {
                cursor.bump();
                return Ok(());
            }
            None => return Err("unclosed label set".to_string()),
            _ => {}
        }
        let (name, quoted) = match cursor.peek() {
            Some(c) if is_name_start(c) && c != ':' => {
                let start = cursor.pos;
                while cursor
                    .peek()
                    .is_some_and(|c| c == '_' || c.is_ascii_alphanumeric())
                {
                    cursor.bump();
                }
                (cursor.text[start..cursor.pos].to_string(), false)
            }
            Some('"' | '\'' | '`') => (read_quoted(cursor)?, true),
            _ => {
                return Err(format!(
                    "unexpected character in label set at byte {}",
                    cursor.pos + 1
                ));
            }
        };
        cursor.skip_spaces();
        if cursor.peek() == Some('=') {
            cursor.bump();
            cursor.skip_spaces();
            if !matches!(cursor.peek(), Some('"' | '\'' | '`')) {
                return Err(format!("expected a quoted value for label {name:?}"));
            }
            labels.push((name, read_quoted(cursor)?));
        } else if quoted {
            labels.push(("__name__".to_string(), name));
        } else {
            return Err(format!("expected '=' after label name {name:?}"));
        }
        cursor.skip_spaces();
        match cursor.bump() {
            Some(',') => {}
            Some('}') => return Ok(()),
            _ => return Err("expected ',' or '}' in label set".to_string()),
        }
    }
}

/// Reads a Go string literal (`"…"`, `'…'` or `` `…` ``) and returns its value.
fn read_quoted(cursor: &mut Cursor<'_>) -> Result<String, String> {
    let Some(quote) = cursor.bump() else {
        return Err("expected a quoted string".to_string());
    };
    let mut value = String::new();
    loop {
        let Some(c) = cursor.bump() else {
            return Err("unterminated quoted string".to_string());
        };
        if c == quote {
            return Ok(value);
        }
        if c != '\\' || quote == '`' {
            value.push(c);
            continue;
        }
        value.push(read_escape(cursor, quote)?);
    }
}

/// The character of a backslash escape; the cursor is just after the backslash.
fn read_escape(cursor: &mut Cursor<'_>, quote: char) -> Result<char, String> {
    let Some(escape) = cursor.bump() else {
        return Err("unterminated escape sequence".to_string());
    };
    let (count, radix) = match escape {
        'a' => return Ok('\u{7}'),
        'b' => return Ok('\u{8}'),
        'f' => return Ok('\u{c}'),
        'n' => return Ok('\n'),
        'r' => return Ok('\r'),
        't' => return Ok('\t'),
        'v' => return Ok('\u{b}'),
        '\\' => return Ok('\\'),
        c if c == quote => return Ok(c),
        '0'..='7' => (2, 8),
        'x' => (2, 16),
        'u' => (4, 16),
        'U' => (8, 16),
        other => return Err(format!("unknown escape sequence \\{other}")),
    };
    let mut value = if radix == 8 {
        escape.to_digit(8).unwrap_or(0)
    } else {
        0
    };
    for _ in 0..count {
        let digit = cursor
            .bump()
            .and_then(|d| d.to_digit(radix))
            .ok_or_else(|| format!("invalid escape sequence \\{escape}"))?;
        value = value * radix + digit;
    }
    char::from_u32(value).ok_or_else(|| format!("invalid character code {value:#x} in escape"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(text: &str) -> Result<Vec<(String, String)>, String> {
        read_metric(&mut Cursor::new(text))
    }

    fn label(name: &str, value: &str) -> (String, String) {
        (name.to_string(), value.to_string())
    }

    #[test]
    fn label_sets_are_sorted_and_unquoted() {
        let parsed = labels(r#"{"my.metric", b="x\"y", a='z'} 1"#).expect("valid labels");
        assert_eq!(
            parsed,
            [
                label("__name__", "my.metric"),
                label("a", "z"),
                label("b", "x\"y")
            ]
        );
        let named = labels(r#"up{job="a",} 1"#).expect("valid labels");
        let braced = labels(r#"{job="a", __name__="up"} 1"#).expect("valid labels");
        assert_eq!(named, braced);
        let empty = labels("{} 1").expect("valid labels");
        assert!(empty.is_empty());
        let spaced = labels(r#"up  {job="a"} 1"#).expect("valid labels");
        assert_eq!(spaced, named);
        let colons = labels("job:rate5m 1").expect("valid labels");
        assert_eq!(colons, [label("__name__", "job:rate5m")]);
        let utf8 = labels(r#"{"métrique", "étiquette"="é\u00e9"} 1"#).expect("valid labels");
        assert_eq!(utf8[1], label("étiquette", "éé"));
    }

    #[test]
    fn invalid_label_sets_are_rejected() {
        for text in [
            r#"m{a="1" "#,
            r#"m{a=1}"#,
            r#"m{a="1",a="2"}"#,
            r#"m{a="\q"}"#,
            r#"m{"unterminated}"#,
            r#"{a~"1"}"#,
            "1",
        ] {
            assert!(labels(text).is_err(), "{text} should not parse");
        }
    }
}
