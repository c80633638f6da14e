//! The endpoints of the Prometheus HTTP API: parameters in, JSON out. Queries go to the engine over
//! [`IngesterStorage`]; series, label names, label values and metadata go straight to the
//! ingesters, merged and deduplicated across replicas.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime};

use mimir_ingester_client::IngesterClient;
use mimir_plugin_sdk::{CallMeta, Error, ErrorCode};
use mimir_promql::Matcher;
use mimir_promql::engine::{Engine, EngineOptions, Labels, QueryError, QueryResult, Value};
use mimir_proto::ingester::{
    LabelNamesRequest, LabelValuesRequest, MetadataRequest, MetricMetadata, SeriesRequest,
};
use mimir_validation::NameValidationScheme;

use crate::json;
use crate::params::{
    Form, MAX_TIME_MS, MIN_TIME_MS, Nanos, decode_path_segment, go_quote, parse_duration,
    parse_limit, parse_match_sets, parse_metadata_limit, parse_time, parse_time_param,
    unescape_label_name,
};
use crate::storage::{IngesterStorage, ReadSet, engine_labels, wire_matcher};

/// The most points a range query may return per series.
pub const MAX_POINTS_PER_SERIES: i128 = 11_000;

const TRUNCATED: &str = "results truncated due to limit";

/// An API error: `errorType`, HTTP status and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub error_type: &'static str,
    pub status: u16,
    pub message: String,
}

impl ApiError {
    pub fn bad_data(message: impl Into<String>) -> ApiError {
        ApiError {
            error_type: "bad_data",
            status: 400,
            message: message.into(),
        }
    }

    /// Prometheus' `invalidParamError`.
    pub fn invalid_param(name: &str, error: impl std::fmt::Display) -> ApiError {
        ApiError::bad_data(format!("invalid parameter {}: {error}", go_quote(name)))
    }

    pub fn from_query(error: &QueryError) -> ApiError {
        match error {
            QueryError::Parse(parse) => return ApiError::invalid_param("query", parse),
            // What Prometheus finds while preparing a query (an expression type a range query
            // cannot have, a bad regex) it reports against the `query` parameter.
            QueryError::BadData(message) if !message.starts_with("exceeded maximum resolution") => {
                return ApiError::invalid_param("query", message);
            }
            _ => {}
        }
        ApiError {
            error_type: error.error_type(),
            status: error.http_status(),
            message: error.to_string(),
        }
    }

    /// An error from the ingesters or the ring.
    pub fn from_bus(error: &Error) -> ApiError {
        let (error_type, status) = match error.code {
            ErrorCode::Timeout => ("timeout", 503),
            ErrorCode::BadRequest => ("bad_data", 400),
            ErrorCode::Unavailable => ("unavailable", 503),
            _ => ("internal", 500),
        };
        ApiError {
            error_type,
            status,
            message: error.message.clone(),
        }
    }

    pub fn body(&self) -> String {
        json::error(self.error_type, &self.message)
    }
}

/// A successful answer: the JSON body.
pub type ApiResult = Result<String, ApiError>;

/// What an instant query asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct InstantQuery {
    pub query: String,
    pub time_ms: i64,
    pub timeout: Option<Nanos>,
    pub limit: usize,
}

/// What a range query asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct RangeQuery {
    pub query: String,
    pub start_ms: i64,
    pub end_ms: i64,
    pub step_ms: i64,
    pub timeout: Option<Nanos>,
    pub limit: usize,
}

fn limit_param(form: &Form) -> Result<usize, ApiError> {
    parse_limit(form.value("limit")).map_err(|e| ApiError::invalid_param("limit", e))
}

fn timeout_param(form: &Form) -> Result<Option<Nanos>, ApiError> {
    let text = form.value("timeout");
    if text.is_empty() {
        return Ok(None);
    }
    parse_duration(text)
        .map(Some)
        .map_err(|e| ApiError::invalid_param("timeout", e))
}

/// `/api/v1/query`'s parameters, in Prometheus' order of checking.
pub fn parse_instant(form: &Form, now_ms: i64) -> Result<InstantQuery, ApiError> {
    let limit = limit_param(form)?;
    let time_ms =
        parse_time_param(form, "time", now_ms).map_err(|e| ApiError::invalid_param("time", e))?;
    let timeout = timeout_param(form)?;
    Ok(InstantQuery {
        query: form.value("query").to_string(),
        time_ms,
        timeout,
        limit,
    })
}

/// `/api/v1/query_range`'s parameters, in Prometheus' order of checking.
pub fn parse_range(form: &Form) -> Result<RangeQuery, ApiError> {
    let limit = limit_param(form)?;
    let start_ms =
        parse_time(form.value("start")).map_err(|e| ApiError::invalid_param("start", e))?;
    let end_ms = parse_time(form.value("end")).map_err(|e| ApiError::invalid_param("end", e))?;
    if end_ms < start_ms {
        return Err(ApiError::invalid_param(
            "end",
            "end timestamp must not be before start time",
        ));
    }
    let step =
        parse_duration(form.value("step")).map_err(|e| ApiError::invalid_param("step", e))?;
    if step <= 0 {
        return Err(ApiError::invalid_param(
            "step",
            "zero or negative query resolution step widths are not accepted. Try a positive integer",
        ));
    }
    let range_ns = (i128::from(end_ms) - i128::from(start_ms)) * 1_000_000;
    if range_ns / i128::from(step) > MAX_POINTS_PER_SERIES {
        return Err(ApiError::bad_data(
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
        ));
    }
    let timeout = timeout_param(form)?;
    Ok(RangeQuery {
        query: form.value("query").to_string(),
        start_ms,
        end_ms,
        step_ms: step / 1_000_000,
        timeout,
        limit,
    })
}

/// Truncates vectors and matrices to `limit` series (0: no limit), with Prometheus' warning.
pub fn apply_limit(result: &mut QueryResult, limit: usize) {
    if limit == 0 {
        return;
    }
    let truncated = match &mut result.value {
        Value::Vector(samples) if samples.len() > limit => {
            samples.truncate(limit);
            true
        }
        Value::Matrix(series) if series.len() > limit => {
            series.truncate(limit);
            true
        }
        _ => false,
    };
    if truncated {
        result.annotations.warn(TRUNCATED.to_string());
    }
}

/// Runs an instant query on `storage` and formats the answer (the blocking part of a query).
pub fn run_instant(
    engine: &Engine,
    storage: &dyn mimir_promql::engine::Storage,
    query: &InstantQuery,
) -> ApiResult {
    let mut result = engine
        .instant_query(storage, &query.query, query.time_ms)
        .map_err(|e| ApiError::from_query(&e))?;
    apply_limit(&mut result, query.limit);
    Ok(json::query_success(&result))
}

/// Runs a range query on `storage` and formats the answer; series are sorted by labels.
pub fn run_range(
    engine: &Engine,
    storage: &dyn mimir_promql::engine::Storage,
    query: &RangeQuery,
) -> ApiResult {
    let mut result = engine
        .range_query(
            storage,
            &query.query,
            query.start_ms,
            query.end_ms,
            query.step_ms,
        )
        .map_err(|e| ApiError::from_query(&e))?;
    if let Value::Matrix(series) = &mut result.value {
        series.sort_by(|a, b| a.labels.cmp(&b.labels));
    }
    apply_limit(&mut result, query.limit);
    Ok(json::query_success(&result))
}

/// `/api/v1/format_query`: the expression as Prometheus' `Pretty(0)` prints it, on one line when it
/// fits in 100 characters and split over indented lines otherwise.
pub fn format_query(form: &Form) -> ApiResult {
    let expr = mimir_promql::parse(form.value("query"))
        .map_err(|e| ApiError::invalid_param("query", e))?;
    let mut data = String::new();
    json::push_str(&mut data, &mimir_promql::pretty(&expr));
    Ok(json::success(&data, &[], &[]))
}

/// `/api/v1/status/buildinfo`, in the shape Mimir answers it.
pub fn buildinfo() -> String {
    let mut data = String::from("{\"application\":\"mimir-host\",\"version\":");
    json::push_str(&mut data, env!("CARGO_PKG_VERSION"));
    data.push_str(",\"revision\":");
    json::push_str(
        &mut data,
        option_env!("MIMIR_HOST_REVISION").unwrap_or("unknown"),
    );
    data.push_str(",\"branch\":");
    json::push_str(
        &mut data,
        option_env!("MIMIR_HOST_BRANCH").unwrap_or("unknown"),
    );
    data.push_str(",\"rustVersion\":");
    json::push_str(
        &mut data,
        option_env!("CARGO_PKG_RUST_VERSION").unwrap_or("unknown"),
    );
    data.push_str(",\"features\":{}}");
    json::success(&data, &[], &[])
}

/// The time range and selectors of the metadata endpoints (`series`, `labels`, `label values`).
#[derive(Debug, Clone)]
pub struct MetadataQuery {
    pub start_ms: i64,
    pub end_ms: i64,
    pub match_sets: Vec<Vec<Matcher>>,
    pub limit: usize,
}

/// `limit`, `start`, `end` (Prometheus' earliest and latest times by default), `match[]` of
/// `/api/v1/labels` and `/api/v1/label/<name>/values` (a bad `match[]` is reported bare there).
pub fn parse_metadata_query(form: &Form) -> Result<MetadataQuery, ApiError> {
    parse_metadata_params(form, false)
}

fn parse_metadata_params(form: &Form, name_match_param: bool) -> Result<MetadataQuery, ApiError> {
    let limit = limit_param(form)?;
    let start_ms = parse_time_param(form, "start", MIN_TIME_MS)
        .map_err(|e| ApiError::invalid_param("start", e))?;
    let end_ms = parse_time_param(form, "end", MAX_TIME_MS)
        .map_err(|e| ApiError::invalid_param("end", e))?;
    let match_sets = parse_match_sets(&form.all("match[]")).map_err(|e| {
        if name_match_param {
            ApiError::invalid_param("match[]", e)
        } else {
            ApiError::bad_data(e)
        }
    })?;
    Ok(MetadataQuery {
        start_ms,
        end_ms,
        match_sets,
        limit,
    })
}

/// `/api/v1/series`'s parameters.
pub fn parse_series(form: &Form) -> Result<MetadataQuery, ApiError> {
    if form.all("match[]").is_empty() {
        return Err(ApiError::bad_data("no match[] parameter provided"));
    }
    parse_metadata_params(form, true)
}

/// The label name of `/api/v1/label/<name>/values` (`rest` is what follows `/label/`), valid
/// under the tenant's `-validation.name-validation-scheme`.
pub fn label_name_from_path(rest: &str, scheme: NameValidationScheme) -> Result<String, ApiError> {
    let segment = rest.strip_suffix("/values").unwrap_or(rest);
    let decoded = decode_path_segment(segment);
    match unescape_label_name(&decoded) {
        Some(name) if scheme.is_valid_label_name(name.as_bytes()) => Ok(name),
        _ => Err(ApiError::bad_data(format!(
            "invalid label name: {}",
            go_quote(&decoded)
        ))),
    }
}

fn truncate<T>(items: &mut Vec<T>, limit: usize) -> Vec<String> {
    if limit > 0 && items.len() > limit {
        items.truncate(limit);
        vec![TRUNCATED.to_string()]
    } else {
        Vec::new()
    }
}

/// Asks every ingester of the read set, tolerating `max_errors` failures; the successful answers.
async fn ask_all<T, F, Fut>(read_set: &ReadSet, call: F) -> Result<Vec<T>, ApiError>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<T, Error>>,
{
    let replies =
        futures::future::join_all(read_set.addrs.iter().map(|addr| call(addr.clone()))).await;
    let mut answers = Vec::with_capacity(replies.len());
    let mut failures = 0;
    for reply in replies {
        match reply {
            Ok(answer) => answers.push(answer),
            Err(error) => {
                failures += 1;
                if failures > read_set.max_errors {
                    return Err(ApiError::from_bus(&error));
                }
                tracing::warn!(%error, "an ingester failed a metadata read; its replicas answer for it");
            }
        }
    }
    Ok(answers)
}

/// Reads from the ingesters for one tenant.
pub struct Reader {
    pub client: IngesterClient,
    pub tenant: String,
    pub read_set: ReadSet,
    pub timeout: Duration,
}

impl Reader {
    fn meta(&self) -> CallMeta {
        CallMeta::for_tenant(&self.tenant, Some(self.timeout))
    }

    /// `/api/v1/series`.
    pub async fn series(&self, query: &MetadataQuery) -> ApiResult {
        let meta = self.meta();
        let mut found: BTreeSet<Labels> = BTreeSet::new();
        for set in &query.match_sets {
            let request = SeriesRequest {
                start_ms: query.start_ms,
                end_ms: query.end_ms,
                matchers: set.iter().map(wire_matcher).collect(),
            };
            let replies = ask_all(&self.read_set, |addr| {
                let (meta, request) = (&meta, &request);
                async move { self.client.series(&addr, meta, request).await }
            })
            .await?;
            for reply in replies {
                found.extend(reply.series.iter().map(engine_labels));
            }
        }
        let mut series: Vec<Labels> = found.into_iter().collect();
        let warnings = truncate(&mut series, query.limit);
        let mut data = String::from("[");
        for (i, labels) in series.iter().enumerate() {
            if i > 0 {
                data.push(',');
            }
            json::push_labels(&mut data, labels);
        }
        data.push(']');
        Ok(json::success(&data, &warnings, &[]))
    }

    /// `/api/v1/labels`.
    pub async fn label_names(&self, query: &MetadataQuery) -> ApiResult {
        let meta = self.meta();
        let sets: Vec<Vec<Matcher>> = if query.match_sets.is_empty() {
            vec![Vec::new()]
        } else {
            query.match_sets.clone()
        };
        let mut names: BTreeSet<String> = BTreeSet::new();
        for set in &sets {
            let request = LabelNamesRequest {
                start_ms: query.start_ms,
                end_ms: query.end_ms,
                matchers: set.iter().map(wire_matcher).collect(),
            };
            let replies = ask_all(&self.read_set, |addr| {
                let (meta, request) = (&meta, &request);
                async move { self.client.label_names(&addr, meta, request).await }
            })
            .await?;
            for reply in replies {
                names.extend(reply.names);
            }
        }
        let mut names: Vec<String> = names.into_iter().collect();
        let warnings = truncate(&mut names, query.limit);
        let mut data = String::new();
        json::push_strings(&mut data, &names);
        Ok(json::success(&data, &warnings, &[]))
    }

    /// `/api/v1/label/<name>/values`.
    pub async fn label_values(&self, name: &str, query: &MetadataQuery) -> ApiResult {
        let meta = self.meta();
        let sets: Vec<Vec<Matcher>> = if query.match_sets.is_empty() {
            vec![Vec::new()]
        } else {
            query.match_sets.clone()
        };
        let mut values: BTreeSet<String> = BTreeSet::new();
        for set in &sets {
            let request = LabelValuesRequest {
                name: name.to_string(),
                start_ms: query.start_ms,
                end_ms: query.end_ms,
                matchers: set.iter().map(wire_matcher).collect(),
            };
            let replies = ask_all(&self.read_set, |addr| {
                let (meta, request) = (&meta, &request);
                async move { self.client.label_values(&addr, meta, request).await }
            })
            .await?;
            for reply in replies {
                values.extend(reply.values.into_iter().filter(|v| !v.is_empty()));
            }
        }
        let mut values: Vec<String> = values.into_iter().collect();
        let warnings = truncate(&mut values, query.limit);
        let mut data = String::new();
        json::push_strings(&mut data, &values);
        Ok(json::success(&data, &warnings, &[]))
    }

    /// `/api/v1/metadata`.
    pub async fn metadata(&self, form: &Form) -> ApiResult {
        let limit = parse_metadata_limit(form, "limit").map_err(ApiError::bad_data)?;
        let limit_per_metric =
            parse_metadata_limit(form, "limit_per_metric").map_err(ApiError::bad_data)?;
        let meta = self.meta();
        let request = MetadataRequest {
            metric: form.value("metric").to_string(),
            limit: 0,
        };
        let replies = ask_all(&self.read_set, |addr| {
            let (meta, request) = (&meta, &request);
            async move { self.client.metadata(&addr, meta, request).await }
        })
        .await?;
        let all: Vec<MetricMetadata> = replies.into_iter().flat_map(|r| r.metadata).collect();
        Ok(metadata_json(all, limit, limit_per_metric))
    }
}

/// Groups metadata by metric (sorted, as Go prints a map), deduplicated, within the limits
/// (negative: none). Mimir writes this answer with Go's `encoding/json`.
pub fn metadata_json(entries: Vec<MetricMetadata>, limit: i64, limit_per_metric: i64) -> String {
    let mut by_metric: BTreeMap<String, Vec<MetricMetadata>> = BTreeMap::new();
    for entry in entries {
        by_metric
            .entry(entry.metric_family_name.clone())
            .or_default()
            .push(entry);
    }
    let mut data = String::from("{");
    let mut metrics = 0i64;
    for (metric, entries) in by_metric {
        if limit >= 0 && metrics >= limit {
            break;
        }
        metrics += 1;
        if metrics > 1 {
            data.push(',');
        }
        json::push_str_std(&mut data, &metric);
        data.push_str(":[");
        let mut seen: Vec<(&str, &str, &str)> = Vec::new();
        for entry in &entries {
            let key = (
                entry.r#type.as_str(),
                entry.help.as_str(),
                entry.unit.as_str(),
            );
            if seen.contains(&key) {
                continue;
            }
            if limit_per_metric >= 0 && seen.len() as i64 >= limit_per_metric {
                break;
            }
            if !seen.is_empty() {
                data.push(',');
            }
            seen.push(key);
            data.push_str("{\"type\":");
            json::push_str_std(&mut data, &entry.r#type);
            data.push_str(",\"help\":");
            json::push_str_std(&mut data, &entry.help);
            data.push_str(",\"unit\":");
            json::push_str_std(&mut data, &entry.unit);
            data.push('}');
        }
        data.push(']');
    }
    data.push('}');
    json::success(&data, &[], &[])
}

/// What a query needs to run on a blocking thread.
pub struct QueryRun {
    pub handle: tokio::runtime::Handle,
    pub client: IngesterClient,
    pub tenant: String,
    pub read_set: ReadSet,
    pub options: EngineOptions,
    /// When the request arrived: time spent waiting for a slot counts against the timeout.
    pub arrived: std::time::Instant,
}

/// The engine timeout for a query: the configured one, shortened by the `timeout` parameter.
pub fn effective_timeout(configured: Duration, param: Option<Nanos>) -> Duration {
    match param {
        Some(nanos) => {
            let asked = Duration::from_nanos(u64::try_from(nanos).unwrap_or(0));
            asked.min(configured)
        }
        None => configured,
    }
}

/// The kind of query to run.
pub enum QueryKind {
    Instant(InstantQuery),
    Range(RangeQuery),
}

impl QueryRun {
    /// Runs the query on the current (blocking) thread.
    pub fn run(self, kind: &QueryKind) -> ApiResult {
        let timeout = match kind {
            QueryKind::Instant(q) => q.timeout,
            QueryKind::Range(q) => q.timeout,
        };
        let mut options = self.options;
        options.timeout =
            effective_timeout(options.timeout, timeout).saturating_sub(self.arrived.elapsed());
        let storage = IngesterStorage {
            handle: self.handle,
            client: self.client,
            tenant: self.tenant,
            read_set: self.read_set,
            deadline: SystemTime::now() + options.timeout,
        };
        let engine = Engine::new(options);
        match kind {
            QueryKind::Instant(q) => run_instant(&engine, &storage, q),
            QueryKind::Range(q) => run_range(&engine, &storage, q),
        }
    }
}

#[cfg(test)]
mod tests {
    use mimir_promql::engine::{Annotations, MemoryStorage, Sample, VectorSample};

    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Form {
        Form::from_pairs(pairs)
    }

    fn error_body(result: Result<impl std::fmt::Debug, ApiError>) -> (u16, String) {
        match result {
            Ok(ok) => panic!("expected an error, got {ok:?}"),
            Err(error) => (error.status, error.body()),
        }
    }

    #[test]
    fn instant_query_params() {
        let q = parse_instant(&form(&[("query", "up"), ("time", "1.5")]), 99).unwrap();
        assert_eq!(
            q,
            InstantQuery {
                query: "up".to_string(),
                time_ms: 1500,
                timeout: None,
                limit: 0
            }
        );
        assert_eq!(
            parse_instant(&form(&[("query", "up")]), 99)
                .unwrap()
                .time_ms,
            99
        );
        assert_eq!(
            error_body(parse_instant(&form(&[("query", "up"), ("time", "yesterday")]), 0)),
            (
                400,
                r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"time\": Invalid time value for 'time': cannot parse \"yesterday\" to a valid timestamp"}"#
                    .to_string()
            )
        );
        assert_eq!(
            error_body(parse_instant(&form(&[("timeout", "soon")]), 0)),
            (
                400,
                r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"timeout\": cannot parse \"soon\" to a valid duration"}"#
                    .to_string()
            )
        );
        assert_eq!(
            error_body(parse_instant(&form(&[("limit", "-2")]), 0)),
            (
                400,
                r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"limit\": limit must be non-negative"}"#
                    .to_string()
            )
        );
    }

    #[test]
    fn range_query_params() {
        let q = parse_range(&form(&[
            ("query", "up"),
            ("start", "2015-07-01T20:10:30.781Z"),
            ("end", "2015-07-01T20:11:00.781Z"),
            ("step", "15s"),
        ]))
        .unwrap();
        assert_eq!(
            (q.start_ms, q.end_ms, q.step_ms),
            (1_435_781_430_781, 1_435_781_460_781, 15_000)
        );
        let q = parse_range(&form(&[("start", "0"), ("end", "10"), ("step", "0.5")])).unwrap();
        assert_eq!(q.step_ms, 500);
        let cases: &[(&[(&str, &str)], &str)] = &[
            (
                &[("end", "1"), ("step", "1")],
                r#"invalid parameter \"start\": cannot parse \"\" to a valid timestamp"#,
            ),
            (
                &[("start", "1"), ("step", "1")],
                r#"invalid parameter \"end\": cannot parse \"\" to a valid timestamp"#,
            ),
            (
                &[("start", "10"), ("end", "1"), ("step", "1")],
                r#"invalid parameter \"end\": end timestamp must not be before start time"#,
            ),
            (
                &[("start", "1"), ("end", "10")],
                r#"invalid parameter \"step\": cannot parse \"\" to a valid duration"#,
            ),
            (
                &[("start", "1"), ("end", "10"), ("step", "0")],
                r#"invalid parameter \"step\": zero or negative query resolution step widths are not accepted. Try a positive integer"#,
            ),
            (
                &[("start", "1"), ("end", "10"), ("step", "-5s")],
                r#"invalid parameter \"step\": cannot parse \"-5s\" to a valid duration"#,
            ),
            (
                &[("start", "0"), ("end", "11001"), ("step", "1")],
                "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
            ),
        ];
        for (pairs, message) in cases {
            assert_eq!(
                error_body(parse_range(&form(pairs))),
                (
                    400,
                    format!(r#"{{"status":"error","errorType":"bad_data","error":"{message}"}}"#)
                ),
                "{pairs:?}"
            );
        }
        // Exactly 11,000 steps is allowed.
        assert!(parse_range(&form(&[("start", "0"), ("end", "11000"), ("step", "1")])).is_ok());
    }

    #[test]
    fn metadata_query_params() {
        assert_eq!(
            error_body(parse_series(&form(&[]))),
            (
                400,
                r#"{"status":"error","errorType":"bad_data","error":"no match[] parameter provided"}"#
                    .to_string()
            )
        );
        let q = parse_series(&form(&[("match[]", "up")])).unwrap();
        assert_eq!((q.start_ms, q.end_ms), (MIN_TIME_MS, MAX_TIME_MS));
        assert_eq!(
            error_body(parse_series(&form(&[("match[]", "{a=~\".*\"}")]))),
            (
                400,
                r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"match[]\": match[] must contain at least one non-empty matcher"}"#
                    .to_string()
            )
        );
        let q = parse_metadata_query(&form(&[])).unwrap();
        assert!(q.match_sets.is_empty());
        assert_eq!(
            label_name_from_path("job/values", NameValidationScheme::Legacy).unwrap(),
            "job".to_string()
        );
        assert_eq!(
            label_name_from_path("U__a_2e_b/values", NameValidationScheme::Utf8).unwrap(),
            "a.b".to_string()
        );
        assert_eq!(
            error_body(label_name_from_path("/values", NameValidationScheme::Utf8)),
            (
                400,
                r#"{"status":"error","errorType":"bad_data","error":"invalid label name: \"\""}"#
                    .to_string()
            )
        );
        assert_eq!(
            error_body(label_name_from_path("a-b/values", NameValidationScheme::Legacy)),
            (
                400,
                r#"{"status":"error","errorType":"bad_data","error":"invalid label name: \"a-b\""}"#
                    .to_string()
            )
        );
        assert_eq!(
            label_name_from_path("a-b/values", NameValidationScheme::Utf8).unwrap(),
            "a-b".to_string()
        );
        // A bad `match[]` is bare for labels, a parameter error for series.
        assert_eq!(
            parse_metadata_query(&form(&[("match[]", "{a=\"\"}")]))
                .unwrap_err()
                .message,
            "match[] must contain at least one non-empty matcher"
        );
    }

    #[test]
    fn query_errors_are_classified() {
        let parse = mimir_promql::parse("").unwrap_err();
        let error = ApiError::from_query(&QueryError::Parse(parse));
        assert_eq!(error.status, 400);
        assert!(
            error
                .message
                .starts_with("invalid parameter \"query\": 1:1: parse error"),
            "{}",
            error.message
        );
        let error = ApiError::from_query(&QueryError::BadData(
            "invalid expression type \"string\" for range query, must be Scalar or instant Vector"
                .to_string(),
        ));
        assert_eq!(
            (error.status, error.body()),
            (
                400,
                r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": invalid expression type \"string\" for range query, must be Scalar or instant Vector"}"#
                    .to_string()
            )
        );
        let error = ApiError::from_query(&QueryError::TooManySamples);
        assert_eq!(
            (error.status, error.body()),
            (
                422,
                r#"{"status":"error","errorType":"execution","error":"query processing would load too many samples into memory in query execution"}"#
                    .to_string()
            )
        );
        let error = ApiError::from_query(&QueryError::Timeout("query execution".to_string()));
        assert_eq!((error.error_type, error.status), ("timeout", 503));
        let error = ApiError::from_query(&QueryError::Storage("down".to_string()));
        assert_eq!((error.error_type, error.status), ("internal", 500));
    }

    #[test]
    fn format_query_prints_the_parsed_expression() {
        assert_eq!(
            format_query(&form(&[(
                "query",
                "sum(rate(foo{bar=\"baz\"}[5m])) by (a)"
            )]))
            .unwrap(),
            r#"{"status":"success","data":"sum by (a) (rate(foo{bar=\"baz\"}[5m]))"}"#
        );
        // Longer than 100 characters: split the way Prometheus' prettifier does.
        assert_eq!(
            format_query(&form(&[(
                "query",
                "sum by (job) (rate(http_requests_total{code=~\"5..\"}[5m])) / ignoring (code) group_left sum by (job) (rate(http_requests_total[5m]))"
            )]))
            .unwrap(),
            r#"{"status":"success","data":"  sum by (job) (rate(http_requests_total{code=~\"5..\"}[5m]))\n/ ignoring (code) group_left ()\n  sum by (job) (rate(http_requests_total[5m]))"}"#
        );
        let (status, body) = error_body(format_query(&form(&[("query", "foo{")])));
        assert_eq!(status, 400);
        assert!(
            body.starts_with(r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:"#),
            "{body}"
        );
    }

    #[test]
    fn limits_truncate_with_a_warning() {
        let sample = |v: f64| VectorSample {
            labels: Labels::new(vec![("a".to_string(), v.to_string())]),
            t: 0,
            v,
            h: None,
        };
        let mut result = QueryResult {
            value: Value::Vector(vec![sample(1.0), sample(2.0), sample(3.0)]),
            annotations: Annotations::default(),
        };
        apply_limit(&mut result, 3);
        assert!(result.annotations.warnings.is_empty());
        apply_limit(&mut result, 2);
        assert_eq!(
            json::query_success(&result),
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"1"},"value":[0,"1"]},{"metric":{"a":"2"},"value":[0,"2"]}]},"warnings":["results truncated due to limit"]}"#
        );
    }

    #[test]
    fn metadata_grouped_sorted_and_limited() {
        let entry = |metric: &str, kind: &str, help: &str| MetricMetadata {
            metric_family_name: metric.to_string(),
            r#type: kind.to_string(),
            help: help.to_string(),
            unit: String::new(),
        };
        let entries = vec![
            entry("up", "gauge", "Up."),
            entry("a_total", "counter", "A <b>."),
            entry("up", "gauge", "Up."),
        ];
        assert_eq!(
            metadata_json(entries.clone(), -1, -1),
            r#"{"status":"success","data":{"a_total":[{"type":"counter","help":"A \u003cb\u003e.","unit":""}],"up":[{"type":"gauge","help":"Up.","unit":""}]}}"#
        );
        assert_eq!(
            metadata_json(entries, 1, -1),
            r#"{"status":"success","data":{"a_total":[{"type":"counter","help":"A \u003cb\u003e.","unit":""}]}}"#
        );
        assert_eq!(
            metadata_json(vec![], -1, -1),
            r#"{"status":"success","data":{}}"#
        );
    }

    #[test]
    fn range_results_are_sorted_by_labels() {
        // Runs only once the engine evaluates; until then it must fail with the engine's error.
        let mut storage = MemoryStorage::new();
        for (job, v) in [("b", 2.0), ("a", 1.0)] {
            storage.append(
                Labels::new(vec![
                    ("__name__".to_string(), "up".to_string()),
                    ("job".to_string(), job.to_string()),
                ]),
                [Sample { t: 0, v }, Sample { t: 15_000, v }],
            );
        }
        let engine = Engine::default();
        let query = RangeQuery {
            query: "up".to_string(),
            start_ms: 0,
            end_ms: 15_000,
            step_ms: 15_000,
            timeout: None,
            limit: 0,
        };
        assert_eq!(
            run_range(&engine, &storage, &query).unwrap(),
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"up","job":"a"},"values":[[0,"1"],[15,"1"]]},{"metric":{"__name__":"up","job":"b"},"values":[[0,"2"],[15,"2"]]}]}}"#
        );
        let instant = InstantQuery {
            query: "up".to_string(),
            time_ms: 15_000,
            timeout: None,
            limit: 1,
        };
        assert_eq!(
            run_instant(&engine, &storage, &instant).unwrap(),
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"up","job":"a"},"value":[15,"1"]}]},"warnings":["results truncated due to limit"]}"#
        );
    }
}
