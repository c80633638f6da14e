//! Selectors and subqueries: where series enter the operator tree.

use super::{Ctx, Grid, Point, RangeOperand, RangeSeries, StepSeries, Stream, eval_vector};
use crate::engine::value::{METRIC_NAME, is_stale_nan};
use crate::engine::{HistogramSample, QueryError, Sample};
use crate::{Matcher, MatcherOp, MatrixSelector, SubqueryExpr, VectorSelector};

/// The selector's matchers, with the one its metric name implies.
pub(crate) fn matchers(sel: &VectorSelector) -> Vec<Matcher> {
    let mut out = Vec::with_capacity(sel.matchers.len() + 1);
    if let Some(name) = &sel.name {
        out.push(Matcher {
            name: METRIC_NAME.to_string(),
            op: MatcherOp::Equal,
            value: name.clone(),
        });
    }
    out.extend(sel.matchers.iter().cloned());
    out
}

/// What an instant-vector selector emits for the sample it picks at a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Emit {
    Value,
    /// The sample's timestamp in seconds (`timestamp(selector)`).
    Timestamp,
    /// The sample's start timestamp in seconds, 0 when unknown (`start_timestamp(selector)`).
    StartTimestamp,
}

/// An instant-vector selector: per step, the newest sample in `(t − lookback, t]` unless it is a
/// staleness marker.
pub(crate) fn vector<'a>(
    ctx: &'a Ctx<'a>,
    sel: &'a VectorSelector,
    grid: Grid,
    emit: Emit,
) -> Result<Stream<'a>, QueryError> {
    let offset = sel.offset.as_ref().map_or(0, |d| ctx.duration_ms(d));
    let times: Vec<i64> = (0..grid.len)
        .map(|i| ctx.effective_time(grid.time(i), sel.at, offset))
        .collect();
    let (Some(&min), Some(&max)) = (times.iter().min(), times.iter().max()) else {
        return Ok(Box::new(std::iter::empty()));
    };
    let lookback = ctx.options.lookback_delta_ms;
    let series = ctx.storage.select(
        &matchers(sel),
        min.saturating_sub(lookback).saturating_add(1),
        max,
    )?;
    Ok(Box::new(series.filter_map(move |stored| {
        let stored = match stored {
            Ok(stored) => stored,
            Err(err) => return Some(Err(err)),
        };
        if let Err(err) = ctx.check_deadline() {
            return Some(Err(err));
        }
        let samples = &stored.samples;
        let histograms = &stored.histograms;
        let mut points = 0usize;
        let values: Vec<Option<Point>> = times
            .iter()
            .map(|&t| {
                let float = samples
                    .partition_point(|s| s.t <= t)
                    .checked_sub(1)
                    .map(|i| (i, samples[i]));
                let histogram = histograms
                    .partition_point(|h| h.t <= t)
                    .checked_sub(1)
                    .map(|i| &histograms[i]);
                let oldest = t.saturating_sub(lookback);
                let point = match (float, histogram) {
                    (Some((_, f)), Some(h)) if h.t > f.t => {
                        (h.t > oldest).then(|| (h.t, Point::H(h.h.clone()), h.st))
                    }
                    (Some((index, f)), _) => (f.t > oldest && !is_stale_nan(f.v)).then(|| {
                        let st = stored.start_ts.get(index).copied().unwrap_or(0);
                        (f.t, Point::F(f.v), st)
                    }),
                    (None, Some(h)) => (h.t > oldest).then(|| (h.t, Point::H(h.h.clone()), h.st)),
                    (None, None) => None,
                };
                let (sample_t, point, st) = point?;
                points += 1;
                Some(match emit {
                    Emit::Value => point,
                    Emit::Timestamp => Point::F(sample_t as f64 / 1000.0),
                    Emit::StartTimestamp => Point::F(st as f64 / 1000.0),
                })
            })
            .collect();
        if points == 0 {
            return None;
        }
        if let Err(err) = ctx.hold(points) {
            return Some(Err(err));
        }
        Some(Ok(StepSeries {
            labels: stored.labels,
            drop_name: false,
            values,
        }))
    })))
}

/// The window `(eff − range, eff]` of every step.
fn windows(
    ctx: &Ctx<'_>,
    grid: Grid,
    at: Option<crate::AtModifier>,
    offset: i64,
    range: i64,
) -> Vec<(i64, i64)> {
    (0..grid.len)
        .map(|i| {
            let eff = ctx.effective_time(grid.time(i), at, offset);
            (eff.saturating_sub(range), eff)
        })
        .collect()
}

/// The earliest window start and the latest window end; `None` without steps.
fn span_of(windows: &[(i64, i64)]) -> Option<(i64, i64)> {
    Some((
        windows.iter().map(|w| w.0).min()?,
        windows.iter().map(|w| w.1).max()?,
    ))
}

/// Counts the samples of every step's window against the query's sample limit.
fn hold_windows(
    ctx: &Ctx<'_>,
    samples: &[Sample],
    windows: &[(i64, i64)],
) -> Result<(), QueryError> {
    let mut cursor = WindowCursor::default();
    let total = windows
        .iter()
        .map(|w| cursor.window(samples, *w).len())
        .sum();
    ctx.hold(total)
}

/// A range-vector selector `m[range]`.
pub(crate) fn matrix<'a>(
    ctx: &'a Ctx<'a>,
    m: &'a MatrixSelector,
    grid: Grid,
) -> Result<RangeOperand<'a>, QueryError> {
    let sel = &m.selector;
    let offset = sel.offset.as_ref().map_or(0, |d| ctx.duration_ms(d));
    let range = ctx.duration_ms(&m.range);
    let windows = windows(ctx, grid, sel.at, offset, range);
    let Some((min, max)) = span_of(&windows) else {
        return Ok(RangeOperand::empty(windows));
    };
    let stored = ctx
        .storage
        .select(&matchers(sel), min.saturating_add(1), max)?;
    let ws = windows.clone();
    let series = stored.filter_map(move |stored| {
        let mut stored = match stored {
            Ok(stored) => stored,
            Err(err) => return Some(Err(err)),
        };
        if let Err(err) = ctx.check_deadline() {
            return Some(Err(err));
        }
        let keep = |s: &Sample| !is_stale_nan(s.v) && s.t > min && s.t <= max;
        if stored.start_ts.is_empty() {
            stored.samples.retain(keep);
        } else {
            let (samples, start_ts) = stored
                .samples
                .iter()
                .zip(&stored.start_ts)
                .filter(|(s, _)| keep(s))
                .map(|(s, st)| (*s, *st))
                .unzip();
            stored.samples = samples;
            stored.start_ts = start_ts;
        }
        stored.histograms.retain(|h| h.t > min && h.t <= max);
        if stored.samples.is_empty() && stored.histograms.is_empty() {
            return None;
        }
        if let Err(err) = hold_windows(ctx, &stored.samples, &ws) {
            return Some(Err(err));
        }
        Some(Ok(RangeSeries {
            labels: stored.labels,
            drop_name: false,
            samples: stored.samples,
            start_ts: stored.start_ts,
            histograms: stored.histograms,
        }))
    });
    Ok(RangeOperand {
        series: Box::new(series),
        windows,
    })
}

/// A subquery `expr[range:step]`: the inner expression evaluated on a grid aligned to multiples of
/// the step, as Prometheus aligns it, covering every outer step's window.
pub(crate) fn subquery<'a>(
    ctx: &'a Ctx<'a>,
    sq: &'a SubqueryExpr,
    grid: Grid,
) -> Result<RangeOperand<'a>, QueryError> {
    let offset = sq.offset.as_ref().map_or(0, |d| ctx.duration_ms(d));
    let range = ctx.duration_ms(&sq.range);
    let step = sq
        .step
        .as_ref()
        .map(|d| ctx.duration_ms(d))
        .filter(|s| *s > 0)
        .unwrap_or(ctx.options.default_subquery_step_ms);
    let windows = windows(ctx, grid, sq.at, offset, range);
    let Some((min, max)) = span_of(&windows) else {
        return Ok(RangeOperand::empty(windows));
    };
    // Go's integer division truncates towards zero; so does Rust's.
    let mut start = step.saturating_mul(min / step);
    if start <= min {
        start = start.saturating_add(step);
    }
    let inner_grid = Grid::new(start, max, step);
    if inner_grid.len > ctx.options.max_samples {
        return Err(QueryError::TooManySamples);
    }
    let inner = eval_vector(ctx, &sq.expr, inner_grid)?;
    let ws = windows.clone();
    let series = inner.filter_map(move |series| {
        let series = match series {
            Ok(series) => series,
            Err(err) => return Some(Err(err)),
        };
        let mut samples = Vec::new();
        let mut histograms = Vec::new();
        for (i, v) in series.values.into_iter().enumerate() {
            let t = inner_grid.time(i);
            match v {
                Some(Point::F(v)) => samples.push(Sample { t, v }),
                Some(Point::H(h)) => histograms.push(HistogramSample { t, h, st: 0 }),
                None => {}
            }
        }
        if samples.is_empty() && histograms.is_empty() {
            return None;
        }
        if let Err(err) = hold_windows(ctx, &samples, &ws) {
            return Some(Err(err));
        }
        Some(Ok(RangeSeries {
            labels: series.labels,
            drop_name: series.drop_name,
            samples,
            start_ts: Vec::new(),
            histograms,
        }))
    });
    Ok(RangeOperand {
        series: Box::new(series),
        windows,
    })
}

/// The samples of `samples` inside the window `(from, to]`.
pub(crate) fn window(samples: &[Sample], (from, to): (i64, i64)) -> &[Sample] {
    let lo = samples.partition_point(|s| s.t <= from);
    let hi = samples.partition_point(|s| s.t <= to);
    &samples[lo..hi.max(lo)]
}

/// Finds successive windows `(from, to]` of one series by moving two indices forward, falling back to
/// a binary search when a window starts before the previous one (never, unless `@` pins it).
#[derive(Default)]
pub(crate) struct WindowCursor {
    lo: usize,
    hi: usize,
    last_from: Option<i64>,
}

impl WindowCursor {
    pub(crate) fn window<'s>(&mut self, samples: &'s [Sample], w: (i64, i64)) -> &'s [Sample] {
        &samples[self.range(samples, w)]
    }

    /// The index range of the window's samples.
    pub(crate) fn range(
        &mut self,
        samples: &[Sample],
        (from, to): (i64, i64),
    ) -> std::ops::Range<usize> {
        match self.last_from {
            Some(prev) if from >= prev => {
                while self.lo < samples.len() && samples[self.lo].t <= from {
                    self.lo += 1;
                }
                self.hi = self.hi.max(self.lo);
                while self.hi < samples.len() && samples[self.hi].t <= to {
                    self.hi += 1;
                }
                // A window that ends before the previous one (a shorter range cannot happen, but be safe).
                if self.hi > self.lo && samples[self.hi - 1].t > to {
                    self.lo = samples.partition_point(|s| s.t <= from);
                    self.hi = samples.partition_point(|s| s.t <= to).max(self.lo);
                }
            }
            _ => {
                self.lo = samples.partition_point(|s| s.t <= from);
                self.hi = samples.partition_point(|s| s.t <= to).max(self.lo);
            }
        }
        self.last_from = Some(from);
        self.lo..self.hi
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The cursor finds the same windows as a binary search, whatever order the windows come in.
        #[test]
        fn cursor_agrees_with_binary_search(
            times in proptest::collection::btree_set(-1000i64..1000, 0..60),
            windows in proptest::collection::vec((-1100i64..1100, 0i64..300), 1..40),
            sorted in any::<bool>(),
        ) {
            let samples: Vec<Sample> = times.into_iter().map(|t| Sample { t, v: 0.0 }).collect();
            let mut windows: Vec<(i64, i64)> = windows.into_iter().map(|(from, len)| (from, from + len)).collect();
            if sorted {
                windows.sort();
            }
            let mut cursor = WindowCursor::default();
            for w in windows {
                prop_assert_eq!(cursor.window(&samples, w), window(&samples, w));
            }
        }
    }
}
