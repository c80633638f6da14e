//! Vector selectors and label matchers: `name`, `name{…}`, `{…}`, with Prometheus 3 quoted UTF-8 names
//! (`{"my.metric", "label.name"="x"}`). Regex matchers are compiled, fully anchored as Prometheus does,
//! so a bad regex fails at parse time.

use std::sync::Arc;

use mimir_matcher::FastRegex;

use super::literal::unquote;
use super::{PResult, Parser};
use crate::ast::{Expr, Matcher, MatcherOp, Span, VectorSelector};
use crate::token::TokenKind;

/// The label that holds the metric name.
pub(crate) const METRIC_NAME: &str = "__name__";

/// The matcher's regex, compiled as `^(?s:value)$` through the process-wide cache (the engine and
/// the ingester reuse it).
fn anchored_regex(value: &str) -> Result<Arc<FastRegex>, regex::Error> {
    mimir_matcher::compile(value)
}

/// Whether the matcher selects series that lack the label (an empty value matches).
pub(super) fn matches_empty(matcher: &Matcher) -> bool {
    match matcher.op {
        MatcherOp::Equal => matcher.value.is_empty(),
        MatcherOp::NotEqual => !matcher.value.is_empty(),
        MatcherOp::Regex => anchored_regex(&matcher.value).is_ok_and(|re| re.is_match("")),
        MatcherOp::NotRegex => anchored_regex(&matcher.value).is_ok_and(|re| !re.is_match("")),
    }
}

fn matcher_op(kind: &TokenKind) -> Option<MatcherOp> {
    match kind {
        TokenKind::Eql => Some(MatcherOp::Equal),
        TokenKind::Neq => Some(MatcherOp::NotEqual),
        TokenKind::EqlRegex => Some(MatcherOp::Regex),
        TokenKind::NeqRegex => Some(MatcherOp::NotRegex),
        _ => None,
    }
}

impl Parser<'_> {
    /// Parses the optional `{…}` after a metric name (already consumed), or a selector that starts at `{`.
    pub(super) fn parse_vector_selector(&mut self, name: Option<(String, Span)>) -> PResult<Expr> {
        let (name, mut span) = match name {
            Some((name, span)) => (Some(name), Some(span)),
            None => (None, None),
        };
        let mut matchers = Vec::new();
        if *self.peek_kind() == TokenKind::LeftBrace {
            let (parsed, braces) = self.parse_label_matchers()?;
            matchers = parsed;
            span = Some(span.map_or(braces, |name_span| name_span.to(braces)));
        }
        let span = span.unwrap_or_default();
        Ok(Expr::VectorSelector(VectorSelector {
            name,
            matchers,
            offset: None,
            at: None,
            span,
        }))
    }

    fn parse_label_matchers(&mut self) -> PResult<(Vec<Matcher>, Span)> {
        let open = self.advance();
        let mut matchers = Vec::new();
        loop {
            let token = self.peek().clone();
            match token.kind {
                TokenKind::RightBrace => {
                    self.advance();
                    return Ok((matchers, open.span.to(token.span)));
                }
                TokenKind::Identifier => {
                    self.advance();
                    let name = self.text(token.span).to_string();
                    let Some(op) = matcher_op(self.peek_kind()) else {
                        return Err(self.unexpected("label matching", "label matching operator"));
                    };
                    self.advance();
                    matchers.push(self.parse_matcher_value(name, op, token.span)?);
                }
                TokenKind::String => {
                    self.advance();
                    let text = unquote(self.text(token.span));
                    match matcher_op(self.peek_kind()) {
                        Some(op) => {
                            self.advance();
                            matchers.push(self.parse_matcher_value(text, op, token.span)?);
                        }
                        None => matchers.push(Matcher {
                            name: METRIC_NAME.to_string(),
                            op: MatcherOp::Equal,
                            value: text,
                        }),
                    }
                }
                _ => return Err(self.unexpected("label matching", "identifier or \"}\"")),
            }
            match self.peek_kind() {
                TokenKind::Comma => {
                    self.advance();
                }
                TokenKind::RightBrace => {}
                _ => return Err(self.unexpected("label matching", "\",\" or \"}\"")),
            }
        }
    }

    fn parse_matcher_value(
        &mut self,
        name: String,
        op: MatcherOp,
        name_span: Span,
    ) -> PResult<Matcher> {
        let value_token = self.expect(&TokenKind::String, "label matching", "string")?;
        let value = unquote(self.text(value_token.span));
        if matches!(op, MatcherOp::Regex | MatcherOp::NotRegex)
            && let Err(err) = anchored_regex(&value)
        {
            let reason = err.to_string();
            let reason = reason.lines().last().unwrap_or_default().trim().to_string();
            return Err(self.error(
                name_span.to(value_token.span),
                format!("error parsing regexp: {reason}"),
            ));
        }
        Ok(Matcher { name, op, value })
    }
}
