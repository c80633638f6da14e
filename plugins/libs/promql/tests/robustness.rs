//! The parser never panics: deep nesting is refused with an error instead of exhausting the stack, and
//! arbitrary input (random bytes, or valid queries with bytes cut out) yields `Ok` or `Err`.

use mimir_promql::{MAX_NESTING, parse};
use proptest::prelude::*;

fn nested_parens(depth: usize) -> String {
    format!("{}1{}", "(".repeat(depth), ")".repeat(depth))
}

#[test]
fn nesting_up_to_the_limit_parses_and_prints() {
    // Each paren level is one nesting level on top of the top-level expression.
    let expr = parse(&nested_parens(MAX_NESTING - 1));
    assert!(expr.is_ok_and(|e| e.to_string().len() == 2 * (MAX_NESTING - 1) + 1));
}

#[test]
fn long_operator_chains_parse_and_print() {
    let chain = vec!["a"; 500].join(" or ");
    let printed = parse(&chain).map(|e| e.to_string());
    assert_eq!(printed, Ok(chain));
}

#[test]
fn nested_unary_operators_parse() {
    let unary = format!("{}1", "-(".repeat(MAX_NESTING / 2 - 1)) + &")".repeat(MAX_NESTING / 2 - 1);
    assert!(parse(&unary).is_ok());
}

#[test]
fn nesting_beyond_the_limit_is_an_error() {
    let err = parse(&nested_parens(MAX_NESTING + 10))
        .err()
        .map(|e| e.message);
    assert_eq!(
        err,
        Some(format!(
            "expression nests too deeply (limit {MAX_NESTING} levels)"
        ))
    );
    let chain = vec!["a"; MAX_NESTING * 5].join(" or ");
    assert!(parse(&chain).is_err());
    let range = format!(
        "foo[{}1{}]",
        "(".repeat(MAX_NESTING + 10),
        ")".repeat(MAX_NESTING + 10)
    );
    assert!(parse(&range).is_err());
}

pub(crate) const SEEDS: &[&str] = &[
    "sum by (job) (rate(http_requests_total{job=~\"api.*\", code!=\"500\"}[5m] offset 1m @ 100))",
    "histogram_quantile(0.9, sum without (instance) (rate(foo_bucket[5m:30s])))",
    "a / on(x) group_left(y) b > bool 1 or -c ^ 2 unless d",
    "count_over_time(m[1+(step()-5)*2]) offset -min_of(step(), 1s)^0",
    "{\"my.metric\", \"la.bel\"='x\\n'} @ start() + `raw` + 0x1f + 1_000",
];

proptest! {
    #[test]
    fn arbitrary_input_never_panics(input in "\\PC{0,64}") {
        let _ = parse(&input);
    }

    #[test]
    fn promql_like_input_never_panics(input in "[a-z_:{}()\\[\\]\"'`=~!<>+*/%^@,.0-9 #\\\\-]{0,64}") {
        let _ = parse(&input);
    }

    #[test]
    fn truncated_and_spliced_queries_never_panic(seed in 0..SEEDS.len(), cut in 0usize..200, len in 0usize..20) {
        let query = SEEDS[seed];
        let chars: Vec<char> = query.chars().collect();
        let start = cut.min(chars.len());
        let end = (start + len).min(chars.len());
        let mutated: String = chars[..start].iter().chain(&chars[end..]).collect();
        if let Ok(expr) = parse(&mutated) {
            // Whatever parses prints to something that parses again to the same text.
            let printed = expr.to_string();
            let reparsed = parse(&printed).map(|e| e.to_string());
            prop_assert_eq!(reparsed, Ok(printed));
        }
    }
}
