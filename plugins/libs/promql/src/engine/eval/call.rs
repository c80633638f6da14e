//! Function calls.

use std::collections::HashMap;

use super::aggregate::format_float;
use super::selector::{self, WindowCursor, window};
use super::{
    Ctx, Grid, RangeOperand, StepSeries, Stream, eval_range, eval_scalar, eval_string, eval_vector,
    unwrap_parens,
};
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
                    if let Some(v) = v {
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

/// Maps every present value of every series; the result drops `__name__`.
fn map_values<'a>(
    input: Stream<'a>,
    drop_name: bool,
    mut f: impl FnMut(usize, f64) -> Option<f64> + 'a,
) -> Stream<'a> {
    Box::new(input.map(move |series| {
        let mut series = series?;
        for (i, value) in series.values.iter_mut().enumerate() {
            if let Some(v) = *value {
                *value = f(i, v);
            }
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
                values: values.into_iter().map(Some).collect(),
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
                    .map(|i| kernels::date_part(name, grid.time(i) as f64 / 1000.0))
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
            Ok(map_values(input, true, move |i, _| {
                Some(grid.time(i) as f64 / 1000.0)
            }))
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
    let values = present.iter().map(|p| (!p).then_some(1.0)).collect();
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
                *p |= !window(&s.samples, *w).is_empty();
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
        {
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
        let values: Vec<Option<f64>> = windows
            .iter()
            .enumerate()
            .map(|(i, &(from, to))| {
                let range = cursor.range(&s.samples, (from, to));
                let st = s.start_ts.get(range.clone()).unwrap_or(&[]);
                let w = &s.samples[range];
                if counter_check && !st.is_empty() && kernels::has_start_time_overlap(w, st) {
                    overlap = true;
                }
                let v = kernel(w, st, from, to, pa.get(i).copied().unwrap_or(0.0), pb.get(i).copied().unwrap_or(0.0), grid.time(i));
                any |= v.is_some();
                v
            })
            .collect();
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
    if grid.len == 1 {
        let value = |s: &StepSeries| s.values[0].unwrap_or(f64::NAN);
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
    let dst = eval_string(&c.args[1])?;
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

fn histogram_quantile<'a>(
    ctx: &'a Ctx<'a>,
    c: &'a Call,
    grid: Grid,
) -> Result<Stream<'a>, QueryError> {
    let q = eval_scalar(ctx, &c.args[0], grid)?;
    if let Some(&bad) = q.iter().find(|q| q.is_nan() || !(0.0..=1.0).contains(*q)) {
        ctx.warn(
            format!(
                "quantile value should be between 0 and 1, got {}",
                format_float(bad)
            ),
            c.args[0].span(),
        );
    }
    let span = c.args[1].span();
    // Group the bucket series by their labels without `le` (and without the name).
    let mut groups: Vec<(Labels, Vec<(f64, StepSeries)>)> = Vec::new();
    let mut index: HashMap<Labels, usize> = HashMap::new();
    for series in eval_vector(ctx, &c.args[1], grid)? {
        let series = series?;
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
        let mut key = series.labels.clone();
        key.remove("le");
        key.drop_metric_name();
        let slot = *index.entry(key.clone()).or_insert_with(|| {
            groups.push((key, Vec::new()));
            groups.len() - 1
        });
        groups[slot].1.push((bound, series));
    }
    let mut out = Vec::with_capacity(groups.len());
    for (labels, buckets) in groups {
        let metric = buckets
            .first()
            .map(|(_, s)| s.labels.get(METRIC_NAME).to_string())
            .unwrap_or_default();
        let mut scratch = Vec::with_capacity(buckets.len());
        let mut forced = false;
        let values: Vec<Option<f64>> = (0..grid.len)
            .map(|step| {
                scratch.clear();
                scratch.extend(buckets.iter().filter_map(|(bound, s)| {
                    s.values[step].map(|count| kernels::Bucket {
                        upper_bound: *bound,
                        count,
                    })
                }));
                if scratch.is_empty() {
                    return None;
                }
                let (v, monotonic_fix, _) = kernels::bucket_quantile(q[step], &mut scratch);
                forced |= monotonic_fix;
                Some(v)
            })
            .collect();
        if forced {
            ctx.info(
                format!(
                    "input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for metric name {metric:?}"
                ),
                span,
            );
        }
        out.push(Ok(StepSeries {
            labels,
            drop_name: false,
            values,
        }));
    }
    Ok(Box::new(out.into_iter()))
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
