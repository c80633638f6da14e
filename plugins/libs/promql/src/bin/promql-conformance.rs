//! Runs Prometheus' PromQL test scripts (`*.test`) against mimir-host's engine.
//!
//! Usage: `promql-conformance [-v] [--baseline FILE] [--write-baseline FILE] DIR`
//!
//! Prints `file: N passed, N failed` per script and a final `N passed, N failed` line (eval statements).
//! With `--baseline`, exits non-zero when any file passes fewer evals than the baseline records
//! (`<file> <passed>` per line); `--write-baseline` records the current counts.

use std::collections::BTreeMap;
use std::process::ExitCode;

/// `println!` that stops quietly when stdout is closed (`promql-conformance … | head`).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if writeln!(std::io::stdout(), $($arg)*).is_err() {
            std::process::exit(0);
        }
    }};
}

fn main() -> ExitCode {
    let mut verbose = false;
    let mut baseline = None;
    let mut write_baseline = None;
    let mut dir = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-v" | "--verbose" => verbose = true,
            "--baseline" => baseline = args.next(),
            "--write-baseline" => write_baseline = args.next(),
            "-h" | "--help" => {
                say!(
                    "usage: promql-conformance [-v] [--baseline FILE] [--write-baseline FILE] DIR"
                );
                return ExitCode::SUCCESS;
            }
            _ => dir = Some(arg),
        }
    }
    let Some(dir) = dir else {
        eprintln!("usage: promql-conformance [-v] [--baseline FILE] [--write-baseline FILE] DIR");
        return ExitCode::from(2);
    };
    let mut files: Vec<_> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "test"))
            .collect(),
        Err(err) => {
            eprintln!("cannot read {dir}: {err}");
            return ExitCode::from(2);
        }
    };
    files.sort();
    let mut counts = BTreeMap::new();
    let (mut passed, mut failed) = (0, 0);
    let mut unreadable = false;
    for path in &files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) => {
                say!("{name}: cannot read: {err}");
                unreadable = true;
                continue;
            }
        };
        let report = mimir_promql::conformance::run_script(&text);
        if let Some(err) = &report.error {
            say!("{name}: cannot parse the script: {err}");
            unreadable = true;
        }
        say!("{name}: {} passed, {} failed", report.passed, report.failed);
        if verbose {
            for failure in &report.failures {
                say!("  FAIL {failure}");
            }
        }
        passed += report.passed;
        failed += report.failed;
        counts.insert(name, report.passed);
    }
    say!("{passed} passed, {failed} failed");
    if let Some(path) = write_baseline {
        let text: String = counts.iter().map(|(f, n)| format!("{f} {n}\n")).collect();
        if let Err(err) = std::fs::write(&path, text) {
            eprintln!("cannot write {path}: {err}");
            return ExitCode::from(2);
        }
    }
    if let Some(path) = baseline {
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) => {
                eprintln!("cannot read baseline {path}: {err}");
                return ExitCode::from(2);
            }
        };
        let mut regressed = false;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let mut parts = line.split_whitespace();
            let (Some(file), Some(n)) = (
                parts.next(),
                parts.next().and_then(|n| n.parse::<usize>().ok()),
            ) else {
                eprintln!("bad baseline line: {line:?}");
                return ExitCode::from(2);
            };
            let now = counts.get(file).copied().unwrap_or(0);
            if now < n {
                say!("REGRESSION {file}: {now} passed, baseline {n}");
                regressed = true;
            }
        }
        if regressed {
            return ExitCode::FAILURE;
        }
    }
    if unreadable {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
