//! Label matchers with Prometheus semantics.
//!
//! A label a series does not have has the value `""`: `foo=""` matches series without `foo`,
//! `foo!=""` selects series that have it, `foo=~".*"` matches every series and `foo=~".+"` needs
//! `foo`. Regexes are fully anchored and `.` matches newlines, as in Prometheus 3
//! (`^(?s:value)$`).

use std::fmt;
use std::sync::Arc;

use mimir_matcher::FastRegex;

use crate::error::TsdbError;
use crate::labels::Labels;

/// The four PromQL matcher operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchOp {
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `=~`
    RegexMatch,
    /// `!~`
    RegexNoMatch,
}

impl MatchOp {
    /// The PromQL spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Equal => "=",
            Self::NotEqual => "!=",
            Self::RegexMatch => "=~",
            Self::RegexNoMatch => "!~",
        }
    }

    /// Whether the operator negates (`!=`, `!~`).
    pub fn is_negative(self) -> bool {
        matches!(self, Self::NotEqual | Self::RegexNoMatch)
    }
}

/// One `name op "value"` condition on a series.
#[derive(Debug, Clone)]
pub struct Matcher {
    name: String,
    op: MatchOp,
    value: String,
    /// Compiled (shared through `mimir_matcher`'s cache) for the regex operators only.
    regex: Option<Arc<FastRegex>>,
}

impl Matcher {
    /// Builds a matcher, compiling regex values fully anchored.
    pub fn new(
        op: MatchOp,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<Self, TsdbError> {
        let value = value.into();
        let regex = match op {
            MatchOp::Equal | MatchOp::NotEqual => None,
            MatchOp::RegexMatch | MatchOp::RegexNoMatch => Some(compile_anchored(&value)?),
        };
        Ok(Self {
            name: name.into(),
            op,
            value,
            regex,
        })
    }

    /// Shorthand for an `=` matcher, which cannot fail.
    pub fn equal(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            op: MatchOp::Equal,
            value: value.into(),
            regex: None,
        }
    }

    /// The label name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The operator.
    pub fn op(&self) -> MatchOp {
        self.op
    }

    /// The value as given (unanchored for regexes).
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The compiled regex of a `=~` or `!~` matcher.
    pub fn regex(&self) -> Option<&FastRegex> {
        self.regex.as_deref()
    }

    /// Whether a label value (`""` for an absent label) satisfies the matcher.
    pub fn matches(&self, value: &str) -> bool {
        match (self.op, &self.regex) {
            (MatchOp::Equal, _) => value == self.value,
            (MatchOp::NotEqual, _) => value != self.value,
            (MatchOp::RegexMatch, Some(regex)) => regex.is_match(value),
            (MatchOp::RegexNoMatch, Some(regex)) => !regex.is_match(value),
            // `new` compiles a regex for both regex operators.
            (MatchOp::RegexMatch | MatchOp::RegexNoMatch, None) => false,
        }
    }

    /// Whether a series satisfies the matcher.
    pub fn matches_labels(&self, labels: &Labels) -> bool {
        self.matches(labels.get_or_empty(&self.name))
    }

    /// Whether the matcher accepts series that lack the label.
    pub fn matches_empty(&self) -> bool {
        self.matches("")
    }
}

/// Equal when name, operator and value are equal (the compiled regex follows from the value).
impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.op == other.op && self.value == other.value
    }
}

impl Eq for Matcher {}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{:?}", self.name, self.op.as_str(), self.value)
    }
}

/// Compiles `value` as Prometheus does: on its own first (so `a)|(b` cannot escape the wrapping
/// group), then as `^(?s:value)$` (through the process-wide cache).
fn compile_anchored(value: &str) -> Result<Arc<FastRegex>, TsdbError> {
    let invalid = |err: regex::Error| TsdbError::InvalidRegex {
        value: value.to_string(),
        reason: err.to_string(),
    };
    match mimir_matcher::compile(value) {
        Ok(compiled) => match compiled.standalone_error() {
            Some(err) => Err(invalid(err)),
            None => Ok(compiled),
        },
        Err(anchored) => {
            // Report the error of the pattern alone when it has one, as before.
            regex::Regex::new(value).map_err(invalid)?;
            Err(invalid(anchored))
        }
    }
}

/// Whether a series satisfies every matcher.
pub fn matches_all(matchers: &[Matcher], labels: &Labels) -> bool {
    matchers.iter().all(|m| m.matches_labels(labels))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(op: MatchOp, name: &str, value: &str) -> Matcher {
        Matcher::new(op, name, value).unwrap()
    }

    #[test]
    fn all_four_operators() {
        assert!(m(MatchOp::Equal, "job", "api").matches("api"));
        assert!(!m(MatchOp::Equal, "job", "api").matches("web"));
        assert!(m(MatchOp::NotEqual, "job", "api").matches("web"));
        assert!(!m(MatchOp::NotEqual, "job", "api").matches("api"));
        assert!(m(MatchOp::RegexMatch, "job", "a.*").matches("api"));
        assert!(!m(MatchOp::RegexMatch, "job", "a.*").matches("web"));
        assert!(m(MatchOp::RegexNoMatch, "job", "a.*").matches("web"));
        assert!(!m(MatchOp::RegexNoMatch, "job", "a.*").matches("api"));
    }

    #[test]
    fn regexes_are_fully_anchored() {
        let bar = m(MatchOp::RegexMatch, "foo", "bar");
        assert!(bar.matches("bar"));
        assert!(!bar.matches("xbar"));
        assert!(!bar.matches("barx"));
        // Alternation stays inside the anchors.
        let alt = m(MatchOp::RegexMatch, "foo", "a|b");
        assert!(!alt.matches("ab"));
        assert!(alt.matches("b"));
    }

    #[test]
    fn dot_matches_newlines_like_prometheus_3() {
        assert!(m(MatchOp::RegexMatch, "foo", ".*").matches("a\nb"));
    }

    #[test]
    fn a_value_cannot_escape_the_anchoring_group() {
        assert!(matches!(
            Matcher::new(MatchOp::RegexMatch, "foo", "a)|(b"),
            Err(TsdbError::InvalidRegex { .. })
        ));
        assert!(Matcher::new(MatchOp::RegexMatch, "foo", "(").is_err());
    }

    #[test]
    fn absent_labels_are_the_empty_string() {
        let without_foo = Labels::from_pairs([("job", "x")]);
        let with_foo = Labels::from_pairs([("job", "x"), ("foo", "1")]);
        let empty = m(MatchOp::Equal, "foo", "");
        assert!(empty.matches_labels(&without_foo));
        assert!(!empty.matches_labels(&with_foo));
        let present = m(MatchOp::NotEqual, "foo", "");
        assert!(!present.matches_labels(&without_foo));
        assert!(present.matches_labels(&with_foo));
        let any = m(MatchOp::RegexMatch, "foo", ".*");
        assert!(any.matches_labels(&without_foo) && any.matches_labels(&with_foo));
        let some = m(MatchOp::RegexMatch, "foo", ".+");
        assert!(!some.matches_labels(&without_foo));
        assert!(some.matches_labels(&with_foo));
        assert!(empty.matches_empty() && !some.matches_empty());
    }

    #[test]
    fn display_is_promql() {
        assert_eq!(
            m(MatchOp::RegexNoMatch, "job", "a\"b").to_string(),
            r#"job!~"a\"b""#
        );
    }
}
