//! The `echo` example component: serves bus method `Echo`, answering what it was sent together with
//! what the call carried (tenant, time left until the deadline, caller), and `Bytes`, answering its
//! payload unchanged (what the bus benchmark uses, to measure the bus and not the component). The `greeter` example calls
//! it; together they show a bus call that is a function call in one process and gRPC across two.
//!
//! Like every component it depends only on the SDK and `mimir-proto`.

use mimir_plugin_sdk::{Component, Context, Counter, Error, PluginManifest, Request};
use mimir_proto::Message;
use mimir_proto::examples::{EchoReply, EchoRequest};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Config section `echo`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct EchoConfig {
    /// Text put before every echoed text.
    pub prefix: String,
}

pub struct Echo {
    context: Context,
    config: EchoConfig,
    requests: Counter,
}

impl Component for Echo {
    type Config = EchoConfig;

    fn manifest() -> PluginManifest {
        PluginManifest {
            name: "echo".to_string(),
            description: "Example: answers bus method Echo with what the call carried".to_string(),
            groups: vec!["examples".to_string()],
            bus_methods: vec!["Echo".to_string(), "Bytes".to_string()],
            config_section: "echo".to_string(),
            ..PluginManifest::default()
        }
    }

    fn new(context: Context, config: EchoConfig) -> Result<Echo, Error> {
        let requests = Counter::default();
        context
            .registry()
            .register("echo_requests", "Echo calls served", requests.clone());
        Ok(Echo {
            context,
            config,
            requests,
        })
    }

    async fn handle(&self, request: Request) -> Result<Vec<u8>, Error> {
        if request.method == "Bytes" {
            return Ok(request.payload);
        }
        if request.method != "Echo" {
            return Err(Error::not_found(format!(
                "echo has no bus method `{}`",
                request.method
            )));
        }
        let echo: EchoRequest = request.decode()?;
        self.requests.inc();
        tracing::debug!(text = %echo.text, caller = %request.meta.caller, "echo");
        let deadline_remaining_ms = request
            .meta
            .remaining()
            .map(|left| u64::try_from(left.as_millis()).unwrap_or(u64::MAX).max(1))
            .unwrap_or(0);
        let reply = EchoReply {
            text: format!("{}{}", self.config.prefix, echo.text),
            tenant: request.meta.tenant.clone(),
            deadline_remaining_ms,
            caller: request.meta.caller.clone(),
            served_by: self.context.identity().to_string(),
        };
        Ok(reply.encode_to_vec())
    }
}

mimir_plugin_sdk::export_component!(Echo);
