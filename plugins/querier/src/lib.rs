//! The querier component: the Prometheus HTTP API (`/prometheus/api/v1/query`, `query_range`,
//! `series`, `labels`, `label/<name>/values`, `metadata`, `status/buildinfo`, `format_query`) over
//! the ingesters, as Mimir's querier serves it under `-http.prometheus-http-prefix`. PromQL is
//! evaluated by `mimir-promql`'s engine on a blocking thread, reading series from every healthy
//! ingester of the ring (see [`storage`]).
//!
//! Like every component it depends only on the SDK, `mimir-proto` and `plugins/libs/*`.

/// This plugin's allocator: the read path allocates per series (label strings, sample vectors,
/// engine steps), and glibc's malloc was a fifth of a query's CPU. The ingester and the
/// distributor keep the system allocator: with mimalloc the write path's memory per series nearly
/// doubled (retained pages), for 25% less CPU per sample. Each plugin is its own dynamic library with its own allocator; memory crosses the ABI
/// only in `abi_stable` types, which free with the allocator that allocated them. mimalloc is built
/// with local-dynamic TLS, as the plugins are `dlopen`ed, many at once.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod api;
mod config;
mod json;
mod params;
mod storage;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use mimir_ingester_client::{
    IngesterClient, IngesterConfig, WritePathConfig, reload_overrides, write_path_sections,
};
use mimir_plugin_sdk::http::{self, HttpRequest, HttpResponse};
use mimir_plugin_sdk::{
    CallMeta, Component, Context, Error, Gauge, HttpRoute, PluginManifest, SharedSection,
};
use mimir_promql::engine::EngineOptions;
use mimir_validation::{
    ANONYMOUS_TENANT, AuthConfig, ORG_ID_HEADER, Overrides, tenant_from_org_id,
};
use tokio::sync::Semaphore;

use crate::api::{ApiError, ApiResult, QueryKind, QueryRun, Reader};
use crate::config::QuerierConfig;
use crate::params::Form;
use crate::storage::{ReadSet, read_set};
use mimir_ingester_client::RingWatcher;

/// Mimir's `-http.prometheus-http-prefix`.
pub const PROMETHEUS_PREFIX: &str = "/prometheus";

/// The API's endpoints under the prefix: (path, prefix route, description).
const ENDPOINTS: [(&str, bool, &str); 8] = [
    ("/api/v1/query", false, "PromQL instant query"),
    ("/api/v1/query_range", false, "PromQL range query"),
    ("/api/v1/series", false, "Series matching selectors"),
    ("/api/v1/labels", false, "Label names"),
    ("/api/v1/label", true, "Label values: /label/<name>/values"),
    ("/api/v1/metadata", false, "Metric metadata"),
    ("/api/v1/status/buildinfo", false, "Build information"),
    ("/api/v1/format_query", false, "Formats a PromQL expression"),
];

pub struct Querier {
    config: QuerierConfig,
    ingester: IngesterConfig,
    auth: AuthConfig,
    /// Per-tenant limits (the name validation scheme of label names in paths).
    overrides: Arc<Overrides>,
    ring: RingWatcher,
    client: IngesterClient,
    heartbeat_timeout: Duration,
    concurrency: Arc<Semaphore>,
    /// Queries being evaluated or waiting for a slot.
    queries: Gauge,
}

/// Counts a query in the gauge while it lives, also when the caller goes away mid-query.
struct InFlight<'a>(&'a Gauge);

impl<'a> InFlight<'a> {
    fn new(gauge: &'a Gauge) -> InFlight<'a> {
        gauge.inc();
        InFlight(gauge)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn json_response(status: u16, body: String) -> HttpResponse {
    http::response(status, "application/json", body.into_bytes())
}

fn answer(result: ApiResult) -> HttpResponse {
    match result {
        Ok(body) => json_response(200, body),
        Err(error) => {
            if error.status >= 500 {
                tracing::warn!(status = error.status, error = %error.message, "query failed");
            }
            json_response(error.status, error.body())
        }
    }
}

impl Querier {
    fn engine_options(&self) -> EngineOptions {
        EngineOptions {
            lookback_delta_ms: self.config.lookback_delta.as_millis_i64(),
            max_samples: self.config.max_samples,
            timeout: self.config.timeout.as_duration(),
            default_subquery_step_ms: self.config.default_evaluation_interval.as_millis_i64(),
        }
    }

    async fn read_set(&self) -> Result<ReadSet, ApiError> {
        let ring = self
            .ring
            .current()
            .await
            .map_err(|e| ApiError::from_bus(&e))?;
        let timeout_ms = i64::try_from(self.heartbeat_timeout.as_millis()).unwrap_or(i64::MAX);
        read_set(
            &ring,
            self.ingester.replication_factor(),
            now_ms(),
            timeout_ms,
        )
        .map_err(|e| ApiError::from_bus(&e))
    }

    async fn query(&self, tenant: String, kind: QueryKind) -> ApiResult {
        let _in_flight = InFlight::new(&self.queries);
        let arrived = std::time::Instant::now();
        let _permit = self
            .concurrency
            .acquire()
            .await
            .map_err(|_| ApiError::from_bus(&Error::unavailable("the querier is stopping")))?;
        let run = QueryRun {
            // The plugin's own runtime: the engine's thread blocks on ingester calls through it.
            handle: mimir_plugin_sdk::runtime().handle().clone(),
            client: self.client.clone(),
            tenant,
            read_set: self.read_set().await?,
            options: self.engine_options(),
            arrived,
        };
        let evaluation = mimir_plugin_sdk::runtime().spawn_blocking(move || run.run(&kind));
        match evaluation.await {
            Ok(result) => result,
            Err(error) => Err(ApiError::from_bus(&Error::internal(format!(
                "query evaluation did not finish: {error}"
            )))),
        }
    }

    async fn reader(&self, tenant: String) -> Result<Reader, ApiError> {
        Ok(Reader {
            client: self.client.clone(),
            tenant,
            read_set: self.read_set().await?,
            timeout: self.config.timeout.as_duration(),
        })
    }

    async fn serve(&self, endpoint: &str, tenant: String, form: &Form) -> ApiResult {
        match endpoint {
            "/api/v1/query" => {
                let query = api::parse_instant(form, now_ms())?;
                self.query(tenant, QueryKind::Instant(query)).await
            }
            "/api/v1/query_range" => {
                let query = api::parse_range(form)?;
                self.query(tenant, QueryKind::Range(query)).await
            }
            "/api/v1/series" => {
                let query = api::parse_series(form)?;
                self.reader(tenant).await?.series(&query).await
            }
            "/api/v1/labels" => {
                let query = api::parse_metadata_query(form)?;
                self.reader(tenant).await?.label_names(&query).await
            }
            "/api/v1/metadata" => self.reader(tenant).await?.metadata(form).await,
            "/api/v1/status/buildinfo" => Ok(api::buildinfo()),
            "/api/v1/format_query" => api::format_query(form),
            other => match other.strip_prefix("/api/v1/label/") {
                Some(rest)
                    if rest.ends_with("/values") && !rest[..rest.len() - 7].contains('/') =>
                {
                    let scheme = self.overrides.for_tenant(&tenant).name_validation_scheme;
                    let name = api::label_name_from_path(rest, scheme)?;
                    let query = api::parse_metadata_query(form)?;
                    self.reader(tenant).await?.label_values(&name, &query).await
                }
                _ => Err(ApiError {
                    error_type: "not_found",
                    status: 404,
                    message: format!("no such endpoint: {PROMETHEUS_PREFIX}{other}"),
                }),
            },
        }
    }
}

impl Component for Querier {
    type Config = QuerierConfig;

    fn manifest() -> PluginManifest {
        PluginManifest {
            name: "querier".to_string(),
            description: "Serves the Prometheus HTTP query API over the ingesters".to_string(),
            groups: vec!["all".to_string(), "read".to_string()],
            dependencies: vec!["ingester".to_string()],
            http_routes: ENDPOINTS
                .iter()
                .map(|(path, prefix, description)| HttpRoute {
                    // GET and POST; other methods get 405 from the handler.
                    method: String::new(),
                    path: format!("{PROMETHEUS_PREFIX}{path}"),
                    prefix: *prefix,
                    description: (*description).to_string(),
                })
                .collect(),
            config_section: "querier".to_string(),
            ..PluginManifest::default()
        }
    }

    fn shared_sections() -> Vec<SharedSection> {
        write_path_sections()
    }

    fn new(context: Context, config: QuerierConfig) -> Result<Querier, Error> {
        let WritePathConfig {
            ingester,
            auth,
            overrides,
        } = WritePathConfig::read(&context)?;
        if config.timeout.is_zero() {
            return Err(Error::bad_request(
                "-querier.timeout must be greater than 0",
            ));
        }
        let queries: Gauge = Gauge::default();
        let concurrent_max: Gauge = Gauge::default();
        concurrent_max.set(i64::try_from(config.max_concurrent.max(1)).unwrap_or(i64::MAX));
        {
            let mut registry = context.registry();
            registry.register(
                "cortex_prometheus_engine_queries",
                "The current number of queries being executed or waiting",
                queries.clone(),
            );
            registry.register(
                "cortex_prometheus_engine_queries_concurrent_max",
                "The max number of concurrent queries",
                concurrent_max,
            );
        }
        Ok(Querier {
            queries,
            heartbeat_timeout: ingester.heartbeat_timeout()?,
            concurrency: Arc::new(Semaphore::new(config.max_concurrent.max(1))),
            config,
            ingester,
            auth,
            overrides,
            ring: RingWatcher::new(context.kv()),
            client: IngesterClient::new(context.bus().clone()),
        })
    }

    async fn run(&self) -> Result<(), Error> {
        let period = self.config.ring_refresh_period.as_duration();
        let watch = self.ring.watch(if period.is_zero() {
            Duration::from_secs(1)
        } else {
            period
        });
        tokio::pin!(watch);
        let mut reloads = tokio::time::interval(self.overrides.reload_period());
        loop {
            tokio::select! {
                () = &mut watch => {}
                _ = reloads.tick() => reload_overrides(&self.overrides).await,
            }
        }
    }

    async fn http(&self, request: HttpRequest, _meta: CallMeta) -> HttpResponse {
        if !request.method.eq_ignore_ascii_case("GET")
            && !request.method.eq_ignore_ascii_case("POST")
        {
            return http::text(405, "Method Not Allowed");
        }
        let tenant = if self.auth.multitenancy_enabled {
            match tenant_from_org_id(http::header(&request, ORG_ID_HEADER)) {
                Ok(tenant) => tenant,
                Err(error) => return http::text(error.status, error.message),
            }
        } else {
            ANONYMOUS_TENANT.to_string()
        };
        let endpoint = request
            .path
            .strip_prefix(PROMETHEUS_PREFIX)
            .unwrap_or(&request.path)
            .to_string();
        let form = Form::from_request(&request);
        answer(self.serve(&endpoint, tenant, &form).await)
    }
}

mimir_plugin_sdk::export_component!(Querier);
