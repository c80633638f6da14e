//! The host's own metrics (bus calls, loaded plugins), served with every component's on `/metrics`.

use std::time::Duration;

use mimir_abi::BusError;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    destination: String,
    method: String,
    transport: String,
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DurationLabels {
    destination: String,
    transport: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PluginLabels {
    component: String,
    version: String,
    path: String,
}

pub struct HostMetrics {
    registry: Registry,
    calls: Family<CallLabels, Counter>,
    durations: Family<DurationLabels, Histogram>,
    plugins: Family<PluginLabels, Gauge>,
}

impl Default for HostMetrics {
    fn default() -> HostMetrics {
        HostMetrics::new()
    }
}

impl HostMetrics {
    pub fn new() -> HostMetrics {
        let mut registry = Registry::default();
        let calls = Family::<CallLabels, Counter>::default();
        registry.register(
            "mimir_host_bus_calls",
            "Bus calls made from this process, by destination, method, transport and result code",
            calls.clone(),
        );
        let durations = Family::<DurationLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.000_01, 4.0, 12))
        });
        registry.register(
            "mimir_host_bus_call_duration_seconds",
            "Time bus calls made from this process took",
            durations.clone(),
        );
        let plugins = Family::<PluginLabels, Gauge>::default();
        registry.register(
            "mimir_host_plugin_info",
            "Components this process runs, with the version and file of their plugin",
            plugins.clone(),
        );
        HostMetrics {
            registry,
            calls,
            durations,
            plugins,
        }
    }

    pub fn observe_call(
        &self,
        destination: &str,
        method: &str,
        transport: &str,
        result: &Result<Vec<u8>, BusError>,
        elapsed: Duration,
    ) {
        let code = match result {
            Ok(_) => "ok",
            Err(error) => error.error_code().as_str(),
        };
        self.calls
            .get_or_create(&CallLabels {
                destination: destination.to_string(),
                method: method.to_string(),
                transport: transport.to_string(),
                code: code.to_string(),
            })
            .inc();
        self.durations
            .get_or_create(&DurationLabels {
                destination: destination.to_string(),
                transport: transport.to_string(),
            })
            .observe(elapsed.as_secs_f64());
    }

    pub fn plugin_loaded(&self, component: &str, version: &str, path: &str) {
        self.plugins
            .get_or_create(&PluginLabels {
                component: component.to_string(),
                version: version.to_string(),
                path: path.to_string(),
            })
            .set(1);
    }

    /// The host's metrics in the OpenMetrics text format, without the final `# EOF`.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        if let Err(error) = prometheus_client::encoding::text::encode(&mut text, &self.registry) {
            tracing::error!(%error, "cannot encode host metrics");
            return String::new();
        }
        text.strip_suffix("# EOF\n").unwrap_or(&text).to_string()
    }
}
