//! Label sets: the identity of a series.
//!
//! [`Labels`] is immutable, sorted by label name and cheap to clone (one `Arc` bump). Labels with an
//! empty value are dropped on construction, because Prometheus treats an empty value and an absent
//! label as the same thing. [`Interner`] lets the head share the memory of repeated names and values
//! across series.

use std::cmp::Ordering;
use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

/// The label holding the metric name.
pub const METRIC_NAME: &str = "__name__";

/// One `name="value"` pair.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label {
    /// The label name.
    pub name: Arc<str>,
    /// The label value, never empty inside a [`Labels`].
    pub value: Arc<str>,
}

impl fmt::Debug for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.name, GoQuoted(&self.value))
    }
}

/// An immutable label set, sorted by name, with unique names and no empty values.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Labels(Arc<[Label]>);

impl Labels {
    /// The empty label set.
    pub fn empty() -> Self {
        Self(Arc::from(Vec::new()))
    }

    /// Builds a label set from pairs in any order.
    ///
    /// Pairs with an empty value are dropped (an empty value means "absent" in Prometheus). When a
    /// name repeats, the last pair wins; the distributor rejects such series before they get here.
    pub fn from_pairs<N, V>(pairs: impl IntoIterator<Item = (N, V)>) -> Self
    where
        N: AsRef<str>,
        V: AsRef<str>,
    {
        Self::from_labels(pairs.into_iter().map(|(name, value)| Label {
            name: Arc::from(name.as_ref()),
            value: Arc::from(value.as_ref()),
        }))
    }

    /// Builds a label set from [`Label`]s in any order, with the rules of [`Labels::from_pairs`].
    pub fn from_labels(labels: impl IntoIterator<Item = Label>) -> Self {
        let mut all: Vec<Label> = labels.into_iter().filter(|l| !l.value.is_empty()).collect();
        // A stable sort keeps repeated names in input order, so keeping the last of each run is
        // "last pair wins".
        all.sort_by(|a, b| a.name.cmp(&b.name));
        let mut unique: Vec<Label> = Vec::with_capacity(all.len());
        for label in all {
            match unique.last_mut() {
                Some(previous) if previous.name == label.name => *previous = label,
                _ => unique.push(label),
            }
        }
        Self(Arc::from(unique))
    }

    /// The value of `name`, if the set has it.
    pub fn get(&self, name: &str) -> Option<&str> {
        // Series have a handful of labels: comparing for equality (lengths first) beats a binary
        // search's ordered comparisons until there are many.
        if self.0.len() <= 16 {
            return self
                .0
                .iter()
                .find(|l| *l.name == *name)
                .map(|l| l.value.as_ref());
        }
        self.0
            .binary_search_by(|l| l.name.as_ref().cmp(name))
            .ok()
            .map(|i| self.0[i].value.as_ref())
    }

    /// The value of `name`, or `""` when absent (Prometheus' matcher view of a series).
    pub fn get_or_empty(&self, name: &str) -> &str {
        self.get(name).unwrap_or("")
    }

    /// The metric name (`__name__`), if any.
    pub fn metric_name(&self) -> Option<&str> {
        self.get(METRIC_NAME)
    }

    /// The labels in name order.
    pub fn iter(&self) -> std::slice::Iter<'_, Label> {
        self.0.iter()
    }

    /// The labels as a slice, in name order.
    pub fn as_slice(&self) -> &[Label] {
        &self.0
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the set has no labels.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A hash of the label set that is the same on every run and every build: FNV-1a over
    /// `name 0xff value 0xff` for each label (0xff never occurs in UTF-8, so `{a="bc"}` and
    /// `{ab="c"}` differ).
    pub fn stable_hash(&self) -> u64 {
        Self::stable_hash_of_pairs(self.iter().map(|l| (&*l.name, &*l.value)))
    }

    /// [`Labels::stable_hash`] of pairs that are already sorted by name with no empty value,
    /// without building a label set (the ingester's lookup of series it already has).
    pub fn stable_hash_of_pairs<N: AsRef<[u8]>, V: AsRef<[u8]>>(
        pairs: impl IntoIterator<Item = (N, V)>,
    ) -> u64 {
        const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
        const PRIME: u64 = 0x0000_0100_0000_01b3;
        let mut hash = OFFSET_BASIS;
        let mut feed = |bytes: &[u8]| {
            for byte in bytes {
                hash ^= u64::from(*byte);
                hash = hash.wrapping_mul(PRIME);
            }
        };
        for (name, value) in pairs {
            feed(name.as_ref());
            feed(&[0xff]);
            feed(value.as_ref());
            feed(&[0xff]);
        }
        hash
    }

    /// The set formatted as Prometheus' `labels.Labels.String()`: `{__name__="up", job="x"}`.
    /// Mimir's ingester error messages use this form.
    pub fn to_braced_string(&self) -> String {
        let mut out = String::from("{");
        for (i, label) in self.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str(&label.name);
            out.push('=');
            out.push_str(&GoQuoted(&label.value).to_string());
        }
        out.push('}');
        out
    }
}

impl Default for Labels {
    fn default() -> Self {
        Self::empty()
    }
}

impl From<Vec<(String, String)>> for Labels {
    fn from(pairs: Vec<(String, String)>) -> Self {
        Self::from_pairs(pairs)
    }
}

impl<N: AsRef<str>, V: AsRef<str>> FromIterator<(N, V)> for Labels {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(iter: I) -> Self {
        Self::from_pairs(iter)
    }
}

impl<'a> IntoIterator for &'a Labels {
    type Item = &'a Label;
    type IntoIter = std::slice::Iter<'a, Label>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Prometheus' `labels.Compare`: label by label, name then value; a prefix sorts first.
impl Ord for Labels {
    fn cmp(&self, other: &Self) -> Ordering {
        if Arc::ptr_eq(&self.0, &other.0) {
            return Ordering::Equal;
        }
        // The head interns names and values, so equal strings are mostly one allocation: a
        // pointer comparison settles them without reading the bytes.
        let cmp = |a: &Arc<str>, b: &Arc<str>| {
            if Arc::ptr_eq(a, b) {
                Ordering::Equal
            } else {
                a.cmp(b)
            }
        };
        for (a, b) in self.iter().zip(other.iter()) {
            let by_label = cmp(&a.name, &b.name).then_with(|| cmp(&a.value, &b.value));
            if by_label != Ordering::Equal {
                return by_label;
            }
        }
        self.len().cmp(&other.len())
    }
}

impl PartialOrd for Labels {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Prints like Prometheus' `model.Metric.String()`: `up{job="x"}`, `up`, `{job="x"}`, `{}`.
impl fmt::Display for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.metric_name().unwrap_or("");
        let others: Vec<&Label> = self.iter().filter(|l| &*l.name != METRIC_NAME).collect();
        if others.is_empty() && !name.is_empty() {
            return f.write_str(name);
        }
        f.write_str(name)?;
        f.write_str("{")?;
        for (i, label) in others.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}={}", label.name, GoQuoted(&label.value))?;
        }
        f.write_str("}")
    }
}

impl fmt::Debug for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_braced_string())
    }
}

/// A string quoted like Go's `strconv.Quote`, which Prometheus uses to print label values.
struct GoQuoted<'a>(&'a str);

impl fmt::Display for GoQuoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write;
        f.write_char('"')?;
        for c in self.0.chars() {
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                '\n' => f.write_str("\\n")?,
                '\t' => f.write_str("\\t")?,
                '\r' => f.write_str("\\r")?,
                '\u{7}' => f.write_str("\\a")?,
                '\u{8}' => f.write_str("\\b")?,
                '\u{c}' => f.write_str("\\f")?,
                '\u{b}' => f.write_str("\\v")?,
                c if (c as u32) < 0x20 || c == '\u{7f}' => write!(f, "\\x{:02x}", c as u32)?,
                c if c.is_control() => write!(f, "\\u{:04x}", c as u32)?,
                c => f.write_char(c)?,
            }
        }
        f.write_char('"')
    }
}

/// Shares the memory of repeated label names and values.
///
/// Not synchronised: the head owns one behind its index lock.
#[derive(Debug, Default)]
pub struct Interner {
    strings: HashSet<Arc<str>>,
}

impl Interner {
    /// An empty interner.
    pub fn new() -> Self {
        Self::default()
    }

    /// The shared copy of `s`, created on first use.
    pub fn intern(&mut self, s: &str) -> Arc<str> {
        if let Some(existing) = self.strings.get(s) {
            return Arc::clone(existing);
        }
        let shared: Arc<str> = Arc::from(s);
        self.strings.insert(Arc::clone(&shared));
        shared
    }

    /// `labels` rebuilt from shared strings.
    pub fn intern_labels(&mut self, labels: &Labels) -> Labels {
        let shared: Vec<Label> = labels
            .iter()
            .map(|l| Label {
                name: self.intern(&l.name),
                value: self.intern(&l.value),
            })
            .collect();
        // Already sorted, unique and non-empty: rebuild directly.
        Labels(Arc::from(shared))
    }

    /// Drops strings only the interner still references; returns how many were dropped.
    pub fn collect_garbage(&mut self) -> usize {
        let before = self.strings.len();
        self.strings.retain(|s| Arc::strong_count(s) > 1);
        before - self.strings.len()
    }

    /// Number of distinct strings held.
    pub fn len(&self) -> usize {
        self.strings.len()
    }

    /// Whether no string is held.
    pub fn is_empty(&self) -> bool {
        self.strings.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn up_job_x() -> Labels {
        Labels::from_pairs([("job", "x"), ("__name__", "up")])
    }

    #[test]
    fn construction_sorts_by_name_and_drops_empty_values() {
        let labels = Labels::from_pairs([("zone", "a"), ("job", ""), ("__name__", "up")]);
        let names: Vec<&str> = labels.iter().map(|l| &*l.name).collect();
        assert_eq!(names, ["__name__", "zone"]);
        assert_eq!(labels.get("job"), None);
        assert_eq!(labels.get_or_empty("job"), "");
    }

    #[test]
    fn repeated_name_keeps_last_pair() {
        let labels = Labels::from(vec![
            ("a".to_string(), "1".to_string()),
            ("a".to_string(), "2".to_string()),
        ]);
        assert_eq!(labels.len(), 1);
        assert_eq!(labels.get("a"), Some("2"));
    }

    #[test]
    fn get_and_metric_name() {
        let labels = up_job_x();
        assert_eq!(labels.get("job"), Some("x"));
        assert_eq!(labels.metric_name(), Some("up"));
        assert_eq!(labels.get("nope"), None);
    }

    #[test]
    fn display_matches_prometheus_metric_string() {
        assert_eq!(up_job_x().to_string(), r#"up{job="x"}"#);
        assert_eq!(Labels::from_pairs([("__name__", "up")]).to_string(), "up");
        assert_eq!(
            Labels::from_pairs([("a", "1"), ("b", "2")]).to_string(),
            r#"{a="1", b="2"}"#
        );
        assert_eq!(Labels::empty().to_string(), "{}");
        assert_eq!(
            Labels::from_pairs([("a", "q\"\n\\")]).to_string(),
            r#"{a="q\"\n\\"}"#
        );
    }

    #[test]
    fn braced_string_matches_prometheus_labels_string() {
        assert_eq!(up_job_x().to_braced_string(), r#"{__name__="up", job="x"}"#);
    }

    #[test]
    fn stable_hash_is_fixed_and_separates_boundaries() {
        // FNV-1a of the empty input is the offset basis: the hash does not depend on the process.
        assert_eq!(Labels::empty().stable_hash(), 0xcbf2_9ce4_8422_2325);
        let a = Labels::from_pairs([("a", "bc")]);
        let b = Labels::from_pairs([("ab", "c")]);
        assert_ne!(a.stable_hash(), b.stable_hash());
        assert_eq!(up_job_x().stable_hash(), up_job_x().stable_hash());
    }

    #[test]
    fn ordering_is_prometheus_compare() {
        let a = Labels::from_pairs([("a", "1")]);
        let a_b = Labels::from_pairs([("a", "1"), ("b", "1")]);
        let a2 = Labels::from_pairs([("a", "2")]);
        let b = Labels::from_pairs([("b", "0")]);
        let mut sets = vec![b.clone(), a2.clone(), a_b.clone(), a.clone()];
        sets.sort();
        assert_eq!(sets, vec![a, a_b, a2, b]);
    }

    #[test]
    fn interner_shares_strings_and_collects_garbage() {
        let mut interner = Interner::new();
        let first = interner.intern_labels(&up_job_x());
        let second =
            interner.intern_labels(&Labels::from_pairs([("job", "x"), ("__name__", "up")]));
        assert_eq!(first, second);
        assert!(Arc::ptr_eq(
            &first.as_slice()[1].value,
            &second.as_slice()[1].value
        ));
        assert_eq!(interner.len(), 4);
        drop(first);
        drop(second);
        assert_eq!(interner.collect_garbage(), 4);
        assert!(interner.is_empty());
    }
}
