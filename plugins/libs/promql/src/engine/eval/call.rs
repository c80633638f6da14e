//! Function calls.

use std::collections::HashMap;

use super::aggregate::format_float;
use super::selector::{self, WindowCursor, window};
use super::{
    Ctx, Grid, Point, RangeOperand, StepSeries, Stream, eval_label_name, eval_range, eval_scalar,
    eval_string, eval_vector, float_at, histogram_ops, unwrap_parens,
};
use crate::engine::histogram::{self, FloatHistogram};
use crate::engine::kernels;
use crate::engine::value::{Labels, METRIC_NAME};
use crate::engine::{QueryError, Sample};
use crate::{Call, Expr, MatcherOp};

/// A scalar-returning call.
pub(crate) fn eval_scalar_call(
    ctx: &Ctx<'_>,
    c: &Call,
    grid: Grid,
) -> Result<Vec<f64>, QueryError> {
    let seconds = |ms: i64| ms as f64 / 1000.0;
    let p = ctx.params;
    Ok(match c.func.name {
        "time" => (0..grid.len).map(|i| seconds(grid.time(i))).collect(),
        "pi" => vec![std::f64::consts::PI; grid.len],
        "start" => vec![seconds(p.start_ms); grid.len],
        "end" => vec![seconds(p.end_ms); grid.len],
        "range" => vec![seconds(p.end_ms - p.start_ms); grid.len],
        "step" => vec![seconds(p.step_ms); grid.len],
        "min_of" | "max_of" => {
            let mut out = eval_scalar(ctx, &c.args[0], grid)?;
            for arg in &c.args[1..] {
                for (acc, v) in out.iter_mut().zip(eval_scalar(ctx, arg, grid)?) {
                    // Go's math.Min/Max: NaN wins.
                    *acc = if acc.is_nan() || v.is_nan() {
                        f64::NAN
                    } else if c.func.name == "min_of" {
                        acc.min(v)
                    } else {
                        acc.max(v)
                    };
                }
            }
            out
        }
        "scalar" => {
            let mut out = vec![f64::NAN; grid.len];
            let mut seen = vec![0u32; grid.len];
            for series in eval_vector(ctx, &c.args[0], grid)? {
                let series = series?;
                for (i, v) in series.values.iter().enumerate() {
                    if let Some(Point::F(v)) = v {
                        seen[i] += 1;
                        out[i] = if seen[i] == 1 { *v } else { f64::NAN };
                    }
                }
            }
            out
        }
        name => {
            return Err(QueryError::Execution(format!(
                "function {name:?} is not supported"
            )));
        }
    })
}

/// Maps every float of every series (histograms are dropped: these functions take floats); the
/// result drops `__name__` when asked.
fn map_values<'a>(
    input: Stream<'a>,
    drop_name: bool,
    mut f: impl FnMut(usize, f64) -> Option<f64> + 'a,
) -> Stream<'a> {
    Box::new(input.map(move |series| {
        let mut series = series?;
        for (i, value) in series.values.iter_mut().enumerate() {
            *value = match value.take() {
                Some(Point::F(v)) => f(i, v).map(Point::F),
                _ => None,
            };
        }
        if drop_name {
            series.drop_name = true;
        }
        Ok(series)
    }))
}

fn scalar_arg(
    ctx: &Ctx<'_>,
    c: &Call,
    index: usize,
    grid: Grid,
    default: f64,
) -> Result<Vec<f64>, QueryError> {
    match c.args.get(index) {
        Some(arg) => eval_scalar(ctx, arg, grid),
        None => Ok(vec![default; grid.len]),
    }
}

/// A vector-returning call.
pub(crate) fn eval_vector_call<'a>(
    ctx: &'a Ctx<'a>,
    c: &'a Call,
    grid: Grid,
) -> Result<Stream<'a>, QueryError> {
    let name = c.func.name;
    if let Some(f) = kernels::simple_math(name) {
        let input = eval_vector(ctx, &c.args[0], grid)?;
        return Ok(map_values(input, true, move |_, v| Some(f(v))));
    }
    if c.args
        .iter()
        .any(|a| a.value_type() == crate::ValueType::Matrix)
    {
        return range_function(ctx, c, grid);
    }
    match name {
        "vector" => {
            let values = eval_scalar(ctx, &c.args[0], grid)?;
            Ok(Box::new(std::iter::once(Ok(StepSeries {
                labels: Labels::default(),
                drop_name: false,
                values: values.into_iter().map(|v| Some(Point::F(v))).collect(),
            }))))
        }
        "round" => {
            let to = scalar_arg(ctx, c, 1, grid, 1.0)?;
            let input = eval_vector(ctx, &c.args[0], grid)?;
            Ok(map_values(input, true, move |i, v| {
                Some(kernels::round(v, to[i]))
            }))
        }
        "clamp" => {
            let min = scalar_arg(ctx, c, 1, grid, f64::NAN)?;
            let max = scalar_arg(ctx, c, 2, grid, f64::NAN)?;
            let input = eval_vector(ctx, &c.args[0], grid)?;
            Ok(map_values(input, true, move |i, v| {
                kernels::clamp(v, min[i], max[i])
            }))
        }
        "clamp_min" => {
            let min = scalar_arg(ctx, c, 1, grid, f64::NAN)?;
            let input = eval_vector(ctx, &c.args[0], grid)?;
            Ok(map_values(input, true, move |i, v| {
                Some(kernels::clamp_min(v, min[i]))
            }))
        }
        "clamp_max" => {
            let max = scalar_arg(ctx, c, 1, grid, f64::NAN)?;
            let input = eval_vector(ctx, &c.args[0], grid)?;
            Ok(map_values(input, true, move |i, v| {
                Some(kernels::clamp_max(v, max[i]))
            }))
        }
        "day_of_month" | "day_of_week" | "day_of_year" | "days_in_month" | "hour" | "minute"
        | "month" | "year" => {
            if c.args.is_empty() {
                let values = (0..grid.len)
                    .map(|i| kernels::date_part(name, grid.time(i) as f64 / 1000.0).map(Point::F))
                    .collect();
                return Ok(Box::new(std::iter::once(Ok(StepSeries {
                    labels: Labels::default(),
                    drop_name: false,
                    values,
                }))));
            }
            let input = eval_vector(ctx, &c.args[0], grid)?;
            Ok(map_values(input, true, move |_, v| {
                kernels::date_part(name, v)
            }))
        }
        "timestamp" => {
            if let Expr::VectorSelector(sel) = unwrap_parens(&c.args[0]) {
                let input = selector::vector(ctx, sel, grid, selector::Emit::Timestamp)?;
                return Ok(map_values(input, true, |_, v| Some(v)));
            }
            let input = eval_vector(ctx, &c.args[0], grid)?;
            Ok(Box::new(input.map(move |series| {
                let mut series = series?;
                for (i, value) in series.values.iter_mut().enumerate() {
                    if value.is_some() {
                        *value = Some(Point::F(grid.time(i) as f64 / 1000.0));
                    }
                }
                series.drop_name = true;
                Ok(series)
            })))
        }
        "start_timestamp" => match unwrap_parens(&c.args[0]) {
            Expr::VectorSelector(sel) => {
                let input = selector::vector(ctx, sel, grid, selector::Emit::StartTimestamp)?;
                Ok(map_values(input, true, |_, v| Some(v)))
            }
            // Start timestamps do not survive an expression.
            _ => Ok(Box::new(std::iter::empty())),
        },
        "absent" => {
            let mut present = vec![false; grid.len];
            for series in eval_vector(ctx, &c.args[0], grid)? {
                for (p, v) in present.iter_mut().zip(&series?.values) {
                    *p |= v.is_some();
                }
            }
            Ok(absent_result(&c.args[0], &present))
        }
        "sort" | "sort_desc" | "sort_by_label" | "sort_by_label_desc" => sort(ctx, c, grid),
        "label_replace" => label_replace(ctx, c, grid),
        "label_join" => label_join(ctx, c, grid),
        "histogram_quantile" => histogram_quantile(ctx, c, grid),
        "histogram_quantiles" => histogram_quantiles(ctx, c, grid),
        "histogram_fraction" => histogram_fraction(ctx, c, grid),
        "histogram_count" | "histogram_sum" | "histogram_avg" | "histogram_stddev"
        | "histogram_stdvar" => {
            let f: fn(&FloatHistogram) -> f64 = match name {
                "histogram_count" => histogram::functions::histogram_count,
                "histogram_sum" => histogram::functions::histogram_sum,
                "histogram_avg" => histogram::functions::histogram_avg,
                "histogram_stddev" => histogram::functions::histogram_stddev,
                _ => histogram::functions::histogram_stdvar,
            };
            let input = eval_vector(ctx, &c.args[0], grid)?;
            Ok(Box::new(input.map(move |series| {
                let mut series = series?;
                for value in series.values.iter_mut() {
                    *value = match value.take() {
                        Some(Point::H(h)) => Some(Point::F(f(&h))),
                        _ => None,
                    };
                }
                series.drop_name = true;
                Ok(series)
            })))
        }
        _ => Err(QueryError::Execution(format!(
            "function {name:?} is not supported yet"
        ))),
    }
}

/// `absent(…)`/`absent_over_time(…)`: 1 where nothing was present, labelled by the selector's
/// equality matchers.
fn absent_result<'a>(arg: &Expr, present: &[bool]) -> Stream<'a> {
    if present.iter().all(|p| *p) {
        return Box::new(std::iter::empty());
    }
    let mut labels = Labels::default();
    let sel = match unwrap_parens(arg) {
        Expr::VectorSelector(sel) => Some(sel),
        Expr::MatrixSelector(m) => Some(&m.selector),
        _ => None,
    };
    if let Some(sel) = sel {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for m in &sel.matchers {
            *counts.entry(m.name.as_str()).or_default() += 1;
        }
        for m in &sel.matchers {
            if m.op == MatcherOp::Equal && m.name != METRIC_NAME && counts[m.name.as_str()] == 1 {
                labels.set(&m.name, &m.value);
            }
        }
    }
    let values = present
        .iter()
        .map(|p| (!p).then_some(Point::F(1.0)))
        .collect();
    Box::new(std::iter::once(Ok(StepSeries {
        labels,
        drop_name: false,
        values,
    })))
}

fn range_function<'a>(ctx: &'a Ctx<'a>, c: &'a Call, grid: Grid) -> Result<Stream<'a>, QueryError> {
    let name = c.func.name;
    let arg = &c.args[0];
    // Scalar parameters: before the range (quantile_over_time) or after it.
    let (params_a, params_b) = match name {
        "quantile_over_time" => (scalar_arg(ctx, c, 0, grid, f64::NAN)?, Vec::new()),
        "predict_linear" => (scalar_arg(ctx, c, 1, grid, 0.0)?, Vec::new()),
        "double_exponential_smoothing" => (
            scalar_arg(ctx, c, 1, grid, f64::NAN)?,
            scalar_arg(ctx, c, 2, grid, f64::NAN)?,
        ),
        _ => (Vec::new(), Vec::new()),
    };
    let range_arg = if name == "quantile_over_time" {
        &c.args[1]
    } else {
        arg
    };
    if name == "quantile_over_time"
        && let Some(&q) = params_a
            .iter()
            .find(|q| q.is_nan() || !(0.0..=1.0).contains(*q))
    {
        ctx.warn(
            format!(
                "quantile value should be between 0 and 1, got {}",
                format_float(q)
            ),
            c.args[0].span(),
        );
    }
    if name == "double_exponential_smoothing" {
        for (&sf, &tf) in params_a.iter().zip(&params_b) {
            if !(sf > 0.0 && sf < 1.0) {
                return Err(QueryError::Execution(format!(
                    "invalid smoothing factor. Expected: 0 < sf < 1, got: {}",
                    format_float(sf)
                )));
            }
            if !(tf > 0.0 && tf < 1.0) {
                return Err(QueryError::Execution(format!(
                    "invalid trend factor. Expected: 0 < tf < 1, got: {}",
                    format_float(tf)
                )));
            }
        }
    }
    let RangeOperand {
        series, windows, ..
    } = eval_range(ctx, range_arg, grid)?;
    if name == "absent_over_time" {
        let mut present = vec![false; grid.len];
        for s in series {
            let s = s?;
            for (p, w) in present.iter_mut().zip(&windows) {
                *p |= !window(&s.samples, *w).is_empty()
                    || !histogram_window(&s.histograms, *w).is_empty();
            }
        }
        return Ok(absent_result(range_arg, &present));
    }
    let keeps_name = matches!(name, "last_over_time" | "first_over_time");
    let Some(kernel) = range_kernel(name) else {
        return Err(QueryError::Execution(format!(
            "function {name:?} is not supported yet"
        )));
    };
    let (pa, pb) = (params_a, params_b);
    let counter_check = matches!(name, "rate" | "increase");
    let span = range_arg.span();
    // Metric names already noted as maybe not counters: the info is the same for every series of
    // a name, and formatting it per series cost more than the rate itself.
    let mut noted: std::collections::HashSet<String> = std::collections::HashSet::new();
    Ok(Box::new(series.filter_map(move |s| {
        let s = match s {
            Ok(s) => s,
            Err(err) => return Some(Err(err)),
        };
        if counter_check
            && let Some(metric) = s.labels.metric_name()
            && !["_total", "_sum", "_count", "_bucket"]
                .iter()
                .any(|suffix| metric.ends_with(suffix))
            && !noted.contains(metric)
        {
            noted.insert(metric.to_string());
            ctx.info(
                format!(
                    "metric might not be a counter, name does not end in _total/_sum/_count/_bucket: {metric:?}"
                ),
                span,
            );
        }
        let mut any = false;
        let mut overlap = false;
        let mut cursor = WindowCursor::default();
        let mut issues: Vec<histogram_ops::RangeIssue> = Vec::new();
        let values: Vec<Option<Point>> = windows
            .iter()
            .enumerate()
            .map(|(i, &(from, to))| {
                let range = cursor.range(&s.samples, (from, to));
                let st = s.start_ts.get(range.clone()).unwrap_or(&[]);
                let w = &s.samples[range];
                let hw = histogram_window(&s.histograms, (from, to));
                let pa = pa.get(i).copied().unwrap_or(0.0);
                let pb = pb.get(i).copied().unwrap_or(0.0);
                let v = if hw.is_empty() {
                    if counter_check && !st.is_empty() && kernels::has_start_time_overlap(w, st) {
                        overlap = true;
                    }
                    kernel(w, st, from, to, pa, pb, grid.time(i)).map(Point::F)
                } else {
                    let (v, issue) = histogram_ops::range_function(name, w, hw, from, to);
                    match issue {
                        Some(histogram_ops::RangeIssue::IgnoredHistograms) => {
                            issues.push(histogram_ops::RangeIssue::IgnoredHistograms);
                            kernel(w, &[], from, to, pa, pb, grid.time(i)).map(Point::F)
                        }
                        Some(issue) => {
                            issues.push(issue);
                            v
                        }
                        None => v,
                    }
                };
                any |= v.is_some();
                v
            })
            .collect();
        let metric = s.labels.get(crate::engine::METRIC_NAME);
        for issue in issues {
            let message = match issue {
                histogram_ops::RangeIssue::Mixed => {
                    format!("encountered a mix of histograms and floats for metric name {metric:?}")
                }
                histogram_ops::RangeIssue::MixedSchemas => format!(
                    "vector contains a mix of histograms with exponential and custom buckets schemas for metric name {metric:?}"
                ),
                histogram_ops::RangeIssue::NotCounter => {
                    format!("this native histogram metric is not a counter: {metric:?}")
                }
                histogram_ops::RangeIssue::NotGauge => {
                    format!("this native histogram metric is not a gauge: {metric:?}")
                }
                histogram_ops::RangeIssue::Reconciled => {
                    ctx.info(
                        "mismatched custom buckets were reconciled during subtraction",
                        span,
                    );
                    continue;
                }
                histogram_ops::RangeIssue::IgnoredHistograms => {
                    ctx.info(
                        format!(
                            "ignored histograms in a range containing both floats and histograms for metric name {metric:?}"
                        ),
                        span,
                    );
                    continue;
                }
            };
            ctx.warn(message, span);
        }
        if overlap {
            ctx.warn(
                format!(
                    "sample has start time that overlaps with previous sample timestamp for metric {:?}",
                    s.labels.get(crate::engine::METRIC_NAME)
                ),
                span,
            );
        }
        if !any {
            return None;
        }
        Some(Ok(StepSeries {
            labels: s.labels,
            drop_name: s.drop_name || !keeps_name,
            values,
        }))
    })))
}

fn sort<'a>(ctx: &'a Ctx<'a>, c: &'a Call, grid: Grid) -> Result<Stream<'a>, QueryError> {
    let mut all: Vec<StepSeries> = eval_vector(ctx, &c.args[0], grid)?.collect::<Result<_, _>>()?;
    if matches!(c.func.name, "sort" | "sort_desc") {
        // Sorting by value ignores histograms (Prometheus drops them).
        for s in &mut all {
            for v in &mut s.values {
                if matches!(v, Some(Point::H(_))) {
                    *v = None;
                }
            }
        }
        all.retain(|s| s.values.iter().any(Option::is_some));
    }
    if grid.len == 1 {
        let value = |s: &StepSeries| float_at(&s.values, 0).unwrap_or(f64::NAN);
        match c.func.name {
            "sort" => all.sort_by(|a, b| nan_last(value(a), value(b), false)),
            "sort_desc" => all.sort_by(|a, b| nan_last(value(a), value(b), true)),
            name => {
                let names = c.args[1..]
                    .iter()
                    .map(eval_string)
                    .collect::<Result<Vec<_>, _>>()?;
                let desc = name == "sort_by_label_desc";
                all.sort_by(|a, b| {
                    let mut ord = std::cmp::Ordering::Equal;
                    for n in &names {
                        ord = natural_cmp(a.labels.get(n), b.labels.get(n));
                        if ord.is_ne() {
                            break;
                        }
                    }
                    if ord.is_eq() {
                        ord = a.labels.cmp(&b.labels);
                    }
                    if desc { ord.reverse() } else { ord }
                });
            }
        }
    }
    Ok(Box::new(all.into_iter().map(Ok)))
}

fn nan_last(a: f64, b: f64, desc: bool) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ if desc => b.partial_cmp(&a).unwrap_or(Ordering::Equal),
        _ => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
    }
}

/// Natural order: runs of digits compare by number.
pub(crate) fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    loop {
        match (x.first(), y.first()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(cx), Some(cy)) if cx.is_ascii_digit() && cy.is_ascii_digit() => {
                let nx = x.iter().take_while(|c| c.is_ascii_digit()).count();
                let ny = y.iter().take_while(|c| c.is_ascii_digit()).count();
                let (dx, dy) = (&x[..nx], &y[..ny]);
                let tx = dx.iter().skip_while(|c| **c == b'0').count();
                let ty = dy.iter().skip_while(|c| **c == b'0').count();
                let ord = tx.cmp(&ty).then_with(|| dx[nx - tx..].cmp(&dy[ny - ty..]));
                if ord.is_ne() {
                    return ord;
                }
                x = &x[nx..];
                y = &y[ny..];
            }
            (Some(cx), Some(cy)) => {
                if cx != cy {
                    return cx.cmp(cy);
                }
                x = &x[1..];
                y = &y[1..];
            }
        }
    }
}

fn label_replace<'a>(ctx: &'a Ctx<'a>, c: &'a Call, grid: Grid) -> Result<Stream<'a>, QueryError> {
    let dst = eval_label_name(
        &c.args[1],
        "invalid destination label name in label_replace():",
    )?;
    let replacement = eval_string(&c.args[2])?;
    let src = eval_string(&c.args[3])?;
    let pattern = eval_string(&c.args[4])?;
    let regex = regex::Regex::new(&format!("^(?s:{pattern})$")).map_err(|err| {
        QueryError::Execution(format!(
            "invalid regular expression in label_replace(): {pattern}: {err}"
        ))
    })?;
    if !crate::engine::value::is_valid_label_name(&dst) {
        return Err(QueryError::Execution(format!(
            "invalid destination label name in label_replace(): {dst}"
        )));
    }
    let input = eval_vector(ctx, &c.args[0], grid)?;
    Ok(Box::new(input.map(move |series| {
        let mut series = series?;
        let value = series.labels.get(&src).to_string();
        if let Some(caps) = regex.captures(&value) {
            let mut out = String::new();
            caps.expand(&replacement, &mut out);
            series.labels.set(&dst, &out);
            if dst == METRIC_NAME {
                series.drop_name = false;
            }
        }
        Ok(series)
    })))
}

fn label_join<'a>(ctx: &'a Ctx<'a>, c: &'a Call, grid: Grid) -> Result<Stream<'a>, QueryError> {
    let dst = eval_string(&c.args[1])?;
    let sep = eval_string(&c.args[2])?;
    let srcs = c.args[3..]
        .iter()
        .map(eval_string)
        .collect::<Result<Vec<_>, _>>()?;
    if !crate::engine::value::is_valid_label_name(&dst) {
        return Err(QueryError::Execution(format!(
            "invalid destination label name in label_join(): {dst}"
        )));
    }
    for src in &srcs {
        if !crate::engine::value::is_valid_label_name(src) {
            return Err(QueryError::Execution(format!(
                "invalid source label name in label_join(): {src}"
            )));
        }
    }
    let input = eval_vector(ctx, &c.args[0], grid)?;
    Ok(Box::new(input.map(move |series| {
        let mut series = series?;
        let joined = srcs
            .iter()
            .map(|s| series.labels.get(s))
            .collect::<Vec<_>>()
            .join(&sep);
        series.labels.set(&dst, &joined);
        if dst == METRIC_NAME {
            series.drop_name = false;
        }
        Ok(series)
    })))
}

/// What a histogram function computes from one histogram (native, or classic buckets) at one step.
enum HistogramFn {
    /// `histogram_quantile(q, …)`, with `q` per step.
    Quantile(Vec<f64>),
    /// `histogram_fraction(lower, upper, …)`.
    Fraction(Vec<f64>, Vec<f64>),
}

impl HistogramFn {
    fn native(&self, step: usize, h: &FloatHistogram) -> f64 {
        match self {
            HistogramFn::Quantile(q) => histogram::functions::histogram_quantile(q[step], h),
            HistogramFn::Fraction(lo, hi) => {
                histogram::functions::histogram_fraction(lo[step], hi[step], h)
            }
        }
    }

    /// The value from classic buckets, and whether they had to be fixed for monotonicity.
    fn classic(&self, step: usize, buckets: &mut Vec<kernels::Bucket>) -> (f64, bool) {
        match self {
            HistogramFn::Quantile(q) => {
                let (v, forced, _) = kernels::bucket_quantile(q[step], buckets);
                (v, forced)
            }
            HistogramFn::Fraction(lo, hi) => {
                (kernels::bucket_fraction(lo[step], hi[step], buckets), false)
            }
        }
    }
}

fn warn_quantiles(ctx: &Ctx<'_>, qs: &[f64], arg: &Expr) {
    if let Some(&bad) = qs.iter().find(|q| q.is_nan() || !(0.0..=1.0).contains(*q)) {
        ctx.warn(
            format!(
                "quantile value should be between 0 and 1, got {}",
                format_float(bad)
            ),
            arg.span(),
        );
    }
}

fn histogram_quantile<'a>(
    ctx: &'a Ctx<'a>,
    c: &'a Call,
    grid: Grid,
) -> Result<Stream<'a>, QueryError> {
    let q = eval_scalar(ctx, &c.args[0], grid)?;
    warn_quantiles(ctx, &q, &c.args[0]);
    let input: Vec<StepSeries> = eval_vector(ctx, &c.args[1], grid)?.collect::<Result<_, _>>()?;
    let out = histogram_function(
        ctx,
        &HistogramFn::Quantile(q),
        input,
        grid,
        c.args[1].span(),
    );
    Ok(Box::new(out.into_iter().map(Ok)))
}

fn histogram_fraction<'a>(
    ctx: &'a Ctx<'a>,
    c: &'a Call,
    grid: Grid,
) -> Result<Stream<'a>, QueryError> {
    let lower = eval_scalar(ctx, &c.args[0], grid)?;
    let upper = eval_scalar(ctx, &c.args[1], grid)?;
    let input: Vec<StepSeries> = eval_vector(ctx, &c.args[2], grid)?.collect::<Result<_, _>>()?;
    let out = histogram_function(
        ctx,
        &HistogramFn::Fraction(lower, upper),
        input,
        grid,
        c.args[2].span(),
    );
    Ok(Box::new(out.into_iter().map(Ok)))
}

/// `histogram_quantiles(v, "label", q1, q2, …)`: one series per input histogram and quantile, the
/// quantile in `label`.
fn histogram_quantiles<'a>(
    ctx: &'a Ctx<'a>,
    c: &'a Call,
    grid: Grid,
) -> Result<Stream<'a>, QueryError> {
    let label = eval_string(&c.args[1])?;
    if !crate::engine::value::is_valid_label_name(&label) {
        return Err(QueryError::Execution(format!(
            "invalid label name {label:?}"
        )));
    }
    let input: Vec<StepSeries> = eval_vector(ctx, &c.args[0], grid)?.collect::<Result<_, _>>()?;
    if let Some(s) = input.iter().find(|s| s.labels.has(&label)) {
        return Err(QueryError::Execution(format!(
            "label {label:?} already exists on series {}",
            s.labels
        )));
    }
    let mut out = Vec::new();
    for arg in &c.args[2..] {
        let q = eval_scalar(ctx, arg, grid)?;
        warn_quantiles(ctx, &q, arg);
        // The label value: the quantile as Go prints it, with a decimal point.
        let mut text = format_float(q.first().copied().unwrap_or(f64::NAN));
        if !text.contains(['.', 'N', 'I', 'e']) {
            text.push_str(".0");
        }
        for mut s in histogram_function(
            ctx,
            &HistogramFn::Quantile(q),
            input.clone(),
            grid,
            c.args[0].span(),
        ) {
            s.labels.set(&label, &text);
            out.push(s);
        }
    }
    Ok(Box::new(out.into_iter().map(Ok)))
}

/// Classic bucket series of one histogram: its labels without `le`, its metric name, and the series
/// with their upper bounds.
type ClassicGroup = (Labels, String, Vec<(f64, StepSeries)>);

/// Applies a histogram function to native histograms (series by series) and to classic histograms
/// (bucket series grouped by their labels without `le`), with Prometheus' annotations.
fn histogram_function(
    ctx: &Ctx<'_>,
    f: &HistogramFn,
    input: Vec<StepSeries>,
    grid: Grid,
    span: crate::Span,
) -> Vec<StepSeries> {
    let mut out: Vec<StepSeries> = Vec::new();
    let mut native_keys: HashMap<Labels, Vec<bool>> = HashMap::new();
    // Classic bucket series grouped by their labels without `le` (and without the name).
    let mut groups: Vec<ClassicGroup> = Vec::new();
    let mut index: HashMap<Labels, usize> = HashMap::new();
    for series in input {
        let mut key = series.labels.clone();
        if series.values.iter().any(|v| matches!(v, Some(Point::H(_)))) {
            let present = native_keys
                .entry(key.clone())
                .or_insert_with(|| vec![false; grid.len]);
            let values = series
                .values
                .iter()
                .enumerate()
                .map(|(step, v)| match v {
                    Some(Point::H(h)) => {
                        present[step] = true;
                        Some(Point::F(f.native(step, h)))
                    }
                    _ => None,
                })
                .collect();
            out.push(StepSeries {
                labels: key.clone(),
                drop_name: true,
                values,
            });
            if !series.values.iter().any(|v| matches!(v, Some(Point::F(_)))) {
                continue;
            }
        }
        let le = series.labels.get("le");
        let Some(bound) = parse_le(le) else {
            ctx.warn(
                format!(
                    "bucket label \"le\" is missing or has a malformed value of {le:?} for metric name {:?}",
                    series.labels.get(METRIC_NAME)
                ),
                span,
            );
            continue;
        };
        key.remove("le");
        let metric = series.labels.get(METRIC_NAME).to_string();
        let slot = *index.entry(key.clone()).or_insert_with(|| {
            groups.push((key, metric, Vec::new()));
            groups.len() - 1
        });
        groups[slot].2.push((bound, series));
    }
    for (labels, metric, buckets) in groups {
        let native = native_keys.get(&labels);
        let mut scratch = Vec::with_capacity(buckets.len());
        let mut forced = false;
        let mut mixed = false;
        let values: Vec<Option<Point>> = (0..grid.len)
            .map(|step| {
                scratch.clear();
                scratch.extend(buckets.iter().filter_map(|(bound, s)| {
                    float_at(&s.values, step).map(|count| kernels::Bucket {
                        upper_bound: *bound,
                        count,
                    })
                }));
                if scratch.is_empty() {
                    return None;
                }
                if native.is_some_and(|n| n[step]) {
                    mixed = true;
                    return None;
                }
                let (v, fixed) = f.classic(step, &mut scratch);
                forced |= fixed;
                Some(Point::F(v))
            })
            .collect();
        if mixed {
            ctx.warn(
                format!(
                    "vector contains a mix of classic and native histograms for metric name {metric:?}"
                ),
                span,
            );
            // The native result of the same group is dropped at those steps too.
            for s in out.iter_mut().filter(|s| s.labels == labels) {
                for (step, v) in s.values.iter_mut().enumerate() {
                    if values[step].is_none() && scratch_present(&buckets, step) {
                        *v = None;
                    }
                }
            }
        }
        if forced {
            ctx.info(
                format!(
                    "input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for metric name {metric:?}"
                ),
                span,
            );
        }
        out.push(StepSeries {
            labels,
            drop_name: true,
            values,
        });
    }
    out
}

/// Whether any bucket series has a float at `step`.
fn scratch_present(buckets: &[(f64, StepSeries)], step: usize) -> bool {
    buckets
        .iter()
        .any(|(_, s)| float_at(&s.values, step).is_some())
}

/// A bucket's `le` as Prometheus parses it (`strconv.ParseFloat`).
fn parse_le(le: &str) -> Option<f64> {
    match le {
        "+Inf" | "Inf" | "+inf" | "inf" => Some(f64::INFINITY),
        "-Inf" | "-inf" => Some(f64::NEG_INFINITY),
        "NaN" | "nan" => Some(f64::NAN),
        "" => None,
        other => other.parse::<f64>().ok(),
    }
}

/// A range function's kernel: (window, its start timestamps or `&[]`, window start, window end, first
/// and second scalar parameter, step time) → value.
type RangeKernel = fn(&[Sample], &[i64], i64, i64, f64, f64, i64) -> Option<f64>;

/// The kernel of a range-vector function, chosen once per call rather than per step.
fn range_kernel(name: &str) -> Option<RangeKernel> {
    use kernels::RateKind;
    Some(match name {
        "rate" => |w, st, from, to, _, _, _| {
            kernels::extrapolated_rate_with_start_timestamps(w, st, from, to, RateKind::Rate)
        },
        "increase" => |w, st, from, to, _, _, _| {
            kernels::extrapolated_rate_with_start_timestamps(w, st, from, to, RateKind::Increase)
        },
        "delta" => |w, st, from, to, _, _, _| {
            kernels::extrapolated_rate_with_start_timestamps(w, st, from, to, RateKind::Delta)
        },
        "irate" => |w, st, _, _, _, _, _| kernels::irate_with_start_timestamps(w, st),
        "idelta" => |w, _, _, _, _, _, _| kernels::idelta(w),
        "sum_over_time" => |w, _, _, _, _, _, _| kernels::sum_over_time(w),
        "avg_over_time" => |w, _, _, _, _, _, _| kernels::avg_over_time(w),
        "min_over_time" => |w, _, _, _, _, _, _| kernels::min_over_time(w),
        "max_over_time" => |w, _, _, _, _, _, _| kernels::max_over_time(w),
        "count_over_time" => |w, _, _, _, _, _, _| kernels::count_over_time(w),
        "last_over_time" => |w, _, _, _, _, _, _| kernels::last_over_time(w),
        "first_over_time" => |w, _, _, _, _, _, _| kernels::first_over_time(w),
        "present_over_time" => |w, _, _, _, _, _, _| kernels::present_over_time(w),
        "stddev_over_time" => |w, _, _, _, _, _, _| kernels::stddev_over_time(w),
        "stdvar_over_time" => |w, _, _, _, _, _, _| kernels::stdvar_over_time(w),
        "mad_over_time" => |w, _, _, _, _, _, _| kernels::mad_over_time(w),
        "ts_of_min_over_time" => |w, _, _, _, _, _, _| kernels::ts_of_min_over_time(w),
        "ts_of_max_over_time" => |w, _, _, _, _, _, _| kernels::ts_of_max_over_time(w),
        "ts_of_last_over_time" => |w, _, _, _, _, _, _| kernels::ts_of_last_over_time(w),
        "ts_of_first_over_time" => |w, _, _, _, _, _, _| kernels::ts_of_first_over_time(w),
        "quantile_over_time" => |w, _, _, _, q, _, _| kernels::quantile_over_time(q, w),
        "changes" => |w, _, _, _, _, _, _| kernels::changes(w),
        "resets" => |w, st, _, _, _, _, _| kernels::resets_with_start_timestamps(w, st),
        "deriv" => |w, _, _, _, _, _, _| kernels::deriv(w),
        "predict_linear" => |w, _, _, _, d, _, t| kernels::predict_linear(w, t, d),
        "double_exponential_smoothing" => {
            |w, _, _, _, sf, tf, _| kernels::double_exponential_smoothing(w, sf, tf)
        }
        _ => return None,
    })
}

/// The histogram samples of a window `(from, to]`.
fn histogram_window(
    samples: &[crate::engine::HistogramSample],
    (from, to): (i64, i64),
) -> &[crate::engine::HistogramSample] {
    if samples.is_empty() {
        return samples;
    }
    let lo = samples.partition_point(|s| s.t <= from);
    let hi = samples.partition_point(|s| s.t <= to).max(lo);
    &samples[lo..hi]
}
