//! Function calls (`rate(x[5m])`), aggregations in both modifier positions (`sum by (job) (x)`,
//! `sum(x) by (job)`) and grouping label lists, which may hold keywords and quoted UTF-8 names.

use super::literal::unquote;
use super::{PResult, Parser};
use crate::ast::{AggregateExpr, AggregateOp, Call, Expr, Span};
use crate::functions::function;
use crate::token::{Keyword, TokenKind, go_quote};

impl Parser<'_> {
    /// A function call; the current token is its name and the next one `(`.
    pub(super) fn parse_call(&mut self) -> PResult<Expr> {
        let name_token = self.advance();
        let written = self.text(name_token.span);
        let name = match name_token.kind {
            TokenKind::Keyword(keyword) => keyword.as_str(),
            _ => written,
        };
        let Some(func) = function(name) else {
            return Err(self.error(
                name_token.span,
                format!("unknown function with name {}", go_quote(written)),
            ));
        };
        let (args, close) = self.parse_call_body("")?;
        Ok(Expr::Call(Call {
            func,
            args,
            span: name_token.span.to(close),
        }))
    }

    /// `( expr, … )`; returns the arguments and the span of `)`.
    fn parse_call_body(&mut self, context: &str) -> PResult<(Vec<Expr>, Span)> {
        self.expect(&TokenKind::LeftParen, context, "")?;
        let mut args = Vec::new();
        if *self.peek_kind() == TokenKind::RightParen {
            return Ok((args, self.advance().span));
        }
        loop {
            args.push(self.parse_expr(0)?);
            match self.peek_kind() {
                TokenKind::Comma => {
                    let comma = self.advance();
                    if *self.peek_kind() == TokenKind::RightParen {
                        return Err(self.error(
                            comma.span,
                            "trailing commas not allowed in function call args",
                        ));
                    }
                }
                TokenKind::RightParen => return Ok((args, self.advance().span)),
                _ => return Err(self.unexpected(context, "")),
            }
        }
    }

    /// An aggregation; the current token is the operator.
    pub(super) fn parse_aggregate(&mut self, op: AggregateOp) -> PResult<Expr> {
        let op_token = self.advance();
        let mut grouping = Vec::new();
        let mut without = false;
        let mut has_modifier = false;
        if let TokenKind::Keyword(keyword @ (Keyword::By | Keyword::Without)) = *self.peek_kind() {
            self.advance();
            without = keyword == Keyword::Without;
            grouping = self.parse_grouping_labels()?.0;
            has_modifier = true;
        }
        let (mut args, mut end) = self.parse_call_body("aggregation")?;
        if !has_modifier
            && let TokenKind::Keyword(keyword @ (Keyword::By | Keyword::Without)) =
                *self.peek_kind()
        {
            self.advance();
            without = keyword == Keyword::Without;
            let (labels, close) = self.parse_grouping_labels()?;
            grouping = labels;
            end = close;
        }
        let span = op_token.span.to(end);
        if args.is_empty() {
            return Err(self.error(span, "no arguments for aggregate expression provided"));
        }
        let desired = if op.param_type().is_some() { 2 } else { 1 };
        if args.len() != desired {
            return Err(self.error(
                span,
                format!(
                    "wrong number of arguments for aggregate expression provided, expected {desired}, got {}",
                    args.len()
                ),
            ));
        }
        let expr = args.pop().map(Box::new);
        let param = args.pop().map(Box::new);
        let Some(expr) = expr else {
            return Err(self.error(span, "no arguments for aggregate expression provided"));
        };
        Ok(Expr::Aggregate(AggregateExpr {
            op,
            expr,
            param,
            grouping,
            without,
            span,
        }))
    }

    /// `( label, … )` after `by`, `without`, `on`, `ignoring`, `group_left`, `group_right`.
    pub(super) fn parse_grouping_labels(&mut self) -> PResult<(Vec<String>, Span)> {
        let open = self.expect(&TokenKind::LeftParen, "grouping opts", "\"(\"")?;
        let mut labels = Vec::new();
        loop {
            let token = self.peek().clone();
            let label = match token.kind {
                TokenKind::RightParen => {
                    self.advance();
                    return Ok((labels, open.span.to(token.span)));
                }
                TokenKind::String => unquote(self.text(token.span)),
                TokenKind::Identifier
                | TokenKind::Keyword(_)
                | TokenKind::Aggregator(_)
                | TokenKind::And
                | TokenKind::Or
                | TokenKind::Unless
                | TokenKind::Atan2 => self.text(token.span).to_string(),
                _ => return Err(self.unexpected("grouping opts", "label")),
            };
            self.advance();
            labels.push(label);
            match self.peek_kind() {
                TokenKind::Comma => {
                    self.advance();
                }
                TokenKind::RightParen => {}
                _ => return Err(self.unexpected("grouping opts", "\",\" or \")\"")),
            }
        }
    }
}
