//! The PromQL parser: recursive descent with precedence climbing over the lexer's tokens, building the
//! AST of `ast.rs` and failing with the first error, worded and positioned as Prometheus does. Parsing
//! is split by concern: expressions and operators (`expr.rs`), selectors and matchers (`selector.rs`),
//! calls and aggregations (`call.rs`), durations, offsets and `@` (`duration.rs`), literal values
//! (`literal.rs`), and the type checks Prometheus runs after a successful parse (`check.rs`).

mod call;
mod check;
mod duration;
mod expr;
pub(crate) mod literal;
mod selector;

use crate::ast::{Expr, Span};
use crate::error::ParseError;
use crate::lexer::lex;
use crate::token::{Token, TokenKind};

pub(crate) type PResult<T> = Result<T, ParseError>;

/// Parses a PromQL expression, type-checking it as Prometheus does at parse time.
pub fn parse(input: &str) -> Result<Expr, ParseError> {
    let mut parser = Parser {
        input,
        tokens: lex(input),
        pos: 0,
        depth: 0,
    };
    if *parser.peek_kind() == TokenKind::Eof {
        return Err(parser.error(Span::default(), "no expression found in input"));
    }
    let mut expr = parser.parse_expr(0)?;
    if *parser.peek_kind() != TokenKind::Eof {
        return Err(parser.unexpected("", ""));
    }
    parser.check(&mut expr)?;
    Ok(expr)
}

pub(crate) struct Parser<'a> {
    input: &'a str,
    /// Never empty: the lexer always ends with `Eof` or `Error`.
    tokens: Vec<Token>,
    pos: usize,
    /// Depth budget in use, bounded by `DEPTH_BUDGET`.
    depth: usize,
}

/// How many levels of parentheses, calls, unary operators and brackets an expression may nest. The
/// limit keeps the recursive descent (and the recursive walks over the tree) well inside a 2 MiB stack.
pub const MAX_NESTING: usize = 128;

/// A nesting level costs this much of the depth budget; one link of a left-deep operator chain
/// (`a or b or c …`, which nests the tree without recursing in the parser) costs 1, so chains of
/// about `MAX_NESTING * LEVEL_COST` operators are accepted.
const LEVEL_COST: usize = 4;
const DEPTH_BUDGET: usize = MAX_NESTING * LEVEL_COST;

impl Parser<'_> {
    fn peek(&self) -> &Token {
        let last = self.tokens.len().saturating_sub(1);
        &self.tokens[self.pos.min(last)]
    }

    fn peek_kind(&self) -> &TokenKind {
        &self.peek().kind
    }

    fn peek_nth_kind(&self, n: usize) -> &TokenKind {
        let last = self.tokens.len().saturating_sub(1);
        &self.tokens[(self.pos + n).min(last)].kind
    }

    /// Consumes the current token; `Eof`/`Error` are never consumed past.
    fn advance(&mut self) -> Token {
        let token = self.peek().clone();
        if self.pos + 1 < self.tokens.len() {
            self.pos += 1;
        }
        token
    }

    /// Enters one nesting level of a recursive rule; pair with [`Parser::leave`].
    fn enter(&mut self) -> PResult<()> {
        self.spend_depth(LEVEL_COST)
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(LEVEL_COST);
    }

    /// Spends `cost` of the depth budget (the caller gives it back); fails once the budget is exceeded.
    fn spend_depth(&mut self, cost: usize) -> PResult<()> {
        self.depth += cost;
        if self.depth > DEPTH_BUDGET {
            let span = self.peek().span;
            return Err(self.error(
                span,
                format!("expression nests too deeply (limit {MAX_NESTING} levels)"),
            ));
        }
        Ok(())
    }

    /// End of the last consumed token.
    fn previous_end(&self) -> usize {
        self.pos
            .checked_sub(1)
            .and_then(|index| self.tokens.get(index))
            .map_or(0, |token| token.span.end)
    }

    fn text(&self, span: Span) -> &str {
        self.input.get(span.start..span.end).unwrap_or("")
    }

    fn error(&self, span: Span, message: impl Into<String>) -> ParseError {
        ParseError::new(self.input, span, message)
    }

    /// "unexpected <current token>[ in <context>][, expected <expected>]", or the lexer's error.
    fn unexpected(&self, context: &str, expected: &str) -> ParseError {
        let token = self.peek();
        if let TokenKind::Error(message) = &token.kind {
            return self.error(token.span, message.clone());
        }
        let mut message = format!("unexpected {}", token.describe(self.input));
        if !context.is_empty() {
            message.push_str(" in ");
            message.push_str(context);
        }
        if !expected.is_empty() {
            message.push_str(", expected ");
            message.push_str(expected);
        }
        self.error(token.span, message)
    }

    /// Consumes a token of `kind` or fails with `unexpected(context, expected)`.
    fn expect(&mut self, kind: &TokenKind, context: &str, expected: &str) -> PResult<Token> {
        if self.peek_kind() == kind {
            Ok(self.advance())
        } else {
            Err(self.unexpected(context, expected))
        }
    }
}
