//! Durations and the modifiers that use them: range selectors and subqueries (`[5m]`, `[1h:5m]`),
//! `offset`, and `@`. Durations are Prometheus 3 duration expressions: inside brackets any arithmetic
//! over numbers (seconds), duration literals, `step()`, `range()`, `min_of`/`max_of` and parentheses;
//! after `offset` a signed literal, a parenthesised expression or one of those calls (so
//! `x offset 5m + 1` adds 1 to the offset selector).

use super::literal::{parse_duration_ms, parse_number};
use super::{PResult, Parser};
use crate::ast::{
    AtModifier, DurationExpr, DurationOp, Expr, MatrixSelector, Span, SubqueryExpr, UnaryOp,
};
use crate::printer::format_float;
use crate::token::{Keyword, TokenKind};

const UNARY_OPERAND_PRECEDENCE: u8 = 6;

fn duration_op(kind: &TokenKind) -> Option<DurationOp> {
    match kind {
        TokenKind::Add => Some(DurationOp::Add),
        TokenKind::Sub => Some(DurationOp::Sub),
        TokenKind::Mul => Some(DurationOp::Mul),
        TokenKind::Div => Some(DurationOp::Div),
        TokenKind::Mod => Some(DurationOp::Mod),
        TokenKind::Pow => Some(DurationOp::Pow),
        _ => None,
    }
}

fn starts_duration(kind: &TokenKind) -> bool {
    matches!(
        kind,
        TokenKind::Number
            | TokenKind::Duration
            | TokenKind::LeftParen
            | TokenKind::Add
            | TokenKind::Sub
            | TokenKind::Identifier
            | TokenKind::Keyword(Keyword::Step | Keyword::Range)
    )
}

const PRECEDED_BY: &str =
    "must be preceded by an instant vector selector or range vector selector or a subquery";

impl Parser<'_> {
    /// `[range]` or `[range:step]` after `expr`; the current token is `[`.
    pub(super) fn parse_range_or_subquery(&mut self, expr: Expr) -> PResult<Expr> {
        let open = self.advance();
        if !starts_duration(self.peek_kind()) {
            return Err(self.unexpected("subquery selector", "number or duration"));
        }
        let range = self.parse_duration_expr(0, "subquery selector")?;
        match self.peek_kind() {
            TokenKind::RightBracket => {
                let close = self.advance();
                let brackets = open.span.to(close.span);
                let Expr::VectorSelector(selector) = expr else {
                    return Err(self.error(brackets, "ranges only allowed for vector selectors"));
                };
                if selector.offset.is_some() {
                    return Err(self.error(brackets, "no offset modifiers allowed before range"));
                }
                if selector.at.is_some() {
                    return Err(self.error(brackets, "no @ modifiers allowed before range"));
                }
                let span = selector.span.to(close.span);
                Ok(Expr::MatrixSelector(MatrixSelector {
                    selector,
                    range,
                    span,
                }))
            }
            TokenKind::Colon => {
                self.advance();
                let step = if *self.peek_kind() == TokenKind::RightBracket {
                    None
                } else if starts_duration(self.peek_kind()) {
                    Some(self.parse_duration_expr(0, "subquery selector")?)
                } else {
                    return Err(self.unexpected("subquery selector", "number or duration or \"]\""));
                };
                let close = self.expect(&TokenKind::RightBracket, "subquery selector", "\"]\"")?;
                let span = expr.span().to(close.span);
                Ok(Expr::Subquery(SubqueryExpr {
                    expr: Box::new(expr),
                    range,
                    step,
                    offset: None,
                    at: None,
                    span,
                }))
            }
            _ => Err(self.unexpected("subquery or range", "\":\" or \"]\"")),
        }
    }

    fn parse_duration_expr(&mut self, min_precedence: u8, context: &str) -> PResult<DurationExpr> {
        self.enter()?;
        let result = self.parse_duration_expr_inner(min_precedence, context);
        self.leave();
        result
    }

    fn parse_duration_expr_inner(
        &mut self,
        min_precedence: u8,
        context: &str,
    ) -> PResult<DurationExpr> {
        let mut lhs = self.parse_duration_unary(context)?;
        while let Some(op) = duration_op(self.peek_kind()) {
            let precedence = op.precedence();
            if precedence < min_precedence {
                break;
            }
            self.advance();
            let rhs_min = if op == DurationOp::Pow {
                precedence
            } else {
                precedence + 1
            };
            let rhs = self.parse_duration_expr(rhs_min, context)?;
            let span = lhs.span().to(rhs.span());
            lhs = DurationExpr::Binary {
                op,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
                span,
            };
        }
        Ok(lhs)
    }

    fn parse_duration_unary(&mut self, context: &str) -> PResult<DurationExpr> {
        let op = match self.peek_kind() {
            TokenKind::Add => UnaryOp::Plus,
            TokenKind::Sub => UnaryOp::Minus,
            _ => return self.parse_duration_primary(context),
        };
        let op_token = self.advance();
        let operand = self.parse_duration_expr(UNARY_OPERAND_PRECEDENCE, context)?;
        let span = op_token.span.to(operand.span());
        Ok(DurationExpr::Unary {
            op,
            expr: Box::new(operand),
            span,
        })
    }

    fn parse_duration_primary(&mut self, context: &str) -> PResult<DurationExpr> {
        let token = self.peek().clone();
        match &token.kind {
            TokenKind::Number => {
                self.advance();
                let seconds = parse_number(self.text(token.span))
                    .map_err(|message| self.error(token.span, message))?;
                Ok(DurationExpr::Literal {
                    seconds,
                    is_duration: false,
                    span: token.span,
                })
            }
            TokenKind::Duration => {
                self.advance();
                let ms = parse_duration_ms(self.text(token.span))
                    .map_err(|message| self.error(token.span, message))?;
                Ok(DurationExpr::Literal {
                    seconds: ms as f64 / 1000.0,
                    is_duration: true,
                    span: token.span,
                })
            }
            TokenKind::LeftParen => {
                self.advance();
                let inner = self.parse_duration_expr(0, context)?;
                let close = self.expect(&TokenKind::RightParen, context, "\")\"")?;
                Ok(DurationExpr::Paren {
                    expr: Box::new(inner),
                    span: token.span.to(close.span),
                })
            }
            TokenKind::Keyword(keyword @ (Keyword::Step | Keyword::Range)) => {
                self.advance();
                self.expect(&TokenKind::LeftParen, context, "\"(\"")?;
                let close = self.expect(&TokenKind::RightParen, context, "\")\"")?;
                let span = token.span.to(close.span);
                Ok(if *keyword == Keyword::Step {
                    DurationExpr::Step { span }
                } else {
                    DurationExpr::Range { span }
                })
            }
            TokenKind::Identifier if matches!(self.text(token.span), "min_of" | "max_of") => {
                let is_min = self.text(token.span) == "min_of";
                self.advance();
                self.expect(&TokenKind::LeftParen, context, "\"(\"")?;
                let lhs = Box::new(self.parse_duration_expr(0, context)?);
                self.expect(&TokenKind::Comma, context, "\",\"")?;
                let rhs = Box::new(self.parse_duration_expr(0, context)?);
                let close = self.expect(&TokenKind::RightParen, context, "\")\"")?;
                let span = token.span.to(close.span);
                Ok(if is_min {
                    DurationExpr::MinOf { lhs, rhs, span }
                } else {
                    DurationExpr::MaxOf { lhs, rhs, span }
                })
            }
            _ => Err(self.unexpected(context, "number or duration")),
        }
    }

    /// The duration after `offset`: an optional sign and one duration primary; a signed literal is folded.
    pub(super) fn parse_offset_duration(&mut self) -> PResult<DurationExpr> {
        let sign = match self.peek_kind() {
            TokenKind::Add => Some(UnaryOp::Plus),
            TokenKind::Sub => Some(UnaryOp::Minus),
            _ => None,
        };
        let sign_span = sign.map(|_| self.advance().span);
        let primary = self.parse_duration_primary("offset")?;
        let (Some(op), Some(sign_span)) = (sign, sign_span) else {
            return Ok(primary);
        };
        let span = sign_span.to(primary.span());
        match primary {
            DurationExpr::Literal {
                seconds,
                is_duration,
                ..
            } => {
                let seconds = if op == UnaryOp::Minus {
                    -seconds
                } else {
                    seconds
                };
                Ok(DurationExpr::Literal {
                    seconds,
                    is_duration,
                    span,
                })
            }
            other => Ok(DurationExpr::Unary {
                op,
                expr: Box::new(other),
                span,
            }),
        }
    }

    /// The argument of `@`: a signed number or duration (seconds), `start()` or `end()`.
    pub(super) fn parse_at(&mut self, target: &Expr) -> PResult<AtModifier> {
        if let TokenKind::Keyword(keyword @ (Keyword::Start | Keyword::End)) = *self.peek_kind() {
            self.advance();
            self.expect(&TokenKind::LeftParen, "@", "\"(\"")?;
            self.expect(&TokenKind::RightParen, "@", "\")\"")?;
            return Ok(if keyword == Keyword::Start {
                AtModifier::Start
            } else {
                AtModifier::End
            });
        }
        let negative = match self.peek_kind() {
            TokenKind::Sub => true,
            TokenKind::Add => false,
            TokenKind::Number | TokenKind::Duration => false,
            _ => return Err(self.unexpected("@", "timestamp")),
        };
        if matches!(self.peek_kind(), TokenKind::Add | TokenKind::Sub) {
            self.advance();
        }
        let token = self.peek().clone();
        let seconds = match token.kind {
            TokenKind::Number => parse_number(self.text(token.span)),
            TokenKind::Duration => {
                parse_duration_ms(self.text(token.span)).map(|ms| ms as f64 / 1000.0)
            }
            _ => return Err(self.unexpected("@", "timestamp")),
        }
        .map_err(|message| self.error(token.span, message))?;
        self.advance();
        let seconds = if negative { -seconds } else { seconds };
        if !seconds.is_finite() || seconds >= i64::MAX as f64 || seconds <= i64::MIN as f64 {
            let shown = if seconds.is_finite() {
                format!("{seconds:.6}")
            } else {
                format_float(seconds)
            };
            return Err(self.error(
                target.span(),
                format!("timestamp out of bounds for @ modifier: {shown}"),
            ));
        }
        Ok(AtModifier::Timestamp((seconds * 1000.0).round() as i64))
    }

    pub(super) fn add_offset(&self, expr: &mut Expr, offset: DurationExpr) -> PResult<()> {
        let end = self.previous_end();
        let whole = expr.span();
        let (slot, span): (&mut Option<DurationExpr>, &mut Span) = match expr {
            Expr::VectorSelector(vs) => (&mut vs.offset, &mut vs.span),
            Expr::MatrixSelector(ms) => (&mut ms.selector.offset, &mut ms.span),
            Expr::Subquery(sq) => (&mut sq.offset, &mut sq.span),
            _ => return Err(self.error(whole, format!("offset modifier {PRECEDED_BY}"))),
        };
        if slot.is_some() {
            return Err(self.error(whole, "offset may not be set multiple times"));
        }
        *slot = Some(offset);
        span.end = end;
        Ok(())
    }

    pub(super) fn set_at(&self, expr: &mut Expr, at: AtModifier) -> PResult<()> {
        let end = self.previous_end();
        let whole = expr.span();
        let (slot, span): (&mut Option<AtModifier>, &mut Span) = match expr {
            Expr::VectorSelector(vs) => (&mut vs.at, &mut vs.span),
            Expr::MatrixSelector(ms) => (&mut ms.selector.at, &mut ms.span),
            Expr::Subquery(sq) => (&mut sq.at, &mut sq.span),
            _ => return Err(self.error(whole, format!("@ modifier {PRECEDED_BY}"))),
        };
        if slot.is_some() {
            return Err(self.error(whole, "@ <timestamp> may not be set multiple times"));
        }
        *slot = Some(at);
        span.end = end;
        Ok(())
    }
}
