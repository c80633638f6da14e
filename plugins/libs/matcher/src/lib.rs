//! `mimir-matcher`: Prometheus label-matcher regexes, compiled once per process and matched
//! through fast paths where the pattern allows.
//!
//! A label matcher's regex is fully anchored and `.` matches newlines (Prometheus 3 wraps the
//! pattern as `^(?s:pattern)$`). [`FastRegex`] compiles exactly that with the `regex` crate —
//! errors are the `regex::Error`s of compiling `^(?s:pattern)$` — and, from the pattern's
//! `regex-syntax` HIR, decides whether a cheaper test gives the same answers:
//!
//! - a finite set of strings (`api`, `a|b|c`, `(a|b)`, `m_1[0-9]`, `(?i)get`): equality or set
//!   membership;
//! - `.*` (everything) and `.+` (non-empty);
//! - `lit.*` (starts with), `.*lit` (ends with), `.*lit.*` (contains);
//! - anything else runs the regex, after checking the literal prefix and suffix every match
//!   must have.
//!
//! Nothing is guessed from the pattern text: the fast paths follow from the HIR, which already
//! encodes flags (case-insensitivity becomes classes, `(?-s:.)` a class without `\n`), so a
//! pattern whose HIR is not one of these shapes simply runs the regex.
//!
//! [`FastRegex::set_matches`] and [`FastRegex::literal_prefix`] let an inverted index look values
//! up or scan only a range of them instead of testing every value.
//!
//! [`compile`] caches compiled matchers by pattern (two bounded generations), so the PromQL
//! parser, the engine, the querier and the ingester compile a given pattern once.
//!
//! Why hand-written: the `regex` crate matches correctly but has no notion of Prometheus' label
//! matchers — no set extraction an index can use, no compile cache, and a compile plus lazy-DFA
//! warm-up per pattern per use. No maintained crate does Prometheus' `FastRegexMatcher` analysis
//! (`model/labels/regexp.go`) with a shared cache, so this is one of the places the project writes
//! by hand; the `regex` crate stays the fallback and the reference the tests compare against.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use regex_syntax::hir::{Class, Hir, HirKind};

/// Most strings a pattern may expand to and still be treated as a set (Prometheus'
/// `maxSetMatches`).
pub const MAX_SET_MATCHES: usize = 256;

/// Entries per cache generation.
const CACHE_GENERATION: usize = 10_000;

/// How a [`FastRegex`] decides a match.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// Exactly this string.
    Literal(String),
    /// One of these strings (sorted, deduplicated, at least two).
    Set(Vec<String>),
    /// `.*`: every string.
    Any,
    /// `.+`: every non-empty string.
    NonEmpty,
    /// `lit.*`
    Prefix(String),
    /// `.*lit`
    Suffix(String),
    /// `.*lit.*`
    Contains(String),
    /// The regex, after checking the literal prefix and suffix.
    Regex,
}

/// A compiled, fully anchored Prometheus regex (`^(?s:pattern)$`) with fast paths.
#[derive(Clone)]
pub struct FastRegex {
    pattern: String,
    kind: Kind,
    /// Every match starts with this.
    prefix: String,
    /// Every match ends with this (used by [`Kind::Regex`]).
    suffix: String,
    /// The finite set of strings matched, when it is one (also for [`Kind::Literal`]).
    set: Option<Vec<String>>,
    regex: regex::Regex,
    /// Why the pattern does not parse on its own (outside the anchoring group), if it does not.
    standalone_error: Option<String>,
}

impl fmt::Debug for FastRegex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FastRegex")
            .field("pattern", &self.pattern)
            .field("kind", &self.kind)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl FastRegex {
    /// Compiles `pattern` as `^(?s:pattern)$`, without the cache (see [`compile`]).
    pub fn new(pattern: &str) -> Result<FastRegex, regex::Error> {
        let regex = regex::Regex::new(&format!("^(?s:{pattern})$"))?;
        // The same syntax settings as `regex::Regex::new`, plus the `s` flag of the wrapper.
        let parsed = regex_syntax::ParserBuilder::new()
            .dot_matches_new_line(true)
            .build()
            .parse(pattern);
        let (analysis, standalone_error) = match parsed {
            Ok(hir) => (analyse(&hir), None),
            // `a)|(b` compiles inside the wrapper but not alone: no fast paths.
            Err(err) => (Analysis::regex(), Some(err.to_string())),
        };
        Ok(FastRegex {
            pattern: pattern.to_string(),
            kind: analysis.kind,
            prefix: analysis.prefix,
            suffix: analysis.suffix,
            set: analysis.set,
            regex,
            standalone_error,
        })
    }

    /// The pattern as given (unanchored).
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// Whether `value` matches the whole pattern.
    pub fn is_match(&self, value: &str) -> bool {
        match &self.kind {
            Kind::Literal(lit) => value == lit,
            Kind::Set(set) => set.binary_search_by(|s| s.as_str().cmp(value)).is_ok(),
            Kind::Any => true,
            Kind::NonEmpty => !value.is_empty(),
            Kind::Prefix(lit) => value.starts_with(lit.as_str()),
            Kind::Suffix(lit) => value.ends_with(lit.as_str()),
            Kind::Contains(lit) => value.contains(lit.as_str()),
            Kind::Regex => {
                value.starts_with(self.prefix.as_str())
                    && value.ends_with(self.suffix.as_str())
                    && value.len() >= self.prefix.len() + self.suffix.len()
                    && self.regex.is_match(value)
            }
        }
    }

    /// The finite set of strings the pattern matches, sorted, when it is such a set of at most
    /// [`MAX_SET_MATCHES`] strings (may include `""`).
    pub fn set_matches(&self) -> Option<&[String]> {
        self.set.as_deref()
    }

    /// A prefix every match starts with; `""` when there is none.
    pub fn literal_prefix(&self) -> &str {
        &self.prefix
    }

    /// Whether the pattern matches every string (`.*`).
    pub fn matches_everything(&self) -> bool {
        self.kind == Kind::Any
    }

    /// The error of compiling the pattern on its own, for callers that (like Prometheus) refuse
    /// a pattern that only compiles inside the anchoring group, such as `a)|(b`. Its text is that
    /// of `regex::Regex::new(pattern)`.
    pub fn standalone_error(&self) -> Option<regex::Error> {
        self.standalone_error.clone().map(regex::Error::Syntax)
    }

    /// The `regex` crate's compiled `^(?s:pattern)$`.
    pub fn regex(&self) -> &regex::Regex {
        &self.regex
    }
}

/// What [`analyse`] found.
struct Analysis {
    kind: Kind,
    prefix: String,
    suffix: String,
    set: Option<Vec<String>>,
}

impl Analysis {
    fn regex() -> Analysis {
        Analysis {
            kind: Kind::Regex,
            prefix: String::new(),
            suffix: String::new(),
            set: None,
        }
    }
}

/// Chooses the fast path for a pattern's HIR (parsed with `.` matching `\n`).
fn analyse(hir: &Hir) -> Analysis {
    let hir = unwrap_captures(hir);
    if let Some(mut set) = finite_set(hir, MAX_SET_MATCHES) {
        set.sort_unstable();
        set.dedup();
        let prefix = common_prefix(&set).to_string();
        let kind = match set.as_slice() {
            [one] => Kind::Literal(one.clone()),
            _ => Kind::Set(set.clone()),
        };
        return Analysis {
            kind,
            prefix,
            suffix: String::new(),
            set: Some(set),
        };
    }
    match any_chars(hir) {
        Some(0) => {
            return Analysis {
                kind: Kind::Any,
                ..Analysis::regex()
            };
        }
        Some(1) => {
            return Analysis {
                kind: Kind::NonEmpty,
                ..Analysis::regex()
            };
        }
        _ => {}
    }
    let parts: Vec<&Hir> = match hir.kind() {
        HirKind::Concat(subs) => subs.iter().map(unwrap_captures).collect(),
        _ => vec![hir],
    };
    let star = |h: &Hir| any_chars(h) == Some(0);
    let kind = match parts.as_slice() {
        [lit, rest] if star(rest) => literal(lit).map(Kind::Prefix),
        [rest, lit] if star(rest) => literal(lit).map(Kind::Suffix),
        [a, lit, b] if star(a) && star(b) => literal(lit).map(Kind::Contains),
        _ => None,
    };
    if let Some(kind) = kind {
        let prefix = match &kind {
            Kind::Prefix(lit) => lit.clone(),
            _ => String::new(),
        };
        return Analysis {
            kind,
            prefix,
            ..Analysis::regex()
        };
    }
    // Literal parts at either end are required of every match.
    let mut prefix = String::new();
    let mut leading = 0;
    for part in &parts {
        match literal(part) {
            Some(lit) => {
                prefix.push_str(&lit);
                leading += 1;
            }
            None => break,
        }
    }
    let mut suffix = String::new();
    if leading < parts.len() {
        let mut tail: Vec<String> = Vec::new();
        for part in parts[leading..].iter().rev() {
            match literal(part) {
                Some(lit) => tail.push(lit),
                None => break,
            }
        }
        for lit in tail.iter().rev() {
            suffix.push_str(lit);
        }
    }
    Analysis {
        kind: Kind::Regex,
        prefix,
        suffix,
        set: None,
    }
}

fn unwrap_captures(mut hir: &Hir) -> &Hir {
    while let HirKind::Capture(capture) = hir.kind() {
        hir = &capture.sub;
    }
    hir
}

/// The string a literal HIR matches.
fn literal(hir: &Hir) -> Option<String> {
    match unwrap_captures(hir).kind() {
        HirKind::Literal(lit) => String::from_utf8(lit.0.to_vec()).ok(),
        _ => None,
    }
}

/// `Some(min)` when `hir` is `(?s:.){min,}` (any character, unbounded), `min` being 0 or 1.
fn any_chars(hir: &Hir) -> Option<u32> {
    let HirKind::Repetition(rep) = unwrap_captures(hir).kind() else {
        return None;
    };
    if rep.max.is_some() || rep.min > 1 {
        return None;
    }
    match unwrap_captures(&rep.sub).kind() {
        HirKind::Class(Class::Unicode(class)) => {
            let ranges = class.ranges();
            (ranges.len() == 1 && ranges[0].start() == '\0' && ranges[0].end() == char::MAX)
                .then_some(rep.min)
        }
        _ => None,
    }
}

/// The strings `hir` matches, when they are at most `limit`.
fn finite_set(hir: &Hir, limit: usize) -> Option<Vec<String>> {
    match hir.kind() {
        HirKind::Empty => Some(vec![String::new()]),
        HirKind::Literal(lit) => Some(vec![String::from_utf8(lit.0.to_vec()).ok()?]),
        HirKind::Class(Class::Unicode(class)) => {
            let mut out = Vec::new();
            for range in class.ranges() {
                let (start, end) = (u32::from(range.start()), u32::from(range.end()));
                if (end - start) as usize >= limit.saturating_sub(out.len()) {
                    return None;
                }
                out.extend(
                    (start..=end)
                        .filter_map(char::from_u32)
                        .map(|c| c.to_string()),
                );
            }
            (out.len() <= limit).then_some(out)
        }
        HirKind::Class(Class::Bytes(class)) => {
            let mut out = Vec::new();
            for range in class.ranges() {
                if !range.end().is_ascii() {
                    return None;
                }
                if (range.end() - range.start()) as usize >= limit.saturating_sub(out.len()) {
                    return None;
                }
                out.extend((range.start()..=range.end()).map(|b| char::from(b).to_string()));
            }
            Some(out)
        }
        HirKind::Capture(capture) => finite_set(&capture.sub, limit),
        HirKind::Repetition(rep) => {
            // `x?` only: the empty string or one `x`.
            if rep.min != 0 || rep.max != Some(1) {
                return None;
            }
            let mut out = finite_set(&rep.sub, limit.checked_sub(1)?)?;
            out.push(String::new());
            Some(out)
        }
        HirKind::Alternation(subs) => {
            let mut out = Vec::new();
            for sub in subs {
                out.extend(finite_set(sub, limit.checked_sub(out.len())?)?);
            }
            (out.len() <= limit).then_some(out)
        }
        HirKind::Concat(subs) => {
            let mut out = vec![String::new()];
            for sub in subs {
                let next = finite_set(sub, limit)?;
                if out.len().checked_mul(next.len())? > limit {
                    return None;
                }
                out = out
                    .iter()
                    .flat_map(|head| next.iter().map(move |tail| format!("{head}{tail}")))
                    .collect();
            }
            Some(out)
        }
        // Anchors and word boundaries inside the pattern: leave them to the regex.
        HirKind::Look(_) => None,
    }
}

/// The longest prefix shared by all of `set` (non-empty).
fn common_prefix(set: &[String]) -> &str {
    let Some(first) = set.first() else {
        return "";
    };
    let mut len = first.len();
    for other in &set[1..] {
        len = first
            .char_indices()
            .zip(other.chars())
            .take_while(|((_, a), b)| a == b)
            .last()
            .map_or(0, |((i, a), _)| i + a.len_utf8())
            .min(len);
    }
    &first[..len]
}

/// Two generations of compiled matchers: lookups try the current, then the old one (promoting a
/// hit); when the current is full it replaces the old one.
#[derive(Default)]
struct Cache {
    current: HashMap<String, Arc<FastRegex>>,
    old: HashMap<String, Arc<FastRegex>>,
}

impl Cache {
    fn get(&mut self, pattern: &str) -> Option<Arc<FastRegex>> {
        if let Some(found) = self.current.get(pattern) {
            return Some(Arc::clone(found));
        }
        let found = self.old.remove(pattern)?;
        self.insert(Arc::clone(&found));
        Some(found)
    }

    fn insert(&mut self, compiled: Arc<FastRegex>) {
        if self.current.len() >= CACHE_GENERATION {
            self.old = std::mem::take(&mut self.current);
        }
        self.current.insert(compiled.pattern.clone(), compiled);
    }
}

static CACHE: Mutex<Option<Cache>> = Mutex::new(None);

/// [`FastRegex::new`] through the process-wide cache: a pattern is compiled once while it stays
/// in use. Errors are not cached.
pub fn compile(pattern: &str) -> Result<Arc<FastRegex>, regex::Error> {
    {
        let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(found) = cache.get_or_insert_with(Cache::default).get(pattern) {
            return Ok(found);
        }
    }
    // Compile outside the lock; two threads may race to compile one pattern, both results are
    // equivalent.
    let compiled = Arc::new(FastRegex::new(pattern)?);
    let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
    cache
        .get_or_insert_with(Cache::default)
        .insert(Arc::clone(&compiled));
    Ok(compiled)
}

#[cfg(test)]
mod tests;
