//! What an `eval` expects (README §3.5–3.7): the outcome (a result or a failure), the annotation
//! rules, ordering and the `expect range vector` grid, and the readers of the `expect …` lines that
//! set them. The block structure around them is read in `commands.rs`.

use super::literal::parse_duration_ms;
use super::series::SampleValue;

/// Everything one eval block expects.
#[derive(Debug, Clone, PartialEq)]
pub struct Expectation {
    pub outcome: Outcome,
    /// `expect ordered` or `eval_ordered`: result series must come in the listed order.
    pub ordered: bool,
    pub warnings: AnnotationRule,
    pub infos: AnnotationRule,
    /// `expect range vector from a to b step s`: an instant query returns a matrix on this grid and is
    /// evaluated at `b`.
    pub range_vector: Option<Grid>,
}

/// Whether the query must succeed (and with what) or fail.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Success(ExpectedResult),
    /// `expect fail` or `eval_fail`: creating or running the query must fail; the error must match.
    Fail(MessageMatch),
}

/// The expected result of a successful query.
#[derive(Debug, Clone, PartialEq)]
pub enum ExpectedResult {
    /// Series lines, in the order listed. No lines at all means an empty vector or matrix (and a scalar
    /// result is then an error).
    Series(Vec<ExpectedSeries>),
    /// A number line: the result must be a scalar (instant evals only).
    Scalar(f64),
    /// `expect string "…"`: the result must be this string (instant evals only).
    String(String),
}

/// One expected series. Value `i` is expected at `grid.start_ms + i·grid.step_ms` (for an instant eval
/// without a range-vector grid there is exactly one value, at the eval time); `Omitted` means no
/// point, and steps after the last value must have no point either.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedSeries {
    /// Sorted by name; `__name__` is present if and only if the result must have it.
    pub labels: Vec<(String, String)>,
    pub values: Vec<SampleValue>,
    /// 1-based line of the series in the script.
    pub line: usize,
}

/// A time grid `from a to b step s`, in milliseconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grid {
    pub start_ms: i64,
    pub end_ms: i64,
    pub step_ms: i64,
}

impl Grid {
    /// The number of steps in `[start, end]`, or `None` for a step that is not positive.
    pub fn points(&self) -> Option<usize> {
        if self.step_ms <= 0 || self.end_ms < self.start_ms {
            return None;
        }
        usize::try_from((self.end_ms - self.start_ms) / self.step_ms + 1).ok()
    }

    /// The timestamp of point `index`.
    pub fn timestamp_ms(&self, index: usize) -> i64 {
        let offset = i64::try_from(index).unwrap_or(i64::MAX);
        self.start_ms
            .saturating_add(offset.saturating_mul(self.step_ms))
    }
}

/// How the annotations of one kind (warnings or infos) are checked.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum AnnotationRule {
    /// No `expect` line for this kind: annotations are not checked at all.
    #[default]
    Unchecked,
    /// `expect no_warn` / `expect no_info`: there must be none.
    Forbidden,
    /// `expect warn …` / `expect info …` (or `eval_warn` / `eval_info`): at least one; every actual
    /// annotation must match one of these and each of these must match at least one annotation.
    Required(Vec<MessageMatch>),
}

/// How an error or annotation message must look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageMatch {
    /// No `msg:` / `regex:`: anything matches.
    Any,
    /// `msg: <text>`: exact equality (annotations as the API renders them, with the `(line:col)` suffix).
    Exact(String),
    /// `regex: <re>`: an unanchored RE2 match; checked to compile while reading.
    Regex(String),
}

/// One parsed `expect` line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ExpectLine {
    Ordered,
    Fail(MessageMatch),
    Warn(MessageMatch),
    NoWarn,
    Info(MessageMatch),
    NoInfo,
    RangeVector(Grid),
    String(String),
}

/// Parses an `expect …` line (its first word is `expect`).
pub(crate) fn parse_expect_line(line: &str) -> Result<ExpectLine, String> {
    let Some(rest) = line.strip_prefix("expect ") else {
        return Err(format!(
            "invalid expect statement, must be `expect <type>`: {line:?}"
        ));
    };
    let rest = rest.trim_start();
    if let Some(grid) = rest.strip_prefix("range vector") {
        return parse_range_vector(grid.trim()).map(ExpectLine::RangeVector);
    }
    if let Some(quoted) = rest.strip_prefix("string") {
        return unquote_go(quoted.trim()).map(ExpectLine::String);
    }
    let kind_len = rest.find(char::is_whitespace).unwrap_or(rest.len());
    let (kind, detail) = rest.split_at(kind_len);
    let detail = detail.trim_start();
    let message = if detail.is_empty() {
        MessageMatch::Any
    } else if let Some(text) = detail.strip_prefix("msg:") {
        if text.trim().is_empty() {
            return Err(format!("`msg:` needs a message in {line:?}"));
        }
        MessageMatch::Exact(text.trim().to_string())
    } else if let Some(text) = detail.strip_prefix("regex:") {
        let pattern = text.trim();
        if pattern.is_empty() {
            return Err(format!("`regex:` needs a pattern in {line:?}"));
        }
        regex::Regex::new(pattern).map_err(|err| format!("invalid regex {pattern:?}: {err}"))?;
        MessageMatch::Regex(pattern.to_string())
    } else {
        return Err(format!(
            "invalid expect statement {line:?}: expected `msg:` or `regex:`"
        ));
    };
    let takes_message = matches!(kind, "fail" | "warn" | "info");
    if !takes_message && message != MessageMatch::Any {
        return Err(format!("`expect {kind}` takes no message"));
    }
    match kind {
        "ordered" => Ok(ExpectLine::Ordered),
        "fail" => Ok(ExpectLine::Fail(message)),
        "warn" => Ok(ExpectLine::Warn(message)),
        "no_warn" => Ok(ExpectLine::NoWarn),
        "info" => Ok(ExpectLine::Info(message)),
        "no_info" => Ok(ExpectLine::NoInfo),
        _ => Err(format!(
            "invalid expect statement {line:?}: unknown type {kind:?}"
        )),
    }
}

/// `from <a> to <b> step <s>` of `expect range vector`.
fn parse_range_vector(text: &str) -> Result<Grid, String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let [("from", from), ("to", to), ("step", step)] = [0, 2, 4].map(|i| {
        (
            words.get(i).copied().unwrap_or(""),
            words.get(i + 1).copied().unwrap_or(""),
        )
    }) else {
        return Err(format!(
            "invalid range vector definition {text:?}, expected `from <t> to <t> step <d>`"
        ));
    };
    if words.len() != 6 {
        return Err(format!(
            "unexpected text after range vector definition {text:?}"
        ));
    }
    let grid = Grid {
        start_ms: parse_duration_ms(from)?,
        end_ms: parse_duration_ms(to)?,
        step_ms: parse_duration_ms(step)?,
    };
    if grid.end_ms < grid.start_ms {
        return Err(format!("range vector end {to} is before its start {from}"));
    }
    if grid.step_ms <= 0 {
        return Err(format!("range vector step {step} must be positive"));
    }
    Ok(grid)
}

/// Go's `strconv.Unquote` for `"…"` and `` `…` `` literals.
fn unquote_go(text: &str) -> Result<String, String> {
    let invalid = || format!("expected a quoted string, got {text:?}");
    if text.len() >= 2 && text.starts_with('`') && text.ends_with('`') {
        let inner = &text[1..text.len() - 1];
        if inner.contains('`') {
            return Err(invalid());
        }
        return Ok(inner.to_string());
    }
    if text.len() < 2 || !text.starts_with('"') || !text.ends_with('"') {
        return Err(invalid());
    }
    let inner = &text[1..text.len() - 1];
    let mut value = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Err(invalid()),
            '\\' => {
                let escaped = match chars.next() {
                    Some('n') => '\n',
                    Some('t') => '\t',
                    Some('r') => '\r',
                    Some('\\') => '\\',
                    Some('"') => '"',
                    Some('\'') => '\'',
                    _ => return Err(format!("unsupported escape in {text:?}")),
                };
                value.push(escaped);
            }
            other => value.push(other),
        }
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(text: &str) -> MessageMatch {
        MessageMatch::Exact(text.to_string())
    }

    #[test]
    fn annotation_and_failure_lines() {
        assert_eq!(parse_expect_line("expect ordered"), Ok(ExpectLine::Ordered));
        assert_eq!(
            parse_expect_line("expect fail"),
            Ok(ExpectLine::Fail(MessageMatch::Any))
        );
        assert_eq!(
            parse_expect_line(
                "expect fail msg:  vector cannot contain metrics with the same labelset "
            ),
            Ok(ExpectLine::Fail(exact(
                "vector cannot contain metrics with the same labelset"
            )))
        );
        assert_eq!(
            parse_expect_line("expect fail regex: found duplicate series.*"),
            Ok(ExpectLine::Fail(MessageMatch::Regex(
                "found duplicate series.*".to_string()
            )))
        );
        assert_eq!(
            parse_expect_line("expect warn"),
            Ok(ExpectLine::Warn(MessageMatch::Any))
        );
        assert_eq!(
            parse_expect_line("expect warn msg: PromQL warning: x (1:5)"),
            Ok(ExpectLine::Warn(exact("PromQL warning: x (1:5)")))
        );
        assert_eq!(parse_expect_line("expect no_warn"), Ok(ExpectLine::NoWarn));
        assert_eq!(
            parse_expect_line("expect info regex: PromQL info: .*"),
            Ok(ExpectLine::Info(MessageMatch::Regex(
                "PromQL info: .*".to_string()
            )))
        );
        assert_eq!(
            parse_expect_line("expect info"),
            Ok(ExpectLine::Info(MessageMatch::Any))
        );
        assert_eq!(parse_expect_line("expect no_info"), Ok(ExpectLine::NoInfo));
    }

    #[test]
    fn range_vector_and_string_lines() {
        assert_eq!(
            parse_expect_line("expect range vector from 10s to 1m step 10s"),
            Ok(ExpectLine::RangeVector(Grid {
                start_ms: 10_000,
                end_ms: 60_000,
                step_ms: 10_000
            }))
        );
        assert_eq!(
            parse_expect_line(r#"expect string " Foo ""#),
            Ok(ExpectLine::String(" Foo ".to_string()))
        );
        assert_eq!(
            parse_expect_line("expect string `Foo`"),
            Ok(ExpectLine::String("Foo".to_string()))
        );
        assert_eq!(
            parse_expect_line(r#"expect string """#),
            Ok(ExpectLine::String(String::new()))
        );
    }

    #[test]
    fn invalid_lines_are_rejected() {
        for line in [
            "expect",
            "expect maybe",
            "expect no_warn msg: x",
            "expect ordered regex: x",
            "expect fail message: x",
            "expect fail regex: (",
            "expect fail msg:  ",
            "expect warn regex:",
            "expect range vector 0 to 1m step 10s",
            "expect range vector from 1m to 0 step 10s",
            "expect range vector from 0 to 1m step 0",
            "expect string Foo",
            "expect string 'Foo'",
        ] {
            assert!(parse_expect_line(line).is_err(), "{line} should not parse");
        }
    }

    #[test]
    fn grids_count_their_points() {
        let grid = Grid {
            start_ms: 0,
            end_ms: 60_000,
            step_ms: 20_000,
        };
        assert_eq!(grid.points(), Some(4));
        assert_eq!(grid.timestamp_ms(3), 60_000);
        let bad = Grid { step_ms: 0, ..grid };
        assert_eq!(bad.points(), None);
    }
}
