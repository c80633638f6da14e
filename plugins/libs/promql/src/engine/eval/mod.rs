//! The operator tree and its evaluation.
//!
//! Every instant-vector expression becomes a [`Stream`] of [`StepSeries`]: one series at a time, each with
//! its value (or none) at every step of the grid it is evaluated on. Range-vector expressions become a
//! stream of [`RangeSeries`] (the series' samples over the union of all step windows) that a range
//! function slices per step. Iterators chain operators, so a selector feeding `rate` feeding `sum`
//! holds one input series plus the sum's per-group accumulators, never the whole input.

mod aggregate;
mod binary;
mod call;
mod histogram_ops;
mod selector;

use std::cell::{Cell, RefCell};
use std::time::Instant;

use std::sync::Arc;

use super::histogram::FloatHistogram;
use super::{
    Annotations, EngineOptions, HistogramSample, Labels, QueryError, QueryParams, QueryResult,
    Sample, Series, Storage, Value, VectorSample,
};
use crate::{AtModifier, DurationExpr, Expr, Span, UnaryOp, ValueType};

/// Prometheus' limit on the points of a range query.
pub(crate) const MAX_POINTS_PER_SERIES: usize = 11_000;

/// The steps an expression is evaluated at: `start`, `start + step`, … up to `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Grid {
    pub start: i64,
    pub end: i64,
    /// Positive; an instant evaluation uses 1 with `start == end`.
    pub step: i64,
    pub len: usize,
}

impl Grid {
    fn new(start: i64, end: i64, step: i64) -> Grid {
        let step = step.max(1);
        let len = if end < start {
            0
        } else {
            usize::try_from((i128::from(end) - i128::from(start)) / i128::from(step) + 1)
                .unwrap_or(usize::MAX)
        };
        Grid {
            start,
            end,
            step,
            len,
        }
    }

    pub fn time(&self, index: usize) -> i64 {
        self.start.saturating_add(
            i64::try_from(index)
                .unwrap_or(i64::MAX)
                .saturating_mul(self.step),
        )
    }
}

/// The value of a series at one step: a float or a native histogram.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Point {
    F(f64),
    H(Arc<FloatHistogram>),
}

impl Point {
    /// The float, if this is one.
    pub fn float(&self) -> Option<f64> {
        match self {
            Point::F(v) => Some(*v),
            Point::H(_) => None,
        }
    }
}

/// The float at a step, if there is one (histograms read as absent).
pub(crate) fn float_at(values: &[Option<Point>], step: usize) -> Option<f64> {
    values.get(step)?.as_ref()?.float()
}

/// An instant-vector series on a grid.
#[derive(Debug, Clone)]
pub(crate) struct StepSeries {
    pub labels: Labels,
    /// `__name__` is to be dropped at the end of evaluation (Prometheus' delayed name removal).
    pub drop_name: bool,
    pub values: Vec<Option<Point>>,
}

/// A range-vector series: samples (staleness markers removed) covering every step's window.
#[derive(Debug, Clone)]
pub(crate) struct RangeSeries {
    pub labels: Labels,
    pub drop_name: bool,
    pub samples: Vec<Sample>,
    /// Start timestamps parallel to `samples`, or empty (subqueries never carry them).
    pub start_ts: Vec<i64>,
    /// Native-histogram samples (staleness markers never are histograms).
    pub histograms: Vec<HistogramSample>,
}

pub(crate) type Stream<'a> = Box<dyn Iterator<Item = Result<StepSeries, QueryError>> + 'a>;
pub(crate) type RangeStream<'a> = Box<dyn Iterator<Item = Result<RangeSeries, QueryError>> + 'a>;

/// A range-vector operand: its series and, per step of the outer grid, the window `(from, to]`.
pub(crate) struct RangeOperand<'a> {
    pub series: RangeStream<'a>,
    pub windows: Vec<(i64, i64)>,
}

impl RangeOperand<'_> {
    /// No series (a query without steps).
    fn empty(windows: Vec<(i64, i64)>) -> Self {
        RangeOperand {
            series: Box::new(std::iter::empty()),
            windows,
        }
    }
}

/// State shared by all operators of one query.
pub(crate) struct Ctx<'a> {
    pub options: &'a EngineOptions,
    pub storage: &'a dyn Storage,
    pub query: &'a str,
    pub params: QueryParams,
    pub annotations: RefCell<Annotations>,
    samples: Cell<usize>,
    deadline: Instant,
}

impl<'a> Ctx<'a> {
    /// Counts `n` more samples loaded by the query's selectors (per step window for range vectors, as
    /// Prometheus counts them); fails past `max_samples`. The count only grows, so it bounds what a
    /// query may load in total, which is at least as strict as Prometheus' peak count.
    pub fn hold(&self, n: usize) -> Result<(), QueryError> {
        let total = self.samples.get().saturating_add(n);
        if total > self.options.max_samples {
            return Err(QueryError::TooManySamples);
        }
        self.samples.set(total);
        Ok(())
    }

    pub fn check_deadline(&self) -> Result<(), QueryError> {
        if Instant::now() > self.deadline {
            return Err(QueryError::Timeout("expression evaluation".to_string()));
        }
        Ok(())
    }

    /// ` (line:col)` of a node, as Prometheus appends it to annotations.
    pub fn position(&self, span: Span) -> String {
        let before = self.query.get(..span.start).unwrap_or(self.query);
        let line = 1 + before.bytes().filter(|b| *b == b'\n').count();
        let col = match before.rfind('\n') {
            Some(i) => span.start - i,
            None => span.start + 1,
        };
        format!(" ({line}:{col})")
    }

    pub fn warn(&self, message: impl AsRef<str>, span: Span) {
        let text = format!(
            "PromQL warning: {}{}",
            message.as_ref(),
            self.position(span)
        );
        self.annotations.borrow_mut().warn(text);
    }

    pub fn info(&self, message: impl AsRef<str>, span: Span) {
        let text = format!("PromQL info: {}{}", message.as_ref(), self.position(span));
        self.annotations.borrow_mut().info(text);
    }

    /// A duration expression in milliseconds (`step()` and `range()` refer to the query).
    pub fn duration_ms(&self, duration: &DurationExpr) -> i64 {
        let step_s = self.params.step_ms as f64 / 1000.0;
        let range_s = (self.params.end_ms - self.params.start_ms) as f64 / 1000.0;
        // `as` saturates: an absurd duration clamps instead of wrapping.
        (duration.eval_seconds(step_s, range_s) * 1000.0).round() as i64
    }

    /// The evaluation time of a selector at a step at time `t`: `@` fixes it, `offset` shifts it.
    pub fn effective_time(&self, t: i64, at: Option<AtModifier>, offset_ms: i64) -> i64 {
        let base = match at {
            None => t,
            Some(AtModifier::Timestamp(ts)) => ts,
            Some(AtModifier::Start) => self.params.start_ms,
            Some(AtModifier::End) => self.params.end_ms,
        };
        base.saturating_sub(offset_ms)
    }
}

pub(crate) fn evaluate(
    options: &EngineOptions,
    storage: &dyn Storage,
    expr: &Expr,
    params: QueryParams,
) -> Result<QueryResult, QueryError> {
    let query = expr.to_string();
    evaluate_text(options, storage, expr, &query, params)
}

/// Evaluates `expr` whose source text is `query` (annotations point into it).
pub(crate) fn evaluate_text(
    options: &EngineOptions,
    storage: &dyn Storage,
    expr: &Expr,
    query: &str,
    params: QueryParams,
) -> Result<QueryResult, QueryError> {
    let ctx = Ctx {
        options,
        storage,
        query,
        params,
        annotations: RefCell::new(Annotations::default()),
        samples: Cell::new(0),
        deadline: Instant::now() + options.timeout,
    };
    let grid = Grid::new(params.start_ms, params.end_ms, params.step_ms);
    if grid.len > MAX_POINTS_PER_SERIES {
        return Err(QueryError::BadData(
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"
                .to_string(),
        ));
    }
    let value = if params.is_instant() {
        eval_instant_result(&ctx, expr, grid)?
    } else {
        eval_range_result(&ctx, expr, grid)?
    };
    Ok(QueryResult {
        value,
        annotations: ctx.annotations.into_inner(),
    })
}

fn eval_instant_result(ctx: &Ctx<'_>, expr: &Expr, grid: Grid) -> Result<Value, QueryError> {
    let t = grid.start;
    match expr.value_type() {
        ValueType::Scalar => {
            let values = eval_scalar(ctx, expr, grid)?;
            Ok(Value::Scalar {
                t,
                v: values.first().copied().unwrap_or(f64::NAN),
            })
        }
        ValueType::String => Ok(Value::String {
            t,
            s: eval_string(expr)?,
        }),
        ValueType::Vector => {
            let mut out = Vec::new();
            for series in eval_vector(ctx, expr, grid)? {
                let series = finish_labels(series?);
                match series.values.into_iter().next().flatten() {
                    Some(Point::F(v)) => out.push(VectorSample {
                        labels: series.labels,
                        t,
                        v,
                        h: None,
                    }),
                    Some(Point::H(h)) => out.push(VectorSample {
                        labels: series.labels,
                        t,
                        v: 0.0,
                        h: Some(h),
                    }),
                    None => {}
                }
            }
            let mut seen = std::collections::HashSet::new();
            for sample in &out {
                if !seen.insert(&sample.labels) {
                    return Err(QueryError::Execution(
                        "vector cannot contain metrics with the same labelset".to_string(),
                    ));
                }
            }
            Ok(Value::Vector(out))
        }
        ValueType::Matrix => {
            let operand = eval_range(ctx, expr, grid)?;
            let (from, to) = operand.windows[0];
            let mut out = Vec::new();
            for series in operand.series {
                let series = series?;
                let samples: Vec<Sample> = series
                    .samples
                    .iter()
                    .filter(|s| s.t > from && s.t <= to)
                    .copied()
                    .collect();
                let histograms: Vec<HistogramSample> = series
                    .histograms
                    .iter()
                    .filter(|s| s.t > from && s.t <= to)
                    .cloned()
                    .collect();
                if !samples.is_empty() || !histograms.is_empty() {
                    let mut labels = series.labels;
                    if series.drop_name {
                        labels.drop_metric_name();
                    }
                    let mut series = Series::new(labels, samples);
                    series.histograms = histograms;
                    out.push(series);
                }
            }
            out.sort_by(|a, b| a.labels.cmp(&b.labels));
            Ok(Value::Matrix(out))
        }
    }
}

fn eval_range_result(ctx: &Ctx<'_>, expr: &Expr, grid: Grid) -> Result<Value, QueryError> {
    let to_series = |labels: Labels, values: Vec<Option<Point>>| {
        let mut series = Series::new(labels, Vec::new());
        for (i, v) in values.into_iter().enumerate() {
            let t = grid.time(i);
            match v {
                Some(Point::F(v)) => series.samples.push(Sample { t, v }),
                Some(Point::H(h)) => series.histograms.push(HistogramSample { t, h, st: 0 }),
                None => {}
            }
        }
        series
    };
    match expr.value_type() {
        ValueType::Scalar => {
            let values: Vec<Option<Point>> = eval_scalar(ctx, expr, grid)?
                .into_iter()
                .map(|v| Some(Point::F(v)))
                .collect();
            Ok(Value::Matrix(vec![to_series(Labels::default(), values)]))
        }
        ValueType::Vector => {
            // Series that end up with the same labels merge when their steps do not overlap, as
            // Prometheus assembles a range result step by step.
            let mut merged: Vec<StepSeries> = Vec::new();
            let mut index: std::collections::HashMap<Labels, usize> = Default::default();
            for series in eval_vector(ctx, expr, grid)? {
                let series = finish_labels(series?);
                if series.values.iter().all(Option::is_none) {
                    continue;
                }
                match index.get(&series.labels) {
                    Some(&slot) => {
                        let target = &mut merged[slot];
                        for (t, v) in target.values.iter_mut().zip(series.values) {
                            if v.is_some() {
                                if t.is_some() {
                                    return Err(QueryError::Execution(
                                        "vector cannot contain metrics with the same labelset"
                                            .to_string(),
                                    ));
                                }
                                *t = v;
                            }
                        }
                    }
                    None => {
                        index.insert(series.labels.clone(), merged.len());
                        merged.push(series);
                    }
                }
            }
            let mut out: Vec<Series> = merged
                .into_iter()
                .map(|s| to_series(s.labels, s.values))
                .collect();
            out.sort_by(|a, b| a.labels.cmp(&b.labels));
            if out.windows(2).any(|w| w[0].labels == w[1].labels) {
                return Err(QueryError::Execution(
                    "vector cannot contain metrics with the same labelset".to_string(),
                ));
            }
            Ok(Value::Matrix(out))
        }
        other => Err(QueryError::BadData(format!(
            "invalid expression type \"{}\" for range query, must be Scalar or instant Vector",
            match other {
                ValueType::Matrix => "range vector",
                _ => "string",
            }
        ))),
    }
}

/// Applies delayed name removal.
fn finish_labels(mut series: StepSeries) -> StepSeries {
    if series.drop_name {
        series.labels.drop_metric_name();
        series.drop_name = false;
    }
    series
}

/// Strips parentheses.
pub(crate) fn unwrap_parens(mut expr: &Expr) -> &Expr {
    while let Expr::Paren(p) = expr {
        expr = &p.expr;
    }
    expr
}

/// A string argument that must be a label name: refused, with Go's quoting of its bytes, when it is
/// not valid UTF-8.
pub(crate) fn eval_label_name(expr: &Expr, what: &str) -> Result<String, QueryError> {
    if let Expr::String(s) = unwrap_parens(expr)
        && let Some(quoted) = &s.invalid_utf8
    {
        return Err(QueryError::Execution(format!("{what} {quoted}")));
    }
    eval_string(expr)
}

pub(crate) fn eval_string(expr: &Expr) -> Result<String, QueryError> {
    match unwrap_parens(expr) {
        Expr::String(s) => Ok(s.value.clone()),
        other => Err(QueryError::Execution(format!(
            "expected a string, got {}",
            other.value_type().documented()
        ))),
    }
}

/// Evaluates a scalar expression to one value per step.
pub(crate) fn eval_scalar(ctx: &Ctx<'_>, expr: &Expr, grid: Grid) -> Result<Vec<f64>, QueryError> {
    match expr {
        Expr::Number(n) => Ok(vec![n.value; grid.len]),
        Expr::Paren(p) => eval_scalar(ctx, &p.expr, grid),
        Expr::Unary(u) => {
            let mut values = eval_scalar(ctx, &u.expr, grid)?;
            if u.op == UnaryOp::Minus {
                values.iter_mut().for_each(|v| *v = -*v);
            }
            Ok(values)
        }
        Expr::Binary(b) => binary::eval_scalar_scalar(ctx, b, grid),
        Expr::Call(c) => call::eval_scalar_call(ctx, c, grid),
        other => Err(QueryError::Execution(format!(
            "unexpected scalar expression {}",
            other.value_type()
        ))),
    }
}

/// Evaluates an instant-vector expression to a stream of series.
pub(crate) fn eval_vector<'a>(
    ctx: &'a Ctx<'a>,
    expr: &'a Expr,
    grid: Grid,
) -> Result<Stream<'a>, QueryError> {
    ctx.check_deadline()?;
    match expr {
        Expr::VectorSelector(sel) => selector::vector(ctx, sel, grid, selector::Emit::Value),
        Expr::Paren(p) => eval_vector(ctx, &p.expr, grid),
        Expr::Unary(u) => {
            let input = eval_vector(ctx, &u.expr, grid)?;
            if u.op == UnaryOp::Plus {
                return Ok(input);
            }
            Ok(Box::new(input.map(|series| {
                series.map(|mut s| {
                    s.drop_name = true;
                    for point in s.values.iter_mut().flatten() {
                        *point = match point {
                            Point::F(v) => Point::F(-*v),
                            Point::H(h) => Point::H(Arc::new(histogram_ops::scale(h, -1.0))),
                        };
                    }
                    s
                })
            })))
        }
        Expr::Binary(b) => binary::eval_binary(ctx, b, grid),
        Expr::Aggregate(a) => aggregate::eval_aggregate(ctx, a, grid),
        Expr::Call(c) => call::eval_vector_call(ctx, c, grid),
        other => Err(QueryError::Execution(format!(
            "unexpected {} where an instant vector was expected",
            other.value_type().documented()
        ))),
    }
}

/// Evaluates a range-vector expression (a matrix selector or a subquery) for every step of `grid`.
pub(crate) fn eval_range<'a>(
    ctx: &'a Ctx<'a>,
    expr: &'a Expr,
    grid: Grid,
) -> Result<RangeOperand<'a>, QueryError> {
    match expr {
        Expr::MatrixSelector(m) => selector::matrix(ctx, m, grid),
        Expr::Subquery(sq) => selector::subquery(ctx, sq, grid),
        Expr::Paren(p) => eval_range(ctx, &p.expr, grid),
        other => Err(QueryError::Execution(format!(
            "unexpected {} where a range vector was expected",
            other.value_type().documented()
        ))),
    }
}
