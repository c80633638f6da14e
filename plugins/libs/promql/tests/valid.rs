//! Valid expressions: each parses, prints as Prometheus prints it, and the printed form parses back to
//! the same text.

use mimir_promql::{AtModifier, BinaryOp, Expr, VectorMatchCardinality, parse};

/// (input, Prometheus' printed form).
const CASES: &[(&str, &str)] = &[
    ("1", "1"),
    ("+1", "1"),
    ("-1", "-1"),
    ("- 1", "-1"),
    ("-.5", "-0.5"),
    ("1_000", "1000"),
    ("0x1f", "31"),
    ("1e3", "1000"),
    ("Inf", "+Inf"),
    ("-inf", "-Inf"),
    ("NaN", "NaN"),
    ("5m", "5m"),
    ("\"a\\tb\"", "\"a\\tb\""),
    ("'single'", "\"single\""),
    ("`raw\\n`", "\"raw\\\\n\""),
    ("foo", "foo"),
    ("foo:bar", "foo:bar"),
    ("foo{}", "foo"),
    ("foo{a=\"b\"}", "foo{a=\"b\"}"),
    ("foo{a=\"b\",}", "foo{a=\"b\"}"),
    ("foo{b!~\"x\", a=~'.+'}", "foo{a=~\".+\",b!~\"x\"}"),
    ("{a=\"b\"}", "{a=\"b\"}"),
    ("{\"my.metric\"}", "{__name__=\"my.metric\"}"),
    (
        "{\"my.metric\", \"label.name\"=\"x\"}",
        "{\"label.name\"=\"x\",__name__=\"my.metric\"}",
    ),
    ("sum", "sum"),
    ("offset", "offset"),
    ("start", "start"),
    ("foo offset 5m", "foo offset 5m"),
    ("foo offset -5m", "foo offset -5m"),
    ("foo offset 100", "foo offset 1m40s"),
    ("foo OFFSET 1h30m", "foo offset 1h30m"),
    ("foo @ 100", "foo @ 100.000"),
    ("foo @ -1.5", "foo @ -1.500"),
    ("foo @ 1m40s", "foo @ 100.000"),
    ("foo @ start()", "foo @ start()"),
    ("foo @ end() offset 1m", "foo @ end() offset 1m"),
    ("foo offset 1m @ 10", "foo @ 10.000 offset 1m"),
    ("foo[5m]", "foo[5m]"),
    ("foo[100]", "foo[1m40s]"),
    ("foo[5m] offset 1m @ 10", "foo[5m] @ 10.000 offset 1m"),
    ("foo[5m+30s]", "foo[5m + 30s]"),
    ("foo[2m*(10+5)]", "foo[2m * (10 + 5)]"),
    ("foo[step()]", "foo[step()]"),
    ("foo[min_of(step()+1,1h)]", "foo[min_of(step() + 1, 1h)]"),
    ("foo offset (2*2)", "foo offset (2 * 2)"),
    ("foo offset -step()", "foo offset -step()"),
    ("foo offset step() * 2", "foo offset step() * 2"),
    ("foo[10m:]", "foo[10m:]"),
    ("foo[10m:1m]", "foo[10m:1m]"),
    (
        "rate(foo[5m])[30m:1m] @ 100 offset 5m",
        "rate(foo[5m])[30m:1m] @ 100.000 offset 5m",
    ),
    ("(foo)", "(foo)"),
    ("-foo", "-foo"),
    ("1 + 2 * 3", "1 + 2 * 3"),
    ("a or b and c", "a or b and c"),
    ("a - on(b) c", "a - on (b) c"),
    ("a + ignoring(b, c) d", "a + ignoring (b, c) d"),
    ("a * on(x) group_left(y) b", "a * on (x) group_left (y) b"),
    ("a * on(x) group_right b", "a * on (x) group_right () b"),
    ("a > bool 1", "a > bool 1"),
    ("1 == bool 1", "1 == bool 1"),
    ("a and on() b", "a and on () b"),
    ("a unless ignoring(x) b", "a unless ignoring (x) b"),
    ("a atan2 b", "a atan2 b"),
    ("sum(foo)", "sum(foo)"),
    ("SUM(foo)", "sum(foo)"),
    ("sum by (job) (foo)", "sum by (job) (foo)"),
    (
        "sum(foo) by (job, instance)",
        "sum by (job, instance) (foo)",
    ),
    ("sum without () (foo)", "sum without () (foo)"),
    ("sum by () (foo)", "sum(foo)"),
    ("sum by (\"a.b\") (foo)", "sum by (\"a.b\") (foo)"),
    ("sum by (offset, by) (foo)", "sum by (offset, by) (foo)"),
    ("topk(5, foo)", "topk(5, foo)"),
    ("count_values(\"v\", foo)", "count_values(\"v\", foo)"),
    (
        "quantile without(point)(0.8, foo)",
        "quantile without (point) (0.8, foo)",
    ),
    ("limitk(2, foo)", "limitk(2, foo)"),
    ("time()", "time()"),
    ("round(foo, 5)", "round(foo, 5)"),
    (
        "label_join(foo, \"a\", \",\", \"b\", \"c\")",
        "label_join(foo, \"a\", \",\", \"b\", \"c\")",
    ),
    ("hour()", "hour()"),
    ("step()", "step()"),
    ("STep()", "step()"),
    ("start() + range()", "start() + range()"),
    ("min_of(NaN, 3)", "min_of(NaN, 3)"),
    ("vector(1) # a comment", "vector(1)"),
    (
        "info(up, {k8s_cluster_name=~\".*\"})",
        "info(up, {k8s_cluster_name=~\".*\"})",
    ),
    ("info(up)", "info(up)"),
    (
        "histogram_quantile(0.9, sum by (le) (rate(foo_bucket[5m])))",
        "histogram_quantile(0.9, sum by (le) (rate(foo_bucket[5m])))",
    ),
];

#[test]
fn valid_expressions_print_like_prometheus() {
    let mut failures = Vec::new();
    for (input, printed) in CASES {
        match parse(input) {
            Ok(expr) if expr.to_string() == *printed => {
                if let Err(err) = parse(printed) {
                    failures.push(format!(
                        "{input}: printed form {printed} does not parse: {err}"
                    ));
                }
            }
            Ok(expr) => failures.push(format!("{input}: printed {expr}, want {printed}")),
            Err(err) => failures.push(format!("{input}: {err}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn binary(expr: &Expr) -> Option<(&Expr, BinaryOp, &Expr)> {
    match expr {
        Expr::Binary(b) => Some((&b.lhs, b.op, &b.rhs)),
        _ => None,
    }
}

#[test]
fn power_is_right_associative_and_unary_minus_binds_like_multiplication() {
    let expr = parse("2 ^ 3 ^ 2").ok();
    let (lhs, op, rhs) = expr.as_ref().and_then(binary).unwrap();
    assert_eq!(op, BinaryOp::Pow);
    assert!(matches!(lhs, Expr::Number(n) if n.value == 2.0));
    assert!(matches!(rhs, Expr::Binary(_)));

    // -a ^ b is -(a ^ b); -a * b is (-a) * b.
    assert!(matches!(parse("-a ^ b"), Ok(Expr::Unary(_))));
    let expr = parse("-a * b").ok();
    let (lhs, op, _) = expr.as_ref().and_then(binary).unwrap();
    assert_eq!(op, BinaryOp::Mul);
    assert!(matches!(lhs, Expr::Unary(_)));
}

#[test]
fn offset_binds_to_the_selector_not_to_the_arithmetic_after_it() {
    let expr = parse("metric offset 100 + 2").ok();
    let (lhs, op, _) = expr.as_ref().and_then(binary).unwrap();
    assert_eq!(op, BinaryOp::Add);
    assert!(matches!(lhs, Expr::VectorSelector(vs) if vs.offset.is_some()));

    let expr = parse("metric offset -min_of(step(), 1s)^0").ok();
    assert!(matches!(
        expr.as_ref().and_then(binary),
        Some((_, BinaryOp::Pow, _))
    ));
}

#[test]
fn vector_matching_is_normalised() {
    let Ok(Expr::Binary(b)) = parse("a or b") else {
        panic!("a or b should parse")
    };
    assert_eq!(
        b.matching.map(|m| m.card),
        Some(VectorMatchCardinality::ManyToMany)
    );
    let Ok(Expr::Binary(b)) = parse("a + 1") else {
        panic!("a + 1 should parse")
    };
    assert!(b.matching.is_none());
    let Ok(Expr::Binary(b)) = parse("a / on(x) group_left(y) b") else {
        panic!("should parse")
    };
    assert_eq!(
        b.matching.map(|m| m.card),
        Some(VectorMatchCardinality::ManyToOne)
    );
}

#[test]
fn nodes_carry_byte_spans() {
    let input = "sum by (job) (rate(foo{a=\"b\"}[5m] @ 10))";
    let Ok(Expr::Aggregate(sum)) = parse(input) else {
        panic!("should parse")
    };
    assert_eq!((sum.span.start, sum.span.end), (0, input.len()));
    let Expr::Call(rate) = sum.expr.as_ref() else {
        panic!("rate call expected")
    };
    assert_eq!(
        &input[rate.span.start..rate.span.end],
        "rate(foo{a=\"b\"}[5m] @ 10)"
    );
    let Expr::MatrixSelector(matrix) = &rate.args[0] else {
        panic!("matrix selector expected")
    };
    assert_eq!(
        &input[matrix.span.start..matrix.span.end],
        "foo{a=\"b\"}[5m] @ 10"
    );
    assert_eq!(matrix.selector.at, Some(AtModifier::Timestamp(10_000)));
}

#[test]
fn duration_expressions_evaluate() {
    let Ok(Expr::MatrixSelector(m)) = parse("foo[24m+((1.5*2m)+2m)]") else {
        panic!("should parse")
    };
    assert_eq!(m.range.constant_seconds(), Some(1740.0));
    let Ok(Expr::MatrixSelector(m)) = parse("foo[1+(STep()-5)*2]") else {
        panic!("should parse")
    };
    assert_eq!(m.range.constant_seconds(), None);
    assert_eq!(m.range.eval_seconds(10.0, 0.0), 11.0);
}
