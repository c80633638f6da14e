//! A remote-write request, from HTTP body to ingesters: tenant, decode, rate limit, validate, shard
//! each series over the ingester ring, push to every replica, and wait for a quorum per series.

use std::time::{Duration, SystemTime};

use mimir_ingester_client::IngesterClient;
use mimir_plugin_sdk::{CallMeta, Error, ErrorCode};
use mimir_proto::ingester::MetricMetadata;
use mimir_ring::{Ring, shard_by_all_labels};
use mimir_validation::{Validated, ValidationError};

use crate::encode;

/// What the HTTP handler answers.
#[derive(Debug, PartialEq, Eq)]
pub struct PushReply {
    pub status: u16,
    pub message: String,
}

impl PushReply {
    pub fn ok() -> PushReply {
        PushReply {
            status: 200,
            message: String::new(),
        }
    }

    pub fn from_validation(error: &ValidationError) -> PushReply {
        PushReply {
            status: error.status,
            message: error.message.clone(),
        }
    }

    pub fn from_error(error: &Error) -> PushReply {
        PushReply {
            status: error.code.http_status(),
            message: error.message.clone(),
        }
    }
}

fn wire_metadata(entries: &[mimir_validation::MetricMetadata]) -> Vec<MetricMetadata> {
    entries
        .iter()
        .map(|m| MetricMetadata {
            metric_family_name: m.metric_family_name.clone(),
            r#type: metric_type(m.r#type).to_string(),
            help: m.help.clone(),
            unit: m.unit.clone(),
        })
        .collect()
}

/// The Prometheus API's name of a metric type.
fn metric_type(wire: i32) -> &'static str {
    use mimir_validation::MetricType;
    match MetricType::try_from(wire) {
        Ok(MetricType::Counter) => "counter",
        Ok(MetricType::Gauge) => "gauge",
        Ok(MetricType::Histogram) => "histogram",
        Ok(MetricType::Gaugehistogram) => "gaugehistogram",
        Ok(MetricType::Summary) => "summary",
        Ok(MetricType::Info) => "info",
        Ok(MetricType::Stateset) => "stateset",
        Ok(MetricType::Unknown) | Err(_) => "unknown",
    }
}

/// The pushes one request makes: per ingester its address, its `PushRequest` (metadata still to
/// append) and the indexes of the series in it; per series the successes it needs.
pub struct Pushes {
    per_ingester: Vec<(String, Vec<u8>, Vec<usize>)>,
    needed: Vec<usize>,
    metadata: Vec<MetricMetadata>,
}

/// Shards the validated series of one request over the ring: each goes, encoded, into the
/// requests of the ingesters that own it. `request_size` (the decoded request's size) sizes
/// those requests up front.
pub fn plan(
    ring: &Ring,
    replication_factor: usize,
    heartbeat_timeout: Duration,
    tenant: &str,
    validated: &Validated<'_>,
    request_size: usize,
) -> Result<Pushes, Error> {
    let now_ms = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    let timeout_ms = i64::try_from(heartbeat_timeout.as_millis()).unwrap_or(i64::MAX);
    let metadata = wire_metadata(&validated.metadata);
    // Per ingester (by ring index): the request it gets and the series in it. Per series: the
    // successes it needs.
    let health = ring.health(now_ms, timeout_ms);
    let mut per_instance: Vec<(Vec<u8>, Vec<usize>)> = vec![(Vec::new(), Vec::new()); ring.len()];
    let mut needed = Vec::with_capacity(validated.series_count());
    let mut replicas = Vec::with_capacity(replication_factor);
    let mut sorted = Vec::new();
    let mut sorted_histograms = Vec::new();
    for (index, one) in validated.series().enumerate() {
        let key = shard_by_all_labels(tenant, one.labels.iter().map(|(n, v)| (n, v)));
        let max_errors = ring
            .replicas_into(key, replication_factor, &health, &mut replicas)
            .map_err(|error| Error::unavailable(error.to_string()))?;
        needed.push(replicas.len().saturating_sub(max_errors));
        // Ingesters take samples in time order.
        let in_order = one.samples.is_sorted_by_key(|(timestamp, _)| *timestamp);
        let samples = if in_order {
            one.samples
        } else {
            sorted.clear();
            sorted.extend_from_slice(one.samples);
            sorted.sort_by_key(|(timestamp, _)| *timestamp);
            &sorted[..]
        };
        let histograms_in_order = one.histograms.is_sorted_by_key(|(timestamp, _)| *timestamp);
        let histograms = if histograms_in_order {
            one.histograms
        } else {
            sorted_histograms.clear();
            sorted_histograms.extend_from_slice(one.histograms);
            sorted_histograms.sort_by_key(|(timestamp, _)| *timestamp);
            &sorted_histograms[..]
        };
        let encoded = one.encoded.filter(|_| in_order && histograms_in_order);
        for instance in &replicas {
            let (body, indexes) = &mut per_instance[*instance];
            if body.capacity() == 0 {
                // Each ingester gets about its share of the request's series.
                body.reserve(request_size * replicas.len() / ring.len().max(1) + 1024);
            }
            match encoded {
                Some(encoded) => encode::put_encoded_series(body, encoded),
                None => encode::put_series(body, one.labels, samples, histograms),
            }
            indexes.push(index);
        }
    }
    let mut per_ingester: Vec<(String, Vec<u8>, Vec<usize>)> = per_instance
        .into_iter()
        .enumerate()
        .filter(|(_, (_, indexes))| !indexes.is_empty())
        .map(|(instance, (body, indexes))| (ring.addr(instance).to_string(), body, indexes))
        .collect();
    if per_ingester.is_empty() && !metadata.is_empty() {
        // Metadata alone goes to one ingester of the ring.
        if let Some((_, addr)) = ring
            .healthy_instances(now_ms, timeout_ms)
            .into_iter()
            .next()
        {
            per_ingester.push((addr, Vec::new(), Vec::new()));
        }
    }
    Ok(Pushes {
        per_ingester,
        needed,
        metadata,
    })
}

/// Sends the pushes of one request and waits for a quorum for each series.
pub async fn distribute(
    client: &IngesterClient,
    tenant: &str,
    pushes: Pushes,
    timeout: Duration,
) -> Result<Option<String>, Error> {
    let Pushes {
        per_ingester,
        needed,
        metadata,
    } = pushes;
    let total = needed.len();
    let meta = CallMeta::for_tenant(tenant, Some(timeout));
    // The pushes run concurrently within this task: they wait on the bus, so no task per
    // ingester (and no thread hop) is needed.
    let calls = per_ingester.into_iter().map(|(addr, mut body, indexes)| {
        encode::put_metadata(&mut body, &metadata);
        let meta = &meta;
        async move {
            let reply = client.push_encoded(&addr, meta, body).await;
            (addr, indexes, reply)
        }
    });
    let replies = futures::future::join_all(calls).await;
    let mut succeeded = vec![0usize; total];
    let mut client_error: Option<String> = None;
    let mut server_error: Option<Error> = None;
    for (addr, indexes, reply) in replies {
        match reply {
            Ok(response) => {
                // Series an ingester refused as bad data still count as answered: retrying them
                // cannot help, and the client must hear about them.
                for error in &response.errors {
                    if client_error.is_none() {
                        client_error = Some(error.message.clone());
                    }
                }
                for index in indexes {
                    succeeded[index] += 1;
                }
            }
            Err(error) => {
                tracing::warn!(ingester = %addr, %error, "push to ingester failed");
                if error.code == ErrorCode::BadRequest || error.code == ErrorCode::LimitExceeded {
                    client_error.get_or_insert(error.message.clone());
                    for index in indexes {
                        succeeded[index] += 1;
                    }
                } else {
                    server_error.get_or_insert(error);
                }
            }
        }
    }
    let quorum_failed = succeeded.iter().zip(&needed).any(|(got, need)| got < need);
    if quorum_failed {
        let error = server_error.unwrap_or_else(|| Error::internal("quorum not reached"));
        return Err(Error::new(
            if error.code == ErrorCode::Timeout {
                ErrorCode::Timeout
            } else {
                ErrorCode::Internal
            },
            format!("failed pushing to ingester: {}", error.message),
        ));
    }
    Ok(client_error)
}
