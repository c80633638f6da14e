//! The conformance runner: runs Prometheus' PromQL test scripts against [`crate::engine`], with the
//! implicit checks upstream's harness adds to every instant eval (the `@`-invariance re-runs and the
//! range-mode cross-check, README §6 of `shared/promql-tests`). The `promql-conformance` binary prints
//! its reports; a test keeps the per-file pass counts at or above a committed baseline.

use std::sync::Arc;

use crate::engine::histogram::{self, FloatHistogram};
use crate::engine::{
    Engine, EngineOptions, HistogramSample, Labels, MemoryStorage, QueryError, QueryResult,
    STALE_NAN_BITS, Sample, Value, is_stale_nan,
};
use crate::testscript::{
    AnnotationRule, Command, Eval, EvalKind, ExpectedResult, ExpectedSeries, Grid, MessageMatch,
    Outcome, SampleValue, parse_script,
};
use crate::{AtModifier, Expr};

/// The outcome of one script.
#[derive(Debug, Clone, Default)]
pub struct FileReport {
    pub passed: usize,
    pub failed: usize,
    /// One line per failed eval: `line N: <expr>: <why>`.
    pub failures: Vec<String>,
    /// The script could not be read at all.
    pub error: Option<String>,
}

/// The engine settings the scripts assume (README §1): 5m lookback, 1m default subquery step.
pub fn test_engine() -> Engine {
    Engine::new(EngineOptions {
        max_samples: 50_000_000,
        ..EngineOptions::default()
    })
}

/// Runs one script's text.
pub fn run_script(text: &str) -> FileReport {
    let mut report = FileReport::default();
    let commands = match parse_script(text) {
        Ok(commands) => commands,
        Err(err) => {
            report.error = Some(err.to_string());
            return report;
        }
    };
    let engine = test_engine();
    let mut storage = MemoryStorage::new();
    for command in commands {
        match command {
            Command::Clear => storage.clear(),
            Command::Load(load) => {
                if load.with_nhcb {
                    for (labels, histograms) in classic_to_nhcb(&load.series) {
                        storage.append_histograms(labels, histograms);
                    }
                }
                for series in load.series {
                    let offsets = series.start_offsets_ms.as_deref().unwrap_or(&[]);
                    let samples = series.samples.iter().enumerate().filter_map(|(i, (t, v))| {
                        let st = offsets
                            .get(i)
                            .copied()
                            .flatten()
                            .map_or(0, |offset| t + offset);
                        match v {
                            SampleValue::Float(v) => Some((Sample { t: *t, v: *v }, st)),
                            SampleValue::Stale => Some((
                                Sample {
                                    t: *t,
                                    v: f64::from_bits(STALE_NAN_BITS),
                                },
                                st,
                            )),
                            SampleValue::Histogram(_) | SampleValue::Omitted => None,
                        }
                    });
                    storage
                        .append_with_start_timestamps(Labels::new(series.labels.clone()), samples);
                    let histograms =
                        series
                            .samples
                            .iter()
                            .enumerate()
                            .filter_map(|(i, (t, v))| match v {
                                SampleValue::Histogram(literal) => {
                                    let st = offsets
                                        .get(i)
                                        .copied()
                                        .flatten()
                                        .map_or(0, |offset| t + offset);
                                    literal.to_histogram().ok().map(|h| HistogramSample {
                                        t: *t,
                                        h: Arc::new(h),
                                        st,
                                    })
                                }
                                _ => None,
                            });
                    storage.append_histograms(Labels::new(series.labels.clone()), histograms);
                }
            }
            Command::Eval(eval) => {
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    check_eval(&engine, &storage, &eval)
                }))
                .unwrap_or_else(|_| Err("the engine panicked".to_string()));
                match outcome {
                    Ok(()) => report.passed += 1,
                    Err(why) => {
                        report.failed += 1;
                        report
                            .failures
                            .push(format!("line {}: {}: {why}", eval.line, eval.expr));
                    }
                }
            }
        }
    }
    report
}

fn check_eval(engine: &Engine, storage: &MemoryStorage, eval: &Eval) -> Result<(), String> {
    match eval.kind {
        EvalKind::Range(grid) => {
            let result = engine.range_query(
                storage,
                &eval.expr,
                grid.start_ms,
                grid.end_ms,
                grid.step_ms,
            );
            check_outcome(eval, result, Some(grid), true)
        }
        EvalKind::Instant { .. } => {
            let t = eval.eval_time_ms();
            let result = engine.instant_query(storage, &eval.expr, t);
            check_outcome(eval, result, eval.result_grid(), true)?;
            let mut variants = vec![(eval.expr.clone(), t)];
            for at in eval.at_modifier_eval_times_ms() {
                let mut expr = eval.parsed.clone();
                add_at(&mut expr, t);
                let text = expr.to_string();
                let result = engine.instant_query(storage, &text, at);
                check_outcome(eval, result, eval.result_grid(), true)
                    .map_err(|why| format!("with @ {t} at {at} ({text}): {why}"))?;
                variants.push((text, at));
            }
            if eval.range_cross_check().is_some() {
                for (text, at) in variants {
                    let grid = Grid {
                        start_ms: at - crate::testscript::RANGE_CHECK_STEP_MS,
                        end_ms: at + crate::testscript::RANGE_CHECK_STEP_MS,
                        step_ms: crate::testscript::RANGE_CHECK_STEP_MS,
                    };
                    let result = engine
                        .range_query(storage, &text, grid.start_ms, grid.end_ms, grid.step_ms)
                        .map_err(|err| format!("range-mode check of {text}: {err}"))?;
                    let at_t = points_at(&result.value, at)
                        .map_err(|why| format!("range-mode check of {text}: {why}"))?;
                    check_outcome(
                        eval,
                        Ok(QueryResult {
                            value: at_t,
                            annotations: Default::default(),
                        }),
                        None,
                        false,
                    )
                    .map_err(|why| format!("range-mode check of {text} at {at}: {why}"))?;
                }
            }
            Ok(())
        }
    }
}

/// Adds `@ t` to every selector and subquery without one (not below a subquery that has one).
fn add_at(expr: &mut Expr, t: i64) {
    match expr {
        Expr::VectorSelector(sel) => {
            sel.at.get_or_insert(AtModifier::Timestamp(t));
        }
        Expr::MatrixSelector(m) => {
            m.selector.at.get_or_insert(AtModifier::Timestamp(t));
        }
        // The selectors inside a subquery follow its `@`, so they are left alone.
        Expr::Subquery(sq) => {
            sq.at.get_or_insert(AtModifier::Timestamp(t));
        }
        Expr::Paren(p) => add_at(&mut p.expr, t),
        Expr::Unary(u) => add_at(&mut u.expr, t),
        Expr::Binary(b) => {
            add_at(&mut b.lhs, t);
            add_at(&mut b.rhs, t);
        }
        Expr::Aggregate(a) => {
            add_at(&mut a.expr, t);
            if let Some(p) = &mut a.param {
                add_at(p, t);
            }
        }
        Expr::Call(c) => c.args.iter_mut().for_each(|a| add_at(a, t)),
        Expr::Number(_) | Expr::String(_) => {}
    }
}

/// The points of a range result at time `t`, as an instant result (a scalar query keeps its scalar).
fn points_at(value: &Value, t: i64) -> Result<Value, String> {
    let Value::Matrix(series) = value else {
        return Err(format!("a range query returned a {}", value.type_name()));
    };
    if series.windows(2).any(|w| w[0].labels > w[1].labels) {
        return Err("the range result is not sorted by labels".to_string());
    }
    let mut out = Vec::new();
    for s in series {
        if let Some(sample) = s.samples.iter().find(|p| p.t == t) {
            out.push(crate::engine::VectorSample {
                labels: s.labels.clone(),
                t,
                v: sample.v,
                h: None,
            });
        } else if let Some(sample) = s.histograms.iter().find(|p| p.t == t) {
            out.push(crate::engine::VectorSample {
                labels: s.labels.clone(),
                t,
                v: 0.0,
                h: Some(sample.h.clone()),
            });
        }
    }
    Ok(Value::Vector(out))
}

fn message_matches(rule: &MessageMatch, text: &str) -> bool {
    match rule {
        MessageMatch::Any => true,
        MessageMatch::Exact(expected) => expected == text,
        MessageMatch::Regex(pattern) => {
            regex::Regex::new(pattern).is_ok_and(|re| re.is_match(text))
        }
    }
}

fn check_annotations(kind: &str, rule: &AnnotationRule, actual: &[String]) -> Result<(), String> {
    match rule {
        AnnotationRule::Unchecked => Ok(()),
        AnnotationRule::Forbidden if actual.is_empty() => Ok(()),
        AnnotationRule::Forbidden => Err(format!("unexpected {kind}s: {actual:?}")),
        AnnotationRule::Required(rules) => {
            if actual.is_empty() {
                return Err(format!("expected {kind}s, got none"));
            }
            for a in actual {
                if !rules.iter().any(|r| message_matches(r, a)) {
                    return Err(format!("unexpected {kind} {a:?}"));
                }
            }
            for r in rules {
                if !actual.iter().any(|a| message_matches(r, a)) {
                    return Err(format!("no {kind} matches {r:?} (got {actual:?})"));
                }
            }
            Ok(())
        }
    }
}

fn check_outcome(
    eval: &Eval,
    result: Result<QueryResult, QueryError>,
    grid: Option<Grid>,
    check_annotations_too: bool,
) -> Result<(), String> {
    let expected = match (&eval.expectation.outcome, result) {
        (Outcome::Fail(rule), Err(err)) => {
            let text = err.to_string();
            return if message_matches(rule, &text) {
                Ok(())
            } else {
                Err(format!("error {text:?} does not match {rule:?}"))
            };
        }
        (Outcome::Fail(_), Ok(_)) => {
            return Err("expected an error, the query succeeded".to_string());
        }
        (Outcome::Success(_), Err(err)) => return Err(format!("unexpected error: {err}")),
        (Outcome::Success(expected), Ok(result)) => {
            if check_annotations_too {
                check_annotations(
                    "warning",
                    &eval.expectation.warnings,
                    &result.annotations.warnings,
                )?;
                check_annotations("info", &eval.expectation.infos, &result.annotations.infos)?;
            }
            (expected, result.value)
        }
    };
    let (expected, value) = expected;
    match (expected, value) {
        (ExpectedResult::Scalar(want), Value::Scalar { v, .. }) => {
            if float_eq(*want, v) {
                Ok(())
            } else {
                Err(format!("expected scalar {want}, got {v}"))
            }
        }
        (ExpectedResult::Scalar(want), Value::Vector(v))
            if v.len() == 1 && v[0].labels.is_empty() =>
        {
            // The range-mode check turns a scalar into a one-series matrix.
            if float_eq(*want, v[0].v) {
                Ok(())
            } else {
                Err(format!("expected scalar {want}, got {}", v[0].v))
            }
        }
        (ExpectedResult::String(want), Value::String { s, .. }) => {
            if *want == s {
                Ok(())
            } else {
                Err(format!("expected string {want:?}, got {s:?}"))
            }
        }
        (ExpectedResult::Series(want), Value::Vector(got)) if grid.is_none() => {
            let got: Vec<(Labels, Vec<(i64, Got)>)> = got
                .into_iter()
                .map(|s| {
                    let value = match s.h {
                        Some(h) => Got::H(h),
                        None => Got::F(s.v),
                    };
                    (s.labels, vec![(s.t, value)])
                })
                .collect();
            compare_series(want, &got, None, eval.expectation.ordered)
        }
        (ExpectedResult::Series(want), Value::Matrix(got)) if grid.is_some() => {
            if got.windows(2).any(|w| w[0].labels > w[1].labels) {
                return Err("the matrix is not sorted by labels".to_string());
            }
            let got: Vec<(Labels, Vec<(i64, Got)>)> = got
                .into_iter()
                .map(|s| {
                    let mut points: Vec<(i64, Got)> = s
                        .samples
                        .iter()
                        .map(|p| (p.t, Got::F(p.v)))
                        .chain(s.histograms.iter().map(|p| (p.t, Got::H(p.h.clone()))))
                        .collect();
                    points.sort_by_key(|(t, _)| *t);
                    (s.labels, points)
                })
                .collect();
            compare_series(want, &got, grid, false)
        }
        (want, got) => Err(format!(
            "expected {}, got a {}",
            match want {
                ExpectedResult::Scalar(_) => "a scalar",
                ExpectedResult::String(_) => "a string",
                ExpectedResult::Series(_) if grid.is_some() => "a matrix",
                ExpectedResult::Series(_) => "a vector",
            },
            got.type_name()
        )),
    }
}

/// An actual point.
#[derive(Debug)]
enum Got {
    F(f64),
    H(Arc<FloatHistogram>),
}

fn compare_series(
    want: &[ExpectedSeries],
    got: &[(Labels, Vec<(i64, Got)>)],
    grid: Option<Grid>,
    ordered: bool,
) -> Result<(), String> {
    if want.len() != got.len() {
        let got_labels: Vec<String> = got.iter().map(|(l, _)| l.to_string()).collect();
        return Err(format!(
            "expected {} series, got {}: {}",
            want.len(),
            got.len(),
            got_labels.join(", ")
        ));
    }
    for (pos, w) in want.iter().enumerate() {
        let labels = Labels::new(w.labels.clone());
        let Some(found) = got.iter().position(|(l, _)| *l == labels) else {
            return Err(format!("missing series {labels} (line {})", w.line));
        };
        if ordered && found != pos {
            return Err(format!(
                "series {labels} at position {}, expected {}",
                found + 1,
                pos + 1
            ));
        }
        let points = &got[found].1;
        let expected: Vec<(Option<i64>, &SampleValue)> = w
            .values
            .iter()
            .enumerate()
            .filter(|(_, v)| !matches!(v, SampleValue::Omitted))
            .map(|(i, v)| (grid.map(|g| g.timestamp_ms(i)), v))
            .collect();
        if expected.len() != points.len() {
            return Err(format!(
                "series {labels}: expected {} points, got {}: {points:?}",
                expected.len(),
                points.len(),
            ));
        }
        for ((t, want), (got_t, got)) in expected.iter().zip(points) {
            if let Some(t) = t
                && t != got_t
            {
                return Err(format!(
                    "series {labels}: expected a point at {t}, got {got_t}"
                ));
            }
            let ok = match (want, got) {
                (SampleValue::Stale, Got::F(v)) => is_stale_nan(*v),
                (SampleValue::Float(want), Got::F(v)) => float_eq(*want, *v),
                (SampleValue::Histogram(literal), Got::H(h)) => {
                    let expected = literal
                        .to_histogram()
                        .map_err(|err| format!("series {labels}: bad histogram literal: {err}"))?;
                    let hint = literal.base.contains("counter_reset_hint")
                        || literal
                            .step
                            .as_ref()
                            .is_some_and(|(_, s)| s.contains("counter_reset_hint"));
                    histogram::harness_equal(&expected, h, hint)
                }
                _ => false,
            };
            if !ok {
                return Err(format!(
                    "series {labels}: at {got_t}: expected {want:?}, got {got:?}"
                ));
            }
        }
    }
    Ok(())
}

/// The harness' float comparison (README §5).
pub fn float_eq(a: f64, b: f64) -> bool {
    if is_stale_nan(a) || is_stale_nan(b) {
        return is_stale_nan(a) && is_stale_nan(b);
    }
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || a.abs() + b.abs() < f64::MIN_POSITIVE {
        return diff < 1e-6 * f64::MIN_POSITIVE;
    }
    diff / (a.abs() + b.abs()).min(f64::MAX) < 1e-6
}

/// `load_with_nhcb`: every classic histogram family (`X_bucket{le}`, `X_count`, `X_sum`) as native
/// histograms with custom buckets named `X`, at every timestamp where the buckets have values.
fn classic_to_nhcb(
    series: &[crate::testscript::LoadSeries],
) -> Vec<(Labels, Vec<HistogramSample>)> {
    use std::collections::BTreeMap;
    #[derive(Default)]
    struct Family {
        /// Per timestamp: (le, cumulative count).
        buckets: BTreeMap<i64, Vec<(f64, f64)>>,
        count: BTreeMap<i64, f64>,
        sum: BTreeMap<i64, f64>,
    }
    let mut families: BTreeMap<Labels, Family> = BTreeMap::new();
    for s in series {
        let labels = Labels::new(s.labels.clone());
        let Some(name) = labels.metric_name() else {
            continue;
        };
        let (base, kind) = if let Some(base) = name.strip_suffix("_bucket") {
            (base, 0)
        } else if let Some(base) = name.strip_suffix("_count") {
            (base, 1)
        } else if let Some(base) = name.strip_suffix("_sum") {
            (base, 2)
        } else {
            continue;
        };
        let mut key = labels.clone();
        key.set(crate::engine::METRIC_NAME, base);
        let le = key.get("le").to_string();
        key.remove("le");
        let bound = match (kind, le.as_str()) {
            (0, "+Inf") => f64::INFINITY,
            (0, le) => match le.parse::<f64>() {
                Ok(b) if !b.is_nan() => b,
                _ => continue,
            },
            _ => 0.0,
        };
        let family = families.entry(key).or_default();
        for (t, v) in &s.samples {
            let SampleValue::Float(v) = v else { continue };
            match kind {
                0 => family.buckets.entry(*t).or_default().push((bound, *v)),
                1 => {
                    family.count.insert(*t, *v);
                }
                _ => {
                    family.sum.insert(*t, *v);
                }
            }
        }
    }
    let mut out = Vec::new();
    for (labels, family) in families {
        let mut histograms = Vec::new();
        for (t, mut buckets) in family.buckets {
            buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
            let custom_values: Vec<f64> = buckets
                .iter()
                .map(|b| b.0)
                .filter(|b| b.is_finite())
                .collect();
            let mut previous = 0.0;
            let mut counts = Vec::with_capacity(buckets.len());
            for (_, cumulative) in &buckets {
                counts.push(cumulative - previous);
                previous = *cumulative;
            }
            let total = family.count.get(&t).copied().unwrap_or(previous);
            let h = FloatHistogram {
                schema: crate::engine::histogram::CUSTOM_BUCKETS_SCHEMA,
                count: total,
                sum: family.sum.get(&t).copied().unwrap_or(0.0),
                positive_spans: vec![crate::engine::histogram::Span::new(
                    0,
                    u32::try_from(counts.len()).unwrap_or(u32::MAX),
                )],
                positive_buckets: counts,
                custom_values,
                ..FloatHistogram::default()
            };
            histograms.push(HistogramSample {
                t,
                h: Arc::new(h),
                st: 0,
            });
        }
        if !histograms.is_empty() {
            out.push((labels, histograms));
        }
    }
    out
}
