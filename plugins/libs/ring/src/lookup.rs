//! Finding the instances that own a key: walk the sorted tokens clockwise, collecting distinct
//! instances (in distinct zones when zones are set) until the replication factor is reached.

use crate::desc::{InstanceDesc, InstanceState, RingDesc};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RingError {
    #[error("empty ring: no ingester has joined it yet")]
    Empty,
    #[error(
        "the replication factor ({replication_factor}) is larger than the number of instances in the ring ({instances}): start more instances or lower -ingester.ring.replication-factor"
    )]
    TooFewInstances {
        replication_factor: usize,
        instances: usize,
    },
    #[error(
        "at least {quorum} live replicas required, could only find {live} - unhealthy instances: {unhealthy}"
    )]
    TooManyUnhealthy {
        quorum: usize,
        live: usize,
        unhealthy: String,
    },
}

/// The instances a key is written to or read from, and how many of them may fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicationSet {
    /// Healthy instances (id, bus address), in ring order.
    pub instances: Vec<(String, String)>,
    /// How many of `instances` may fail while the operation still succeeds.
    pub max_errors: usize,
}

/// A ring snapshot prepared for lookups.
#[derive(Debug, Clone, Default)]
pub struct Ring {
    desc: RingDesc,
    /// (token, index into `ids`), sorted by token.
    tokens: Vec<(u32, usize)>,
    ids: Vec<String>,
}

impl Ring {
    pub fn new(desc: RingDesc) -> Ring {
        let ids: Vec<String> = desc.instances.keys().cloned().collect();
        let mut tokens: Vec<(u32, usize)> = ids
            .iter()
            .enumerate()
            .flat_map(|(index, id)| {
                desc.instances
                    .get(id)
                    .map(|i| i.tokens.clone())
                    .unwrap_or_default()
                    .into_iter()
                    .map(move |token| (token, index))
            })
            .collect();
        tokens.sort_unstable();
        Ring { desc, tokens, ids }
    }

    pub fn desc(&self) -> &RingDesc {
        &self.desc
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    fn healthy(instance: &InstanceDesc, now_ms: i64, heartbeat_timeout_ms: i64) -> bool {
        instance.state == InstanceState::Active
            && (heartbeat_timeout_ms <= 0 || now_ms - instance.heartbeat_ms <= heartbeat_timeout_ms)
    }

    /// Health of every instance, by index (see [`Ring::addr`]), as of `now_ms`. Compute it once
    /// per request and pass it to [`Ring::replicas_into`].
    pub fn health(&self, now_ms: i64, heartbeat_timeout_ms: i64) -> Vec<bool> {
        self.ids
            .iter()
            .map(|id| {
                self.desc
                    .instances
                    .get(id)
                    .is_some_and(|i| Self::healthy(i, now_ms, heartbeat_timeout_ms))
            })
            .collect()
    }

    /// Bus address of the instance at `index`.
    pub fn addr(&self, index: usize) -> &str {
        self.ids
            .get(index)
            .and_then(|id| self.desc.instances.get(id))
            .map_or("", |i| i.addr.as_str())
    }

    /// The healthy instances (by index) that own `key`, into `out`, and how many of them may
    /// fail: `replication_factor` distinct instances clockwise from the key (in distinct zones when
    /// zones are set), of which at most `replication_factor - quorum` may be unhealthy.
    pub fn replicas_into(
        &self,
        key: u32,
        replication_factor: usize,
        health: &[bool],
        out: &mut Vec<usize>,
    ) -> Result<usize, RingError> {
        out.clear();
        if self.tokens.is_empty() {
            return Err(RingError::Empty);
        }
        if replication_factor > self.ids.len() {
            return Err(RingError::TooFewInstances {
                replication_factor,
                instances: self.ids.len(),
            });
        }
        let start = self.tokens.partition_point(|(token, _)| *token < key);
        let mut chosen = 0usize;
        let mut unhealthy: Vec<usize> = Vec::new();
        let mut zones: Vec<&str> = Vec::new();
        for offset in 0..self.tokens.len() {
            if chosen == replication_factor {
                break;
            }
            let (_, index) = self.tokens[(start + offset) % self.tokens.len()];
            if out.contains(&index) || unhealthy.contains(&index) {
                continue;
            }
            let Some(instance) = self.desc.instances.get(&self.ids[index]) else {
                continue;
            };
            if !instance.zone.is_empty() {
                if zones.contains(&instance.zone.as_str()) {
                    continue;
                }
                zones.push(instance.zone.as_str());
            }
            chosen += 1;
            if health.get(index).copied().unwrap_or(false) {
                out.push(index);
            } else {
                unhealthy.push(index);
            }
        }
        let quorum = replication_factor / 2 + 1;
        let max_errors = replication_factor.saturating_sub(quorum);
        if unhealthy.len() > max_errors {
            let names: Vec<&str> = unhealthy.iter().map(|i| self.ids[*i].as_str()).collect();
            return Err(RingError::TooManyUnhealthy {
                quorum,
                live: out.len(),
                unhealthy: names.join(", "),
            });
        }
        Ok(max_errors - unhealthy.len())
    }

    /// The replication set for `key` (see [`Ring::replicas_into`]).
    pub fn get(
        &self,
        key: u32,
        replication_factor: usize,
        now_ms: i64,
        heartbeat_timeout_ms: i64,
    ) -> Result<ReplicationSet, RingError> {
        let health = self.health(now_ms, heartbeat_timeout_ms);
        let mut indexes = Vec::with_capacity(replication_factor);
        let max_errors = self.replicas_into(key, replication_factor, &health, &mut indexes)?;
        Ok(ReplicationSet {
            instances: indexes
                .into_iter()
                .map(|i| (self.ids[i].clone(), self.addr(i).to_string()))
                .collect(),
            max_errors,
        })
    }

    /// Every healthy instance (for reads that must ask all of them).
    pub fn healthy_instances(
        &self,
        now_ms: i64,
        heartbeat_timeout_ms: i64,
    ) -> Vec<(String, String)> {
        self.desc
            .instances
            .iter()
            .filter(|(_, i)| Self::healthy(i, now_ms, heartbeat_timeout_ms))
            .map(|(id, i)| (id.clone(), i.addr.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::desc::generate_tokens;

    fn ring(instances: &[(&str, InstanceState, i64, &str)]) -> Ring {
        let mut desc = RingDesc::default();
        for (seed, (id, state, heartbeat_ms, zone)) in instances.iter().enumerate() {
            let tokens = generate_tokens(128, &desc.taken_tokens(), seed as u64 + 1);
            desc.instances.insert(
                (*id).to_string(),
                InstanceDesc {
                    addr: format!("ingester@{id}:9095"),
                    state: *state,
                    tokens,
                    zone: (*zone).to_string(),
                    heartbeat_ms: *heartbeat_ms,
                    registered_ms: 0,
                },
            );
        }
        Ring::new(desc)
    }

    #[test]
    fn keys_go_to_distinct_instances_and_spread_evenly() {
        let r = ring(&[
            ("a", InstanceState::Active, 1000, ""),
            ("b", InstanceState::Active, 1000, ""),
            ("c", InstanceState::Active, 1000, ""),
        ]);
        let mut owned = std::collections::BTreeMap::new();
        for key in (0..3000u32).map(|k| k.wrapping_mul(2_654_435_761)) {
            let set = r.get(key, 3, 1000, 60_000).unwrap();
            let ids: BTreeSet<_> = set.instances.iter().map(|(id, _)| id.clone()).collect();
            assert_eq!(ids.len(), 3);
            assert_eq!(set.max_errors, 1);
            let first = r.get(key, 1, 1000, 60_000).unwrap().instances[0].0.clone();
            *owned.entry(first).or_insert(0) += 1;
        }
        for (id, count) in owned {
            assert!(count > 600, "{id} owns {count} of 3000 keys");
        }
    }

    #[test]
    fn too_few_instances_names_the_flag() {
        let r = ring(&[("a", InstanceState::Active, 0, "")]);
        let error = r.get(42, 3, 0, 60_000).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("-ingester.ring.replication-factor"),
            "{error}"
        );
        assert_eq!(r.get(42, 1, 0, 60_000).unwrap().instances.len(), 1);
    }

    #[test]
    fn quorum_tolerates_one_unhealthy_replica_of_three() {
        let r = ring(&[
            ("a", InstanceState::Active, 90_000, ""),
            ("b", InstanceState::Active, 90_000, ""),
            ("c", InstanceState::Active, 0, ""),
        ]);
        let set = r.get(7, 3, 100_000, 60_000);
        let set = set.unwrap();
        assert_eq!(set.instances.len(), 2);
        assert_eq!(set.max_errors, 0);

        let r = ring(&[
            ("a", InstanceState::Active, 90_000, ""),
            ("b", InstanceState::Leaving, 90_000, ""),
            ("c", InstanceState::Active, 0, ""),
        ]);
        let error = r.get(7, 3, 100_000, 60_000).unwrap_err();
        assert!(
            matches!(
                error,
                RingError::TooManyUnhealthy {
                    quorum: 2,
                    live: 1,
                    ..
                }
            ),
            "{error}"
        );
    }

    #[test]
    fn zones_spread_replicas() {
        let r = ring(&[
            ("a1", InstanceState::Active, 0, "a"),
            ("a2", InstanceState::Active, 0, "a"),
            ("b1", InstanceState::Active, 0, "b"),
        ]);
        for key in [1u32, 1 << 20, 1 << 31, u32::MAX] {
            let set = r.get(key, 2, 0, 0).unwrap();
            let zones: BTreeSet<_> = set
                .instances
                .iter()
                .map(|(id, _)| id.chars().next().unwrap())
                .collect();
            assert_eq!(zones.len(), 2, "{set:?}");
        }
    }
}
