//! Expressions and operators: precedence climbing with Prometheus' table (`or` < `and unless` <
//! comparisons < `+ -` < `* / % atan2` < `^`, `^` right-associative), unary `+`/`-` binding like `*`,
//! binary modifiers (`bool`, `on`/`ignoring`, `group_left`/`group_right`), postfix `[...]`, `offset` and
//! `@` that bind tightest, and the primary expressions.

use super::literal::{go_quote_bytes, parse_duration_ms, parse_number, unquote_bytes};
use super::{PResult, Parser};
use crate::ast::{
    BinaryExpr, BinaryOp, Expr, NumberLiteral, ParenExpr, StringLiteral, UnaryExpr, UnaryOp,
    VectorMatchCardinality, VectorMatching,
};
use crate::token::{Keyword, TokenKind};

/// Unary operators bind like `*`: their operand extends over `^` only.
const UNARY_OPERAND_PRECEDENCE: u8 = 6;

fn binary_op(kind: &TokenKind) -> Option<BinaryOp> {
    let op = match kind {
        TokenKind::Add => BinaryOp::Add,
        TokenKind::Sub => BinaryOp::Sub,
        TokenKind::Mul => BinaryOp::Mul,
        TokenKind::Div => BinaryOp::Div,
        TokenKind::Mod => BinaryOp::Mod,
        TokenKind::Pow => BinaryOp::Pow,
        TokenKind::Atan2 => BinaryOp::Atan2,
        TokenKind::Eqlc => BinaryOp::Eql,
        TokenKind::Neq => BinaryOp::Neq,
        TokenKind::Gtr => BinaryOp::Gtr,
        TokenKind::Lss => BinaryOp::Lss,
        TokenKind::Gte => BinaryOp::Gte,
        TokenKind::Lte => BinaryOp::Lte,
        TokenKind::And => BinaryOp::And,
        TokenKind::Or => BinaryOp::Or,
        TokenKind::Unless => BinaryOp::Unless,
        _ => return None,
    };
    Some(op)
}

impl Parser<'_> {
    /// Parses an expression whose binary operators all bind at least as tight as `min_precedence`.
    pub(super) fn parse_expr(&mut self, min_precedence: u8) -> PResult<Expr> {
        self.enter()?;
        let result = self.parse_expr_inner(min_precedence);
        self.leave();
        result
    }

    fn parse_expr_inner(&mut self, min_precedence: u8) -> PResult<Expr> {
        let mut lhs = self.parse_unary()?;
        let mut chain = 0;
        while let Some(op) = binary_op(self.peek_kind()) {
            let precedence = op.precedence();
            if precedence < min_precedence {
                break;
            }
            // A left-deep chain (`a + b + c …`) nests the tree like parentheses do.
            chain += 1;
            self.spend_depth(1)?;
            self.advance();
            let (return_bool, matching) = self.parse_bin_modifiers()?;
            let rhs_min = if op == BinaryOp::Pow {
                precedence
            } else {
                precedence + 1
            };
            let rhs = self.parse_expr(rhs_min)?;
            let span = lhs.span().to(rhs.span());
            lhs = Expr::Binary(BinaryExpr {
                op,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
                return_bool,
                matching: Some(matching),
                span,
            });
        }
        self.depth -= chain;
        Ok(lhs)
    }

    fn parse_bin_modifiers(&mut self) -> PResult<(bool, VectorMatching)> {
        let mut matching = VectorMatching {
            card: VectorMatchCardinality::OneToOne,
            on: false,
            labels: Vec::new(),
            include: Vec::new(),
        };
        let return_bool = *self.peek_kind() == TokenKind::Keyword(Keyword::Bool);
        if return_bool {
            self.advance();
        }
        let on = match self.peek_kind() {
            TokenKind::Keyword(Keyword::On) => true,
            TokenKind::Keyword(Keyword::Ignoring) => false,
            _ => return Ok((return_bool, matching)),
        };
        self.advance();
        matching.on = on;
        matching.labels = self.parse_grouping_labels()?.0;
        let card = match self.peek_kind() {
            TokenKind::Keyword(Keyword::GroupLeft) => VectorMatchCardinality::ManyToOne,
            TokenKind::Keyword(Keyword::GroupRight) => VectorMatchCardinality::OneToMany,
            _ => return Ok((return_bool, matching)),
        };
        self.advance();
        matching.card = card;
        if *self.peek_kind() == TokenKind::LeftParen {
            matching.include = self.parse_grouping_labels()?.0;
        }
        Ok((return_bool, matching))
    }

    fn parse_unary(&mut self) -> PResult<Expr> {
        let op = match self.peek_kind() {
            TokenKind::Add => UnaryOp::Plus,
            TokenKind::Sub => UnaryOp::Minus,
            _ => return self.parse_postfix(),
        };
        let op_token = self.advance();
        let operand = self.parse_expr(UNARY_OPERAND_PRECEDENCE)?;
        let span = op_token.span.to(operand.span());
        if let Expr::Number(mut number) = operand {
            if op == UnaryOp::Minus {
                number.value = -number.value;
            }
            number.span = span;
            return Ok(Expr::Number(number));
        }
        Ok(Expr::Unary(UnaryExpr {
            op,
            expr: Box::new(operand),
            span,
        }))
    }

    /// A primary expression followed by any number of `[...]`, `offset …` and `@ …`.
    fn parse_postfix(&mut self) -> PResult<Expr> {
        let mut expr = self.parse_primary()?;
        loop {
            match self.peek_kind() {
                TokenKind::LeftBracket => expr = self.parse_range_or_subquery(expr)?,
                TokenKind::Keyword(Keyword::Offset) => {
                    self.advance();
                    let offset = self.parse_offset_duration()?;
                    self.add_offset(&mut expr, offset)?;
                }
                TokenKind::At => {
                    self.advance();
                    let at = self.parse_at(&expr)?;
                    self.set_at(&mut expr, at)?;
                }
                _ => return Ok(expr),
            }
        }
    }

    fn parse_primary(&mut self) -> PResult<Expr> {
        let token = self.peek().clone();
        let next_is_paren = *self.peek_nth_kind(1) == TokenKind::LeftParen;
        match &token.kind {
            TokenKind::Number => {
                self.advance();
                let value = parse_number(self.text(token.span))
                    .map_err(|message| self.error(token.span, message))?;
                Ok(Expr::Number(NumberLiteral {
                    value,
                    is_duration: false,
                    span: token.span,
                }))
            }
            TokenKind::Duration => {
                self.advance();
                let ms = parse_duration_ms(self.text(token.span))
                    .map_err(|message| self.error(token.span, message))?;
                Ok(Expr::Number(NumberLiteral {
                    value: ms as f64 / 1000.0,
                    is_duration: true,
                    span: token.span,
                }))
            }
            TokenKind::String => {
                self.advance();
                let bytes = unquote_bytes(self.text(token.span));
                let invalid_utf8 = std::str::from_utf8(&bytes)
                    .is_err()
                    .then(|| go_quote_bytes(&bytes));
                Ok(Expr::String(StringLiteral {
                    value: String::from_utf8_lossy(&bytes).into_owned(),
                    span: token.span,
                    invalid_utf8,
                }))
            }
            TokenKind::LeftParen => {
                self.advance();
                let inner = self.parse_expr(0)?;
                let close = self.expect(&TokenKind::RightParen, "", "")?;
                Ok(Expr::Paren(ParenExpr {
                    expr: Box::new(inner),
                    span: token.span.to(close.span),
                }))
            }
            TokenKind::LeftBrace => self.parse_vector_selector(None),
            TokenKind::Identifier if next_is_paren => self.parse_call(),
            TokenKind::Keyword(Keyword::Step | Keyword::Range | Keyword::Start | Keyword::End)
                if next_is_paren =>
            {
                self.parse_call()
            }
            TokenKind::Aggregator(op) if next_is_paren || self.next_is_grouping() => {
                self.parse_aggregate(*op)
            }
            TokenKind::Identifier
            | TokenKind::MetricIdentifier
            | TokenKind::Aggregator(_)
            | TokenKind::And
            | TokenKind::Or
            | TokenKind::Unless
            | TokenKind::Keyword(
                Keyword::By
                | Keyword::Without
                | Keyword::Offset
                | Keyword::Start
                | Keyword::End
                | Keyword::Step
                | Keyword::Range,
            ) => {
                self.advance();
                let name = self.text(token.span).to_string();
                self.parse_vector_selector(Some((name, token.span)))
            }
            _ => Err(self.unexpected("", "")),
        }
    }

    fn next_is_grouping(&self) -> bool {
        matches!(
            self.peek_nth_kind(1),
            TokenKind::Keyword(Keyword::By | Keyword::Without)
        )
    }
}
