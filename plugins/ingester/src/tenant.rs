//! One tenant's storage in an ingester: its in-memory head and its write-ahead log. A push is
//! applied to the head and logged under the tenant's order lock (so a series record always precedes
//! the samples that use it), then made durable outside the lock, where concurrent pushes share one
//! `fsync` (group commit). Acknowledged therefore means on disk.

use crate::selections::Selections;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use mimir_plugin_sdk::Error;
use mimir_proto::ingester::{MetricMetadata, PushError, PushResponse};
use mimir_tsdb::{AppendError, AppendOutcome, Head, HeadConfig, Labels, SeriesRef};
use mimir_wal::{FsyncPolicy, Wal, WalOptions};
use parking_lot::Mutex;

use crate::records::{self, SAMPLES, SERIES};
use crate::wire;

/// How a tenant's pushes become durable.
#[derive(Debug, Clone, Copy)]
pub enum Durability {
    /// fsync before acknowledging (group-committed).
    Always,
    /// fsync at most this often.
    Interval(std::time::Duration),
}

pub struct TenantDb {
    pub tenant: String,
    pub head: Head,
    /// Selections of queries reading this head a page at a time.
    pub selections: Selections,
    wal: Wal,
    durability: Durability,
    order: Mutex<()>,
    metadata: Mutex<BTreeMap<String, MetricMetadata>>,
}

fn storage_error(what: &str, error: impl std::fmt::Display) -> Error {
    Error::internal(format!("{what}: {error}"))
}

/// What replaying a tenant's WAL found.
#[derive(Debug, Default)]
pub struct Replayed {
    pub series: usize,
    pub samples: usize,
    pub malformed_records: usize,
}

impl TenantDb {
    /// Opens (creating) the tenant's WAL under `dir` and replays it into a fresh head.
    pub fn open(
        tenant: &str,
        dir: &Path,
        head_config: HeadConfig,
        durability: Durability,
        segment_size: u64,
    ) -> Result<(TenantDb, Replayed), Error> {
        let fsync = match durability {
            // Durability comes from the explicit sync after each push (see `push`).
            Durability::Always => FsyncPolicy::Never,
            Durability::Interval(period) => FsyncPolicy::Interval(period),
        };
        let options = WalOptions {
            segment_size,
            fsync,
        };
        let (wal, report) = Wal::open(dir, options).map_err(|error| {
            storage_error(&format!("cannot open the WAL in {}", dir.display()), error)
        })?;
        for damage in &report.damage {
            // The WAL logged the details already; say which tenant it was.
            tracing::warn!(tenant, path = %damage.path.display(), offset = damage.offset, dropped_bytes = damage.dropped_bytes, "tenant WAL was damaged and repaired");
        }
        let head = Head::new(head_config);
        let mut replayed = Replayed::default();
        wal.replay(|kind, payload| {
            match kind {
                SERIES => match records::decode_series(payload) {
                    Some((series_ref, labels)) => {
                        if head.restore_series(series_ref, labels).is_ok() {
                            replayed.series += 1;
                        }
                    }
                    None => replayed.malformed_records += 1,
                },
                SAMPLES => match records::decode_samples(payload) {
                    Some(samples) => {
                        for (series_ref, timestamp, value) in samples {
                            // Duplicates and samples of series dropped by retention are expected.
                            if head.append(series_ref, timestamp, value).is_ok() {
                                replayed.samples += 1;
                            }
                        }
                    }
                    None => replayed.malformed_records += 1,
                },
                _ => replayed.malformed_records += 1,
            }
            Ok(())
        })
        .map_err(|error| storage_error("cannot replay the WAL", error))?;
        if replayed.malformed_records > 0 {
            tracing::warn!(
                tenant,
                malformed = replayed.malformed_records,
                "WAL held malformed records; skipped"
            );
        }
        let db = TenantDb {
            tenant: tenant.to_string(),
            head,
            selections: Selections::default(),
            wal,
            durability,
            order: Mutex::new(()),
            metadata: Mutex::new(BTreeMap::new()),
        };
        Ok((db, replayed))
    }

    /// Stores a push (an encoded `PushRequest`). Series the head refuses are reported per series
    /// (400); the rest is stored and durable when this returns. Blocking: call it from a blocking
    /// thread.
    pub fn push(&self, payload: &[u8], max_series: usize) -> Result<PushResponse, Error> {
        let mut errors = Vec::new();
        let accepted_samples;
        // The whole push, read before taking the order lock: per series its labels and samples.
        let mut labels: Vec<(&[u8], &[u8])> = Vec::new();
        let mut samples: Vec<(i64, f64)> = Vec::new();
        let mut spans: Vec<(Range<usize>, Range<usize>)> = Vec::new();
        let metadata = wire::for_each_series(payload, |_, series| {
            let label_start = labels.len();
            labels.extend_from_slice(&series.labels);
            let sample_start = samples.len();
            samples.extend_from_slice(&series.samples);
            spans.push((label_start..labels.len(), sample_start..samples.len()));
        })
        .map_err(|error| Error::bad_request(error.to_string()))?;
        {
            let _order = self.order.lock();
            let mut log: Vec<(u8, Vec<u8>)> = Vec::new();
            let mut accepted: Vec<(SeriesRef, i64, f64)> = Vec::with_capacity(samples.len());
            let mut refs = Vec::with_capacity(spans.len());
            self.head.series_refs_for_pairs(
                spans
                    .iter()
                    .map(|(series_labels, _)| &labels[series_labels.clone()]),
                &mut refs,
            );
            // The samples to append, in push order, and the index of the series of each.
            let mut owners: Vec<usize> = Vec::with_capacity(samples.len());
            let mut appends: Vec<(SeriesRef, i64, f64)> = Vec::with_capacity(samples.len());
            for (index, ((series_labels, series_samples), known)) in
                spans.iter().zip(&refs).enumerate()
            {
                let series_labels = &labels[series_labels.clone()];
                let found = match known {
                    Some(series_ref) => Ok(*series_ref),
                    None => match utf8_labels(series_labels) {
                        Some(labels) => self.create_series(&labels, max_series, &mut log),
                        None => {
                            errors.push(PushError {
                                series_index: u32::try_from(index).unwrap_or(u32::MAX),
                                status: 400,
                                message: "received a series whose labels are not valid UTF-8"
                                    .to_string(),
                            });
                            continue;
                        }
                    },
                };
                let series_ref = match found {
                    Ok(series_ref) => series_ref,
                    Err(error) => {
                        errors.push(push_error(index, &error));
                        continue;
                    }
                };
                for (timestamp, value) in &samples[series_samples.clone()] {
                    owners.push(index);
                    appends.push((series_ref, *timestamp, *value));
                }
            }
            let mut outcomes = Vec::with_capacity(appends.len());
            self.head.append_many(&appends, &mut outcomes);
            // The first refusal of each series, as appending its samples in order finds it.
            let mut refused_series = None;
            for ((owner, sample), outcome) in owners.iter().zip(&appends).zip(outcomes) {
                match outcome {
                    Ok(AppendOutcome::InOrder | AppendOutcome::OutOfOrder) => {
                        accepted.push(*sample)
                    }
                    Ok(AppendOutcome::Duplicate) => {}
                    Err(error) => {
                        if refused_series != Some(*owner) {
                            refused_series = Some(*owner);
                            errors.push(push_error(*owner, &error));
                        }
                    }
                }
            }
            // One error per series at most: in series order, as the client is told the first.
            errors.sort_by_key(|error| error.series_index);
            accepted_samples = accepted.len() as u64;
            if !accepted.is_empty() {
                log.push((SAMPLES, records::encode_samples(&accepted)));
            }
            let batch: Vec<(u8, &[u8])> = log
                .iter()
                .map(|(kind, payload)| (*kind, payload.as_slice()))
                .collect();
            self.wal
                .append(&batch)
                .map_err(|error| storage_error("cannot write the WAL", error))?;
        }
        if let Durability::Always = self.durability {
            self.wal
                .sync()
                .map_err(|error| storage_error("cannot sync the WAL", error))?;
        }
        if !metadata.is_empty() {
            let mut stored = self.metadata.lock();
            for entry in metadata {
                stored.insert(entry.metric_family_name.clone(), entry);
            }
        }
        Ok(PushResponse {
            accepted_samples,
            errors,
        })
    }

    /// The series' ref, creating it (and logging its record) when new.
    fn create_series(
        &self,
        labels: &Labels,
        max_series: usize,
        log: &mut Vec<(u8, Vec<u8>)>,
    ) -> Result<SeriesRef, AppendError> {
        if let Some(series_ref) = self.head.series_ref(labels) {
            return Ok(series_ref);
        }
        if max_series > 0 && self.head.num_series() >= max_series {
            return Err(AppendError::MaxSeries { limit: max_series });
        }
        let (series_ref, created) = self.head.get_or_create_series(labels.clone())?;
        if created {
            log.push((SERIES, records::encode_series(series_ref, labels)));
        }
        Ok(series_ref)
    }

    /// Metadata of `metric` (all when empty), at most `limit` (0: all).
    pub fn metadata(&self, metric: &str, limit: usize) -> Vec<MetricMetadata> {
        let metadata = self.metadata.lock();
        metadata
            .values()
            .filter(|m| metric.is_empty() || m.metric_family_name == metric)
            .take(if limit == 0 { usize::MAX } else { limit })
            .cloned()
            .collect()
    }

    /// Forces the WAL to disk.
    pub fn sync(&self) -> Result<(), Error> {
        self.wal
            .sync()
            .map_err(|error| storage_error("cannot sync the WAL", error))
    }

    /// Drops samples older than `retain_after_ms`, then writes a checkpoint of the head so the WAL
    /// segments before it can go: replay stays bounded.
    pub fn checkpoint(&self, retain_after_ms: i64) -> Result<(), Error> {
        let removed = self.head.truncate_before(retain_after_ms);
        let upto = {
            let _order = self.order.lock();
            self.wal
                .cut_segment()
                .map_err(|error| storage_error("cannot cut a WAL segment", error))?
        };
        let head = &self.head;
        self.wal
            .checkpoint(upto.saturating_sub(1), |writer| {
                let mut result = Ok(());
                head.for_each_series(|series_ref, labels, samples| {
                    if result.is_err() {
                        return;
                    }
                    result = writer
                        .append(SERIES, &records::encode_series(series_ref, labels))
                        .and_then(|()| {
                            let batch: Vec<_> =
                                samples.iter().map(|(t, v)| (series_ref, *t, *v)).collect();
                            writer.append(SAMPLES, &records::encode_samples(&batch))
                        });
                });
                result
            })
            .map_err(|error| storage_error("cannot write a WAL checkpoint", error))?;
        tracing::info!(tenant = %self.tenant, removed_series = removed, "WAL checkpoint written");
        Ok(())
    }
}

/// A label set from wire pairs, or `None` when one is not UTF-8.
fn utf8_labels(pairs: &[(&[u8], &[u8])]) -> Option<Labels> {
    let mut text = Vec::with_capacity(pairs.len());
    for (name, value) in pairs {
        text.push((
            std::str::from_utf8(name).ok()?,
            std::str::from_utf8(value).ok()?,
        ));
    }
    Some(Labels::from_pairs(text))
}

fn push_error(index: usize, error: &AppendError) -> PushError {
    PushError {
        series_index: u32::try_from(index).unwrap_or(u32::MAX),
        status: 400,
        message: error.to_string(),
    }
}

/// Where tenant `tenant`'s WAL lives under the ingester's data directory.
pub fn wal_dir(data_dir: &Path, tenant: &str) -> PathBuf {
    data_dir.join(tenant).join("wal")
}
