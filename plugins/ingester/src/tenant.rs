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

use crate::histograms;
use crate::records::{self, HISTOGRAMS, SAMPLES, SERIES};
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
    pub histograms: usize,
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
                HISTOGRAMS => match records::decode_histograms(payload) {
                    Some(histograms) => {
                        for (series_ref, timestamp, histogram) in histograms {
                            if head
                                .append_histogram(series_ref, timestamp, histogram)
                                .is_ok()
                            {
                                replayed.histograms += 1;
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
        // The whole push, read before taking the order lock: per series its labels, samples and
        // histogram samples (checked and in their stored form; a bad one is reported for its
        // series and left out).
        let mut labels: Vec<(&[u8], &[u8])> = Vec::new();
        let mut samples: Vec<(i64, f64)> = Vec::new();
        let mut histogram_samples: Vec<(i64, Vec<u8>)> = Vec::new();
        let mut spans: Vec<(Range<usize>, Range<usize>)> = Vec::new();
        let mut histogram_spans: Vec<Range<usize>> = Vec::new();
        let metadata = wire::for_each_series(payload, |index, series| {
            let label_start = labels.len();
            labels.extend_from_slice(&series.labels);
            let sample_start = samples.len();
            samples.extend_from_slice(&series.samples);
            spans.push((label_start..labels.len(), sample_start..samples.len()));
            let histogram_start = histogram_samples.len();
            for encoded in &series.histograms {
                match histograms::canonical(encoded) {
                    Ok(stored) => histogram_samples.push(stored),
                    Err(message) => {
                        if errors.last().is_none_or(|e: &PushError| {
                            e.series_index != u32::try_from(index).unwrap_or(u32::MAX)
                        }) {
                            errors.push(PushError {
                                series_index: u32::try_from(index).unwrap_or(u32::MAX),
                                status: 400,
                                message,
                            });
                        }
                    }
                }
            }
            histogram_spans.push(histogram_start..histogram_samples.len());
        })
        .map_err(|error| Error::bad_request(error.to_string()))?;
        // Series already reported: a series gets one error at most.
        let mut refused = vec![false; spans.len()];
        for error in &errors {
            refused[error.series_index as usize] = true;
        }
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
            // The histogram samples to append: series index, ref, position in `histogram_samples`.
            let mut histogram_appends: Vec<(usize, SeriesRef, usize)> = Vec::new();
            for (index, ((series_labels, series_samples), known)) in
                spans.iter().zip(&refs).enumerate()
            {
                let series_labels = &labels[series_labels.clone()];
                let found = match known {
                    Some(series_ref) => Ok(*series_ref),
                    None => match utf8_labels(series_labels) {
                        Some(labels) => self.create_series(&labels, max_series, &mut log),
                        None => {
                            if !refused[index] {
                                refused[index] = true;
                                errors.push(PushError {
                                    series_index: u32::try_from(index).unwrap_or(u32::MAX),
                                    status: 400,
                                    message: "received a series whose labels are not valid UTF-8"
                                        .to_string(),
                                });
                            }
                            continue;
                        }
                    },
                };
                let series_ref = match found {
                    Ok(series_ref) => series_ref,
                    Err(error) => {
                        if !refused[index] {
                            refused[index] = true;
                            errors.push(push_error(index, &error));
                        }
                        continue;
                    }
                };
                for (timestamp, value) in &samples[series_samples.clone()] {
                    owners.push(index);
                    appends.push((series_ref, *timestamp, *value));
                }
                for position in histogram_spans[index].clone() {
                    histogram_appends.push((index, series_ref, position));
                }
            }
            let mut outcomes = Vec::with_capacity(appends.len());
            self.head.append_many(&appends, &mut outcomes);
            // The first refusal of each series, as appending its samples in order finds it.
            for ((owner, sample), outcome) in owners.iter().zip(&appends).zip(outcomes) {
                match outcome {
                    Ok(AppendOutcome::InOrder | AppendOutcome::OutOfOrder) => {
                        accepted.push(*sample)
                    }
                    Ok(AppendOutcome::Duplicate) => {}
                    Err(error) => {
                        if !refused[*owner] {
                            refused[*owner] = true;
                            errors.push(push_error(*owner, &error));
                        }
                    }
                }
            }
            // Then each series' histogram samples, as Prometheus' write handler appends them
            // (after the series' float samples).
            let mut accepted_histograms: Vec<(SeriesRef, i64, &[u8])> = Vec::new();
            for (owner, series_ref, position) in histogram_appends {
                let (timestamp, histogram) = &histogram_samples[position];
                match self
                    .head
                    .append_histogram(series_ref, *timestamp, histogram)
                {
                    Ok(AppendOutcome::InOrder | AppendOutcome::OutOfOrder) => {
                        accepted_histograms.push((series_ref, *timestamp, histogram));
                    }
                    Ok(AppendOutcome::Duplicate) => {}
                    Err(error) => {
                        if !refused[owner] {
                            refused[owner] = true;
                            errors.push(push_error(owner, &error));
                        }
                    }
                }
            }
            // One error per series at most: in series order, as the client is told the first.
            errors.sort_by_key(|error| error.series_index);
            accepted_samples = (accepted.len() + accepted_histograms.len()) as u64;
            if !accepted.is_empty() {
                log.push((SAMPLES, records::encode_samples(&accepted)));
            }
            if !accepted_histograms.is_empty() {
                log.push((HISTOGRAMS, records::encode_histograms(&accepted_histograms)));
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
                head.for_each_series(|series_ref, labels, samples, histograms| {
                    if result.is_err() {
                        return;
                    }
                    result = writer
                        .append(SERIES, &records::encode_series(series_ref, labels))
                        .and_then(|()| {
                            // Runs of one kind in time order, so that replaying them appends
                            // the series' samples in order, floats and histograms alike.
                            for run in runs_by_kind(samples, histograms) {
                                match run {
                                    Run::Floats(run) => {
                                        let batch: Vec<_> =
                                            run.iter().map(|(t, v)| (series_ref, *t, *v)).collect();
                                        writer.append(SAMPLES, &records::encode_samples(&batch))?;
                                    }
                                    Run::Histograms(run) => {
                                        let batch: Vec<_> = run
                                            .iter()
                                            .map(|(t, h)| (series_ref, *t, &h[..]))
                                            .collect();
                                        writer.append(
                                            HISTOGRAMS,
                                            &records::encode_histograms(&batch),
                                        )?;
                                    }
                                }
                            }
                            Ok(())
                        });
                });
                result
            })
            .map_err(|error| storage_error("cannot write a WAL checkpoint", error))?;
        tracing::info!(tenant = %self.tenant, removed_series = removed, "WAL checkpoint written");
        Ok(())
    }
}

/// A run of a series' samples of one kind.
enum Run<'s> {
    Floats(&'s [(i64, f64)]),
    Histograms(&'s [(i64, std::sync::Arc<[u8]>)]),
}

/// Splits a series' float and histogram samples (each sorted by time) into runs of one kind,
/// the runs in time order.
fn runs_by_kind<'s>(
    mut floats: &'s [(i64, f64)],
    mut histograms: &'s [(i64, std::sync::Arc<[u8]>)],
) -> Vec<Run<'s>> {
    let mut runs = Vec::new();
    while !floats.is_empty() || !histograms.is_empty() {
        let floats_first = match (floats.first(), histograms.first()) {
            (Some(f), Some(h)) => f.0 <= h.0,
            (f, _) => f.is_some(),
        };
        if floats_first {
            let end = histograms.first().map_or(floats.len(), |(t, _)| {
                floats.partition_point(|(ft, _)| ft < t)
            });
            runs.push(Run::Floats(&floats[..end]));
            floats = &floats[end..];
        } else {
            let end = floats.first().map_or(histograms.len(), |(t, _)| {
                histograms.partition_point(|(ht, _)| ht < t)
            });
            runs.push(Run::Histograms(&histograms[..end]));
            histograms = &histograms[end..];
        }
    }
    runs
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

#[cfg(test)]
mod tests {
    use mimir_proto::Message;
    use mimir_proto::ingester::{
        BucketSpan, Histogram, LabelPair, PushRequest, Sample, Series, histogram,
    };
    use mimir_tsdb::{MatchOp, Matcher};

    use super::*;

    fn open(dir: &Path) -> (TenantDb, Replayed) {
        TenantDb::open("t", dir, HeadConfig::default(), Durability::Always, 1 << 20).unwrap()
    }

    fn native(timestamp: i64, count: u64) -> Histogram {
        Histogram {
            count: Some(histogram::Count::CountInt(count)),
            sum: 1.0,
            schema: 0,
            positive_spans: vec![BucketSpan {
                offset: 1,
                length: 1,
            }],
            positive_deltas: vec![count as i64],
            timestamp,
            ..Histogram::default()
        }
    }

    fn series(name: &str, samples: &[(i64, f64)], histograms: Vec<Histogram>) -> Series {
        Series {
            labels: vec![LabelPair {
                name: "__name__".into(),
                value: name.to_string().into(),
            }],
            samples: samples
                .iter()
                .map(|&(timestamp_ms, value)| Sample {
                    value,
                    timestamp_ms,
                })
                .collect(),
            histograms,
            ..Series::default()
        }
    }

    fn push(db: &TenantDb, series: Vec<Series>) -> PushResponse {
        let request = PushRequest {
            series,
            metadata: Vec::new(),
        };
        db.push(&request.encode_to_vec(), 0).unwrap()
    }

    /// A series' name, float samples and histogram samples (decoded, with their timestamps).
    type Contents = (String, Vec<(i64, f64)>, Vec<Histogram>);

    fn contents(db: &TenantDb) -> Vec<Contents> {
        db.head
            .select(
                &[Matcher::new(MatchOp::NotEqual, "__name__", "").unwrap()],
                i64::MIN,
                i64::MAX,
                None,
                0,
            )
            .series
            .into_iter()
            .map(|s| {
                (
                    s.labels.get("__name__").unwrap_or_default().to_string(),
                    s.samples,
                    s.histograms
                        .iter()
                        .map(|(t, h)| Histogram {
                            timestamp: *t,
                            ..Histogram::decode(&h[..]).unwrap()
                        })
                        .collect(),
                )
            })
            .collect()
    }

    #[test]
    fn histograms_are_appended_refused_and_replayed_from_the_wal_and_checkpoints() {
        let dir = tempfile::tempdir().unwrap();
        let (db, _) = open(dir.path());
        let reply = push(
            &db,
            vec![
                series("f", &[(10, 1.0), (20, 2.0)], vec![]),
                // Floats at 5 and 30, histograms between and after.
                series("m", &[(5, 1.0)], vec![native(7, 1), native(9, 2)]),
                series("h", &[], vec![native(100, 3), native(100, 3)]),
                // Inconsistent: one bucket in the spans, two counts.
                series(
                    "bad",
                    &[],
                    vec![Histogram {
                        positive_deltas: vec![1, 1],
                        ..native(1, 5)
                    }],
                ),
            ],
        );
        assert_eq!(reply.accepted_samples, 2 + 3 + 1);
        assert_eq!(reply.errors.len(), 1, "{:?}", reply.errors);
        assert_eq!(reply.errors[0].series_index, 3);
        assert!(
            reply.errors[0]
                .message
                .contains("spans need 1 buckets, have 2"),
            "{}",
            reply.errors[0].message
        );
        let reply = push(
            &db,
            vec![
                series("m", &[(30, 3.0)], vec![native(40, 4), native(35, 1)]),
                series("h", &[], vec![native(100, 4)]),
            ],
        );
        assert_eq!(reply.accepted_samples, 2);
        let messages: Vec<(u32, &str)> = reply
            .errors
            .iter()
            .map(|e| (e.series_index, e.message.as_str()))
            .collect();
        assert_eq!(messages.len(), 2);
        assert!(
            messages[0].1.contains("sample-out-of-order"),
            "{messages:?}"
        );
        assert!(
            messages[1].1.contains("duplicate-timestamp"),
            "{messages:?}"
        );
        let want = vec![
            ("f".to_string(), vec![(10, 1.0), (20, 2.0)], vec![]),
            ("h".to_string(), vec![], vec![native(100, 3)]),
            (
                "m".to_string(),
                vec![(5, 1.0), (30, 3.0)],
                vec![native(7, 1), native(9, 2), native(40, 4)],
            ),
        ];
        assert_eq!(contents(&db), want);
        drop(db);

        // A restart replays the WAL.
        let (db, replayed) = open(dir.path());
        assert_eq!(
            (
                replayed.samples,
                replayed.histograms,
                replayed.malformed_records
            ),
            (4, 4, 0)
        );
        assert_eq!(contents(&db), want);

        // A checkpoint keeps floats and histograms in their time order, so replaying it
        // appends them in order again.
        db.checkpoint(i64::MIN).unwrap();
        drop(db);
        let (db, replayed) = open(dir.path());
        assert_eq!((replayed.samples, replayed.histograms), (4, 4));
        assert_eq!(contents(&db), want);
        // Replay rebuilt the head: a new sample is in order after the newest histogram only.
        let reply = push(&db, vec![series("m", &[(39, 1.0), (41, 1.0)], vec![])]);
        assert_eq!((reply.accepted_samples, reply.errors.len()), (1, 1));
    }

    #[test]
    fn runs_by_kind_interleave_in_time_order() {
        let floats = [(1, 0.0), (2, 0.0), (5, 0.0), (9, 0.0)];
        let h = |t: i64| (t, std::sync::Arc::<[u8]>::from(&b""[..]));
        let histograms = [h(3), h(4), h(6), h(10), h(11)];
        let shape: Vec<(char, Vec<i64>)> = runs_by_kind(&floats, &histograms)
            .into_iter()
            .map(|run| match run {
                Run::Floats(run) => ('f', run.iter().map(|(t, _)| *t).collect()),
                Run::Histograms(run) => ('h', run.iter().map(|(t, _)| *t).collect()),
            })
            .collect();
        assert_eq!(
            shape,
            [
                ('f', vec![1, 2]),
                ('h', vec![3, 4]),
                ('f', vec![5]),
                ('h', vec![6]),
                ('f', vec![9]),
                ('h', vec![10, 11]),
            ]
        );
        assert!(runs_by_kind(&[], &[]).is_empty());
    }
}
