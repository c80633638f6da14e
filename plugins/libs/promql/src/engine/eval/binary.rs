//! Binary operators: arithmetic, comparisons, `atan2` and the set operators, with vector matching
//! (`on`/`ignoring`, `group_left`/`group_right`, `bool`) evaluated step by step as Prometheus does.

use std::collections::HashMap;

use std::sync::Arc;

use super::{Ctx, Grid, Point, StepSeries, Stream, eval_scalar, eval_vector, histogram_ops};
use crate::engine::QueryError;
use crate::engine::value::{Labels, METRIC_NAME};
use crate::{BinaryExpr, BinaryOp, ValueType, VectorMatchCardinality, VectorMatching};

/// `lhs op rhs` for arithmetic operators.
pub(crate) fn arithmetic(op: BinaryOp, l: f64, r: f64) -> f64 {
    match op {
        BinaryOp::Add => l + r,
        BinaryOp::Sub => l - r,
        BinaryOp::Mul => l * r,
        BinaryOp::Div => l / r,
        BinaryOp::Mod => l % r,
        BinaryOp::Pow => l.powf(r),
        BinaryOp::Atan2 => l.atan2(r),
        _ => f64::NAN,
    }
}

pub(crate) fn compare(op: BinaryOp, l: f64, r: f64) -> bool {
    match op {
        BinaryOp::Eql => l == r,
        BinaryOp::Neq => l != r,
        BinaryOp::Gtr => l > r,
        BinaryOp::Lss => l < r,
        BinaryOp::Gte => l >= r,
        BinaryOp::Lte => l <= r,
        _ => false,
    }
}

/// Prometheus' `vectorElemBinop` for floats: the value and whether the element is kept.
fn elem(op: BinaryOp, l: f64, r: f64) -> (f64, bool) {
    if op.is_comparison() {
        (l, compare(op, l, r))
    } else {
        (arithmetic(op, l, r), true)
    }
}

/// What `lhs op rhs` on two points gave.
enum Elem {
    /// The value and whether the element is kept; `reconciled` when mismatched custom buckets were
    /// mapped onto each other.
    Value {
        point: Point,
        keep: bool,
        reconciled: bool,
    },
    /// The operator does not apply to these sample types: the element is dropped with an info.
    Incompatible,
}

fn kept(point: Point) -> Elem {
    Elem::Value {
        point,
        keep: true,
        reconciled: false,
    }
}

/// `lhs op rhs` on points (Prometheus' `vectorElemBinop`).
fn elem_points(op: BinaryOp, l: &Point, r: &Point) -> Elem {
    match (l, r) {
        (Point::F(l), Point::F(r)) => {
            let (v, keep) = elem(op, *l, *r);
            Elem::Value {
                point: Point::F(v),
                keep,
                reconciled: false,
            }
        }
        (Point::H(l), Point::H(r)) => match op {
            BinaryOp::Add | BinaryOp::Sub => {
                let combined = if op == BinaryOp::Add {
                    histogram_ops::add(l, r)
                } else {
                    histogram_ops::sub(l, r)
                };
                match combined {
                    Ok(c) => Elem::Value {
                        point: Point::H(Arc::new(c.histogram)),
                        keep: true,
                        reconciled: c.reconciled,
                    },
                    Err(_) => Elem::Incompatible,
                }
            }
            BinaryOp::Eql | BinaryOp::Neq => Elem::Value {
                point: Point::H(l.clone()),
                keep: histogram_ops::equal(l, r) == (op == BinaryOp::Eql),
                reconciled: false,
            },
            _ => Elem::Incompatible,
        },
        (Point::H(h), Point::F(f)) => match op {
            BinaryOp::Mul => kept(Point::H(Arc::new(histogram_ops::scale(h, *f)))),
            BinaryOp::Div => kept(Point::H(Arc::new(histogram_ops::divide(h, *f)))),
            _ => Elem::Incompatible,
        },
        (Point::F(f), Point::H(h)) => match op {
            BinaryOp::Mul => kept(Point::H(Arc::new(histogram_ops::scale(h, *f)))),
            _ => Elem::Incompatible,
        },
    }
}

fn type_name(p: &Point) -> &'static str {
    match p {
        Point::F(_) => "float",
        Point::H(_) => "histogram",
    }
}

/// Reports an element `elem_points` could not combine, or combined by reconciling custom buckets.
fn annotate(ctx: &Ctx<'_>, b: &BinaryExpr, l: &Point, r: &Point, elem: &Elem) {
    match elem {
        Elem::Incompatible => ctx.info(
            format!(
                "incompatible sample types encountered for binary operator {:?}: {} {} {}",
                b.op.as_str(),
                type_name(l),
                b.op.as_str(),
                type_name(r)
            ),
            b.span,
        ),
        Elem::Value {
            reconciled: true, ..
        } => ctx.info(
            format!(
                "mismatched custom buckets were reconciled during {}",
                if b.op == BinaryOp::Add {
                    "addition"
                } else {
                    "subtraction"
                }
            ),
            b.span,
        ),
        Elem::Value { .. } => {}
    }
}

pub(crate) fn eval_scalar_scalar(
    ctx: &Ctx<'_>,
    b: &BinaryExpr,
    grid: Grid,
) -> Result<Vec<f64>, QueryError> {
    let lhs = eval_scalar(ctx, &b.lhs, grid)?;
    let rhs = eval_scalar(ctx, &b.rhs, grid)?;
    Ok(lhs
        .iter()
        .zip(&rhs)
        .map(|(&l, &r)| {
            if b.op.is_comparison() {
                f64::from(u8::from(compare(b.op, l, r)))
            } else {
                arithmetic(b.op, l, r)
            }
        })
        .collect())
}

pub(crate) fn eval_binary<'a>(
    ctx: &'a Ctx<'a>,
    b: &'a BinaryExpr,
    grid: Grid,
) -> Result<Stream<'a>, QueryError> {
    let lt = b.lhs.value_type();
    let rt = b.rhs.value_type();
    match (lt, rt) {
        (ValueType::Vector, ValueType::Scalar) => {
            let scalar = eval_scalar(ctx, &b.rhs, grid)?;
            let input = eval_vector(ctx, &b.lhs, grid)?;
            Ok(vector_scalar(ctx, b, input, scalar, false))
        }
        (ValueType::Scalar, ValueType::Vector) => {
            let scalar = eval_scalar(ctx, &b.lhs, grid)?;
            let input = eval_vector(ctx, &b.rhs, grid)?;
            Ok(vector_scalar(ctx, b, input, scalar, true))
        }
        _ => {
            let lhs: Vec<StepSeries> = eval_vector(ctx, &b.lhs, grid)?.collect::<Result<_, _>>()?;
            let rhs: Vec<StepSeries> = eval_vector(ctx, &b.rhs, grid)?.collect::<Result<_, _>>()?;
            let default = VectorMatching {
                card: if b.op.is_set_operator() {
                    VectorMatchCardinality::ManyToMany
                } else {
                    VectorMatchCardinality::OneToOne
                },
                on: false,
                labels: Vec::new(),
                include: Vec::new(),
            };
            let matching = b.matching.as_ref().unwrap_or(&default);
            let out = match b.op {
                BinaryOp::And => and_unless(lhs, &rhs, matching, grid, true),
                BinaryOp::Unless => and_unless(lhs, &rhs, matching, grid, false),
                BinaryOp::Or => or(lhs, rhs, matching, grid),
                _ => vector_vector(ctx, b, lhs, rhs, matching, grid)?,
            };
            Ok(Box::new(out.into_iter().map(Ok)))
        }
    }
}

fn vector_scalar<'a>(
    ctx: &'a Ctx<'a>,
    b: &'a BinaryExpr,
    input: Stream<'a>,
    scalar: Vec<f64>,
    scalar_on_left: bool,
) -> Stream<'a> {
    let op = b.op;
    let drop = !op.is_comparison() || b.return_bool;
    Box::new(input.map(move |series| {
        let mut series = series?;
        for (value, &s) in series.values.iter_mut().zip(&scalar) {
            let Some(v) = value.take() else { continue };
            let s = Point::F(s);
            let (l, r) = if scalar_on_left { (&s, &v) } else { (&v, &s) };
            let elem = elem_points(op, l, r);
            annotate(ctx, b, l, r, &elem);
            let Elem::Value {
                point: mut result,
                keep,
                ..
            } = elem
            else {
                continue;
            };
            if op.is_comparison() && scalar_on_left {
                result = v;
            }
            *value = if b.return_bool {
                Some(Point::F(f64::from(u8::from(keep))))
            } else if keep {
                Some(result)
            } else {
                None
            };
        }
        if drop {
            series.drop_name = true;
        }
        Ok(series)
    }))
}

/// The matching signature of a label set.
fn signature(labels: &Labels, matching: &VectorMatching) -> Vec<(String, String)> {
    labels
        .iter()
        .filter(|(name, _)| {
            if matching.on {
                matching.labels.iter().any(|l| l == name)
            } else {
                *name != METRIC_NAME && !matching.labels.iter().any(|l| l == name)
            }
        })
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

/// Per signature, whether any series with it has a value at each step.
fn presence(
    series: &[StepSeries],
    matching: &VectorMatching,
    grid: Grid,
) -> HashMap<Vec<(String, String)>, Vec<bool>> {
    let mut out: HashMap<Vec<(String, String)>, Vec<bool>> = HashMap::new();
    for s in series {
        let present = out
            .entry(signature(&s.labels, matching))
            .or_insert_with(|| vec![false; grid.len]);
        for (p, v) in present.iter_mut().zip(&s.values) {
            *p |= v.is_some();
        }
    }
    out
}

fn and_unless(
    mut lhs: Vec<StepSeries>,
    rhs: &[StepSeries],
    matching: &VectorMatching,
    grid: Grid,
    and: bool,
) -> Vec<StepSeries> {
    let present = presence(rhs, matching, grid);
    for s in &mut lhs {
        let sig = signature(&s.labels, matching);
        let rhs_present = present.get(&sig);
        for (i, v) in s.values.iter_mut().enumerate() {
            let matched = rhs_present.is_some_and(|p| p[i]);
            if matched != and {
                *v = None;
            }
        }
    }
    lhs
}

fn or(
    mut lhs: Vec<StepSeries>,
    rhs: Vec<StepSeries>,
    matching: &VectorMatching,
    grid: Grid,
) -> Vec<StepSeries> {
    let present = presence(&lhs, matching, grid);
    for mut s in rhs {
        let sig = signature(&s.labels, matching);
        if let Some(p) = present.get(&sig) {
            for (i, v) in s.values.iter_mut().enumerate() {
                if p[i] {
                    *v = None;
                }
            }
        }
        lhs.push(s);
    }
    lhs
}

/// The labels of a result element (Prometheus' `resultMetric`), without dropping `__name__` (that is
/// delayed to the end of evaluation).
fn result_labels(many: &Labels, one: &Labels, matching: &VectorMatching) -> Labels {
    let mut labels = many.clone();
    if matching.card == VectorMatchCardinality::OneToOne {
        if matching.on {
            labels.retain(|n| matching.labels.iter().any(|l| l == n));
        } else {
            labels.retain(|n| !matching.labels.iter().any(|l| l == n));
        }
    }
    for name in &matching.include {
        let value = one.get(name).to_string();
        labels.set(name, &value);
    }
    labels
}

fn vector_vector(
    ctx: &Ctx<'_>,
    b: &BinaryExpr,
    lhs: Vec<StepSeries>,
    rhs: Vec<StepSeries>,
    matching: &VectorMatching,
    grid: Grid,
) -> Result<Vec<StepSeries>, QueryError> {
    let one_to_many = matching.card == VectorMatchCardinality::OneToMany;
    // The "many" side is iterated; the "one" side is looked up by signature.
    let (many, one) = if one_to_many { (rhs, lhs) } else { (lhs, rhs) };
    let mut by_sig: HashMap<Vec<(String, String)>, Vec<usize>> = HashMap::new();
    for (i, s) in one.iter().enumerate() {
        by_sig
            .entry(signature(&s.labels, matching))
            .or_default()
            .push(i);
    }
    // Uniqueness of the "one" side per step.
    for indices in by_sig.values() {
        if indices.len() < 2 {
            continue;
        }
        for step in 0..grid.len {
            let present: Vec<usize> = indices
                .iter()
                .copied()
                .filter(|&i| one[i].values[step].is_some())
                .collect();
            if present.len() > 1 {
                let side = if one_to_many { "left" } else { "right" };
                let sig = Labels::new(signature(&one[present[0]].labels, matching));
                return Err(QueryError::Execution(format!(
                    "found duplicate series for the match group {sig} on the {side} hand-side of the operation: [{}, {}];many-to-many matching not allowed: matching labels must be unique on one side",
                    one[present[0]].labels, one[present[1]].labels
                )));
            }
        }
    }
    let drop = !b.op.is_comparison() || b.return_bool;
    let mut out: Vec<StepSeries> = Vec::new();
    let mut index: HashMap<Labels, usize> = HashMap::new();
    // For one-to-one matching: which signature was matched at which step already.
    let mut matched: HashMap<Vec<(String, String)>, Vec<bool>> = HashMap::new();
    for m in &many {
        let sig = signature(&m.labels, matching);
        let Some(candidates) = by_sig.get(&sig) else {
            continue;
        };
        for step in 0..grid.len {
            let Some(mv) = &m.values[step] else { continue };
            let Some(&oi) = candidates.iter().find(|&&i| one[i].values[step].is_some()) else {
                continue;
            };
            let Some(ov) = &one[oi].values[step] else {
                continue;
            };
            if matching.card == VectorMatchCardinality::OneToOne {
                let seen = matched
                    .entry(sig.clone())
                    .or_insert_with(|| vec![false; grid.len]);
                if seen[step] {
                    return Err(QueryError::Execution(
                        "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)"
                            .to_string(),
                    ));
                }
                seen[step] = true;
            }
            let (l, r) = if one_to_many { (ov, mv) } else { (mv, ov) };
            let elem = elem_points(b.op, l, r);
            annotate(ctx, b, l, r, &elem);
            let Elem::Value {
                point: value, keep, ..
            } = elem
            else {
                continue;
            };
            let value = if b.return_bool {
                Point::F(f64::from(u8::from(keep)))
            } else if keep {
                value
            } else {
                continue;
            };
            let labels = result_labels(&m.labels, &one[oi].labels, matching);
            let slot = match index.get(&labels) {
                Some(&slot) => slot,
                None => {
                    index.insert(labels.clone(), out.len());
                    out.push(StepSeries {
                        labels,
                        drop_name: drop || (m.drop_name && !b.op.is_comparison()),
                        values: vec![None; grid.len],
                    });
                    out.len() - 1
                }
            };
            let target = &mut out[slot];
            if target.values[step].is_some() {
                return Err(QueryError::Execution(
                    "multiple matches for labels: grouping labels must ensure unique matches"
                        .to_string(),
                ));
            }
            if m.drop_name && b.op.is_comparison() {
                target.drop_name = true;
            }
            target.values[step] = Some(value);
        }
    }
    Ok(out)
}
