//! Prints the AST back as PromQL on one line, the way Prometheus' `String()` methods in `printer.go` do
//! (`pretty.rs`, the multi-line form `/api/v1/format_query` answers, is built on it): one space around
//! binary operators, `sum by (job) (x)`, `@` before `offset`, durations in `model.Duration` form
//! (`1h30m`), literal offsets and `@` timestamps normalised.

use std::fmt::{self, Display, Formatter};

use crate::ast::{
    AggregateExpr, AtModifier, BinaryExpr, DurationExpr, Expr, Matcher, SubqueryExpr, UnaryOp,
    VectorMatchCardinality, VectorSelector,
};
use crate::token::go_quote;

/// Formats milliseconds as Prometheus' `model.Duration` (`1y`, `2w`, `1d2h`, `1m30s`, `500ms`, `0s`).
pub(crate) fn format_duration_ms(total_ms: i64) -> String {
    if total_ms == 0 {
        return "0s".to_string();
    }
    let mut ms = total_ms;
    let mut out = String::new();
    let units: [(&str, i64, bool); 7] = [
        ("y", 1000 * 60 * 60 * 24 * 365, true),
        ("w", 1000 * 60 * 60 * 24 * 7, true),
        ("d", 1000 * 60 * 60 * 24, false),
        ("h", 1000 * 60 * 60, false),
        ("m", 1000 * 60, false),
        ("s", 1000, false),
        ("ms", 1, false),
    ];
    for (unit, mult, exact) in units {
        if exact && ms % mult != 0 {
            continue;
        }
        let count = ms / mult;
        if count > 0 {
            out.push_str(&format!("{count}{unit}"));
            ms -= count * mult;
        }
    }
    out
}

/// Seconds to whole milliseconds. Durations are kept in seconds as `f64`, so `1001ms` is
/// 1.0009999…; rounding gives back the milliseconds Go keeps exactly in a `time.Duration`.
pub(crate) fn seconds_to_ms(seconds: f64) -> i64 {
    (seconds * 1000.0).round() as i64
}

/// Formats a float like Go's `strconv.FormatFloat(v, 'f', -1, 64)`, with Prometheus' `+Inf`/`-Inf`/`NaN`.
pub(crate) fn format_float(value: f64) -> String {
    if value.is_nan() {
        "NaN".to_string()
    } else if value.is_infinite() {
        if value > 0.0 {
            "+Inf".to_string()
        } else {
            "-Inf".to_string()
        }
    } else {
        format!("{value}")
    }
}

fn is_legacy_name(name: &str, allow_colon: bool) -> bool {
    let mut chars = name.chars();
    let valid_first = |c: char| c == '_' || c.is_ascii_alphabetic() || (allow_colon && c == ':');
    match chars.next() {
        Some(first) if valid_first(first) => chars.all(|c| valid_first(c) || c.is_ascii_digit()),
        _ => false,
    }
}

fn label_name(name: &str) -> String {
    if is_legacy_name(name, false) {
        name.to_string()
    } else {
        go_quote(name)
    }
}

fn label_list(labels: &[String]) -> String {
    labels
        .iter()
        .map(|label| label_name(label))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Display for Matcher {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}{}",
            label_name(&self.name),
            self.op.as_str(),
            go_quote(&self.value)
        )
    }
}

fn write_at_offset(
    f: &mut Formatter<'_>,
    at: Option<AtModifier>,
    offset: Option<&DurationExpr>,
) -> fmt::Result {
    match at {
        Some(AtModifier::Timestamp(ms)) => write!(f, " @ {:.3}", ms as f64 / 1000.0)?,
        Some(AtModifier::Start) => f.write_str(" @ start()")?,
        Some(AtModifier::End) => f.write_str(" @ end()")?,
        None => {}
    }
    match offset {
        Some(DurationExpr::Literal { seconds, .. }) => {
            let ms = seconds_to_ms(*seconds);
            if ms > 0 {
                write!(f, " offset {}", format_duration_ms(ms))?;
            } else if ms < 0 {
                write!(f, " offset -{}", format_duration_ms(-ms))?;
            }
        }
        Some(expr) => write!(f, " offset {expr}")?,
        None => {}
    }
    Ok(())
}

/// A duration in `[...]`: a lone literal prints as a duration, expressions print as written.
struct TopDuration<'a>(&'a DurationExpr);

impl Display for TopDuration<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.0 {
            DurationExpr::Literal { seconds, .. } => {
                f.write_str(&format_duration_ms(seconds_to_ms(*seconds)))
            }
            other => write!(f, "{other}"),
        }
    }
}

impl Display for DurationExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Self::Literal {
                seconds,
                is_duration: true,
                ..
            } => {
                let ms = seconds_to_ms(*seconds);
                if ms < 0 {
                    write!(f, "-{}", format_duration_ms(-ms))
                } else {
                    f.write_str(&format_duration_ms(ms))
                }
            }
            Self::Literal { seconds, .. } => f.write_str(&format_float(*seconds)),
            Self::Step { .. } => f.write_str("step()"),
            Self::Range { .. } => f.write_str("range()"),
            Self::MinOf { lhs, rhs, .. } => write!(f, "min_of({lhs}, {rhs})"),
            Self::MaxOf { lhs, rhs, .. } => write!(f, "max_of({lhs}, {rhs})"),
            Self::Unary {
                op: UnaryOp::Minus,
                expr,
                ..
            } => write!(f, "-{expr}"),
            Self::Unary { expr, .. } => write!(f, "+{expr}"),
            Self::Binary { op, lhs, rhs, .. } => write!(f, "{lhs} {} {rhs}", op.as_str()),
            Self::Paren { expr, .. } => write!(f, "({expr})"),
        }
    }
}

impl Display for VectorSelector {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let mut matchers: Vec<String> = self.matchers.iter().map(ToString::to_string).collect();
        matchers.sort();
        match &self.name {
            Some(name) if !is_legacy_name(name, true) => {
                matchers.insert(0, go_quote(name));
                write!(f, "{{{}}}", matchers.join(","))?;
            }
            Some(name) if matchers.is_empty() => f.write_str(name)?,
            Some(name) => write!(f, "{name}{{{}}}", matchers.join(","))?,
            None => write!(f, "{{{}}}", matchers.join(","))?,
        }
        write_at_offset(f, self.at, self.offset.as_ref())
    }
}

impl AggregateExpr {
    /// The operator and its grouping, as printed before the `(`: `sum`, `sum by (job) `,
    /// `sum without () ` (Prometheus' `getAggOpStr`).
    pub(crate) fn op_prefix(&self) -> String {
        let mut out = self.op.as_str().to_string();
        if self.without {
            out.push_str(&format!(" without ({}) ", label_list(&self.grouping)));
        } else if !self.grouping.is_empty() {
            out.push_str(&format!(" by ({}) ", label_list(&self.grouping)));
        }
        out
    }
}

impl Display for AggregateExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(&self.op_prefix())?;
        f.write_str("(")?;
        if let Some(param) = &self.param {
            write!(f, "{param}, ")?;
        }
        write!(f, "{})", self.expr)
    }
}

impl BinaryExpr {
    /// The operator with its modifiers: `+`, `> bool`, `/ on (a) group_left (b)`.
    pub(crate) fn op_with_modifiers(&self) -> String {
        let mut out = self.op.as_str().to_string();
        if self.return_bool {
            out.push_str(" bool");
        }
        if let Some(matching) = &self.matching
            && (matching.on || !matching.labels.is_empty())
        {
            let keyword = if matching.on { "on" } else { "ignoring" };
            out.push_str(&format!(" {keyword} ({})", label_list(&matching.labels)));
            match matching.card {
                VectorMatchCardinality::ManyToOne => {
                    out.push_str(&format!(" group_left ({})", label_list(&matching.include)))
                }
                VectorMatchCardinality::OneToMany => {
                    out.push_str(&format!(" group_right ({})", label_list(&matching.include)))
                }
                _ => {}
            }
        }
        out
    }
}

impl Display for BinaryExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.lhs, self.op_with_modifiers(), self.rhs)
    }
}

/// What a subquery prints after its inner expression: `[5m:1m] @ 10.000 offset 1m`.
pub(crate) struct SubquerySuffix<'a>(pub(crate) &'a SubqueryExpr);

impl Display for SubquerySuffix<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let sq = self.0;
        write!(f, "[{}:", TopDuration(&sq.range))?;
        if let Some(step) = &sq.step {
            write!(f, "{}", TopDuration(step))?;
        }
        f.write_str("]")?;
        write_at_offset(f, sq.at, sq.offset.as_ref())
    }
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Self::Number(n) if n.is_duration => {
                let ms = seconds_to_ms(n.value);
                if ms < 0 {
                    write!(f, "-{}", format_duration_ms(-ms))
                } else {
                    f.write_str(&format_duration_ms(ms))
                }
            }
            Self::Number(n) => f.write_str(&format_float(n.value)),
            Self::String(s) => match &s.invalid_utf8 {
                Some(quoted) => f.write_str(quoted),
                None => f.write_str(&go_quote(&s.value)),
            },
            Self::VectorSelector(vs) => write!(f, "{vs}"),
            Self::MatrixSelector(ms) => {
                let bare = VectorSelector {
                    offset: None,
                    at: None,
                    ..ms.selector.clone()
                };
                write!(f, "{bare}[{}]", TopDuration(&ms.range))?;
                write_at_offset(f, ms.selector.at, ms.selector.offset.as_ref())
            }
            Self::Subquery(sq) => write!(f, "{}{}", sq.expr, SubquerySuffix(sq)),
            Self::Paren(p) => write!(f, "({})", p.expr),
            Self::Unary(u) => {
                let op = if u.op == UnaryOp::Minus { "-" } else { "+" };
                write!(f, "{op}{}", u.expr)
            }
            Self::Binary(b) => write!(f, "{b}"),
            Self::Aggregate(a) => write!(f, "{a}"),
            Self::Call(c) => {
                let args: Vec<String> = c.args.iter().map(ToString::to_string).collect();
                write!(f, "{}({})", c.func.name, args.join(", "))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_like_model_duration() {
        assert_eq!(format_duration_ms(0), "0s");
        assert_eq!(format_duration_ms(90 * 60 * 1000), "1h30m");
        assert_eq!(format_duration_ms(100_000), "1m40s");
        assert_eq!(format_duration_ms(365 * 24 * 3600 * 1000), "1y");
        assert_eq!(format_duration_ms(14 * 24 * 3600 * 1000), "2w");
        assert_eq!(format_duration_ms(8 * 24 * 3600 * 1000), "8d");
        assert_eq!(format_duration_ms(1500), "1s500ms");
    }

    #[test]
    fn floats_print_like_go() {
        assert_eq!(format_float(1.0), "1");
        assert_eq!(format_float(0.5), "0.5");
        assert_eq!(format_float(f64::INFINITY), "+Inf");
        assert_eq!(format_float(f64::NAN), "NaN");
        assert_eq!(format_float(1e6), "1000000");
    }
}
