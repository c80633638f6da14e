//! Parses every expression of the `eval` commands in Prometheus' PromQL test scripts
//! (`../shared/promql-tests/*.test`, beside the repository). Prometheus parses them while reading a
//! file, so each one must parse. The files' command syntax is described in that folder's README §3.

use std::path::Path;

use crate::scripts_dir::{CORPUS_DIR, test_files};

/// Splits off the first whitespace-separated word.
fn pop_word(text: &str) -> Option<(&str, &str)> {
    let text = text.trim_start();
    if text.is_empty() {
        return None;
    }
    let end = text.find(char::is_whitespace).unwrap_or(text.len());
    Some((&text[..end], text[end..].trim_start()))
}

/// The expression of an eval line, or `None` for other lines.
pub(crate) fn eval_expression(line: &str) -> Option<&str> {
    let (command, rest) = pop_word(line)?;
    if !matches!(
        command,
        "eval" | "eval_fail" | "eval_warn" | "eval_info" | "eval_ordered"
    ) {
        return None;
    }
    let (mode, rest) = pop_word(rest)?;
    match mode {
        "instant" => {
            let (at, rest) = pop_word(rest)?;
            let rest = if at == "at" { pop_word(rest)?.1 } else { rest };
            Some(rest)
        }
        "range" => {
            let mut rest = rest;
            for keyword in ["from", "to", "step"] {
                let (word, after_word) = pop_word(rest)?;
                if word != keyword {
                    return None;
                }
                rest = pop_word(after_word)?.1;
            }
            Some(rest)
        }
        _ => None,
    }
}

#[test]
fn every_eval_expression_of_the_prometheus_test_scripts_parses() {
    let dir = Path::new(CORPUS_DIR);
    if !dir.is_dir() {
        eprintln!(
            "skipping: PromQL test corpus not found at {} (CI copies shared/ beside the clone)",
            dir.display()
        );
        return;
    }
    let mut total = 0;
    let mut failures = Vec::new();
    for file in test_files(dir) {
        let content = std::fs::read_to_string(&file).unwrap_or_default();
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for (index, line) in content.lines().enumerate() {
            let Some(expr) = eval_expression(line.trim()) else {
                continue;
            };
            total += 1;
            match mimir_promql::parse(expr) {
                Ok(parsed) => {
                    // The printed form must be stable: it parses and prints to itself.
                    let printed = parsed.to_string();
                    let reprinted = mimir_promql::parse(&printed).map(|e| e.to_string());
                    if reprinted.as_ref() != Ok(&printed) {
                        failures.push(format!(
                            "{name}:{}: {expr}\n    printed {printed}, then {reprinted:?}",
                            index + 1
                        ));
                    }
                }
                Err(err) => failures.push(format!("{name}:{}: {expr}\n    {err}", index + 1)),
            }
        }
    }
    let parsed = total - failures.len();
    eprintln!("parsed {parsed} of {total} eval expressions");
    for failure in failures.iter().take(20) {
        eprintln!("{failure}");
    }
    assert!(total > 0, "no eval expressions found in {}", dir.display());
    assert!(
        failures.is_empty(),
        "{} of {total} eval expressions failed to parse",
        failures.len()
    );
}

#[test]
fn eval_lines_are_recognised() {
    assert_eq!(
        eval_expression("eval instant at 50m sum(x)"),
        Some("sum(x)")
    );
    assert_eq!(
        eval_expression("eval_fail instant at 0 a + b"),
        Some("a + b")
    );
    assert_eq!(
        eval_expression("eval range from 0 to 10s step 5s step()"),
        Some("step()")
    );
    assert_eq!(eval_expression("load 5m"), None);
}
