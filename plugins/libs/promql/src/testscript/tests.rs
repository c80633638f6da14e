//! Unit tests of whole scripts: command dispatch, block boundaries, each expectation form and the
//! implicit-check facts recorded on evals.

use super::*;

fn commands(script: &str) -> Vec<Command> {
    parse_script(script).unwrap_or_else(|err| panic!("script should read: {err}\n{script}"))
}

fn single_eval(script: &str) -> Eval {
    let all = commands(script);
    match all.as_slice() {
        [Command::Eval(eval)] => (**eval).clone(),
        other => panic!("expected one eval, got {other:?}"),
    }
}

fn error_line(script: &str) -> usize {
    match parse_script(script) {
        Ok(commands) => panic!("script should not read, got {commands:?}"),
        Err(err) => err.line,
    }
}

fn series(eval: &Eval) -> &[ExpectedSeries] {
    match &eval.expectation.outcome {
        Outcome::Success(ExpectedResult::Series(series)) => series,
        other => panic!("expected series, got {other:?}"),
    }
}

#[test]
fn load_clear_and_comments() {
    let script = "
# a comment
load 5m
    up{job=\"a\"} 0+10x2
\tdown 1 _ stale

clear
load_with_nhcb 20s500ms
  x_bucket{le=\"1\"} 1
";
    let all = commands(script);
    assert_eq!(all.len(), 3);
    let Command::Load(load) = &all[0] else {
        panic!("expected a load, got {:?}", all[0]);
    };
    assert_eq!(
        (load.step_ms, load.with_nhcb, load.line),
        (300_000, false, 3)
    );
    assert_eq!(load.series.len(), 2);
    assert_eq!(
        load.series[0].samples,
        [
            (0, SampleValue::Float(0.0)),
            (300_000, SampleValue::Float(10.0)),
            (600_000, SampleValue::Float(20.0))
        ]
    );
    assert_eq!(load.series[1].samples[1], (300_000, SampleValue::Omitted));
    assert_eq!(load.series[1].samples[2], (600_000, SampleValue::Stale));
    assert_eq!(all[1], Command::Clear);
    let Command::Load(nhcb) = &all[2] else {
        panic!("expected a load, got {:?}", all[2]);
    };
    assert_eq!((nhcb.step_ms, nhcb.with_nhcb), (20_500, true));
}

#[test]
fn a_comment_line_ends_a_block() {
    let script = "load 1m\n  a 1\n# comment\n  b 2\n";
    assert_eq!(error_line(script), 4);
}

#[test]
fn invalid_commands_name_their_line() {
    assert_eq!(error_line("\n\nfoo bar\n"), 3);
    assert_eq!(error_line("clear now"), 1);
    assert_eq!(error_line("load"), 1);
    assert_eq!(error_line("load 5"), 1);
    assert_eq!(error_line("LOAD 5m"), 1);
    assert_eq!(error_line("eval instant 5m up"), 1);
    assert_eq!(error_line("eval instant at 5m sum("), 1);
    assert_eq!(error_line("eval range from 10m to 5m step 1m up"), 1);
    assert_eq!(error_line("eval_ordered range from 0 to 5m step 1m up"), 1);
    assert_eq!(error_line("eval instant at 0 up\n  up 1 2"), 2);
    assert_eq!(
        error_line("eval range from 0 to 1m step 1m up\n  up 1 2 3"),
        2
    );
    assert_eq!(error_line("eval instant at 0 up\n  expect bogus"), 2);
    assert_eq!(
        error_line("eval instant at 0 up\n  expect warn\n  expect no_warn"),
        3
    );
    assert_eq!(
        error_line("eval instant at 0 up\n  expect fail\n  expect fail msg: x"),
        3
    );
}

#[test]
fn parse_errors_point_into_the_line() {
    let err = parse_script("eval instant at 0 sum(").expect_err("must not read");
    assert_eq!(err.line, 1);
    assert!(err.message.contains("column"), "{}", err.message);
}

#[test]
fn instant_eval_with_series_and_annotations() {
    let eval = single_eval(
        "eval instant at 1m30s sum by (job) (up)\n  expect no_info\n  expect warn msg: PromQL warning: w (1:1)\n  {job=\"a\"} 3\n  {job=\"b\"} NaN",
    );
    assert_eq!(eval.kind, EvalKind::Instant { at_ms: 90_000 });
    assert_eq!(eval.expr, "sum by (job) (up)");
    assert_eq!(eval.line, 1);
    assert_eq!(eval.expectation.infos, AnnotationRule::Forbidden);
    assert_eq!(
        eval.expectation.warnings,
        AnnotationRule::Required(vec![MessageMatch::Exact(
            "PromQL warning: w (1:1)".to_string()
        )])
    );
    let listed = series(&eval);
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].labels, [("job".to_string(), "a".to_string())]);
    assert_eq!(listed[0].values, [SampleValue::Float(3.0)]);
    assert_eq!(listed[1].line, 5);
    assert!(!eval.expectation.ordered);
}

#[test]
fn empty_results_and_unchecked_annotations() {
    let eval = single_eval("eval instant at 0 up");
    assert!(series(&eval).is_empty());
    assert_eq!(eval.expectation.warnings, AnnotationRule::Unchecked);
    assert_eq!(eval.expectation.infos, AnnotationRule::Unchecked);
}

#[test]
fn range_eval_lays_values_on_its_grid() {
    let eval = single_eval("eval range from 0 to 2m step 1m up\n  up 1 _ 3\n  {} 1x1");
    let grid = Grid {
        start_ms: 0,
        end_ms: 120_000,
        step_ms: 60_000,
    };
    assert_eq!(eval.kind, EvalKind::Range(grid));
    assert_eq!(eval.result_grid(), Some(grid));
    assert_eq!(series(&eval)[0].values[1], SampleValue::Omitted);
    assert!(series(&eval)[1].labels.is_empty());
    assert!(eval.at_modifier_eval_times_ms().is_empty());
    assert_eq!(eval.range_cross_check(), None);
}

#[test]
fn scalar_lines_end_the_block() {
    let all = commands("eval instant at 0 1 + 2\n  0x3\neval instant at 0 -Inf\n  -Inf");
    let [Command::Eval(first), Command::Eval(second)] = all.as_slice() else {
        panic!("expected two evals, got {all:?}");
    };
    assert_eq!(
        first.expectation.outcome,
        Outcome::Success(ExpectedResult::Scalar(3.0))
    );
    assert_eq!(
        second.expectation.outcome,
        Outcome::Success(ExpectedResult::Scalar(f64::NEG_INFINITY))
    );
    assert_eq!(error_line("eval instant at 0 1\n  1\n  2"), 3);
    assert_eq!(error_line("eval range from 0 to 1m step 1m 1\n  1"), 2);
}

#[test]
fn failures_new_and_legacy() {
    let eval = single_eval("eval instant at 0 up\n  expect fail regex: bad.*thing");
    assert_eq!(
        eval.expectation.outcome,
        Outcome::Fail(MessageMatch::Regex("bad.*thing".to_string()))
    );
    assert!(eval.expects_failure());
    assert_eq!(eval.range_cross_check(), None);
    assert_eq!(eval.at_modifier_eval_times_ms(), [-1000, 0, 1000]);
    let legacy = single_eval("eval_fail instant at 0 up");
    assert_eq!(legacy.expectation.outcome, Outcome::Fail(MessageMatch::Any));
    let legacy_message = commands("eval_fail instant at 0 up\n  expected_fail_message boom\n");
    let [Command::Eval(with_message)] = legacy_message.as_slice() else {
        panic!("expected one eval, got {legacy_message:?}");
    };
    assert_eq!(
        with_message.expectation.outcome,
        Outcome::Fail(MessageMatch::Exact("boom".to_string()))
    );
    let regexp =
        single_eval("eval_fail range from 0 to 1m step 1m up\n  expected_fail_regexp b.*m");
    assert_eq!(
        regexp.expectation.outcome,
        Outcome::Fail(MessageMatch::Regex("b.*m".to_string()))
    );
    assert_eq!(error_line("eval instant at 0 up\n  expect fail\n  up 1"), 1);
}

#[test]
fn legacy_warn_info_and_ordered() {
    let warn = single_eval("eval_warn instant at 0 up");
    assert_eq!(
        warn.expectation.warnings,
        AnnotationRule::Required(vec![MessageMatch::Any])
    );
    let info = single_eval("eval_info range from 0 to 1m step 1m up");
    assert_eq!(
        info.expectation.infos,
        AnnotationRule::Required(vec![MessageMatch::Any])
    );
    let ordered = single_eval("eval_ordered instant at 0 sort(up)\n  up{a=\"1\"} 1");
    assert!(ordered.expectation.ordered);
    assert_eq!(ordered.range_cross_check(), None);
}

#[test]
fn expect_ordered_is_instant_only() {
    let eval = single_eval("eval instant at 10s sort(up)\n  expect ordered\n  up 1");
    assert!(eval.expectation.ordered);
    assert_eq!(
        error_line("eval range from 0 to 1m step 1m up\n  expect ordered"),
        2
    );
}

#[test]
fn range_vector_expectation_moves_the_eval_time() {
    let eval = single_eval(
        "eval instant at 1m up[1m]\n  expect range vector from 0 to 1m step 30s\n  up 1 2 3",
    );
    let grid = Grid {
        start_ms: 0,
        end_ms: 60_000,
        step_ms: 30_000,
    };
    assert_eq!(eval.expectation.range_vector, Some(grid));
    assert_eq!(eval.result_grid(), Some(grid));
    assert_eq!(eval.eval_time_ms(), 60_000);
    assert_eq!(series(&eval)[0].values.len(), 3);
    assert_eq!(eval.range_cross_check(), None);
    assert_eq!(
        error_line(
            "eval instant at 1m up[1m]\n  up 1 2\n  expect range vector from 0 to 1m step 1m"
        ),
        2
    );
    assert_eq!(
        error_line(
            "eval range from 0 to 1m step 1m up\n  expect range vector from 0 to 1m step 1m"
        ),
        2
    );
}

#[test]
fn string_expectation() {
    let eval = single_eval("eval instant at 0 \"Foo\"\n  expect string \"Foo\"");
    assert_eq!(
        eval.expectation.outcome,
        Outcome::Success(ExpectedResult::String("Foo".to_string()))
    );
    assert_eq!(eval.range_cross_check(), None);
    assert_eq!(
        error_line("eval range from 0 to 1m step 1m \"Foo\"\n  expect string \"Foo\""),
        2
    );
}

#[test]
fn implicit_checks_of_instant_evals() {
    let plain = single_eval("eval instant at 50m rate(up[5m])");
    assert_eq!(
        plain.at_modifier_eval_times_ms(),
        [-30_000_000, 0, 600_000, 3_000_000, 30_000_000]
    );
    assert_eq!(
        plain.range_cross_check(),
        Some(Grid {
            start_ms: 2_940_000,
            end_ms: 3_060_000,
            step_ms: 60_000
        })
    );
    let unsafe_call = single_eval("eval instant at 50m sum(timestamp(up))");
    assert!(unsafe_call.at_modifier_eval_times_ms().is_empty());
    assert!(unsafe_call.range_cross_check().is_some());
    let hidden = single_eval("eval instant at 50m sum_over_time(timestamp(up)[5m:1m] @ 100)");
    assert!(
        !hidden.at_modifier_eval_times_ms().is_empty(),
        "upstream skips @ subqueries"
    );
    assert_eq!(error_line("eval instant at 0 up\n  up"), 2);
    let step_text = single_eval("eval instant at 50m up[step()]");
    assert!(!step_text.at_modifier_eval_times_ms().is_empty());
    assert_eq!(step_text.range_cross_check(), None);
}

#[test]
fn utf8_and_odd_labels_in_results() {
    let eval = single_eval("eval instant at 0 {\"a.b\"}\n  {\"a.b\", \"c d\"=\"e\\\"f\"} 1");
    assert_eq!(
        series(&eval)[0].labels,
        [
            ("__name__".to_string(), "a.b".to_string()),
            ("c d".to_string(), "e\"f".to_string())
        ]
    );
}
