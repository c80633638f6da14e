//! The type checks Prometheus' `checkAST` runs once an expression parsed without syntax errors:
//! operand types of binary operators, aggregations and functions, argument counts, vector-matching
//! rules, selectors that would match everything. It also normalises vector matching (set operators are
//! many-to-many; matching is dropped unless both sides are instant vectors).

use super::selector::{METRIC_NAME, matches_empty};
use super::{PResult, Parser};
use crate::ast::{BinaryExpr, Call, Expr, Span, VectorMatchCardinality, VectorSelector};
use crate::error::ParseError;
use crate::functions::ValueType;
use crate::token::go_quote;

impl Parser<'_> {
    /// Checks `expr` and returns its type. This frame is kept small (messages are built in
    /// `#[inline(never)]` helpers) because it recurses once per tree level.
    pub(super) fn check(&self, expr: &mut Expr) -> PResult<ValueType> {
        match expr {
            Expr::Aggregate(aggregate) => {
                self.expect_type(
                    &mut aggregate.expr,
                    ValueType::Vector,
                    "aggregation expression",
                )?;
                if let (Some(want), Some(param)) =
                    (aggregate.op.param_type(), aggregate.param.as_deref_mut())
                {
                    self.expect_type(param, want, "aggregation parameter")?;
                }
            }
            Expr::Binary(binary) => {
                let lhs = self.check(&mut binary.lhs)?;
                let rhs = self.check(&mut binary.rhs)?;
                self.check_binary(binary, lhs, rhs)?;
            }
            Expr::Call(call) => self.check_call(call)?,
            Expr::Paren(paren) => {
                self.check(&mut paren.expr)?;
            }
            Expr::Unary(unary) => {
                let operand = self.check(&mut unary.expr)?;
                if operand != ValueType::Scalar && operand != ValueType::Vector {
                    return Err(self.unary_type_error(unary.span, operand));
                }
            }
            Expr::Subquery(subquery) => {
                let inner = self.check(&mut subquery.expr)?;
                if inner != ValueType::Vector {
                    return Err(self.subquery_type_error(subquery.span, inner));
                }
            }
            Expr::MatrixSelector(matrix) => self.check_selector(&matrix.selector)?,
            Expr::VectorSelector(selector) => self.check_selector(selector)?,
            Expr::Number(_) | Expr::String(_) => {}
        }
        Ok(expr.value_type())
    }

    #[inline(never)]
    fn unary_type_error(&self, span: Span, operand: ValueType) -> ParseError {
        let message = format!(
            "unary expression only allowed on expressions of type scalar or instant vector, got {}",
            go_quote(operand.documented())
        );
        self.error(span, message)
    }

    #[inline(never)]
    fn subquery_type_error(&self, span: Span, inner: ValueType) -> ParseError {
        let message = format!("subquery is only allowed on instant vector, got {inner} instead");
        self.error(span, message)
    }

    fn expect_type(&self, expr: &mut Expr, want: ValueType, context: &str) -> PResult<()> {
        let got = self.check(expr)?;
        if got == want {
            return Ok(());
        }
        Err(self.type_error(expr.span(), want, got, context))
    }

    #[inline(never)]
    fn type_error(&self, span: Span, want: ValueType, got: ValueType, context: &str) -> ParseError {
        let message = format!(
            "expected type {} in {context}, got {}",
            want.documented(),
            got.documented()
        );
        self.error(span, message)
    }

    fn check_selector(&self, selector: &VectorSelector) -> PResult<()> {
        if let Some(name) = &selector.name {
            if let Some(duplicate) = selector.matchers.iter().find(|m| m.name == METRIC_NAME) {
                let message = format!(
                    "metric name must not be set twice: {} or {}",
                    go_quote(name),
                    go_quote(&duplicate.value)
                );
                return Err(self.error(selector.span, message));
            }
            return Ok(());
        }
        if selector.matchers.iter().all(matches_empty) {
            return Err(self.error(
                selector.span,
                "vector selector must contain at least one non-empty matcher",
            ));
        }
        Ok(())
    }

    /// The operator's span, without the surrounding spaces.
    fn operator_span(&self, binary: &BinaryExpr) -> Span {
        let between = Span::new(binary.lhs.span().end, binary.rhs.span().start);
        let text = self.text(between);
        let start = between.start + (text.len() - text.trim_start().len());
        let end = between.end - (text.len() - text.trim_end().len());
        Span::new(start, end.max(start))
    }

    /// The checks of one binary node, given its operand types.
    #[inline(never)]
    fn check_binary(&self, binary: &mut BinaryExpr, lhs: ValueType, rhs: ValueType) -> PResult<()> {
        let op = binary.op;
        if binary.return_bool && !op.is_comparison() {
            return Err(self.error(
                self.operator_span(binary),
                "bool modifier can only be used on comparison operators",
            ));
        }
        if op.is_comparison()
            && !binary.return_bool
            && lhs == ValueType::Scalar
            && rhs == ValueType::Scalar
        {
            return Err(self.error(
                self.operator_span(binary),
                "comparisons between scalars must use BOOL modifier",
            ));
        }
        if let Some(matching) = binary.matching.as_mut() {
            if op.is_set_operator() && matching.card == VectorMatchCardinality::OneToOne {
                matching.card = VectorMatchCardinality::ManyToMany;
            }
            if matching.on
                && let Some(label) = matching
                    .labels
                    .iter()
                    .find(|label| matching.include.contains(label))
            {
                let message = format!(
                    "label {} must not occur in ON and GROUP clause at once",
                    go_quote(label)
                );
                return Err(self.error(self.operator_span(binary), message));
            }
        }
        let only_scalars_and_vectors =
            "binary expression must contain only scalar and instant vector types";
        if lhs != ValueType::Scalar && lhs != ValueType::Vector {
            return Err(self.error(binary.lhs.span(), only_scalars_and_vectors));
        }
        if rhs != ValueType::Scalar && rhs != ValueType::Vector {
            return Err(self.error(binary.rhs.span(), only_scalars_and_vectors));
        }
        let both_vectors = lhs == ValueType::Vector && rhs == ValueType::Vector;
        if !both_vectors {
            if binary
                .matching
                .as_ref()
                .is_some_and(|m| !m.labels.is_empty())
            {
                return Err(self.error(
                    binary.span,
                    "vector matching only allowed between instant vectors",
                ));
            }
            binary.matching = None;
        } else if op.is_set_operator()
            && let Some(matching) = &binary.matching
        {
            if matches!(
                matching.card,
                VectorMatchCardinality::OneToMany | VectorMatchCardinality::ManyToOne
            ) {
                let message = format!(
                    "no grouping allowed for {} operation",
                    go_quote(op.as_str())
                );
                return Err(self.error(binary.span, message));
            }
            if matching.card != VectorMatchCardinality::ManyToMany {
                return Err(self.error(binary.span, "set operations must always be many-to-many"));
            }
        }
        if (lhs == ValueType::Scalar || rhs == ValueType::Scalar) && op.is_set_operator() {
            let message = format!(
                "set operator {} not allowed in binary scalar expression",
                go_quote(op.as_str())
            );
            return Err(self.error(binary.span, message));
        }
        Ok(())
    }

    fn check_call(&self, call: &mut Call) -> PResult<()> {
        let func = call.func;
        let declared = func.arg_types.len();
        let given = call.args.len();
        let name = go_quote(func.name);
        if func.variadic == 0 {
            if declared != given {
                let message =
                    format!("expected {declared} argument(s) in call to {name}, got {given}");
                return Err(self.error(call.span, message));
            }
        } else {
            let required = declared.saturating_sub(1);
            let max = usize::try_from(func.variadic)
                .ok()
                .map(|extra| required + extra);
            if required > given {
                let message = format!(
                    "expected at least {required} argument(s) in call to {name}, got {given}"
                );
                return Err(self.error(call.span, message));
            }
            if let Some(max) = max
                && max < given
            {
                let message =
                    format!("expected at most {max} argument(s) in call to {name}, got {given}");
                return Err(self.error(call.span, message));
            }
        }
        let context = format!("call to function {name}");
        for (index, arg) in call.args.iter_mut().enumerate() {
            let type_index = if index < declared {
                index
            } else if func.variadic == 0 {
                break;
            } else {
                declared.saturating_sub(1)
            };
            let Some(want) = func.arg_types.get(type_index) else {
                break;
            };
            // `info`'s second argument selects info metrics by labels only; it may match everything.
            if func.name == "info"
                && index == 1
                && let Expr::VectorSelector(selector) = arg
            {
                if selector.name.is_some() {
                    let message = "expected label selectors only, got vector selector instead";
                    return Err(self.error(selector.span, message));
                }
                continue;
            }
            self.expect_type(arg, *want, &context)?;
        }
        Ok(())
    }
}
