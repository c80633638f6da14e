//! Hashing series onto the ring: FNV-1a over the tenant id and every label name and value, as
//! Mimir's `ShardByAllLabels` does, so one tenant's series spread over all instances.

const FNV_OFFSET: u32 = 0x811c_9dc5;
const FNV_PRIME: u32 = 0x0100_0193;

/// FNV-1a of `bytes`, continuing from `hash`.
pub fn fnv32a(mut hash: u32, bytes: &[u8]) -> u32 {
    for byte in bytes {
        hash ^= u32::from(*byte);
        hash = hash.wrapping_mul(FNV_PRIME);
    }
    hash
}

/// The ring key of a series: tenant, then each label's name and value (labels sorted by name).
pub fn shard_by_all_labels<N: AsRef<[u8]>, V: AsRef<[u8]>>(
    tenant: &str,
    labels: impl IntoIterator<Item = (N, V)>,
) -> u32 {
    let mut hash = fnv32a(FNV_OFFSET, tenant.as_bytes());
    for (name, value) in labels {
        hash = fnv32a(hash, name.as_ref());
        hash = fnv32a(hash, value.as_ref());
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv32a_matches_the_reference_vectors() {
        assert_eq!(fnv32a(FNV_OFFSET, b""), 0x811c_9dc5);
        assert_eq!(fnv32a(FNV_OFFSET, b"a"), 0xe40c_292c);
        assert_eq!(fnv32a(FNV_OFFSET, b"foobar"), 0xbf9c_f968);
    }

    #[test]
    fn tenant_and_labels_change_the_key() {
        let labels = [("__name__", "up"), ("job", "a")];
        let key = shard_by_all_labels("t1", labels);
        assert_eq!(key, shard_by_all_labels("t1", labels));
        assert_ne!(key, shard_by_all_labels("t2", labels));
        assert_ne!(
            key,
            shard_by_all_labels("t1", [("__name__", "up"), ("job", "b")])
        );
    }
}
