//! The host's own config sections: `target`, `instance_id`, `server`, `log`, `plugins`, `bus`.
//! Component sections come from plugin manifests; `crate::config` layers both.

use std::collections::BTreeMap;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Top-level keys the host owns. Everything else at the top level is a component's section.
pub const HOST_SECTIONS: [&str; 6] = ["target", "instance_id", "server", "log", "plugins", "bus"];

/// The host's configuration.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct HostConfig {
    /// Comma-separated list of components and groups to run in this process (`all`, `read`, `write`,
    /// `backend`, a component name, or any group a plugin manifest names).
    pub target: String,
    /// Unique name of this process among its peers. Empty means `<hostname>:<grpc port>`.
    pub instance_id: String,
    pub server: ServerConfig,
    pub log: LogConfig,
    pub plugins: PluginsConfig,
    pub bus: BusConfig,
}

impl Default for HostConfig {
    fn default() -> HostConfig {
        HostConfig {
            target: "all".to_string(),
            instance_id: String::new(),
            server: ServerConfig::default(),
            log: LogConfig::default(),
            plugins: PluginsConfig::default(),
            bus: BusConfig::default(),
        }
    }
}

/// HTTP and gRPC servers shared by every component of the process.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// HTTP server listen address; empty means all interfaces.
    pub http_listen_address: String,
    /// HTTP server listen port.
    pub http_listen_port: u16,
    /// gRPC server listen address; empty means all interfaces.
    pub grpc_listen_address: String,
    /// gRPC server listen port.
    pub grpc_listen_port: u16,
    /// Address other processes reach this one's gRPC server at (`host:port`). Empty means the listen
    /// address (or 127.0.0.1 when listening on all interfaces) and the gRPC port.
    pub grpc_advertise_address: String,
    /// Limit on the size of a gRPC message this server can receive (bytes).
    pub grpc_server_max_recv_msg_size: u64,
    /// Time components get to stop on shutdown, e.g. `30s`.
    pub graceful_shutdown_timeout: String,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            http_listen_address: String::new(),
            http_listen_port: 8080,
            grpc_listen_address: String::new(),
            grpc_listen_port: 9095,
            grpc_advertise_address: String::new(),
            grpc_server_max_recv_msg_size: 100 * 1024 * 1024,
            graceful_shutdown_timeout: "30s".to_string(),
        }
    }
}

/// Logging.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// Log filter: a level (`error`, `warn`, `info`, `debug`, `trace`) or `tracing` directives such
    /// as `info,mimir_example_greeter=debug`. Plugins log with the same filter.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> LogConfig {
        LogConfig {
            level: "info".to_string(),
        }
    }
}

/// Where plugins are found.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PluginsConfig {
    /// Comma-separated directories searched for plugin files (`libmimir_*.so`). Empty means the
    /// executable's own directory, then `./plugins`.
    pub dir: Vec<String>,
}

/// The inter-component bus.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct BusConfig {
    /// Where components that do not run in this process are reached:
    /// `component=host:port,other=host:port` (gRPC addresses). Used until membership exists.
    pub peers: BTreeMap<String, String>,
}

impl HostConfig {
    /// Checks what serde cannot; errors name the flag.
    pub fn validate(&self) -> Result<(), String> {
        if self.target.split(',').all(|t| t.trim().is_empty()) {
            return Err("-target must name at least one component or group".to_string());
        }
        self.server.shutdown_timeout()?;
        for (component, address) in &self.bus.peers {
            if address.parse::<std::net::SocketAddr>().is_err() && !address.contains(':') {
                return Err(format!(
                    "-bus.peers: address `{address}` of `{component}` must be host:port"
                ));
            }
        }
        Ok(())
    }

    /// The instance id, defaulted to `<hostname>:<grpc port>`.
    pub fn instance_id(&self) -> String {
        if !self.instance_id.is_empty() {
            return self.instance_id.clone();
        }
        let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".to_string());
        format!("{hostname}:{}", self.server.grpc_listen_port)
    }
}

impl ServerConfig {
    pub fn shutdown_timeout(&self) -> Result<Duration, String> {
        humantime::parse_duration(&self.graceful_shutdown_timeout).map_err(|error| {
            format!(
                "-server.graceful-shutdown-timeout: invalid duration `{}`: {error}",
                self.graceful_shutdown_timeout
            )
        })
    }

    fn listen_host(address: &str) -> &str {
        if address.is_empty() {
            "0.0.0.0"
        } else {
            address
        }
    }

    pub fn http_bind(&self) -> String {
        format!(
            "{}:{}",
            Self::listen_host(&self.http_listen_address),
            self.http_listen_port
        )
    }

    pub fn grpc_bind(&self) -> String {
        format!(
            "{}:{}",
            Self::listen_host(&self.grpc_listen_address),
            self.grpc_listen_port
        )
    }

    /// The gRPC address peers use for this process, given the port actually bound.
    pub fn grpc_advertise(&self, bound_port: u16) -> String {
        if !self.grpc_advertise_address.is_empty() {
            return self.grpc_advertise_address.clone();
        }
        let host = match self.grpc_listen_address.as_str() {
            "" | "0.0.0.0" | "::" => "127.0.0.1",
            other => other,
        };
        format!("{host}:{bound_port}")
    }
}
