//! The values a query produces and the label sets that name series.

use std::fmt;
use std::sync::Arc;

use super::histogram::FloatHistogram;

/// A label set: pairs sorted by name, names unique. `__name__` is an ordinary label here.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Labels(Vec<(String, String)>);

/// The metric-name label.
pub const METRIC_NAME: &str = "__name__";

impl Labels {
    /// Builds a label set from pairs in any order; later duplicates win, empty values are dropped (an
    /// empty value means "no such label" in PromQL).
    pub fn new(mut pairs: Vec<(String, String)>) -> Labels {
        pairs.retain(|(_, value)| !value.is_empty());
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out: Vec<(String, String)> = Vec::with_capacity(pairs.len());
        for (name, value) in pairs {
            match out.last_mut() {
                Some(last) if last.0 == name => last.1 = value,
                _ => out.push((name, value)),
            }
        }
        Labels(out)
    }

    /// Wraps pairs that are already sorted by name, unique and non-empty.
    pub fn from_sorted(pairs: Vec<(String, String)>) -> Labels {
        debug_assert!(pairs.windows(2).all(|w| w[0].0 < w[1].0));
        Labels(pairs)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    pub fn as_slice(&self) -> &[(String, String)] {
        &self.0
    }

    pub fn into_vec(self) -> Vec<(String, String)> {
        self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value of `name`, or `""` when absent (as Prometheus' `Labels.Get`).
    pub fn get(&self, name: &str) -> &str {
        match self.0.binary_search_by(|(n, _)| n.as_str().cmp(name)) {
            Ok(i) => &self.0[i].1,
            Err(_) => "",
        }
    }

    pub fn has(&self, name: &str) -> bool {
        self.0
            .binary_search_by(|(n, _)| n.as_str().cmp(name))
            .is_ok()
    }

    /// Sets `name` to `value`; an empty value removes the label.
    pub fn set(&mut self, name: &str, value: &str) {
        match self.0.binary_search_by(|(n, _)| n.as_str().cmp(name)) {
            Ok(i) if value.is_empty() => {
                self.0.remove(i);
            }
            Ok(i) => self.0[i].1 = value.to_string(),
            Err(_) if value.is_empty() => {}
            Err(i) => self.0.insert(i, (name.to_string(), value.to_string())),
        }
    }

    pub fn remove(&mut self, name: &str) {
        self.set(name, "");
    }

    /// Keeps only the labels for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.0.retain(|(n, _)| keep(n));
    }

    /// The metric name, if any.
    pub fn metric_name(&self) -> Option<&str> {
        let name = self.get(METRIC_NAME);
        (!name.is_empty()).then_some(name)
    }

    /// Prometheus' `Labels.Hash()`: xxHash64 over `name 0xff value 0xff …`, which `limit_ratio` samples by.
    pub fn prometheus_hash(&self) -> u64 {
        let mut hasher = xxhash_rust::xxh64::Xxh64::new(0);
        for (name, value) in &self.0 {
            hasher.update(name.as_bytes());
            hasher.update(&[0xff]);
            hasher.update(value.as_bytes());
            hasher.update(&[0xff]);
        }
        hasher.digest()
    }

    /// Drops `__name__` and the reserved metadata labels that go with it (`__type__`, `__unit__`).
    pub fn drop_metric_name(&mut self) {
        self.retain(|n| !matches!(n, METRIC_NAME | "__type__" | "__unit__"));
    }
}

impl fmt::Display for Labels {
    /// `{a="1", b="2"}` as Prometheus prints label sets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, (name, value)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{name}={value:?}")?;
        }
        f.write_str("}")
    }
}

/// Whether `name` may be a label name: with Prometheus 3's UTF-8 names, any non-empty string.
pub fn is_valid_label_name(name: &str) -> bool {
    !name.is_empty()
}

/// One float sample: milliseconds since the epoch and a value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub t: i64,
    pub v: f64,
}

/// The bit pattern Prometheus uses to mark a series stale (`value.StaleNaN`).
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// Whether `v` is a staleness marker.
pub fn is_stale_nan(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// One native-histogram sample.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramSample {
    pub t: i64,
    pub h: Arc<FloatHistogram>,
    /// The start timestamp in milliseconds, 0 when unknown.
    pub st: i64,
}

/// One element of an instant vector: a float `v`, or a native histogram `h` (then `v` is 0).
#[derive(Debug, Clone, PartialEq)]
pub struct VectorSample {
    pub labels: Labels,
    pub t: i64,
    pub v: f64,
    pub h: Option<Arc<FloatHistogram>>,
}

/// One series of a range vector or range-query result.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub labels: Labels,
    pub samples: Vec<Sample>,
    /// Per sample, its start timestamp in milliseconds (0 when unknown); empty when the series has
    /// none (Prometheus' experimental `use-start-timestamps`).
    pub start_ts: Vec<i64>,
    /// Native-histogram samples in time order, at timestamps no float sample has.
    pub histograms: Vec<HistogramSample>,
}

impl Series {
    pub fn new(labels: Labels, samples: Vec<Sample>) -> Series {
        Series {
            labels,
            samples,
            start_ts: Vec::new(),
            histograms: Vec::new(),
        }
    }
}

/// The result of a query.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Scalar { t: i64, v: f64 },
    String { t: i64, s: String },
    Vector(Vec<VectorSample>),
    Matrix(Vec<Series>),
}

impl Value {
    /// The `resultType` of the Prometheus API.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Scalar { .. } => "scalar",
            Self::String { .. } => "string",
            Self::Vector(_) => "vector",
            Self::Matrix(_) => "matrix",
        }
    }
}

/// Warnings and infos collected while evaluating, as the API's `warnings` and `infos`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Annotations {
    pub warnings: Vec<String>,
    pub infos: Vec<String>,
}

impl Annotations {
    pub fn warn(&mut self, message: String) {
        if !self.warnings.contains(&message) {
            self.warnings.push(message);
        }
    }

    pub fn info(&mut self, message: String) {
        if !self.infos.contains(&message) {
            self.infos.push(message);
        }
    }

    pub fn merge(&mut self, other: Annotations) {
        for w in other.warnings {
            self.warn(w);
        }
        for i in other.infos {
            self.info(i);
        }
    }
}

/// A successful query: the value and its annotations.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult {
    pub value: Value,
    pub annotations: Annotations,
}
