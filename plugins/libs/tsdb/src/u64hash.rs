//! Hashers for maps keyed by `u64` (series refs, label-set hashes): one multiply-xorshift mix
//! instead of SipHash, which dominated the ingester's profile, and for the head's stripes the
//! ref itself, which keeps series created together side by side. Keys are refs we assign or
//! hashes we computed, not attacker-chosen strings, so no HashDoS resistance is needed.

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

/// `BuildHasher` for maps keyed by series refs whose low `SHIFT` bits already chose the map (the
/// head's stripes): the rest of the ref is the bucket, so refs created one after the other sit
/// side by side and a push of series in creation order walks each map in order instead of
/// jumping around it. Refs are assigned by the head, one after the other, never chosen by a
/// client.
pub type RefHash<const SHIFT: u32> = BuildHasherDefault<RefHasher<SHIFT>>;

#[derive(Debug, Default, Clone, Copy)]
pub struct RefHasher<const SHIFT: u32>(u64);

impl<const SHIFT: u32> Hasher for RefHasher<SHIFT> {
    fn finish(&self) -> u64 {
        let slot = self.0 >> SHIFT;
        // Slots stay neighbours within aligned runs of 4096; the runs themselves are scattered,
        // so live refs far apart at a regular stride (series that outlived their neighbours) do
        // not pile onto a few buckets.
        let run = U64Hasher(slot >> 12).finish();
        // hashbrown takes the bucket from the low bits and a 7-bit tag from the top ones: put the
        // slot's low bits there too, so that neighbours get different tags.
        (slot ^ run) ^ (slot << 57)
    }

    fn write(&mut self, bytes: &[u8]) {
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

    #[test]
    fn maps_keyed_by_sharded_refs_work() {
        let mut map: HashMap<u64, u64, super::RefHash<7>> = HashMap::default();
        // The refs of one stripe: same low bits.
        for slot in 0..10_000u64 {
            map.insert((slot << 7) | 5, slot);
        }
        map.retain(|key, _| key % 3 != 0);
        assert_eq!(map.get(&((42 << 7) | 5)), Some(&42));
        assert_eq!(map.get(&((42 << 7) | 6)), None);
        assert_eq!(
            map.len(),
            (0..10_000u64).filter(|s| ((s << 7) | 5) % 3 != 0).count()
        );
    }

    #[test]
    fn neighbouring_refs_get_neighbouring_buckets_and_strided_ones_spread() {
        use std::hash::BuildHasher;
        let hash = |slot: u64| super::RefHash::<7>::default().hash_one(slot << 7);
        let mask = (1u64 << 12) - 1;
        for slot in 0..4095u64 {
            assert_eq!(
                (hash(slot) ^ hash(slot + 1)) & mask,
                (slot ^ (slot + 1)) & mask
            );
        }
        // Refs 2^20 slots apart: in a table of 1024 buckets they spread instead of sharing one.
        let buckets: std::collections::HashSet<u64> =
            (0..256u64).map(|i| hash(i << 20) & 1023).collect();
        assert!(buckets.len() > 128, "{}", buckets.len());
    }
}
