//! The parse error: a message and the byte span it refers to, printed as Prometheus prints
//! `ParseErr` (`1:5: parse error: unexpected …`, line and column counted from 1, column in bytes).

use crate::ast::Span;

/// A PromQL syntax or type error found while parsing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{col}: parse error: {message}")]
pub struct ParseError {
    /// The part of the query the error is about.
    pub span: Span,
    /// 1-based line of `span.start`.
    pub line: usize,
    /// 1-based byte column of `span.start` within its line.
    pub col: usize,
    /// The message without position, as Prometheus words it.
    pub message: String,
}

impl ParseError {
    pub(crate) fn new(input: &str, span: Span, message: impl Into<String>) -> Self {
        let pos = span.start.min(input.len());
        let before = input.get(..pos).unwrap_or(input);
        let line = 1 + before.bytes().filter(|b| *b == b'\n').count();
        let col = match before.rfind('\n') {
            Some(line_break) => pos - line_break,
            None => pos + 1,
        };
        Self {
            span,
            line,
            col,
            message: message.into(),
        }
    }
}
