//! The `greeter` example component: serves `GET /greeter/hello?name=<name>` and builds its answer by
//! calling the `echo` component over the bus, carrying the request's tenant (`X-Scope-OrgID`) and a
//! deadline. Copy this crate to start your own component (see `plugins/examples/README.md`).
//!
//! Like every component it depends only on the SDK and `mimir-proto`, never on `echo` itself.

use std::time::Duration;

use mimir_plugin_sdk::http::{self, HttpRequest, HttpResponse};
use mimir_plugin_sdk::{CallMeta, Component, Context, Error, HttpRoute, PluginManifest};
use mimir_proto::examples::{EchoReply, EchoRequest};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tracing::Instrument;

/// Config section `greeter`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct GreeterConfig {
    /// Word the greeting starts with.
    pub greeting: String,
    /// How long a call to `echo` may take, in milliseconds.
    pub echo_timeout_ms: u64,
}

impl Default for GreeterConfig {
    fn default() -> GreeterConfig {
        GreeterConfig {
            greeting: "hello".to_string(),
            echo_timeout_ms: 5_000,
        }
    }
}

pub struct Greeter {
    context: Context,
    config: GreeterConfig,
}

/// What `GET /greeter/hello` answers.
#[derive(Debug, Serialize)]
struct Greeting {
    greeting: String,
    tenant: String,
    echo_caller: String,
    echo_served_by: String,
    echo_deadline_remaining_ms: u64,
}

impl Greeter {
    async fn greet(&self, name: &str, tenant: &str) -> Result<Greeting, Error> {
        let timeout = Duration::from_millis(self.config.echo_timeout_ms);
        let meta = CallMeta::for_tenant(tenant, Some(timeout));
        let request = EchoRequest {
            text: format!("{} {name}", self.config.greeting),
        };
        let reply: EchoReply = self
            .context
            .bus()
            .call_message("echo", "Echo", &meta, &request)
            .await?;
        tracing::info!(name = %name, served_by = %reply.served_by, "greeted");
        Ok(Greeting {
            greeting: reply.text,
            tenant: reply.tenant,
            echo_caller: reply.caller,
            echo_served_by: reply.served_by,
            echo_deadline_remaining_ms: reply.deadline_remaining_ms,
        })
    }
}

impl Component for Greeter {
    type Config = GreeterConfig;

    fn manifest() -> PluginManifest {
        PluginManifest {
            name: "greeter".to_string(),
            description: "Example: serves /greeter/hello by calling echo over the bus".to_string(),
            groups: vec!["examples".to_string()],
            dependencies: vec!["echo".to_string()],
            http_routes: vec![HttpRoute {
                method: "GET".to_string(),
                path: "/greeter/hello".to_string(),
                prefix: false,
                description: "Greets ?name= through the echo component".to_string(),
            }],
            config_section: "greeter".to_string(),
            ..PluginManifest::default()
        }
    }

    fn new(context: Context, config: GreeterConfig) -> Result<Greeter, Error> {
        Ok(Greeter { context, config })
    }

    async fn http(&self, request: HttpRequest, meta: CallMeta) -> HttpResponse {
        let name = http::query_param(&request, "name").unwrap_or_else(|| "world".to_string());
        let span = tracing::info_span!("greet", tenant = %meta.tenant);
        match self.greet(&name, &meta.tenant).instrument(span).await {
            Ok(greeting) => http::json(200, &greeting),
            Err(error) => http::error(&error),
        }
    }
}

mimir_plugin_sdk::export_component!(Greeter);
