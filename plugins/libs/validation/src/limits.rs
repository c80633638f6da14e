//! Per-tenant limits the distributor enforces, with Mimir's YAML keys and defaults (checked
//! against Mimir's `pkg/util/validation/limits.go`). One struct serves both the defaults in the
//! main config and each tenant's entry in the runtime overrides file; the `///` comments are the
//! reference documentation and the schema descriptions.

use crate::duration::PromDuration;
use crate::errors::ConfigError;

/// The name of the label that holds the metric name.
pub const METRIC_NAME_LABEL: &str = "__name__";

/// Per-tenant limits (Mimir's `limits` block and each entry of the runtime `overrides`).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Per-tenant ingestion rate limit in samples per second (samples, exemplars and metadata
    /// all count). Flag `-distributor.ingestion-rate-limit`.
    #[schemars(extend("x-flag" = "distributor.ingestion-rate-limit"))]
    pub ingestion_rate: f64,
    /// Per-tenant allowed ingestion burst size, in samples. A request with more items than this
    /// is always refused. Flag `-distributor.ingestion-burst-size`.
    #[schemars(extend("x-flag" = "distributor.ingestion-burst-size"))]
    pub ingestion_burst_size: usize,
    /// Handle samples with external labels identifying replicas in an HA Prometheus setup, for
    /// this tenant. Flag `-distributor.ha-tracker.enable-for-all-users`.
    #[schemars(extend("x-flag" = "distributor.ha-tracker.enable-for-all-users"))]
    pub accept_ha_samples: bool,
    /// Prometheus label that identifies an HA cluster. Flag `-distributor.ha-tracker.cluster`.
    #[schemars(extend("x-flag" = "distributor.ha-tracker.cluster"))]
    pub ha_cluster_label: String,
    /// Prometheus label that identifies an HA replica. Flag `-distributor.ha-tracker.replica`.
    #[schemars(extend("x-flag" = "distributor.ha-tracker.replica"))]
    pub ha_replica_label: String,
    /// Maximum length in bytes of a label name. Flag `-validation.max-length-label-name`.
    #[schemars(extend("x-flag" = "validation.max-length-label-name"))]
    pub max_label_name_length: usize,
    /// Maximum length in bytes of a label value, the metric name included. Flag
    /// `-validation.max-length-label-value`.
    #[schemars(extend("x-flag" = "validation.max-length-label-value"))]
    pub max_label_value_length: usize,
    /// Maximum number of labels per series. Flag `-validation.max-label-names-per-series`.
    #[schemars(extend("x-flag" = "validation.max-label-names-per-series"))]
    pub max_label_names_per_series: usize,
    /// Maximum number of labels per info series (metric name ending in `_info`); no effect when
    /// below `max_label_names_per_series`. Flag `-validation.max-label-names-per-info-series`.
    #[schemars(extend("x-flag" = "validation.max-label-names-per-info-series"))]
    pub max_label_names_per_info_series: usize,
    /// Maximum length of metric metadata (metric name, HELP, UNIT). Longer metadata is dropped,
    /// except HELP which is truncated. Flag `-validation.max-metadata-length`.
    #[schemars(extend("x-flag" = "validation.max-metadata-length"))]
    pub max_metadata_length: usize,
    /// How far into the future samples are accepted compared to the wall clock: a sample is
    /// rejected when its timestamp is after now + this period. Flag
    /// `-validation.create-grace-period`.
    #[schemars(extend("x-flag" = "validation.create-grace-period"))]
    pub creation_grace_period: PromDuration,
    /// How far into the past samples are accepted compared to the wall clock: a sample is
    /// rejected when its timestamp is before now - `out_of_order_time_window` - this period.
    /// 0 disables the check. Flag `-validation.past-grace-period`.
    #[schemars(extend("x-flag" = "validation.past-grace-period"))]
    pub past_grace_period: PromDuration,
    /// Reject metric metadata without a metric name. Flag
    /// `-validation.enforce-metadata-metric-name`.
    #[schemars(extend("x-flag" = "validation.enforce-metadata-metric-name"))]
    pub enforce_metadata_metric_name: bool,
    /// Maximum number of in-memory series per tenant across the cluster, before replication.
    /// 0 disables the limit. Enforced by ingesters. Flag `-ingester.max-global-series-per-user`.
    #[schemars(extend("x-flag" = "ingester.max-global-series-per-user"))]
    pub max_global_series_per_user: usize,
    /// Window in which out-of-order samples are accepted by ingesters; it also widens the
    /// `past_grace_period` check. 0 disables out-of-order ingestion. Flag
    /// `-ingester.out-of-order-time-window`.
    #[schemars(extend("x-flag" = "ingester.out-of-order-time-window"))]
    pub out_of_order_time_window: PromDuration,
    /// Validation scheme for metric and label names: `legacy` (`[a-zA-Z_:][a-zA-Z0-9_:]*` for
    /// metric names, `[a-zA-Z_][a-zA-Z0-9_]*` for label names) or `utf8` (any non-empty UTF-8).
    /// Flag `-validation.name-validation-scheme`.
    #[schemars(extend("x-flag" = "validation.name-validation-scheme"))]
    pub name_validation_scheme: NameValidationScheme,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            ingestion_rate: 10_000.0,
            ingestion_burst_size: 200_000,
            accept_ha_samples: false,
            ha_cluster_label: "cluster".to_owned(),
            ha_replica_label: "__replica__".to_owned(),
            max_label_name_length: 1024,
            max_label_value_length: 2048,
            max_label_names_per_series: 30,
            max_label_names_per_info_series: 80,
            max_metadata_length: 1024,
            creation_grace_period: PromDuration::from_mins(10),
            past_grace_period: PromDuration::ZERO,
            enforce_metadata_metric_name: true,
            max_global_series_per_user: 150_000,
            out_of_order_time_window: PromDuration::ZERO,
            name_validation_scheme: NameValidationScheme::Legacy,
        }
    }
}

impl Limits {
    /// Checks values serde cannot: the ingestion rate must be a non-negative number
    /// (`+Inf` is allowed and disables rate limiting, as in Go's `rate.Inf`).
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.ingestion_rate.is_nan() || self.ingestion_rate < 0.0 {
            return Err(ConfigError::InvalidLimit {
                key: "ingestion_rate",
                reason: "must be a non-negative number",
            });
        }
        Ok(())
    }
}

/// How metric and label names are validated (Mimir's `-validation.name-validation-scheme`).
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum NameValidationScheme {
    /// Prometheus' classic character sets; Mimir's default.
    #[default]
    Legacy,
    /// Any non-empty valid UTF-8 string.
    Utf8,
}

impl NameValidationScheme {
    /// Prometheus' `IsValidMetricName` under this scheme.
    pub fn is_valid_metric_name(self, name: &[u8]) -> bool {
        match self {
            Self::Legacy => is_legacy_name(name, true),
            Self::Utf8 => !name.is_empty() && std::str::from_utf8(name).is_ok(),
        }
    }

    /// Prometheus' `IsValidLabelName` under this scheme.
    pub fn is_valid_label_name(self, name: &[u8]) -> bool {
        match self {
            Self::Legacy => is_legacy_name(name, false),
            Self::Utf8 => !name.is_empty() && std::str::from_utf8(name).is_ok(),
        }
    }
}

/// Per byte: may start a legacy name.
const FIRST: u8 = 1;
/// Per byte: may follow in a legacy name.
const NEXT: u8 = 2;
/// Per byte: a colon (metric names only, anywhere).
const COLON: u8 = 4;

/// What each byte may be in a legacy name (a table: names are checked for every label of every
/// series).
static LEGACY_NAME_BYTES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut byte = 0;
    while byte < 256 {
        let c = byte as u8;
        if c.is_ascii_alphabetic() || c == b'_' {
            table[byte] = FIRST | NEXT;
        } else if c.is_ascii_digit() {
            table[byte] = NEXT;
        } else if c == b':' {
            table[byte] = COLON;
        }
        byte += 1;
    }
    table
};

/// `[a-zA-Z_][a-zA-Z0-9_]*`, with `:` allowed anywhere for metric names.
fn is_legacy_name(name: &[u8], allow_colon: bool) -> bool {
    let Some((first, rest)) = name.split_first() else {
        return false;
    };
    let colon = if allow_colon { COLON } else { 0 };
    LEGACY_NAME_BYTES[usize::from(*first)] & (FIRST | colon) != 0
        && rest
            .iter()
            .all(|byte| LEGACY_NAME_BYTES[usize::from(*byte)] & (NEXT | colon) != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_mimirs() {
        let yaml = serde_yaml_ng::to_string(&Limits::default()).unwrap();
        let expected = "\
ingestion_rate: 10000.0
ingestion_burst_size: 200000
accept_ha_samples: false
ha_cluster_label: cluster
ha_replica_label: __replica__
max_label_name_length: 1024
max_label_value_length: 2048
max_label_names_per_series: 30
max_label_names_per_info_series: 80
max_metadata_length: 1024
creation_grace_period: 10m
past_grace_period: 0s
enforce_metadata_metric_name: true
max_global_series_per_user: 150000
out_of_order_time_window: 0s
name_validation_scheme: legacy
";
        assert_eq!(yaml, expected);
    }

    #[test]
    fn partial_yaml_keeps_the_defaults_and_unknown_keys_fail() {
        let limits: Limits =
            serde_yaml_ng::from_str("ingestion_rate: 5\ncreation_grace_period: 1h\n").unwrap();
        assert_eq!(limits.ingestion_rate, 5.0);
        assert_eq!(limits.creation_grace_period.to_string(), "1h");
        assert_eq!(limits.max_label_names_per_series, 30);
        let error = serde_yaml_ng::from_str::<Limits>("ingestion_rat: 5\n").unwrap_err();
        assert!(
            error.to_string().contains("unknown field `ingestion_rat`"),
            "{error}"
        );
    }

    #[test]
    fn negative_rates_are_refused() {
        let limits = Limits {
            ingestion_rate: -1.0,
            ..Limits::default()
        };
        assert_eq!(
            limits.validate().unwrap_err().to_string(),
            "invalid value for `ingestion_rate`: must be a non-negative number"
        );
        assert!(Limits::default().validate().is_ok());
    }

    #[test]
    fn the_schema_names_every_key() {
        let schema = schemars::schema_for!(Limits).as_value().to_string();
        for key in [
            "ingestion_rate",
            "creation_grace_period",
            "name_validation_scheme",
        ] {
            assert!(schema.contains(key), "{key} missing from {schema}");
        }
    }

    #[test]
    fn the_legacy_name_table_matches_the_character_classes() {
        let reference = |name: &[u8], allow_colon: bool| {
            let allowed = |byte: u8| {
                byte.is_ascii_alphabetic() || byte == b'_' || (allow_colon && byte == b':')
            };
            name.split_first().is_some_and(|(first, rest)| {
                allowed(*first) && rest.iter().all(|b| allowed(*b) || b.is_ascii_digit())
            })
        };
        for a in 0..=255u8 {
            for b in [b'a', b'Z', b'0', b':', b'_', b'-', b'.', 0x80, 0xff] {
                for name in [&[a][..], &[a, b][..], &[b, a][..], &[b, b, a][..]] {
                    for colon in [false, true] {
                        assert_eq!(
                            is_legacy_name(name, colon),
                            reference(name, colon),
                            "{name:?} {colon}"
                        );
                    }
                }
            }
        }
        assert!(!is_legacy_name(b"", true));
    }

    #[test]
    fn legacy_and_utf8_names() {
        let legacy = NameValidationScheme::Legacy;
        assert!(legacy.is_valid_metric_name(b"http_requests:rate5m"));
        assert!(!legacy.is_valid_label_name(b"http:rate"));
        assert!(legacy.is_valid_label_name(b"_private9"));
        assert!(!legacy.is_valid_label_name(b"9lives"));
        assert!(!legacy.is_valid_label_name(b""));
        assert!(!legacy.is_valid_metric_name("métric".as_bytes()));
        let utf8 = NameValidationScheme::Utf8;
        assert!(utf8.is_valid_metric_name("métric.name".as_bytes()));
        assert!(!utf8.is_valid_label_name(b"\xff"));
        assert!(!utf8.is_valid_label_name(b""));
    }
}
