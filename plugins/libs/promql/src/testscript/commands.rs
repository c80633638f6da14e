//! The commands of a test script and their blocks (README §3): `load` / `load_with_nhcb` with their
//! series lines (and start-timestamp `@st` lines), `clear`, and `eval instant` / `eval range` (plus the
//! legacy `eval_fail`, `eval_warn`, `eval_info`, `eval_ordered`) with their `expect` and result lines.
//! A blank or comment line ends a block.

use std::sync::LazyLock;

use regex::Regex;

use super::ScriptError;
use super::literal::{parse_duration_ms, parse_go_number};
use super::load::{LoadSeries, read_load_block};
use super::series::parse_series_desc;
use super::values::{
    AnnotationRule, ExpectLine, Expectation, ExpectedResult, ExpectedSeries, Grid, MessageMatch,
    Outcome, parse_expect_line,
};
use crate::Expr;

/// One command of a script.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Load(Load),
    /// Drops all loaded data.
    Clear,
    Eval(Box<Eval>),
}

/// `load <step>` or `load_with_nhcb <step>` and its series.
#[derive(Debug, Clone, PartialEq)]
pub struct Load {
    /// Value `i` of every series is at `i × step_ms` after the epoch.
    pub step_ms: i64,
    /// A series listed twice keeps the later line, at the position of the first.
    pub series: Vec<LoadSeries>,
    /// `load_with_nhcb`: also convert each classic histogram family (`X_bucket{le}`, `X_count`,
    /// `X_sum`) into a native histogram with custom buckets named `X` (README §3.1).
    pub with_nhcb: bool,
    /// 1-based line of the `load` command.
    pub line: usize,
}

/// `eval …` and its block.
#[derive(Debug, Clone, PartialEq)]
pub struct Eval {
    pub kind: EvalKind,
    /// The expression as written.
    pub expr: String,
    /// The expression parsed with [`crate::parse`] while reading (a parse error fails the script).
    pub parsed: Expr,
    /// 1-based line of the `eval` command; upstream names its subtests `line N/<expr>`.
    pub line: usize,
    pub expectation: Expectation,
}

/// When an eval runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvalKind {
    /// `eval instant at <t>`; `expect range vector` overrides the time (see [`Eval::eval_time_ms`]).
    Instant { at_ms: i64 },
    /// `eval range from <start> to <end> step <step>`.
    Range(Grid),
}

static LOAD: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^load(?:_(with_nhcb))?\s+(.+?)$").ok());
static INSTANT: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"^eval(?:_(fail|warn|ordered|info))?\s+instant\s+(?:at\s+(.+?))?\s+(.+)$").ok()
});
static RANGE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"^eval(?:_(fail|warn|info))?\s+range\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+?)\s+(.+)$",
    )
    .ok()
});

/// Reads all commands; `lines` are trimmed, with comment lines already blanked.
pub(crate) fn read_commands(lines: &[&str]) -> Result<Vec<Command>, ScriptError> {
    let mut commands = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        let line = lines[index];
        let Some(word) = line.split_whitespace().next() else {
            index += 1;
            continue;
        };
        let word = word.to_lowercase();
        if word == "clear" {
            if line.split_whitespace().nth(1).is_some() {
                return Err(ScriptError::new(index, "`clear` must be alone on its line"));
            }
            commands.push(Command::Clear);
            index += 1;
        } else if word.starts_with("load") {
            let (load, next) = read_load(lines, index)?;
            commands.push(Command::Load(load));
            index = next;
        } else if word.starts_with("eval") {
            let (eval, next) = read_eval(lines, index)?;
            commands.push(Command::Eval(Box::new(eval)));
            index = next;
        } else {
            return Err(ScriptError::new(index, format!("invalid command {line:?}")));
        }
    }
    Ok(commands)
}

fn duration(index: usize, what: &str, text: &str) -> Result<i64, ScriptError> {
    parse_duration_ms(text)
        .map_err(|err| ScriptError::new(index, format!("invalid {what} {text:?}: {err}")))
}

/// The end of a block starting after `index`: the first blank line (or the end of the file).
fn block_end(lines: &[&str], index: usize) -> usize {
    lines[index + 1..]
        .iter()
        .position(|line| line.is_empty())
        .map_or(lines.len(), |offset| index + 1 + offset)
}

fn read_load(lines: &[&str], index: usize) -> Result<(Load, usize), ScriptError> {
    let pattern = LOAD
        .as_ref()
        .ok_or_else(|| ScriptError::new(index, "internal error: load regex did not compile"))?;
    let Some(captures) = pattern.captures(lines[index]) else {
        return Err(ScriptError::new(
            index,
            format!("invalid load command {:?}", lines[index]),
        ));
    };
    let step_text = captures.get(2).map_or("", |m| m.as_str());
    let step_ms = duration(index, "load step", step_text)?;
    let end = block_end(lines, index);
    let series = read_load_block(lines, index + 1, end, step_ms)?;
    let load = Load {
        step_ms,
        series,
        with_nhcb: captures.get(1).is_some(),
        line: index + 1,
    };
    Ok((load, end))
}

/// The parts of an eval command line.
struct EvalHead<'a> {
    modifier: Option<&'a str>,
    kind: EvalKind,
    expr: &'a str,
}

fn group<'h>(captures: &regex::Captures<'h>, index: usize) -> Option<&'h str> {
    captures.get(index).map(|m| m.as_str())
}

fn read_eval_head(line: &str, index: usize) -> Result<EvalHead<'_>, ScriptError> {
    let regex_error = || ScriptError::new(index, "internal error: eval regex did not compile");
    let instant = INSTANT.as_ref().ok_or_else(regex_error)?;
    let range = RANGE.as_ref().ok_or_else(regex_error)?;
    if let Some(captures) = instant.captures(line) {
        let at = group(&captures, 2).unwrap_or("");
        let at_ms = duration(index, "eval time", at)?;
        return Ok(EvalHead {
            modifier: group(&captures, 1),
            kind: EvalKind::Instant { at_ms },
            expr: group(&captures, 3).unwrap_or(""),
        });
    }
    let Some(captures) = range.captures(line) else {
        return Err(ScriptError::new(
            index,
            format!("invalid evaluation command {line:?}"),
        ));
    };
    let grid = Grid {
        start_ms: duration(index, "range start", group(&captures, 2).unwrap_or(""))?,
        end_ms: duration(index, "range end", group(&captures, 3).unwrap_or(""))?,
        step_ms: duration(index, "range step", group(&captures, 4).unwrap_or(""))?,
    };
    if grid.end_ms < grid.start_ms {
        return Err(ScriptError::new(
            index,
            "invalid test definition, end timestamp is before start timestamp",
        ));
    }
    Ok(EvalHead {
        modifier: group(&captures, 1),
        kind: EvalKind::Range(grid),
        expr: group(&captures, 5).unwrap_or(""),
    })
}

/// Collects the lines of an eval block before the expectation is assembled.
#[derive(Default)]
struct EvalBlock {
    fail: Option<MessageMatch>,
    ordered: bool,
    warnings: AnnotationRule,
    infos: AnnotationRule,
    range_vector: Option<Grid>,
    string: Option<String>,
    scalar: Option<f64>,
    series: Vec<ExpectedSeries>,
}

fn require(rule: &mut AnnotationRule, message: MessageMatch, kind: &str) -> Result<(), String> {
    match rule {
        AnnotationRule::Forbidden => Err(format!(
            "`expect {kind}` cannot be combined with `expect no_{kind}`"
        )),
        AnnotationRule::Required(messages) => {
            messages.push(message);
            Ok(())
        }
        AnnotationRule::Unchecked => {
            *rule = AnnotationRule::Required(vec![message]);
            Ok(())
        }
    }
}

fn forbid(rule: &mut AnnotationRule, kind: &str) -> Result<(), String> {
    if matches!(rule, AnnotationRule::Required(_)) {
        return Err(format!(
            "`expect no_{kind}` cannot be combined with `expect {kind}`"
        ));
    }
    *rule = AnnotationRule::Forbidden;
    Ok(())
}

impl EvalBlock {
    fn apply(&mut self, expect: ExpectLine, instant: bool) -> Result<(), String> {
        match expect {
            ExpectLine::Fail(message) => {
                if self.fail.is_some() {
                    return Err("at most one `expect fail` line is allowed per eval".to_string());
                }
                self.fail = Some(message);
            }
            ExpectLine::Ordered if !instant => {
                return Err("`expect ordered` is only valid for instant evals".to_string());
            }
            ExpectLine::Ordered => self.ordered = true,
            ExpectLine::Warn(message) => require(&mut self.warnings, message, "warn")?,
            ExpectLine::Info(message) => require(&mut self.infos, message, "info")?,
            ExpectLine::NoWarn => forbid(&mut self.warnings, "warn")?,
            ExpectLine::NoInfo => forbid(&mut self.infos, "info")?,
            ExpectLine::RangeVector(_) | ExpectLine::String(_) if !instant => {
                return Err(
                    "`expect range vector` and `expect string` are only valid for instant evals"
                        .to_string(),
                );
            }
            ExpectLine::RangeVector(grid) => self.range_vector = Some(grid),
            ExpectLine::String(text) => self.string = Some(text),
        }
        Ok(())
    }

    /// Reads one line of the block (the line at 0-based `index`); returns whether it ends the block
    /// (a scalar result or a legacy `expected_fail_…` line does).
    fn read_line(
        &mut self,
        line: &str,
        index: usize,
        kind: EvalKind,
        legacy_fail: bool,
    ) -> Result<bool, String> {
        let instant = matches!(kind, EvalKind::Instant { .. });
        if line.split_whitespace().next() == Some("expect") {
            self.apply(parse_expect_line(line)?, instant)?;
            return Ok(false);
        }
        if legacy_fail && let Some(text) = line.strip_prefix("expected_fail_message") {
            self.fail = Some(MessageMatch::Exact(text.trim().to_string()));
            return Ok(true);
        }
        if legacy_fail && let Some(text) = line.strip_prefix("expected_fail_regexp") {
            let pattern = text.trim();
            Regex::new(pattern).map_err(|err| format!("invalid regex {pattern:?}: {err}"))?;
            self.fail = Some(MessageMatch::Regex(pattern.to_string()));
            return Ok(true);
        }
        if let Some(value) = parse_go_number(line) {
            if !instant {
                return Err(
                    "a scalar result line is only valid for instant evals; write `{} v1 v2 …`"
                        .to_string(),
                );
            }
            self.scalar = Some(value);
            return Ok(true);
        }
        let desc = parse_series_desc(line).map_err(|err| format!("invalid result line: {err}"))?;
        if desc.values.is_empty() {
            return Err("a result line needs at least one value".to_string());
        }
        let grid = match kind {
            EvalKind::Range(grid) => Some(grid),
            EvalKind::Instant { .. } => self.range_vector,
        };
        if grid.is_none() && desc.values.len() != 1 {
            return Err("expecting multiple values in instant evaluation not allowed. consider using \
                 'expect range vector' directive to enable a range vector result for an instant query"
                .to_string());
        }
        if let Some(points) = grid.and_then(|grid| grid.points())
            && desc.values.len() > points
        {
            return Err(format!(
                "{} values listed but the range has only {points} steps",
                desc.values.len()
            ));
        }
        self.series.push(ExpectedSeries {
            labels: desc.labels,
            values: desc.values,
            line: index + 1,
        });
        Ok(false)
    }

    fn into_expectation(self) -> Result<Expectation, String> {
        let has_results = !self.series.is_empty() || self.scalar.is_some();
        let outcome = match (self.fail, self.string, self.scalar) {
            (Some(_), _, _) if has_results => {
                return Err("an eval that expects failure cannot list results".to_string());
            }
            (Some(message), _, _) => Outcome::Fail(message),
            (None, Some(_), _) if has_results => {
                return Err("`expect string` cannot be combined with result lines".to_string());
            }
            (None, Some(text), _) => Outcome::Success(ExpectedResult::String(text)),
            (None, None, Some(_)) if !self.series.is_empty() => {
                return Err("a scalar result line cannot follow series lines".to_string());
            }
            (None, None, Some(value)) => Outcome::Success(ExpectedResult::Scalar(value)),
            (None, None, None) => Outcome::Success(ExpectedResult::Series(self.series)),
        };
        Ok(Expectation {
            outcome,
            ordered: self.ordered,
            warnings: self.warnings,
            infos: self.infos,
            range_vector: self.range_vector,
        })
    }
}

fn read_eval(lines: &[&str], index: usize) -> Result<(Eval, usize), ScriptError> {
    let head = read_eval_head(lines[index], index)?;
    let parsed = crate::parse(head.expr).map_err(|err| {
        let column = lines[index].find(head.expr).unwrap_or(0) + err.col;
        ScriptError::new(
            index,
            format!("invalid expression at column {column}: {}", err.message),
        )
    })?;
    let mut block = EvalBlock::default();
    match head.modifier {
        Some("fail") => block.fail = Some(MessageMatch::Any),
        Some("ordered") => block.ordered = true,
        Some("warn") => block.warnings = AnnotationRule::Required(vec![MessageMatch::Any]),
        Some("info") => block.infos = AnnotationRule::Required(vec![MessageMatch::Any]),
        _ => {}
    }
    let legacy_fail = head.modifier == Some("fail");
    let mut next = index + 1;
    while let Some(line) = lines.get(next).copied().filter(|line| !line.is_empty()) {
        let ends_block = block
            .read_line(line, next, head.kind, legacy_fail)
            .map_err(|message| ScriptError::new(next, message))?;
        next += 1;
        if ends_block {
            break;
        }
    }
    let expectation = block
        .into_expectation()
        .map_err(|message| ScriptError::new(index, message))?;
    let eval = Eval {
        kind: head.kind,
        expr: head.expr.to_string(),
        parsed,
        line: index + 1,
        expectation,
    };
    Ok((eval, next))
}
