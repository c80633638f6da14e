//! The multi-line printer against Prometheus' `promql/parser/prettier_test.go` (which sets
//! `maxCharactersPerLine = 10`), and the property that the pretty form parses back to the same
//! expression.

use std::path::Path;

use mimir_promql::{parse, pretty, pretty_with_width};
use proptest::prelude::*;

use crate::corpus::eval_expression;
use crate::engine::TOKENS;
use crate::robustness::SEEDS;
use crate::scripts_dir::{CORPUS_DIR, test_files};

/// Prometheus' tests print with a 10-character line limit.
const TEST_WIDTH: usize = 10;

fn check(cases: &[(&str, &str)]) {
    for (input, expected) in cases {
        let expr = parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(
            pretty_with_width(&expr, TEST_WIDTH),
            *expected,
            "input: {input}"
        );
    }
}

#[test]
fn aggregations() {
    check(&[
        ("sum(foo)", "sum(foo)"),
        (
            r#"sum by() (task:errors:rate10s{job="s"})"#,
            "sum(\n  task:errors:rate10s{job=\"s\"}\n)",
        ),
        (
            r#"sum without(job,foo) (task:errors:rate10s{job="s"})"#,
            "sum without (job, foo) (\n  task:errors:rate10s{job=\"s\"}\n)",
        ),
        (
            r#"sum(task:errors:rate10s{job="s"}) without(job,foo)"#,
            "sum without (job, foo) (\n  task:errors:rate10s{job=\"s\"}\n)",
        ),
        (
            r#"sum by(job,foo) (task:errors:rate10s{job="s"})"#,
            "sum by (job, foo) (\n  task:errors:rate10s{job=\"s\"}\n)",
        ),
        (
            r#"sum (task:errors:rate10s{job="s"}) by(job,foo)"#,
            "sum by (job, foo) (\n  task:errors:rate10s{job=\"s\"}\n)",
        ),
        (
            r#"topk(10, ask:errors:rate10s{job="s"})"#,
            "topk(\n  10,\n  ask:errors:rate10s{job=\"s\"}\n)",
        ),
        (
            r#"sum by(job,foo) (sum by(job,foo) (task:errors:rate10s{job="s"}))"#,
            r#"sum by (job, foo) (
  sum by (job, foo) (
    task:errors:rate10s{job="s"}
  )
)"#,
        ),
        (
            r#"sum by(job,foo) (sum by(job,foo) (sum by(job,foo) (task:errors:rate10s{job="s"})))"#,
            r#"sum by (job, foo) (
  sum by (job, foo) (
    sum by (job, foo) (
      task:errors:rate10s{job="s"}
    )
  )
)"#,
        ),
        (
            "sum by(job,foo)\n(sum by(job,foo) (task:errors:rate10s{job=\"s\"}))",
            r#"sum by (job, foo) (
  sum by (job, foo) (
    task:errors:rate10s{job="s"}
  )
)"#,
        ),
        (
            "sum by(job,foo)\n(sum(task:errors:rate10s{job=\"s\"}) without(job,foo))",
            r#"sum by (job, foo) (
  sum without (job, foo) (
    task:errors:rate10s{job="s"}
  )
)"#,
        ),
        (
            "sum by(job,foo) # Comment 1.\n(sum by(job,foo) ( # Comment 2.\ntask:errors:rate10s{job=\"s\"}))",
            r#"sum by (job, foo) (
  sum by (job, foo) (
    task:errors:rate10s{job="s"}
  )
)"#,
        ),
    ]);
}

#[test]
fn binary_expressions() {
    check(&[
        ("a+b", "a + b"),
        ("a == bool 1", "  a\n== bool\n  1"),
        ("a + ignoring(job) b", "  a\n+ ignoring (job)\n  b"),
        ("foo_1 + foo_2", "  foo_1\n+\n  foo_2"),
        (
            "foo_1 + foo_2 + foo_3",
            "    foo_1\n  +\n    foo_2\n+\n  foo_3",
        ),
        ("foo + baar + foo_3", "  foo + baar\n+\n  foo_3"),
        (
            "foo_1 + foo_2 + foo_3 + foo_4",
            "      foo_1\n    +\n      foo_2\n  +\n    foo_3\n+\n  foo_4",
        ),
        (
            "foo_1 + ignoring(foo) foo_2 + ignoring(job) group_left foo_3 + on(instance) group_right foo_4",
            r#"      foo_1
    + ignoring (foo)
      foo_2
  + ignoring (job) group_left ()
    foo_3
+ on (instance) group_right ()
  foo_4"#,
        ),
    ]);
}

#[test]
fn function_calls() {
    check(&[
        ("rate(foo[1m])", "rate(\n  foo[1m]\n)"),
        ("sum_over_time(foo[1m])", "sum_over_time(\n  foo[1m]\n)"),
        (
            "rate(long_vector_selector[10m:1m] @ start() offset 1m)",
            "rate(\n  long_vector_selector[10m:1m] @ start() offset 1m\n)",
        ),
        (
            "histogram_quantile(0.9, rate(foo[1m]))",
            "histogram_quantile(\n  0.9,\n  rate(\n    foo[1m]\n  )\n)",
        ),
        (
            "max_over_time(rate(demo_api_request_duration_seconds_count[1m])[1m:] @ start() offset 1m)",
            r#"max_over_time(
  rate(
    demo_api_request_duration_seconds_count[1m]
  )[1m:] @ start() offset 1m
)"#,
        ),
    ]);
}

#[test]
fn parentheses() {
    check(&[
        ("(foo)", "(foo)"),
        ("(_foo_long_)", "(\n  _foo_long_\n)"),
        ("((foo_long))", "(\n  (foo_long)\n)"),
        ("((_foo_long_))", "(\n  (\n    _foo_long_\n  )\n)"),
        ("(((foo_long)))", "(\n  (\n    (foo_long)\n  )\n)"),
    ]);
}

#[test]
fn at_modifiers() {
    check(&[
        ("a @ 1", "a @ 1.000"),
        ("a @ start()", "a @ start()"),
        ("vector_selector @ start()", "vector_selector @ start()"),
    ]);
}

#[test]
fn expressions() {
    check(&[
        ("(1 + 2)", "(1 + 2)"),
        ("(foo + bar)", "(\n  foo + bar\n)"),
        (
            "(foo_long + bar_long)",
            "(\n    foo_long\n  +\n    bar_long\n)",
        ),
        (
            "(foo_long + bar_long + bar_2_long)",
            "(\n      foo_long\n    +\n      bar_long\n  +\n    bar_2_long\n)",
        ),
        (
            "((foo_long + bar_long) + bar_2_long)",
            r#"(
    (
        foo_long
      +
        bar_long
    )
  +
    bar_2_long
)"#,
        ),
        ("(1111 + 2222)", "(\n    1111\n  +\n    2222\n)"),
        (
            "(sum_over_time(foo[1m]))",
            "(\n  sum_over_time(\n    foo[1m]\n  )\n)",
        ),
        (
            "histogram_quantile(0.9, rate(foo[1m] @ start()))",
            "histogram_quantile(\n  0.9,\n  rate(\n    foo[1m] @ start()\n  )\n)",
        ),
        (
            "(node_timex_offset_seconds > 0.05 and deriv(node_timex_offset_seconds[5m]) >= 0) or (node_timex_offset_seconds < -0.05 and deriv(node_timex_offset_seconds[5m]) <= 0)",
            r#"  (
        node_timex_offset_seconds
      >
        0.05
    and
        deriv(
          node_timex_offset_seconds[5m]
        )
      >=
        0
  )
or
  (
        node_timex_offset_seconds
      <
        -0.05
    and
        deriv(
          node_timex_offset_seconds[5m]
        )
      <=
        0
  )"#,
        ),
        (
            r#"1 - ((node_memory_MemAvailable_bytes{job="node"} or (node_memory_Buffers_bytes{job="node"} + node_memory_Cached_bytes{job="node"} + node_memory_MemFree_bytes{job="node"} + node_memory_Slab_bytes{job="node"}) ) / node_memory_MemTotal_bytes{job="node"})"#,
            r#"  1
-
  (
      (
          node_memory_MemAvailable_bytes{job="node"}
        or
          (
                  node_memory_Buffers_bytes{job="node"}
                +
                  node_memory_Cached_bytes{job="node"}
              +
                node_memory_MemFree_bytes{job="node"}
            +
              node_memory_Slab_bytes{job="node"}
          )
      )
    /
      node_memory_MemTotal_bytes{job="node"}
  )"#,
        ),
        (
            r#"(count by (job) (changes(process_start_time_seconds{job="alertmanager"}[10m]) > 4) / count by (job) (up{job="alertmanager"})) >= 0.5"#,
            r#"  (
      count by (job) (
          changes(
            process_start_time_seconds{job="alertmanager"}[10m]
          )
        >
          4
      )
    /
      count by (job) (
        up{job="alertmanager"}
      )
  )
>=
  0.5"#,
        ),
    ]);
}

#[test]
fn unary_expressions() {
    check(&[
        ("-1", "-1"),
        ("-vector_selector", "-vector_selector"),
        ("(-vector_selector)", "(\n  -vector_selector\n)"),
        (
            "-histogram_quantile(0.9,rate(foo[1m]))",
            "-histogram_quantile(\n  0.9,\n  rate(\n    foo[1m]\n  )\n)",
        ),
        (
            "-histogram_quantile(0.99, sum by (le) (rate(foo[1m])))",
            r#"-histogram_quantile(
  0.99,
  sum by (le) (
    rate(
      foo[1m]
    )
  )
)"#,
        ),
        (
            "-histogram_quantile(0.9, -rate(foo[1m] @ start()))",
            "-histogram_quantile(\n  0.9,\n  -rate(\n    foo[1m] @ start()\n  )\n)",
        ),
        (
            "(-histogram_quantile(0.9, -rate(foo[1m] @ start())))",
            r#"(
  -histogram_quantile(
    0.9,
    -rate(
      foo[1m] @ start()
    )
  )
)"#,
        ),
    ]);
}

#[test]
fn duration_expressions() {
    check(&[
        ("rate(foo[2*1h])", "rate(\n  foo[2 * 1h]\n)"),
        ("rate(foo[-5m+35m])", "rate(\n  foo[-5m + 35m]\n)"),
    ]);
}

/// Prometheus' cases whose selectors have several matchers, joined with `,` and no space
/// (`up{job="api-server",service="a:c"}`) as Prometheus prints them.
#[test]
fn selectors_with_several_matchers() {
    check(&[
        (
            r#"label_replace(label_replace(up{job="api-server",service="a:c"}, "foo", "$1", "service", "(.*):.*"), "foo", "$1", "service", "(.*):.*")"#,
            r#"label_replace(
  label_replace(
    up{job="api-server",service="a:c"},
    "foo",
    "$1",
    "service",
    "(.*):.*"
  ),
  "foo",
  "$1",
  "service",
  "(.*):.*"
)"#,
        ),
        (
            r#"(label_replace(up{job="api-server",service="a:c"}, "foo", "$1", "service", "(.*):.*"))"#,
            r#"(
  label_replace(
    up{job="api-server",service="a:c"},
    "foo",
    "$1",
    "service",
    "(.*):.*"
  )
)"#,
        ),
        (
            r#"(label_replace(label_replace((up{job="api-server",service="a:c"}), "foo", "$1", "service", "(.*):.*"), "foo", "$1", "service", "(.*):.*"))"#,
            r#"(
  label_replace(
    label_replace(
      (
        up{job="api-server",service="a:c"}
      ),
      "foo",
      "$1",
      "service",
      "(.*):.*"
    ),
    "foo",
    "$1",
    "service",
    "(.*):.*"
  )
)"#,
        ),
        (
            r#"(node_filesystem_avail_bytes{job="node",fstype!=""} / node_filesystem_size_bytes{job="node",fstype!=""} * 100 < 20 and predict_linear(node_filesystem_avail_bytes{job="node",fstype!=""}[6h], 4*60*60) < 0 and node_filesystem_readonly{job="node",fstype!=""} == 0)"#,
            r#"(
            node_filesystem_avail_bytes{fstype!="",job="node"}
          /
            node_filesystem_size_bytes{fstype!="",job="node"}
        *
          100
      <
        20
    and
        predict_linear(
          node_filesystem_avail_bytes{fstype!="",job="node"}[6h],
            4 * 60
          *
            60
        )
      <
        0
  and
      node_filesystem_readonly{fstype!="",job="node"}
    ==
      0
)"#,
        ),
        (
            r#"label_replace(up{job="api-server",service="a:c"}, "foo", "$1", "service", "(.*):.*")"#,
            r#"label_replace(
  up{job="api-server",service="a:c"},
  "foo",
  "$1",
  "service",
  "(.*):.*"
)"#,
        ),
        (
            r#"min by (job, integration) (rate(alertmanager_notifications_failed_total{job="alertmanager", integration=~".*"}[5m]) / rate(alertmanager_notifications_total{job="alertmanager", integration="~.*"}[5m])) > 0.01"#,
            r#"  min by (job, integration) (
      rate(
        alertmanager_notifications_failed_total{integration=~".*",job="alertmanager"}[5m]
      )
    /
      rate(
        alertmanager_notifications_total{integration="~.*",job="alertmanager"}[5m]
      )
  )
>
  0.01"#,
        ),
    ]);
}

/// Not among Prometheus' cases, written from its rules: at the default 100-character limit a query that
/// fits stays on one line and a longer one splits only where needed; a subquery that fits is printed
/// without indentation (Prometheus' `SubqueryExpr.Pretty` adds none), the other nodes are indented.
#[test]
fn default_width_and_subqueries_that_fit() {
    let cases: &[(&str, &str)] = &[
        (
            "sum by (job) (rate(http_requests_total[5m]))",
            "sum by (job) (rate(http_requests_total[5m]))",
        ),
        (
            "sum by (job) (rate(http_requests_total{code=~\"5..\"}[5m])) / ignoring (code) group_left sum by (job) (rate(http_requests_total[5m]))",
            r#"  sum by (job) (rate(http_requests_total{code=~"5.."}[5m]))
/ ignoring (code) group_left ()
  sum by (job) (rate(http_requests_total[5m]))"#,
        ),
        (
            "max_over_time(deriv(rate(some_rather_long_metric_name_with_an_even_longer_suffix_total[5m])[30m:1m])[1h:5m]) > bool 1234567890123",
            r#"  max_over_time(
deriv(rate(some_rather_long_metric_name_with_an_even_longer_suffix_total[5m])[30m:1m])[1h:5m]
  )
> bool
  1234567890123"#,
        ),
    ];
    for (input, expected) in cases {
        let expr = parse(input).unwrap();
        assert_eq!(pretty(&expr), *expected, "input: {input}");
    }
}

/// The pretty form parses back to the expression it came from (same one-line print), at
/// Prometheus' limit and at narrow ones that split nearly every node.
fn assert_round_trips(query: &str) -> Result<(), TestCaseError> {
    let Ok(expr) = parse(query) else {
        return Ok(());
    };
    let printed = expr.to_string();
    for width in [0, 10, 40, mimir_promql::MAX_CHARACTERS_PER_LINE] {
        let pretty = pretty_with_width(&expr, width);
        let reparsed = parse(&pretty).map(|e| e.to_string());
        prop_assert_eq!(
            reparsed.as_ref(),
            Ok(&printed),
            "query {} at width {} printed\n{}",
            query,
            width,
            pretty
        );
    }
    Ok(())
}

proptest! {
    #[test]
    fn pretty_form_of_spliced_queries_parses_back(seed in 0..SEEDS.len(), cut in 0usize..200, len in 0usize..20) {
        let chars: Vec<char> = SEEDS[seed].chars().collect();
        let start = cut.min(chars.len());
        let end = (start + len).min(chars.len());
        let mutated: String = chars[..start].iter().chain(&chars[end..]).collect();
        assert_round_trips(&mutated)?;
    }

    #[test]
    fn pretty_form_of_token_soups_parses_back(tokens in proptest::collection::vec(0..TOKENS.len(), 1..16)) {
        let query: String = tokens.iter().map(|&i| TOKENS[i]).collect::<Vec<_>>().join(" ");
        assert_round_trips(&query)?;
    }
}

#[test]
fn pretty_form_of_every_corpus_expression_parses_back() {
    let dir = Path::new(CORPUS_DIR);
    if !dir.is_dir() {
        eprintln!(
            "skipping: PromQL test corpus not found at {}",
            dir.display()
        );
        return;
    }
    let mut checked = 0;
    for file in test_files(dir) {
        let content = std::fs::read_to_string(&file).unwrap_or_default();
        for line in content.lines() {
            if let Some(query) = eval_expression(line.trim()) {
                checked += 1;
                if let Err(err) = assert_round_trips(query) {
                    panic!("{}: {err}", file.display());
                }
            }
        }
    }
    assert!(checked > 0);
}
