//! Lexical tokens: their kinds, byte spans, and the way Prometheus' `Item.desc()` names them in
//! "unexpected …" messages (`<op:*>`, `<by>`, `identifier "foo"`, `"("`), plus Go-style quoting.

use crate::ast::{AggregateOp, Span};

/// Keywords that are not operators or aggregations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keyword {
    Bool,
    By,
    GroupLeft,
    GroupRight,
    Ignoring,
    Offset,
    On,
    Without,
    Start,
    End,
    Step,
    Range,
}

impl Keyword {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Bool => "bool",
            Self::By => "by",
            Self::GroupLeft => "group_left",
            Self::GroupRight => "group_right",
            Self::Ignoring => "ignoring",
            Self::Offset => "offset",
            Self::On => "on",
            Self::Without => "without",
            Self::Start => "start",
            Self::End => "end",
            Self::Step => "step",
            Self::Range => "range",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TokenKind {
    Identifier,
    MetricIdentifier,
    Number,
    Duration,
    String,
    LeftParen,
    RightParen,
    LeftBrace,
    RightBrace,
    LeftBracket,
    RightBracket,
    Comma,
    Colon,
    /// `=`
    Eql,
    /// `==`
    Eqlc,
    Neq,
    EqlRegex,
    NeqRegex,
    Lss,
    Lte,
    Gtr,
    Gte,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    At,
    Atan2,
    And,
    Or,
    Unless,
    Aggregator(AggregateOp),
    Keyword(Keyword),
    Eof,
    /// A lexical error; always the last token.
    Error(String),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

impl Token {
    /// Describes the token as Prometheus' `Item.desc()` does in "unexpected …" messages.
    pub(crate) fn describe(&self, input: &str) -> String {
        let text = input.get(self.span.start..self.span.end).unwrap_or("");
        let quoted = || {
            let shown: String = text.chars().take(10).collect();
            if text.chars().count() > 10 {
                format!("{}...", go_quote(&shown))
            } else {
                go_quote(&shown)
            }
        };
        match &self.kind {
            TokenKind::Eof => "end of input".to_string(),
            TokenKind::Error(message) => message.clone(),
            TokenKind::Identifier => format!("identifier {}", go_quote(text)),
            TokenKind::MetricIdentifier => format!("metric identifier {}", go_quote(text)),
            TokenKind::Number => format!("number {}", quoted()),
            TokenKind::Duration => format!("duration {}", quoted()),
            TokenKind::String => format!("string {}", quoted()),
            TokenKind::Keyword(_) => format!("<{text}>"),
            TokenKind::Aggregator(_) => format!("<aggr:{text}>"),
            TokenKind::Eql
            | TokenKind::LeftParen
            | TokenKind::RightParen
            | TokenKind::LeftBrace
            | TokenKind::RightBrace
            | TokenKind::LeftBracket
            | TokenKind::RightBracket
            | TokenKind::Comma
            | TokenKind::Colon => go_quote(text),
            _ => format!("<op:{text}>"),
        }
    }
}

/// Quotes like Go's `%q` for the characters that occur in queries.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Quotes a single character like Go's `%q` on a rune.
pub(crate) fn quote_char(c: char) -> String {
    match c {
        '\'' => "'\\''".to_string(),
        '\n' => "'\\n'".to_string(),
        '\t' => "'\\t'".to_string(),
        '\r' => "'\\r'".to_string(),
        c => format!("'{c}'"),
    }
}
