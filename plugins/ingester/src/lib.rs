//! The ingester component: keeps each tenant's recent samples in an in-memory head (`mimir-tsdb`)
//! backed by a write-ahead log (`mimir-wal`), so that nothing it acknowledged is lost on a crash;
//! serves pushes from distributors and reads from queriers over the bus; and keeps its entry in the
//! ingester ring (in the host's KV) alive.
//!
//! Like every component it depends only on the SDK, `mimir-proto` and `plugins/libs/*`.

mod histograms;
mod http;
mod lifecycler;
mod query;
mod records;
mod selections;
mod tenant;
mod tenants;
mod wire;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use mimir_ingester_client::{
    IngesterConfig, WritePathConfig, parse_duration, reload_overrides, write_path_sections,
};
use mimir_plugin_sdk::http::{HttpRequest, HttpResponse};
use mimir_plugin_sdk::{
    CallMeta, Component, Context, Error, ErrorCode, HttpRoute, PluginManifest, Request,
    SharedSection,
};
use mimir_proto::Message;
use mimir_proto::ingester::{
    LabelNamesRequest, LabelValuesRequest, MetadataRequest, MetadataResponse, QueryRequest,
    SeriesRequest,
};
use mimir_ring::InstanceState;
use mimir_validation::{Limits, Overrides};

use crate::lifecycler::Lifecycler;
use crate::tenant::Durability;
use crate::tenants::Tenants;

pub struct Ingester {
    config: IngesterConfig,
    overrides: Arc<Overrides>,
    tenants: Arc<Tenants>,
    lifecycler: Lifecycler,
    accepting: AtomicBool,
    /// Instances in the ring, refreshed every heartbeat (for the local series limit).
    ring_size: AtomicUsize,
    checkpoint_interval: Duration,
    retention: Duration,
    heartbeat_period: Duration,
}

fn route(method: &str, path: &str, description: &str) -> HttpRoute {
    HttpRoute {
        method: method.to_string(),
        path: path.to_string(),
        prefix: false,
        description: description.to_string(),
    }
}

fn tenant_of(meta: &CallMeta) -> Result<&str, Error> {
    if meta.tenant.is_empty() {
        return Err(Error::new(ErrorCode::Unauthorized, "no org id"));
    }
    Ok(&meta.tenant)
}

/// Runs blocking storage work (WAL I/O) off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result,
        Err(error) if error.is_panic() => Err(Error::panicked("ingester storage task panicked")),
        Err(error) => Err(Error::internal(format!(
            "storage task did not finish: {error}"
        ))),
    }
}

impl Ingester {
    fn durability(config: &IngesterConfig) -> Result<Durability, Error> {
        if config.wal.fsync == "always" {
            return Ok(Durability::Always);
        }
        parse_duration(&config.wal.fsync, "-ingester.wal.fsync").map(Durability::Interval)
    }

    async fn push(&self, request: Request) -> Result<Vec<u8>, Error> {
        if !self.accepting.load(Ordering::Acquire) {
            return Err(Error::unavailable("ingester is shutting down"));
        }
        let tenant = tenant_of(&request.meta)?.to_string();
        let payload = request.payload;
        let limits = self.overrides.for_tenant(&tenant);
        let db = self.tenants.get_or_open(&tenant, &limits).await?;
        let max_series = self.local_series_limit(&limits);
        let response = blocking(move || db.push(&payload, max_series)).await?;
        Ok(response.encode_to_vec())
    }

    /// This ingester's share of the tenant's global series limit: global × replication factor ÷
    /// ingesters in the ring, as Mimir computes it.
    fn local_series_limit(&self, limits: &Limits) -> usize {
        let global = limits.max_global_series_per_user;
        if global == 0 {
            return 0;
        }
        let ingesters = self.ring_size.load(Ordering::Relaxed).max(1);
        let replication = self.config.replication_factor();
        (global * replication).div_ceil(ingesters)
    }

    async fn read(&self, request: Request) -> Result<Vec<u8>, Error> {
        let tenant = tenant_of(&request.meta)?;
        let Some(db) = self.tenants.get(tenant) else {
            return self.empty_reply(&request.method);
        };
        let head = &db.head;
        let reply = match request.method.as_str() {
            "QueryStream" => {
                let query: QueryRequest = request.decode()?;
                let limit = self.config.query_batch_series as usize;
                query::query_page(head, &db.selections, &query, limit)?
            }
            "LabelNames" => {
                let r: LabelNamesRequest = request.decode()?;
                query::label_names(head, &r.matchers, r.start_ms, r.end_ms)?.encode_to_vec()
            }
            "LabelValues" => {
                let r: LabelValuesRequest = request.decode()?;
                query::label_values(head, &r.name, &r.matchers, r.start_ms, r.end_ms)?
                    .encode_to_vec()
            }
            "Series" => {
                let r: SeriesRequest = request.decode()?;
                query::series(head, &r.matchers, r.start_ms, r.end_ms)?.encode_to_vec()
            }
            "Metadata" => {
                let r: MetadataRequest = request.decode()?;
                MetadataResponse {
                    metadata: db.metadata(&r.metric, r.limit as usize),
                }
                .encode_to_vec()
            }
            other => {
                return Err(Error::not_found(format!(
                    "ingester has no bus method `{other}`"
                )));
            }
        };
        Ok(reply)
    }

    fn empty_reply(&self, method: &str) -> Result<Vec<u8>, Error> {
        match method {
            "QueryStream" | "LabelNames" | "LabelValues" | "Series" | "Metadata" => Ok(Vec::new()),
            other => Err(Error::not_found(format!(
                "ingester has no bus method `{other}`"
            ))),
        }
    }

    async fn refresh_ring_size(&self) {
        match self.lifecycler.ring().await {
            Ok(ring) => self
                .ring_size
                .store(ring.instances.len(), Ordering::Relaxed),
            Err(error) => tracing::warn!(%error, "cannot read the ingester ring"),
        }
    }

    /// Syncs every tenant's WAL and writes a checkpoint (what `/ingester/flush` does).
    async fn flush(&self) -> Result<(), Error> {
        let retain_after =
            lifecycler::now_ms() - i64::try_from(self.retention.as_millis()).unwrap_or(i64::MAX);
        for db in self.tenants.all() {
            blocking(move || db.checkpoint(retain_after)).await?;
        }
        Ok(())
    }
}

impl Component for Ingester {
    type Config = ();

    fn manifest() -> PluginManifest {
        PluginManifest {
            name: "ingester".to_string(),
            description: "Keeps recent samples per tenant in memory and in a write-ahead log"
                .to_string(),
            groups: vec!["all".to_string(), "write".to_string()],
            bus_methods: [
                "Push",
                "QueryStream",
                "LabelNames",
                "LabelValues",
                "Series",
                "Metadata",
            ]
            .iter()
            .map(|m| (*m).to_string())
            .collect(),
            http_routes: vec![
                route("GET", "/ingester/ring", "Ingester ring status"),
                route(
                    "POST",
                    "/ingester/flush",
                    "Sync the WAL and write checkpoints",
                ),
                route(
                    "POST",
                    "/ingester/shutdown",
                    "Flush, leave the ring, stop accepting pushes",
                ),
            ],
            ..PluginManifest::default()
        }
    }

    fn shared_sections() -> Vec<SharedSection> {
        write_path_sections()
    }

    fn new(context: Context, _config: ()) -> Result<Ingester, Error> {
        let WritePathConfig {
            ingester: config,
            overrides,
            ..
        } = WritePathConfig::read(&context)?;
        let durability = Ingester::durability(&config)?;
        let tenants = Arc::new(Tenants::new(
            config.data_dir.clone().into(),
            durability,
            config.wal.segment_size_bytes,
        ));
        let lifecycler = Lifecycler::new(
            context.kv(),
            context.instance_id().to_string(),
            format!("ingester@{}", context.advertise_address()),
            config.ring.instance_availability_zone.clone(),
            config.ring.num_tokens as usize,
        );
        Ok(Ingester {
            checkpoint_interval: parse_duration(
                &config.checkpoint_interval,
                "-ingester.checkpoint-interval",
            )?,
            retention: parse_duration(&config.retention_period, "-ingester.retention-period")?,
            heartbeat_period: config.heartbeat_period()?,
            config,
            overrides,
            tenants,
            lifecycler,
            accepting: AtomicBool::new(true),
            ring_size: AtomicUsize::new(1),
        })
    }

    async fn start(&self) -> Result<(), Error> {
        // The KV may live in another process that is not up yet: keep trying, as Mimir's
        // lifecycler does. The host stops waiting on SIGTERM.
        let mut backoff = Duration::from_millis(100);
        while let Err(error) = self.lifecycler.set_state(InstanceState::Joining).await {
            tracing::warn!(%error, "cannot join the ingester ring yet; retrying");
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
        let tenants = Arc::clone(&self.tenants);
        let overrides = Arc::clone(&self.overrides);
        let opened = tenants.open_existing(&overrides).await?;
        tracing::info!(tenants = opened, "WAL replayed");
        self.lifecycler.set_state(InstanceState::Active).await?;
        self.refresh_ring_size().await;
        Ok(())
    }

    async fn run(&self) -> Result<(), Error> {
        let mut checkpoints = tokio::time::interval(self.checkpoint_interval);
        checkpoints.tick().await;
        let mut reloads = tokio::time::interval(self.overrides.reload_period());
        let mut ring_reads = tokio::time::interval(self.heartbeat_period);
        let heartbeat = self.lifecycler.heartbeat_loop(self.heartbeat_period);
        tokio::pin!(heartbeat);
        loop {
            tokio::select! {
                () = &mut heartbeat => {}
                _ = checkpoints.tick() => {
                    if let Err(error) = self.flush().await {
                        tracing::error!(%error, "WAL checkpoint failed");
                    }
                }
                _ = ring_reads.tick() => self.refresh_ring_size().await,
                _ = reloads.tick() => {
                    reload_overrides(&self.overrides).await;
                }
            }
        }
    }

    async fn stop(&self) -> Result<(), Error> {
        self.accepting.store(false, Ordering::Release);
        for db in self.tenants.all() {
            blocking(move || db.sync()).await?;
        }
        if let Err(error) = self.lifecycler.leave().await {
            tracing::warn!(%error, "cannot leave the ring");
        }
        Ok(())
    }

    async fn handle(&self, request: Request) -> Result<Vec<u8>, Error> {
        match request.method.as_str() {
            "Push" => self.push(request).await,
            _ => self.read(request).await,
        }
    }

    async fn http(&self, request: HttpRequest, _meta: CallMeta) -> HttpResponse {
        http::serve(self, request).await
    }
}

mimir_plugin_sdk::export_component!(Ingester);
