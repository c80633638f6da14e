//! Aggregations. Series are folded into per-group, per-step accumulators as they stream in; the
//! selecting aggregations (`topk`, `bottomk`, `limitk`, `limit_ratio`) and `quantile` keep their
//! group's values because they need all of them at once.

use std::collections::HashMap;

use std::sync::Arc;

use super::{
    Ctx, Grid, Point, StepSeries, Stream, eval_label_name, eval_scalar, eval_vector, histogram_ops,
};
use crate::engine::QueryError;
use crate::engine::histogram::FloatHistogram;
use crate::engine::kernels;
use crate::engine::value::{Labels, METRIC_NAME};
use crate::{AggregateExpr, AggregateOp};

/// The labels of the group a series belongs to.
fn group_labels(labels: &Labels, agg: &AggregateExpr) -> Labels {
    let mut out = labels.clone();
    if agg.without {
        out.retain(|n| n != METRIC_NAME && !agg.grouping.iter().any(|g| g == n));
    } else {
        out.retain(|n| agg.grouping.iter().any(|g| g == n));
    }
    out
}

/// Go's `strconv.FormatFloat(v, 'f', -1, 64)`.
pub(crate) fn format_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_string()
    } else if v == f64::INFINITY {
        "+Inf".to_string()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_string()
    } else {
        // Rust's shortest round-trip formatting, without exponent.
        let s = format!("{v}");
        if s.contains('e') { format!("{v:.}") } else { s }
    }
}

#[derive(Default, Clone)]
struct StepAcc {
    count: usize,
    /// How many of `count` were histograms, and their running sum (`sum`/`avg`).
    histograms: usize,
    histogram_sum: Option<FloatHistogram>,
    /// Two histograms could not be added.
    incompatible: bool,
    sum: kernels::KahanSum,
    mean: kernels::MeanAcc,
    var: kernels::VarianceAcc,
    extreme: f64,
}

struct Group {
    labels: Labels,
    steps: Vec<StepAcc>,
}

pub(crate) fn eval_aggregate<'a>(
    ctx: &'a Ctx<'a>,
    agg: &'a AggregateExpr,
    grid: Grid,
) -> Result<Stream<'a>, QueryError> {
    match agg.op {
        AggregateOp::Topk
        | AggregateOp::Bottomk
        | AggregateOp::Limitk
        | AggregateOp::LimitRatio => return selecting(ctx, agg, grid),
        AggregateOp::Quantile => return quantile(ctx, agg, grid),
        AggregateOp::CountValues => return count_values(ctx, agg, grid),
        _ => {}
    }
    let input = eval_vector(ctx, &agg.expr, grid)?;
    let mut groups: Vec<Group> = Vec::new();
    let mut index: HashMap<Labels, usize> = HashMap::new();
    for series in input {
        let series = series?;
        let key = group_labels(&series.labels, agg);
        let slot = match index.get(&key) {
            Some(&slot) => slot,
            None => {
                ctx.hold(grid.len)?;
                index.insert(key.clone(), groups.len());
                groups.push(Group {
                    labels: key,
                    steps: vec![StepAcc::default(); grid.len],
                });
                groups.len() - 1
            }
        };
        let group = &mut groups[slot];
        for (acc, value) in group.steps.iter_mut().zip(&series.values) {
            let Some(point) = value else { continue };
            let v = match point {
                Point::F(v) => *v,
                Point::H(h) => {
                    match agg.op {
                        AggregateOp::Sum | AggregateOp::Avg => {
                            acc.histogram_sum = match acc.histogram_sum.take() {
                                None => Some(FloatHistogram::clone(h)),
                                Some(sum) => match histogram_ops::add(&sum, h) {
                                    Ok(added) => Some(added.histogram),
                                    Err(_) => {
                                        acc.incompatible = true;
                                        Some(sum)
                                    }
                                },
                            };
                            acc.histograms += 1;
                            acc.count += 1;
                        }
                        AggregateOp::Count | AggregateOp::Group => acc.count += 1,
                        op => ctx.info(
                            format!("ignored histogram in {} aggregation", op.as_str()),
                            agg.span,
                        ),
                    }
                    continue;
                }
            };
            match agg.op {
                AggregateOp::Sum => acc.sum.add(v),
                AggregateOp::Avg => acc.mean.add(v),
                AggregateOp::Stddev | AggregateOp::Stdvar => acc.var.add(v),
                AggregateOp::Max if acc.count == 0 || acc.extreme < v || acc.extreme.is_nan() => {
                    acc.extreme = v;
                }
                AggregateOp::Min if acc.count == 0 || acc.extreme > v || acc.extreme.is_nan() => {
                    acc.extreme = v;
                }
                _ => {}
            }
            acc.count += 1;
        }
    }
    let op = agg.op;
    let span = agg.span;
    Ok(Box::new(groups.into_iter().map(move |group| {
        let values = group
            .steps
            .iter()
            .map(|acc| {
                if acc.count == 0 {
                    return None;
                }
                if acc.histograms > 0 && matches!(op, AggregateOp::Sum | AggregateOp::Avg) {
                    if acc.histograms < acc.count {
                        ctx.warn(
                            format!(
                                "encountered a mix of histograms and floats for aggregation {:?}",
                                op.as_str()
                            ),
                            span,
                        );
                        return None;
                    }
                    if acc.incompatible {
                        return None;
                    }
                    let sum = acc.histogram_sum.as_ref()?;
                    return Some(Point::H(Arc::new(if op == AggregateOp::Avg {
                        histogram_ops::divide(sum, acc.count as f64)
                    } else {
                        sum.clone()
                    })));
                }
                Some(Point::F(match op {
                    AggregateOp::Sum => acc.sum.value(),
                    AggregateOp::Avg => acc.mean.value().unwrap_or(f64::NAN),
                    AggregateOp::Count => acc.count as f64,
                    AggregateOp::Group => 1.0,
                    AggregateOp::Stddev => acc.var.stddev(),
                    AggregateOp::Stdvar => acc.var.stdvar(),
                    _ => acc.extreme,
                }))
            })
            .collect();
        Ok(StepSeries {
            labels: group.labels,
            drop_name: false,
            values,
        })
    })))
}

/// Buffers the input grouped: each group's labels and member series.
fn grouped(
    ctx: &Ctx<'_>,
    agg: &AggregateExpr,
    grid: Grid,
) -> Result<Vec<(Labels, Vec<StepSeries>)>, QueryError> {
    let mut groups: Vec<(Labels, Vec<StepSeries>)> = Vec::new();
    let mut index: HashMap<Labels, usize> = HashMap::new();
    for series in eval_vector(ctx, &agg.expr, grid)? {
        let series = series?;
        let key = group_labels(&series.labels, agg);
        let slot = *index.entry(key.clone()).or_insert_with(|| {
            groups.push((key, Vec::new()));
            groups.len() - 1
        });
        groups[slot].1.push(series);
    }
    Ok(groups)
}

fn param_values(ctx: &Ctx<'_>, agg: &AggregateExpr, grid: Grid) -> Result<Vec<f64>, QueryError> {
    match &agg.param {
        Some(p) => eval_scalar(ctx, p, grid),
        None => Ok(vec![f64::NAN; grid.len]),
    }
}

fn selecting<'a>(
    ctx: &'a Ctx<'a>,
    agg: &'a AggregateExpr,
    grid: Grid,
) -> Result<Stream<'a>, QueryError> {
    let params = param_values(ctx, agg, grid)?;
    for &p in &params {
        if p.is_nan() {
            return Err(QueryError::Execution(match agg.op {
                AggregateOp::LimitRatio => "Ratio value is NaN".to_string(),
                _ => "Parameter value is NaN".to_string(),
            }));
        }
    }
    if agg.op == AggregateOp::LimitRatio
        && params.iter().any(|p| !(-1.0..=1.0).contains(p))
        && let Some(param) = &agg.param
    {
        let p = params
            .iter()
            .find(|p| !(-1.0..=1.0).contains(*p))
            .copied()
            .unwrap_or(0.0);
        ctx.warn(
            format!(
                "ratio value should be between -1 and 1, got {}, capping to {}",
                format_float(p),
                format_float(p.clamp(-1.0, 1.0))
            ),
            param.span(),
        );
    }
    let groups = grouped(ctx, agg, grid)?;
    let mut out: Vec<StepSeries> = Vec::new();
    for (_, members) in groups {
        let mut selected: Vec<Vec<Option<Point>>> = vec![vec![None; grid.len]; members.len()];
        // For an instant query, the rank order of the selection, so the result comes sorted.
        let mut order: Vec<usize> = Vec::new();
        for step in 0..grid.len {
            let p = params[step];
            let ranks_values = matches!(agg.op, AggregateOp::Topk | AggregateOp::Bottomk);
            let mut present: Vec<(usize, f64)> = Vec::with_capacity(members.len());
            for (i, s) in members.iter().enumerate() {
                match &s.values[step] {
                    Some(Point::F(v)) => present.push((i, *v)),
                    // topk/bottomk rank floats only; limitk/limit_ratio keep histograms too.
                    Some(Point::H(_)) if ranks_values => ctx.info(
                        format!("ignored histogram in {} aggregation", agg.op.as_str()),
                        agg.span,
                    ),
                    Some(Point::H(_)) => present.push((i, f64::NAN)),
                    None => {}
                }
            }
            let chosen: Vec<(usize, f64)> = match agg.op {
                AggregateOp::LimitRatio => {
                    let ratio = p.clamp(-1.0, 1.0);
                    present
                        .into_iter()
                        .filter(|(i, _)| ratio_includes(&members[*i].labels, ratio))
                        .collect()
                }
                _ => {
                    let k = if p >= present.len() as f64 {
                        present.len()
                    } else if p < 1.0 {
                        0
                    } else {
                        p as usize
                    };
                    match agg.op {
                        AggregateOp::Topk => {
                            present.sort_by(|a, b| desc_nan_last(a.1, b.1));
                        }
                        AggregateOp::Bottomk => {
                            present.sort_by(|a, b| asc_nan_last(a.1, b.1));
                        }
                        _ => {}
                    }
                    present.truncate(k);
                    present
                }
            };
            for (i, _) in chosen {
                selected[i][step] = members[i].values[step].clone();
                if grid.len == 1 {
                    order.push(i);
                }
            }
        }
        let mut members: Vec<Option<StepSeries>> = members.into_iter().map(Some).collect();
        let indices: Vec<usize> = if grid.len == 1 {
            order
        } else {
            (0..members.len()).collect()
        };
        for i in indices {
            if let Some(mut s) = members[i].take() {
                s.values = std::mem::take(&mut selected[i]);
                out.push(s);
            }
        }
    }
    Ok(Box::new(out.into_iter().map(Ok)))
}

/// Descending, NaN after every number (what `topk` keeps last).
fn desc_nan_last(a: f64, b: f64) -> std::cmp::Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Greater,
        (false, true) => std::cmp::Ordering::Less,
        _ => b.partial_cmp(&a).unwrap_or(std::cmp::Ordering::Equal),
    }
}

fn asc_nan_last(a: f64, b: f64) -> std::cmp::Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Greater,
        (false, true) => std::cmp::Ordering::Less,
        _ => a.partial_cmp(&b).unwrap_or(std::cmp::Ordering::Equal),
    }
}

/// Whether `limit_ratio(ratio, …)` keeps a series: a stable sample by the hash of its labels, so a
/// ratio `r` and `-(1 − r)` pick complementary sets (Prometheus' `ratiosampler`).
fn ratio_includes(labels: &Labels, ratio: f64) -> bool {
    let offset = labels.prometheus_hash() as f64 / u64::MAX as f64;
    if ratio >= 0.0 {
        offset < ratio
    } else {
        offset >= 1.0 + ratio
    }
}

fn quantile<'a>(
    ctx: &'a Ctx<'a>,
    agg: &'a AggregateExpr,
    grid: Grid,
) -> Result<Stream<'a>, QueryError> {
    let params = param_values(ctx, agg, grid)?;
    if let (Some(param), Some(&q)) = (
        &agg.param,
        params
            .iter()
            .find(|q| q.is_nan() || !(0.0..=1.0).contains(*q)),
    ) {
        ctx.warn(
            format!(
                "quantile value should be between 0 and 1, got {}",
                format_float(q)
            ),
            param.span(),
        );
    }
    let groups = grouped(ctx, agg, grid)?;
    let mut out = Vec::with_capacity(groups.len());
    for (labels, members) in groups {
        let mut buf = Vec::with_capacity(members.len());
        let values = (0..grid.len)
            .map(|step| {
                buf.clear();
                for s in &members {
                    match &s.values[step] {
                        Some(Point::F(v)) => buf.push(*v),
                        Some(Point::H(_)) => {
                            ctx.info("ignored histogram in quantile aggregation", agg.span)
                        }
                        None => {}
                    }
                }
                (!buf.is_empty()).then(|| Point::F(kernels::quantile(params[step], &mut buf)))
            })
            .collect();
        out.push(Ok(StepSeries {
            labels,
            drop_name: false,
            values,
        }));
    }
    Ok(Box::new(out.into_iter()))
}

fn count_values<'a>(
    ctx: &'a Ctx<'a>,
    agg: &'a AggregateExpr,
    grid: Grid,
) -> Result<Stream<'a>, QueryError> {
    let label = match &agg.param {
        Some(p) => eval_label_name(p, "invalid label name")?,
        None => String::new(),
    };
    if !crate::engine::value::is_valid_label_name(&label) {
        return Err(QueryError::Execution(format!(
            "invalid label name {label:?}"
        )));
    }
    let mut out: Vec<StepSeries> = Vec::new();
    let mut index: HashMap<Labels, usize> = HashMap::new();
    for series in eval_vector(ctx, &agg.expr, grid)? {
        let series = series?;
        let key = group_labels(&series.labels, agg);
        for (step, value) in series.values.iter().enumerate() {
            let Some(point) = value else { continue };
            let text = match point {
                Point::F(v) => format_float(*v),
                Point::H(h) => h.to_string(),
            };
            let mut labels = key.clone();
            labels.set(&label, &text);
            let slot = *index.entry(labels.clone()).or_insert_with(|| {
                out.push(StepSeries {
                    labels,
                    drop_name: false,
                    values: vec![None; grid.len],
                });
                out.len() - 1
            });
            let cell = &mut out[slot].values[step];
            let count = cell.as_ref().and_then(Point::float).unwrap_or(0.0);
            *cell = Some(Point::F(count + 1.0));
        }
    }
    Ok(Box::new(out.into_iter().map(Ok)))
}
