//! A hasher for maps keyed by `u64` (series refs, label-set hashes): one multiply-xorshift mix
//! instead of SipHash, which dominated the ingester's profile. Keys are refs we assign or hashes we
//! computed, not attacker-chosen strings, so no HashDoS resistance is needed.

use std::hash::{BuildHasherDefault, Hasher};

/// `BuildHasher` for `u64`-keyed maps.
pub type U64Hash = BuildHasherDefault<U64Hasher>;

#[derive(Debug, Default, Clone, Copy)]
pub struct U64Hasher(u64);

impl Hasher for U64Hasher {
    fn finish(&self) -> u64 {
        // splitmix64's finalizer: every input bit affects every output bit.
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only reached for keys other than `u64`; fold the bytes in.
        for byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*byte);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 ^= value;
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::U64Hash;

    #[test]
    fn maps_keyed_by_u64_work() {
        let mut map: HashMap<u64, u64, U64Hash> = HashMap::default();
        for key in 0..10_000u64 {
            map.insert(key * 7, key);
        }
        assert_eq!(map.len(), 10_000);
        assert_eq!(map.get(&(42 * 7)), Some(&42));
        assert_eq!(map.get(&1), None);
    }
}
