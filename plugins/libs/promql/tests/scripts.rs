//! Reads every Prometheus PromQL test script (`../shared/promql-tests/*.test`, beside the repository)
//! with [`mimir_promql::testscript::parse_script`] and reports, per file, how many load and eval
//! commands it holds. Every file must read: upstream's harness rejects a file with any unreadable line.

use std::path::Path;

use crate::scripts_dir::{CORPUS_DIR, test_files};

use mimir_promql::testscript::{Command, Outcome, SampleValue, parse_script};

/// Counts of one file's commands.
#[derive(Default)]
struct Counts {
    loads: usize,
    clears: usize,
    evals: usize,
    failing_evals: usize,
    loaded_series: usize,
    histogram_samples: usize,
    start_timestamped: usize,
    at_checked: usize,
    range_checked: usize,
}

impl Counts {
    fn add(&mut self, other: &Counts) {
        self.loads += other.loads;
        self.clears += other.clears;
        self.evals += other.evals;
        self.failing_evals += other.failing_evals;
        self.loaded_series += other.loaded_series;
        self.histogram_samples += other.histogram_samples;
        self.start_timestamped += other.start_timestamped;
        self.at_checked += other.at_checked;
        self.range_checked += other.range_checked;
    }

    fn summary(&self) -> String {
        format!(
            "{} loads ({} series, {} with start timestamps, {} histogram samples), {} clears, {} evals ({} expect failure, \
             {} with the @ check, {} with the range-mode check)",
            self.loads,
            self.loaded_series,
            self.start_timestamped,
            self.histogram_samples,
            self.clears,
            self.evals,
            self.failing_evals,
            self.at_checked,
            self.range_checked
        )
    }
}

fn count(commands: &[Command]) -> Counts {
    let mut counts = Counts::default();
    for command in commands {
        match command {
            Command::Load(load) => {
                counts.loads += 1;
                counts.loaded_series += load.series.len();
                counts.start_timestamped += load
                    .series
                    .iter()
                    .filter(|series| series.start_offsets_ms.is_some())
                    .count();
                counts.histogram_samples += load
                    .series
                    .iter()
                    .flat_map(|series| &series.samples)
                    .filter(|(_, value)| matches!(value, SampleValue::Histogram(_)))
                    .count();
            }
            Command::Clear => counts.clears += 1,
            Command::Eval(eval) => {
                counts.evals += 1;
                if matches!(eval.expectation.outcome, Outcome::Fail(_)) {
                    counts.failing_evals += 1;
                }
                if !eval.at_modifier_eval_times_ms().is_empty() {
                    counts.at_checked += 1;
                }
                if eval.range_cross_check().is_some() {
                    counts.range_checked += 1;
                }
            }
        }
    }
    counts
}

#[test]
fn every_prometheus_test_script_reads() {
    let dir = Path::new(CORPUS_DIR);
    if !dir.is_dir() {
        eprintln!(
            "skipping: PromQL test corpus not found at {} (CI copies shared/ beside the clone)",
            dir.display()
        );
        return;
    }
    let files = test_files(dir);
    let mut total = Counts::default();
    let mut failures = Vec::new();
    for file in &files {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let content = match std::fs::read_to_string(file) {
            Ok(content) => content,
            Err(err) => {
                failures.push(format!("{name}: cannot read: {err}"));
                continue;
            }
        };
        match parse_script(&content) {
            Ok(commands) => {
                let counts = count(&commands);
                eprintln!("{name}: {}", counts.summary());
                total.add(&counts);
            }
            Err(err) => failures.push(format!("{name}: {err}")),
        }
    }
    eprintln!(
        "read {} of {} files: {}",
        files.len() - failures.len(),
        files.len(),
        total.summary()
    );
    for failure in &failures {
        eprintln!("{failure}");
    }
    assert!(
        !files.is_empty(),
        "no .test files found in {}",
        dir.display()
    );
    assert!(
        failures.is_empty(),
        "{} of {} files failed to read",
        failures.len(),
        files.len()
    );
}

mod robustness {
    //! The reader never panics: scripts assembled from the language's own pieces, and the corpus files
    //! with bytes cut out, yield `Ok` or `Err`.

    use mimir_promql::testscript::parse_script;
    use proptest::prelude::*;

    const PIECES: [&str; 32] = [
        "load 5m\n",
        "load_with_nhcb 1m\n",
        "clear\n",
        "eval instant at 1m ",
        "eval range from 0 to 2m step 1m ",
        "eval_fail instant at 0 ",
        "expect fail msg: x\n",
        "expect warn\n",
        "expect no_info\n",
        "expect ordered\n",
        "expect range vector from 0 to 1m step 30s\n",
        "expect string \"a\"\n",
        "expected_fail_message y\n",
        "up{a=\"b\"} ",
        "{\"é\"} ",
        "m@st ",
        "0+10x3 ",
        "1-2x2 ",
        "_x2 ",
        "stale ",
        "{{sum:1}}+{{sum:2}}x2 ",
        "-30s-1mx2 ",
        "Inf ",
        "0x5 ",
        "sum(up)\n",
        "3\n",
        "\n",
        "# c\n",
        "\t",
        "\"",
        "x",
        "{",
    ];

    proptest! {
        #[test]
        fn assembled_scripts_never_panic(indices in proptest::collection::vec(0..PIECES.len(), 0..40)) {
            let script: String = indices.iter().map(|&i| PIECES[i]).collect();
            let _ = parse_script(&script);
        }

        #[test]
        fn corpus_with_bytes_cut_out_never_panics(cut in 0usize..200_000, len in 1usize..40) {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../../shared/promql-tests/histograms.test");
            let Ok(content) = std::fs::read(path) else {
                return Ok(());
            };
            let start = cut % content.len().max(1);
            let end = (start + len).min(content.len());
            let mut bytes = content;
            bytes.drain(start..end);
            let _ = parse_script(&String::from_utf8_lossy(&bytes));
        }
    }
}
