//! Invalid expressions and the error Prometheus gives for each, position included.

use mimir_promql::parse;

/// (input, Prometheus' error message).
const CASES: &[(&str, &str)] = &[
    ("", "1:1: parse error: no expression found in input"),
    ("1+", "1:3: parse error: unexpected end of input"),
    ("*1", "1:1: parse error: unexpected <op:*>"),
    ("(1))", "1:4: parse error: unexpected right parenthesis ')'"),
    ("((1)", "1:5: parse error: unclosed left parenthesis"),
    ("(", "1:2: parse error: unclosed left parenthesis"),
    (
        "1 and 1",
        "1:1: parse error: set operator \"and\" not allowed in binary scalar expression",
    ),
    (
        "1 == 1",
        "1:3: parse error: comparisons between scalars must use BOOL modifier",
    ),
    (
        "1 or 1",
        "1:1: parse error: set operator \"or\" not allowed in binary scalar expression",
    ),
    (
        "1 unless 1",
        "1:1: parse error: set operator \"unless\" not allowed in binary scalar expression",
    ),
    (
        "1 !~ 1",
        "1:3: parse error: unexpected character after '!': '~'",
    ),
    (
        "1 =~ 1",
        "1:3: parse error: unexpected character after '=': '~'",
    ),
    (
        "-\"string\"",
        "1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got \"string\"",
    ),
    (
        "-test[5m]",
        "1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got \"range vector\"",
    ),
    ("*test", "1:1: parse error: unexpected <op:*>"),
    (
        "1 offset 1d",
        "1:1: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery",
    ),
    (
        "foo offset 1s offset 2s",
        "1:1: parse error: offset may not be set multiple times",
    ),
    (
        "a - on(b) ignoring(c) d",
        "1:11: parse error: unexpected <ignoring>",
    ),
    (
        "foo and 1",
        "1:1: parse error: set operator \"and\" not allowed in binary scalar expression",
    ),
    (
        "1 and foo",
        "1:1: parse error: set operator \"and\" not allowed in binary scalar expression",
    ),
    (
        "foo == on(bar) 10",
        "1:1: parse error: vector matching only allowed between instant vectors",
    ),
    (
        "foo + group_left(baz) bar",
        "1:7: parse error: unexpected <group_left>",
    ),
    (
        "foo and on(bar) group_left(baz) bar",
        "1:1: parse error: no grouping allowed for \"and\" operation",
    ),
    (
        "foo and on(bar) group_right(baz) bar",
        "1:1: parse error: no grouping allowed for \"and\" operation",
    ),
    (
        "foo or on(bar) group_left(baz) bar",
        "1:1: parse error: no grouping allowed for \"or\" operation",
    ),
    (
        "foo unless on(bar) group_left(baz) bar",
        "1:1: parse error: no grouping allowed for \"unless\" operation",
    ),
    (
        "http_requests{group=\"production\"} + on(instance) group_left(job,instance) cpu_count{type=\"smp\"}",
        "1:35: parse error: label \"instance\" must not occur in ON and GROUP clause at once",
    ),
    (
        "foo + bool bar",
        "1:5: parse error: bool modifier can only be used on comparison operators",
    ),
    (
        "foo + bool 10",
        "1:5: parse error: bool modifier can only be used on comparison operators",
    ),
    (
        "foo and bool 10",
        "1:5: parse error: bool modifier can only be used on comparison operators",
    ),
    (
        "{",
        "1:2: parse error: unexpected end of input inside braces",
    ),
    ("}", "1:1: parse error: unexpected character: '}'"),
    (
        "some{",
        "1:6: parse error: unexpected end of input inside braces",
    ),
    ("some}", "1:5: parse error: unexpected character: '}'"),
    (
        "some_metric{a=b}",
        "1:15: parse error: unexpected identifier \"b\" in label matching, expected string",
    ),
    (
        "some_metric{a:b=\"b\"}",
        "1:14: parse error: unexpected character inside braces: ':'",
    ),
    (
        "foo{a*\"b\"}",
        "1:6: parse error: unexpected character inside braces: '*'",
    ),
    (
        "foo{a>=\"b\"}",
        "1:6: parse error: unexpected character inside braces: '>'",
    ),
    (
        "foo{gibberish}",
        "1:14: parse error: unexpected \"}\" in label matching, expected label matching operator",
    ),
    (
        "foo{1}",
        "1:5: parse error: unexpected character inside braces: '1'",
    ),
    (
        "{}",
        "1:1: parse error: vector selector must contain at least one non-empty matcher",
    ),
    (
        "{x=\"\"}",
        "1:1: parse error: vector selector must contain at least one non-empty matcher",
    ),
    (
        "{x=~\".*\"}",
        "1:1: parse error: vector selector must contain at least one non-empty matcher",
    ),
    (
        "{x!~\".+\"}",
        "1:1: parse error: vector selector must contain at least one non-empty matcher",
    ),
    (
        "{x!=\"a\"}",
        "1:1: parse error: vector selector must contain at least one non-empty matcher",
    ),
    (
        "foo{__name__=\"bar\"}",
        "1:1: parse error: metric name must not be set twice: \"foo\" or \"bar\"",
    ),
    (
        "foo{__name__= =}",
        "1:15: parse error: unexpected \"=\" in label matching, expected string",
    ),
    (
        "foo{,}",
        "1:5: parse error: unexpected \",\" in label matching, expected identifier or \"}\"",
    ),
    (
        "foo{__name__ == \"bar\"}",
        "1:15: parse error: unexpected \"=\" in label matching, expected string",
    ),
    (
        "foo{__name__=\"bar\" lol}",
        "1:20: parse error: unexpected identifier \"lol\" in label matching, expected \",\" or \"}\"",
    ),
    ("foo{a=~\"(\"}", "1:5: parse error: error parsing regexp"),
    (
        "foo[5mm]",
        "1:5: parse error: bad number or duration syntax: \"5mm\"",
    ),
    (
        "foo[5m1]",
        "1:5: parse error: bad number or duration syntax: \"5m1\"",
    ),
    (
        "foo[]",
        "1:5: parse error: unexpected \"]\" in subquery selector, expected number or duration",
    ),
    ("foo[5m", "1:7: parse error: unclosed left bracket"),
    (
        "some_metric[5m] OFFSET 1mm",
        "1:24: parse error: bad number or duration syntax: \"1mm\"",
    ),
    (
        "some_metric[5m] OFFSET",
        "1:23: parse error: unexpected end of input in offset, expected number or duration",
    ),
    (
        "some_metric OFFSET 1m[5m]",
        "1:22: parse error: no offset modifiers allowed before range",
    ),
    (
        "some_metric @ 123 [5m]",
        "1:19: parse error: no @ modifiers allowed before range",
    ),
    (
        "(foo + bar)[5m]",
        "1:12: parse error: ranges only allowed for vector selectors",
    ),
    (
        "foo[5m] @",
        "1:10: parse error: unexpected end of input in @, expected timestamp",
    ),
    (
        "foo @ +Inf",
        "1:1: parse error: timestamp out of bounds for @ modifier: +Inf",
    ),
    (
        "foo @ NaN",
        "1:1: parse error: timestamp out of bounds for @ modifier: NaN",
    ),
    (
        "foo @ start() @ end()",
        "1:1: parse error: @ <timestamp> may not be set multiple times",
    ),
    (
        "1 @ 10",
        "1:1: parse error: @ modifier must be preceded by an instant vector selector or range vector selector or a subquery",
    ),
    (
        "sum(some_metric1, some_metric2)",
        "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 1, got 2",
    ),
    (
        "sum()",
        "1:1: parse error: no arguments for aggregate expression provided",
    ),
    (
        "topk(some_metric)",
        "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1",
    ),
    (
        "topk(some_metric, other_metric)",
        "1:6: parse error: expected type scalar in aggregation parameter, got instant vector",
    ),
    (
        "count_values(5, other_metric)",
        "1:14: parse error: expected type string in aggregation parameter, got scalar",
    ),
    (
        "sum(foo[5m])",
        "1:5: parse error: expected type instant vector in aggregation expression, got range vector",
    ),
    (
        "sum by (foo:bar) (x)",
        "1:9: parse error: unexpected metric identifier \"foo:bar\" in grouping opts, expected label",
    ),
    (
        "sum by foo (x)",
        "1:8: parse error: unexpected identifier \"foo\" in grouping opts, expected \"(\"",
    ),
    (
        "floor()",
        "1:1: parse error: expected 1 argument(s) in call to \"floor\", got 0",
    ),
    (
        "floor(some_metric, other_metric)",
        "1:1: parse error: expected 1 argument(s) in call to \"floor\", got 2",
    ),
    (
        "floor(1)",
        "1:7: parse error: expected type instant vector in call to function \"floor\", got scalar",
    ),
    (
        "hour(some_metric, some_metric, some_metric)",
        "1:1: parse error: expected at most 1 argument(s) in call to \"hour\", got 3",
    ),
    (
        "label_join(foo, \"a\")",
        "1:1: parse error: expected at least 3 argument(s) in call to \"label_join\", got 2",
    ),
    (
        "time(some_metric)",
        "1:1: parse error: expected 0 argument(s) in call to \"time\", got 1",
    ),
    (
        "non_existent_function_far_bar()",
        "1:1: parse error: unknown function with name \"non_existent_function_far_bar\"",
    ),
    (
        "rate(some_metric)",
        "1:6: parse error: expected type range vector in call to function \"rate\", got instant vector",
    ),
    (
        "rate(foo[5m],)",
        "1:13: parse error: trailing commas not allowed in function call args",
    ),
    (
        "rate(foo[5m])[1m]",
        "1:14: parse error: ranges only allowed for vector selectors",
    ),
    (
        "(foo[5m])[1m:]",
        "1:1: parse error: subquery is only allowed on instant vector, got matrix instead",
    ),
    (
        "foo[5m] + 1",
        "1:1: parse error: binary expression must contain only scalar and instant vector types",
    ),
    (
        "1 + \"a\"",
        "1:5: parse error: binary expression must contain only scalar and instant vector types",
    ),
    ("\"x", "1:1: parse error: unterminated quoted string"),
    ("`x", "1:1: parse error: unterminated raw string"),
    (
        "\"\\q\"",
        "1:2: parse error: unknown escape sequence U+0071 'q'",
    ),
    ("foo[5m:1m:1m]", "1:10: parse error: unexpected colon ':'"),
    ("foo[[5m]]", "1:5: parse error: unexpected left bracket '['"),
    ("foo]", "1:4: parse error: unexpected right bracket ']'"),
    (
        "foo{a=\"b\"}{c=\"d\"}",
        "1:11: parse error: unexpected \"{\"",
    ),
    ("1 2", "1:3: parse error: unexpected number \"2\""),
    (
        "info(up, target_info{a=\"b\"})",
        "1:10: parse error: expected label selectors only, got vector selector instead",
    ),
    (
        "foo[min_of(1m)]",
        "1:14: parse error: unexpected \")\" in subquery selector, expected \",\"",
    ),
    (
        "foo offset step",
        "1:16: parse error: unexpected end of input in offset, expected \"(\"",
    ),
    (
        "foo @ bar",
        "1:7: parse error: unexpected identifier \"bar\" in @, expected timestamp",
    ),
    ("foo[5m:1m", "1:10: parse error: unclosed left bracket"),
    ("foo bar", "1:5: parse error: unexpected identifier \"bar\""),
];

#[test]
fn invalid_expressions_fail_like_prometheus() {
    let mut failures = Vec::new();
    for (input, want) in CASES {
        match parse(input) {
            Ok(expr) => failures.push(format!("{input:?}: parsed as {expr}, want error {want}")),
            Err(err) if err.to_string().starts_with(want) => {}
            Err(err) => failures.push(format!("{input:?}:\n   got  {err}\n   want {want}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases wrong:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}
