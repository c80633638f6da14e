//! A series' label set as one contiguous byte string, kept in the head's hash index so that
//! finding a series from label pairs compares one allocation instead of following a pointer per
//! label: `count: u32 LE`, then `name 0xff value 0xff` per label. The count keeps pairs that
//! contain 0xff (not UTF-8, so never a stored label) from matching a key split differently.
//!
//! The index is keyed by [`index_hash`], which reads eight bytes per multiply where FNV-1a
//! ([`Labels::stable_hash`]) reads one: every push hashes every series. It lives only in memory,
//! and a collision costs one key comparison.

use crate::labels::Labels;

const SEPARATOR: u8 = 0xff;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SeriesKey(Box<[u8]>);

impl SeriesKey {
    pub(crate) fn of(labels: &Labels) -> SeriesKey {
        let len = 4 + labels
            .iter()
            .map(|label| label.name.len() + label.value.len() + 2)
            .sum::<usize>();
        let mut key = Vec::with_capacity(len);
        let count = u32::try_from(labels.len()).unwrap_or(u32::MAX);
        key.extend_from_slice(&count.to_le_bytes());
        for label in labels.iter() {
            key.extend_from_slice(label.name.as_bytes());
            key.push(SEPARATOR);
            key.extend_from_slice(label.value.as_bytes());
            key.push(SEPARATOR);
        }
        SeriesKey(key.into_boxed_slice())
    }

    /// Whether the key is exactly these (name, value) pairs, in this order.
    pub(crate) fn matches_pairs<N: AsRef<[u8]>, V: AsRef<[u8]>>(&self, pairs: &[(N, V)]) -> bool {
        self.matches_iter(
            pairs.len(),
            pairs
                .iter()
                .map(|(name, value)| (name.as_ref(), value.as_ref())),
        )
    }

    /// Whether the key is `labels`.
    pub(crate) fn matches(&self, labels: &Labels) -> bool {
        self.matches_iter(
            labels.len(),
            labels
                .iter()
                .map(|label| (label.name.as_bytes(), label.value.as_bytes())),
        )
    }

    fn matches_iter<'p>(
        &self,
        count: usize,
        pairs: impl Iterator<Item = (&'p [u8], &'p [u8])>,
    ) -> bool {
        let Some((stored_count, mut rest)) = self.0.split_first_chunk::<4>() else {
            return false;
        };
        if u32::from_le_bytes(*stored_count) as usize != count {
            return false;
        }
        for (name, value) in pairs {
            for part in [name, value] {
                if !starts_with(rest, part) {
                    return false;
                }
                match &rest[part.len()..] {
                    [SEPARATOR, after @ ..] => rest = after,
                    _ => return false,
                }
            }
        }
        rest.is_empty()
    }
}

const MULTIPLIER: u64 = 0x9e37_79b9_7f4a_7c15;

fn mix(hash: u64, word: u64) -> u64 {
    (hash ^ word).wrapping_mul(MULTIPLIER).rotate_left(27)
}

fn mix_bytes(mut hash: u64, bytes: &[u8]) -> u64 {
    let (words, tail) = bytes.as_chunks::<8>();
    for word in words {
        hash = mix(hash, u64::from_le_bytes(*word));
    }
    // The length keeps "ab" + "" and "a" + "b" apart.
    mix(mix(hash, tail_word(tail)), bytes.len() as u64)
}

/// The last 0 to 7 bytes of a string as one word, without a variable-length copy: for a given
/// length, different bytes give different words.
fn tail_word(tail: &[u8]) -> u64 {
    let len = tail.len();
    let u32_at = |at: usize| {
        let mut word = [0u8; 4];
        word.copy_from_slice(&tail[at..at + 4]);
        u64::from(u32::from_le_bytes(word))
    };
    match len {
        0 => 0,
        1..=3 => {
            u64::from(tail[0]) | u64::from(tail[len / 2]) << 8 | u64::from(tail[len - 1]) << 16
        }
        _ => u32_at(0) | u32_at(len - 4) << 32,
    }
}

/// Whether `bytes` starts with `prefix`, compared a word at a time in line: the parts compared
/// are short, where calling `memcmp` costs more than comparing.
#[inline]
fn starts_with(bytes: &[u8], prefix: &[u8]) -> bool {
    if bytes.len() < prefix.len() {
        return false;
    }
    let (words, tail) = prefix.as_chunks::<8>();
    let (their_words, _) = bytes.as_chunks::<8>();
    let word = |bytes: &[u8; 8]| u64::from_ne_bytes(*bytes);
    if words
        .iter()
        .zip(their_words)
        .any(|(a, b)| word(a) != word(b))
    {
        return false;
    }
    let start = words.len() * 8;
    tail.iter().zip(&bytes[start..]).all(|(a, b)| a == b)
}

/// The head index's hash of a label set given as (name, value) pairs in order.
pub(crate) fn index_hash<'p>(pairs: impl Iterator<Item = (&'p [u8], &'p [u8])>) -> u64 {
    let mut hash = 0;
    for (name, value) in pairs {
        hash = mix_bytes(mix_bytes(hash, name), value);
    }
    hash
}

/// [`index_hash`] of a label set.
pub(crate) fn index_hash_of(labels: &Labels) -> u64 {
    index_hash(
        labels
            .iter()
            .map(|label| (label.name.as_bytes(), label.value.as_bytes())),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_matches_its_labels_and_nothing_else() {
        let labels = Labels::from_pairs([("__name__", "up"), ("job", "a")]);
        let key = SeriesKey::of(&labels);
        assert!(key.matches(&labels));
        assert!(key.matches_pairs(&[("__name__", "up"), ("job", "a")]));
        for other in [
            vec![("__name__", "up")],
            vec![("__name__", "up"), ("job", "ab")],
            vec![("__name__", "up"), ("jo", "ba")],
            vec![("__name__", "up"), ("job", "a"), ("x", "y")],
        ] {
            assert!(!key.matches_pairs(&other), "{other:?}");
        }
        // Pairs holding the separator cannot be split into a stored key.
        let two = SeriesKey::of(&Labels::from_pairs([("a", "x"), ("b", "y")]));
        let glued: [(&[u8], &[u8]); 2] = [(b"a\xffx\xffb", b"y"), (b"", b"")];
        assert!(!two.matches_pairs(&glued));
        let one: [(&[u8], &[u8]); 1] = [(b"a\xffx\xffb", b"y")];
        assert!(!two.matches_pairs(&one));
        assert!(SeriesKey::of(&Labels::empty()).matches_pairs::<&str, &str>(&[]));
    }

    #[test]
    fn prefixes_and_tails_are_compared_byte_for_byte() {
        let text = b"abcdefghijklmnopqrstuvwxyz";
        for len in 0..=text.len() {
            assert!(starts_with(text, &text[..len]));
            if len > 0 {
                let mut other = text[..len].to_vec();
                other[len - 1] ^= 1;
                assert!(!starts_with(text, &other), "{len}");
                other[len - 1] ^= 1;
                other[0] ^= 1;
                assert!(!starts_with(text, &other), "{len}");
            }
        }
        assert!(!starts_with(b"ab", b"abc"));
        for len in 0..8 {
            for position in 0..len {
                let base = [7u8; 7];
                let mut changed = base;
                changed[position] = 8;
                assert_ne!(tail_word(&base[..len]), tail_word(&changed[..len]), "{len}");
            }
        }
    }

    #[test]
    fn the_index_hash_separates_boundaries_and_agrees_on_labels_and_pairs() {
        let hash = |pairs: &[(&str, &str)]| {
            index_hash(pairs.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())))
        };
        assert_ne!(hash(&[("a", "bc")]), hash(&[("ab", "c")]));
        assert_ne!(hash(&[("a", "b"), ("c", "d")]), hash(&[("a", "bcd")]));
        assert_ne!(hash(&[("job", "node-1")]), hash(&[("job", "node-2")]));
        let long = "x".repeat(17);
        assert_ne!(hash(&[("a", &long)]), hash(&[("a", &long[1..])]));
        let labels = Labels::from_pairs([("__name__", "up"), ("instance", "host-123456789")]);
        assert_eq!(
            index_hash_of(&labels),
            hash(&[("__name__", "up"), ("instance", "host-123456789")])
        );
    }
}
