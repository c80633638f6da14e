//! The distributor component: Prometheus remote write 1.0 in (`POST /api/v1/push`), per-tenant
//! rate limits and validation with Mimir's errors, then each series to the ingesters that own it in
//! the ingester ring (replication factor, quorum). Remote write 2.0 and OTLP come later.
//!
//! Like every component it depends only on the SDK, `mimir-proto` and `plugins/libs/*`.

mod config;
mod encode;
mod push;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use mimir_ingester_client::{
    IngesterClient, IngesterConfig, WritePathConfig, parse_duration, reload_overrides,
    write_path_sections,
};
use mimir_plugin_sdk::http::{self, HttpRequest, HttpResponse};
use mimir_plugin_sdk::{
    CallMeta, Component, Context, Counter, Error, Family, HttpRoute, PluginManifest, SharedSection,
};
use mimir_validation::{
    AuthConfig, Overrides, RateLimiter, decompress_write_request, discard_reason,
    tenant_from_org_id, validate_write_request,
};

use crate::config::DistributorConfig;
use crate::push::PushReply;
use mimir_ingester_client::RingWatcher;

pub struct Distributor {
    config: DistributorConfig,
    ingester: IngesterConfig,
    auth: AuthConfig,
    overrides: Arc<Overrides>,
    rate_limiter: RateLimiter,
    ring: RingWatcher,
    client: IngesterClient,
    remote_timeout: Duration,
    ring_refresh: Duration,
    heartbeat_timeout: Duration,
    received_samples: Counter,
    /// `cortex_discarded_samples_total{reason, user}`: samples refused by validation or the rate
    /// limit, by Mimir's reason.
    discarded_samples: Family<Vec<(String, String)>, Counter>,
}

/// Mimir's reason for samples refused by the ingestion rate limit.
const RATE_LIMITED: &str = "rate_limited";

impl Distributor {
    /// Counts `samples` of `tenant` discarded for `id` (an error id, or a reason itself).
    fn discard(&self, tenant: &str, id: &str, samples: usize) {
        if samples == 0 {
            return;
        }
        let reason = discard_reason(id).unwrap_or_else(|| id.to_string());
        self.discarded_samples
            .get_or_create(&vec![
                ("reason".to_string(), reason),
                ("user".to_string(), tenant.to_string()),
            ])
            .inc_by(samples as u64);
    }

    async fn push(&self, request: &HttpRequest) -> PushReply {
        let tenant = if self.auth.multitenancy_enabled {
            match tenant_from_org_id(http::header(request, "X-Scope-OrgID")) {
                Ok(tenant) => tenant,
                Err(error) => return PushReply::from_validation(&error),
            }
        } else {
            "anonymous".to_string()
        };
        let buffer = match decompress_write_request(&request.body, self.config.max_recv_msg_size) {
            Ok(buffer) => buffer,
            Err(error) => return PushReply::from_validation(&error),
        };
        let limits = self.overrides.for_tenant(&tenant);
        let validated = match validate_write_request(&limits, SystemTime::now(), &buffer) {
            Ok(validated) => validated,
            Err(error) => return PushReply::from_validation(&error),
        };
        for (id, samples) in &validated.discarded_samples {
            self.discard(&tenant, id, *samples);
        }
        if validated.is_empty() {
            return match validated.first_error() {
                Some(error) => PushReply::from_validation(error),
                None => PushReply::ok(),
            };
        }
        let items = validated.ingestion_items();
        if let Err(error) =
            self.rate_limiter
                .check_ingestion(&tenant, items, Instant::now(), &limits)
        {
            self.discard(&tenant, RATE_LIMITED, validated.accepted_samples());
            return PushReply::from_validation(&error);
        }
        let first_invalid = validated.first_error().cloned();
        let samples = validated.accepted_samples();
        let ring = match self.ring.current().await {
            Ok(ring) => ring,
            Err(error) => return PushReply::from_error(&error),
        };
        let pushes = match push::plan(
            &ring,
            self.ingester.replication_factor(),
            self.heartbeat_timeout,
            &tenant,
            &validated,
            buffer.len(),
        ) {
            Ok(pushes) => pushes,
            Err(error) => return PushReply::from_error(&error),
        };
        // The pushes own their bytes: the request's buffers can go before waiting on them.
        drop(validated);
        drop(buffer);
        let ingester_error =
            match push::distribute(&self.client, &tenant, pushes, self.remote_timeout).await {
                Ok(client_error) => client_error,
                Err(error) => return PushReply::from_error(&error),
            };
        self.received_samples.inc_by(samples as u64);
        if let Some(error) = first_invalid {
            return PushReply::from_validation(&error);
        }
        if let Some(message) = ingester_error {
            return PushReply {
                status: 400,
                message,
            };
        }
        PushReply::ok()
    }
}

impl Component for Distributor {
    type Config = DistributorConfig;

    fn manifest() -> PluginManifest {
        PluginManifest {
            name: "distributor".to_string(),
            description:
                "Accepts Prometheus remote write, validates it and shards it over ingesters"
                    .to_string(),
            groups: vec!["all".to_string(), "write".to_string()],
            dependencies: vec!["ingester".to_string()],
            http_routes: vec![HttpRoute {
                method: "POST".to_string(),
                path: "/api/v1/push".to_string(),
                prefix: false,
                description: "Prometheus remote write 1.0".to_string(),
            }],
            config_section: "distributor".to_string(),
            ..PluginManifest::default()
        }
    }

    fn shared_sections() -> Vec<SharedSection> {
        write_path_sections()
    }

    fn new(context: Context, config: DistributorConfig) -> Result<Distributor, Error> {
        let WritePathConfig {
            ingester,
            auth,
            overrides,
        } = WritePathConfig::read(&context)?;
        let received_samples = Counter::default();
        context.registry().register(
            "cortex_distributor_received_samples",
            "The total number of received samples, excluding rejected and deduped samples",
            received_samples.clone(),
        );
        let discarded_samples = Family::default();
        context.registry().register(
            "cortex_discarded_samples",
            "The total number of samples that were discarded",
            discarded_samples.clone(),
        );
        Ok(Distributor {
            remote_timeout: parse_duration(&config.remote_timeout, "-distributor.remote-timeout")?,
            ring_refresh: parse_duration(
                &config.ring_refresh_period,
                "-distributor.ring-refresh-period",
            )?,
            heartbeat_timeout: ingester.heartbeat_timeout()?,
            config,
            ingester,
            auth,
            overrides,
            rate_limiter: RateLimiter::new(),
            ring: RingWatcher::new(context.kv()),
            client: IngesterClient::new(context.bus().clone()),
            received_samples,
            discarded_samples,
        })
    }

    async fn run(&self) -> Result<(), Error> {
        let mut reloads = tokio::time::interval(self.overrides.reload_period());
        let watch = self.ring.watch(self.ring_refresh);
        tokio::pin!(watch);
        loop {
            tokio::select! {
                () = &mut watch => {}
                _ = reloads.tick() => {
                    reload_overrides(&self.overrides).await;
                }
            }
        }
    }

    async fn http(&self, request: HttpRequest, _meta: CallMeta) -> HttpResponse {
        let reply = self.push(&request).await;
        if reply.status >= 500 {
            tracing::warn!(status = reply.status, error = %reply.message, "push failed");
        }
        http::text(reply.status, reply.message)
    }
}

mimir_plugin_sdk::export_component!(Distributor);
