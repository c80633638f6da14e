//! The reader of Prometheus' PromQL test scripts (`promql/promqltest/testdata/*.test`), turning a
//! script into typed [`Command`]s for a conformance runner. It follows the script language as
//! upstream's Go harness reads it (described in `shared/promql-tests/README.md`): lines are trimmed, a
//! `#` line or a blank line ends a block, every eval expression must parse. It reads and validates;
//! it never evaluates, and native-histogram literals are kept as text for the runner to interpret.

mod checks;
mod commands;
mod labels;
mod literal;
mod load;
mod series;
mod values;

#[cfg(test)]
mod tests;

pub use checks::{AT_MODIFIER_UNSAFE_FUNCTIONS, RANGE_CHECK_STEP_MS};
pub use commands::{Command, Eval, EvalKind, Load};
pub use load::LoadSeries;
pub use series::{HistogramValue, MAX_VALUES_PER_LINE, SampleValue, StepDirection};
pub use values::{
    AnnotationRule, Expectation, ExpectedResult, ExpectedSeries, Grid, MessageMatch, Outcome,
};

/// A script that cannot be read: the 1-based line and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ScriptError {
    pub line: usize,
    pub message: String,
}

impl ScriptError {
    /// An error about the line at 0-based `index`.
    pub(crate) fn new(index: usize, message: impl Into<String>) -> Self {
        Self {
            line: index + 1,
            message: message.into(),
        }
    }
}

/// Reads a whole test script into its commands, failing on the first line that cannot be read.
pub fn parse_script(text: &str) -> Result<Vec<Command>, ScriptError> {
    let lines: Vec<&str> = text
        .split('\n')
        .map(|line| {
            let trimmed = line.trim();
            if trimmed.starts_with('#') {
                ""
            } else {
                trimmed
            }
        })
        .collect();
    commands::read_commands(&lines)
}
