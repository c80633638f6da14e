//! The implicit checks upstream's harness adds to every instant eval (README §6), expressed as facts
//! about an [`Eval`] so that the runner applies them without re-reading the rules: the time it runs at,
//! the grid its result lives on, the extra evaluation times of the `@`-invariance check and whether
//! the range-mode cross-check runs.

use std::sync::LazyLock;

use regex::Regex;

use super::commands::{Eval, EvalKind};
use super::values::{ExpectedResult, Grid, Outcome};
use crate::Expr;

/// Functions whose value depends on the evaluation time, so the `@`-invariance check is skipped
/// (Prometheus' `AtModifierUnsafeFunctions`).
pub const AT_MODIFIER_UNSAFE_FUNCTIONS: [&str; 15] = [
    "days_in_month",
    "day_of_month",
    "day_of_week",
    "day_of_year",
    "end",
    "hour",
    "minute",
    "month",
    "year",
    "predict_linear",
    "range",
    "start",
    "step",
    "time",
    "timestamp",
];

/// The step and half-width of the range-mode cross-check.
pub const RANGE_CHECK_STEP_MS: i64 = 60_000;

static TIME_DEPENDENT_TEXT: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(start|end|range|step)\(\)").ok());

impl Eval {
    /// Whether this is an `eval instant` command.
    pub fn is_instant(&self) -> bool {
        matches!(self.kind, EvalKind::Instant { .. })
    }

    /// Whether the query must fail.
    pub fn expects_failure(&self) -> bool {
        matches!(self.expectation.outcome, Outcome::Fail(_))
    }

    /// The evaluation time of an instant eval (`expect range vector` forces it to the grid's end), or
    /// the start of a range eval.
    pub fn eval_time_ms(&self) -> i64 {
        match (self.kind, self.expectation.range_vector) {
            (EvalKind::Instant { .. }, Some(grid)) => grid.end_ms,
            (EvalKind::Instant { at_ms }, None) => at_ms,
            (EvalKind::Range(grid), _) => grid.start_ms,
        }
    }

    /// The grid the expected series' values are laid on: the range of a range eval or the
    /// `expect range vector` grid; `None` for a plain instant eval (one value per series).
    pub fn result_grid(&self) -> Option<Grid> {
        match self.kind {
            EvalKind::Range(grid) => Some(grid),
            EvalKind::Instant { .. } => self.expectation.range_vector,
        }
    }

    /// The extra evaluation times of the `@`-invariance check (README §6 step 2): the query, with
    /// `@ <eval time>` added to every selector and subquery that has none, must give the same expected
    /// result (annotations included, or the same failure) at each of these times. Empty when the check
    /// does not apply: range evals and expressions calling a time-dependent function.
    pub fn at_modifier_eval_times_ms(&self) -> Vec<i64> {
        if !self.is_instant() || calls_any(&self.parsed, &AT_MODIFIER_UNSAFE_FUNCTIONS) {
            return Vec::new();
        }
        let t = self.eval_time_ms();
        if t == 0 {
            return vec![-1000, 0, 1000];
        }
        vec![t.saturating_mul(-10), 0, t / 5, t, t.saturating_mul(10)]
    }

    /// The grid of the range-mode cross-check (README §6 step 3): a range query from t−1m to t+1m with
    /// step 1m, whose points at t must match the instant expectation (annotations not re-checked). It
    /// also runs for each `@` variant, on the same grid shape centred on that variant's time
    /// (± [`RANGE_CHECK_STEP_MS`]). `None` when the check does not apply: range evals, failures,
    /// ordered evals, `expect range vector`, `expect string`, and text matching `(start|end|range|step)\(\)`.
    pub fn range_cross_check(&self) -> Option<Grid> {
        let EvalKind::Instant { at_ms } = self.kind else {
            return None;
        };
        let expectation = &self.expectation;
        let excluded = self.expects_failure()
            || expectation.ordered
            || expectation.range_vector.is_some()
            || matches!(
                expectation.outcome,
                Outcome::Success(ExpectedResult::String(_))
            )
            || TIME_DEPENDENT_TEXT
                .as_ref()
                .is_none_or(|pattern| pattern.is_match(&self.expr));
        if excluded {
            return None;
        }
        Some(Grid {
            start_ms: at_ms.saturating_sub(RANGE_CHECK_STEP_MS),
            end_ms: at_ms.saturating_add(RANGE_CHECK_STEP_MS),
            step_ms: RANGE_CHECK_STEP_MS,
        })
    }
}

/// Whether `expr` calls any of `names` outside subqueries with `@` (duration expressions such as
/// `[step()]` are not calls).
fn calls_any(expr: &Expr, names: &[&str]) -> bool {
    match expr {
        Expr::Number(_) | Expr::String(_) | Expr::VectorSelector(_) | Expr::MatrixSelector(_) => {
            false
        }
        // Like upstream's walk, which skips everything below a subquery that has its own `@`.
        Expr::Subquery(subquery) => subquery.at.is_none() && calls_any(&subquery.expr, names),
        Expr::Paren(paren) => calls_any(&paren.expr, names),
        Expr::Unary(unary) => calls_any(&unary.expr, names),
        Expr::Binary(binary) => calls_any(&binary.lhs, names) || calls_any(&binary.rhs, names),
        Expr::Aggregate(aggregate) => {
            calls_any(&aggregate.expr, names)
                || aggregate
                    .param
                    .as_ref()
                    .is_some_and(|param| calls_any(param, names))
        }
        Expr::Call(call) => {
            names.contains(&call.func.name) || call.args.iter().any(|arg| calls_any(arg, names))
        }
    }
}
