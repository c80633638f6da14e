//! The multi-line form of an expression that Prometheus' `/api/v1/format_query` answers (its
//! `Pretty(0)`, `promql/parser/prettier.go`). A node whose one-line print (`printer.rs`) fits in
//! [`MAX_CHARACTERS_PER_LINE`] bytes stays on one line; a longer one is split, its children indented two
//! spaces per level:
//!
//! - a binary expression puts each operand at the next level and the operator, with `bool`,
//!   `on (…)`/`ignoring (…)` and `group_left (…)`/`group_right (…)`, on its own line between them;
//! - an aggregation prints `sum by (job) (`, then its parameter (if any, followed by `,`) and its operand
//!   at the next level, then `)`;
//! - a function call prints `name(`, each argument at the next level separated by `,` line ends, `)`;
//! - parentheses print `(`, the inner expression at the next level, `)`;
//! - a unary minus prefixes the (pretty) operand with the operator, at the operand's own level;
//! - a subquery prints its inner expression pretty and then `[range:step] @ … offset …`;
//! - literals and vector/range selectors never split, however long.
//!
//! Quirk kept from Prometheus: a subquery that fits on one line is printed without indentation even when
//! its parent put it on a line of its own.

use crate::ast::{Expr, UnaryOp};
use crate::printer::SubquerySuffix;

/// Prometheus' `maxCharactersPerLine`: the longest one-line form a node keeps.
pub const MAX_CHARACTERS_PER_LINE: usize = 100;

const INDENT: &str = "  ";

/// The expression as Prometheus' `Pretty(0)` prints it (the `/api/v1/format_query` answer).
pub fn pretty(expr: &Expr) -> String {
    pretty_with_width(expr, MAX_CHARACTERS_PER_LINE)
}

/// [`pretty`] with another line limit (Prometheus' own tests use 10).
pub fn pretty_with_width(expr: &Expr, max_characters_per_line: usize) -> String {
    let mut out = String::new();
    write_pretty(&mut out, expr, 0, max_characters_per_line);
    out
}

fn push_indent(out: &mut String, level: usize) {
    for _ in 0..level {
        out.push_str(INDENT);
    }
}

/// Appends `expr` printed at `level`: the parent already ended the line, so the node starts with
/// its own indentation (except a subquery that fits, as Prometheus does).
fn write_pretty(out: &mut String, expr: &Expr, level: usize, width: usize) {
    if let Expr::Unary(unary) = expr {
        // The operand is printed at the same level and its leading indentation replaced by the operator.
        let mut child = String::new();
        write_pretty(&mut child, &unary.expr, level, width);
        push_indent(out, level);
        out.push(if unary.op == UnaryOp::Minus { '-' } else { '+' });
        out.push_str(child.trim());
        return;
    }
    let one_line = expr.to_string();
    if one_line.len() <= width {
        if !matches!(expr, Expr::Subquery(_)) {
            push_indent(out, level);
        }
        out.push_str(&one_line);
        return;
    }
    match expr {
        Expr::Subquery(subquery) => {
            write_pretty(out, &subquery.expr, level, width);
            out.push_str(&SubquerySuffix(subquery).to_string());
        }
        Expr::Paren(paren) => {
            push_indent(out, level);
            out.push_str("(\n");
            write_pretty(out, &paren.expr, level + 1, width);
            out.push('\n');
            push_indent(out, level);
            out.push(')');
        }
        Expr::Binary(binary) => {
            write_pretty(out, &binary.lhs, level + 1, width);
            out.push('\n');
            push_indent(out, level);
            out.push_str(&binary.op_with_modifiers());
            out.push('\n');
            write_pretty(out, &binary.rhs, level + 1, width);
        }
        Expr::Aggregate(aggregate) => {
            push_indent(out, level);
            out.push_str(&aggregate.op_prefix());
            out.push_str("(\n");
            if let Some(param) = &aggregate.param {
                write_pretty(out, param, level + 1, width);
                out.push_str(",\n");
            }
            write_pretty(out, &aggregate.expr, level + 1, width);
            out.push('\n');
            push_indent(out, level);
            out.push(')');
        }
        Expr::Call(call) if !call.args.is_empty() => {
            push_indent(out, level);
            out.push_str(call.func.name);
            out.push_str("(\n");
            for (i, arg) in call.args.iter().enumerate() {
                if i > 0 {
                    out.push_str(",\n");
                }
                write_pretty(out, arg, level + 1, width);
            }
            out.push('\n');
            push_indent(out, level);
            out.push(')');
        }
        // Literals, selectors and argument-less calls never split.
        _ => {
            push_indent(out, level);
            out.push_str(&one_line);
        }
    }
}
