//! Errors of this crate. [`ValidationError`] is what a remote-write client sees: Mimir's message,
//! its immutable `err-mimir-<id>` and the HTTP status, built exactly as Mimir's `globalerror`
//! package builds them (`<msg> (err-mimir-<id>)`, plus "To adjust the related per-tenant
//! limit, configure -<flag>, or contact your service administrator." for per-tenant limits).
//! [`ConfigError`] covers limits, durations and the runtime overrides file; operators see it,
//! remote-write clients never do.

use std::path::PathBuf;

use crate::gofmt;
use crate::remote_write::Label;

/// Error ids. Those starting with `err-mimir-` are Mimir's public catalogue and appear in the
/// message; the others identify errors Mimir reports without a catalogue id (they never appear
/// in a message and exist so callers can count and match errors without parsing text).
pub mod ids {
    /// A series without a `__name__` label.
    pub const MISSING_METRIC_NAME: &str = "err-mimir-missing-metric-name";
    /// A metric name the tenant's name validation scheme rejects.
    pub const METRIC_NAME_INVALID: &str = "err-mimir-metric-name-invalid";
    /// More labels than `max_label_names_per_series`.
    pub const MAX_LABEL_NAMES_PER_SERIES: &str = "err-mimir-max-label-names-per-series";
    /// An `*_info` series with more labels than `max_label_names_per_info_series`.
    pub const MAX_LABEL_NAMES_PER_INFO_SERIES: &str = "err-mimir-max-label-names-per-info-series";
    /// A label name the tenant's name validation scheme rejects.
    pub const LABEL_INVALID: &str = "err-mimir-label-invalid";
    /// A label value that is not valid UTF-8.
    pub const LABEL_VALUE_INVALID: &str = "err-mimir-label-value-invalid";
    /// A label name longer than `max_label_name_length` bytes.
    pub const LABEL_NAME_TOO_LONG: &str = "err-mimir-label-name-too-long";
    /// A label value longer than `max_label_value_length` bytes.
    pub const LABEL_VALUE_TOO_LONG: &str = "err-mimir-label-value-too-long";
    /// Two labels with the same name.
    pub const DUPLICATE_LABEL_NAMES: &str = "err-mimir-duplicate-label-names";
    /// Reserved, never emitted: current Mimir sorts labels before validating them (and so do
    /// we), so unsorted labels are accepted. Kept so the id is never reused.
    pub const LABELS_NOT_SORTED: &str = "err-mimir-labels-not-sorted";
    /// A sample newer than now + `creation_grace_period`.
    pub const TOO_FAR_IN_FUTURE: &str = "err-mimir-too-far-in-future";
    /// A sample older than now - `past_grace_period` - `out_of_order_time_window`.
    pub const TOO_FAR_IN_PAST: &str = "err-mimir-too-far-in-past";
    /// Metric metadata without a metric family name.
    pub const METADATA_MISSING_METRIC_NAME: &str = "err-mimir-metadata-missing-metric-name";
    /// Metric metadata whose family name is longer than `max_metadata_length`.
    pub const METADATA_METRIC_NAME_TOO_LONG: &str = "err-mimir-metric-name-too-long";
    /// Metric metadata whose unit is longer than `max_metadata_length`.
    pub const METADATA_UNIT_TOO_LONG: &str = "err-mimir-unit-too-long";
    /// The tenant's ingestion rate or burst limit was hit (HTTP 429).
    pub const TENANT_MAX_INGESTION_RATE: &str = "err-mimir-tenant-max-ingestion-rate";
    /// The request body is larger than `-distributor.max-recv-msg-size`.
    pub const DISTRIBUTOR_MAX_WRITE_MESSAGE_SIZE: &str =
        "err-mimir-distributor-max-write-message-size";
    /// The body is not a snappy block (no Mimir catalogue id).
    pub const INVALID_SNAPPY: &str = "invalid-snappy";
    /// The decompressed body is not a `prometheus.WriteRequest` (no Mimir catalogue id).
    pub const INVALID_PROTOBUF: &str = "invalid-protobuf";
    /// No `X-Scope-OrgID` header (HTTP 401, no Mimir catalogue id).
    pub const NO_ORG_ID: &str = "no-org-id";
    /// An `X-Scope-OrgID` that breaks the tenant ID rules (no Mimir catalogue id).
    pub const INVALID_TENANT_ID: &str = "invalid-tenant-id";
    /// Several different tenants in one `X-Scope-OrgID` on a single-tenant endpoint.
    pub const MULTIPLE_ORG_IDS: &str = "multiple-org-ids";
}

/// Mimir's flag names, quoted in messages as the knob that changes a per-tenant limit.
pub mod flags {
    /// `ingestion_rate`.
    pub const INGESTION_RATE: &str = "distributor.ingestion-rate-limit";
    /// `ingestion_burst_size`.
    pub const INGESTION_BURST_SIZE: &str = "distributor.ingestion-burst-size";
    /// `max_label_names_per_series`.
    pub const MAX_LABEL_NAMES_PER_SERIES: &str = "validation.max-label-names-per-series";
    /// `max_label_names_per_info_series`.
    pub const MAX_LABEL_NAMES_PER_INFO_SERIES: &str = "validation.max-label-names-per-info-series";
    /// `max_label_name_length`.
    pub const MAX_LABEL_NAME_LENGTH: &str = "validation.max-length-label-name";
    /// `max_label_value_length`.
    pub const MAX_LABEL_VALUE_LENGTH: &str = "validation.max-length-label-value";
    /// `max_metadata_length`.
    pub const MAX_METADATA_LENGTH: &str = "validation.max-metadata-length";
    /// `creation_grace_period`.
    pub const CREATION_GRACE_PERIOD: &str = "validation.create-grace-period";
    /// `past_grace_period`.
    pub const PAST_GRACE_PERIOD: &str = "validation.past-grace-period";
    /// The distributor's per-instance request size limit.
    pub const MAX_RECV_MSG_SIZE: &str = "distributor.max-recv-msg-size";
}

/// HTTP 400: bad data or a per-tenant validation limit.
pub const STATUS_BAD_REQUEST: u16 = 400;
/// HTTP 401: no tenant.
pub const STATUS_UNAUTHORIZED: u16 = 401;
/// HTTP 429: the tenant is over its ingestion rate.
pub const STATUS_TOO_MANY_REQUESTS: u16 = 429;

/// A user-facing error: `message` is exactly what the HTTP response body carries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ValidationError {
    /// The error id, see [`ids`].
    pub id: &'static str,
    /// The HTTP status to answer with.
    pub status: u16,
    /// The full message, always valid UTF-8.
    pub message: String,
}

impl ValidationError {
    /// The `reason` label value Mimir uses for this error in `cortex_discarded_*_total`
    /// (the catalogue id with `-` replaced by `_`), or `None` for ids outside the catalogue.
    pub fn discard_reason(&self) -> Option<String> {
        discard_reason(self.id)
    }
}

/// The `reason` label value Mimir uses in `cortex_discarded_*_total` for error id `id` (the
/// catalogue id with `-` replaced by `_`), or `None` for ids outside the catalogue.
pub fn discard_reason(id: &str) -> Option<String> {
    id.strip_prefix("err-mimir-").map(|id| id.replace('-', "_"))
}

impl ValidationError {}

/// Errors in limits, durations and the runtime overrides file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Prometheus duration syntax was expected (`1h30m`, `10m`, `0`).
    #[error("not a valid duration string: {input:?}")]
    InvalidDuration { input: String },
    /// An empty string where a duration was expected.
    #[error("empty duration string")]
    EmptyDuration,
    /// The duration does not fit in 64-bit nanoseconds, as in Go.
    #[error("duration out of range: {input:?}")]
    DurationOutOfRange { input: String },
    /// A limit value outside its domain.
    #[error("invalid value for `{key}`: {reason}")]
    InvalidLimit {
        key: &'static str,
        reason: &'static str,
    },
    /// The runtime config file could not be read.
    #[error("failed to read runtime config file {path}")]
    ReadRuntimeConfig {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The runtime config file is not valid YAML of the expected shape.
    #[error("failed to parse runtime config file {path}")]
    ParseRuntimeConfig {
        path: PathBuf,
        #[source]
        source: serde_yaml_ng::Error,
    },
    /// One tenant's entry under `overrides` is invalid (unknown key, wrong type, bad value).
    #[error("invalid overrides for tenant {tenant:?} in runtime config file {path}")]
    TenantOverrides {
        tenant: String,
        path: PathBuf,
        #[source]
        source: Box<ConfigError>,
    },
    /// A YAML value could not be converted into limits.
    #[error("invalid limits")]
    Limits(#[source] serde_yaml_ng::Error),
    /// A tenant's entry under `overrides` is not a mapping.
    #[error("overrides entry must be a mapping of limit names to values")]
    OverridesNotAMapping,
}

/// Builds a message from byte pieces (label names and values may be invalid UTF-8), then turns
/// it into a [`ValidationError`] the way Mimir does: catalogue suffix, flag hint, and
/// `strings.ToValidUTF8` over the whole text.
pub(crate) struct Message(Vec<u8>);

impl Message {
    pub(crate) fn new(text: &str) -> Self {
        Self(text.as_bytes().to_vec())
    }

    pub(crate) fn text(mut self, text: &str) -> Self {
        self.0.extend_from_slice(text.as_bytes());
        self
    }

    /// Go's `%s`.
    pub(crate) fn bytes(mut self, bytes: &[u8]) -> Self {
        self.0.extend_from_slice(bytes);
        self
    }

    /// Go's `%.200s`.
    pub(crate) fn truncated(self, bytes: &[u8]) -> Self {
        self.bytes(gofmt::truncate_runes(bytes, 200))
    }

    /// `<msg> (<id>)`.
    pub(crate) fn finish(self, id: &'static str, status: u16) -> ValidationError {
        let body = gofmt::to_valid_utf8(&self.0);
        ValidationError {
            id,
            status,
            message: format!("{body} ({id})"),
        }
    }

    /// `<msg> (<id>). To adjust the related per-tenant limit[s], configure -a[, -b] and -c, or
    /// contact your service administrator.`
    pub(crate) fn finish_per_tenant(
        self,
        id: &'static str,
        status: u16,
        limit_flags: &[&str],
    ) -> ValidationError {
        self.finish_with_hint(id, status, "per-tenant limit", limit_flags)
    }

    /// Same as [`Message::finish_per_tenant`] for per-instance limits ("the related limit").
    pub(crate) fn finish_per_instance(
        self,
        id: &'static str,
        status: u16,
        limit_flags: &[&str],
    ) -> ValidationError {
        self.finish_with_hint(id, status, "limit", limit_flags)
    }

    fn finish_with_hint(
        self,
        id: &'static str,
        status: u16,
        noun: &str,
        limit_flags: &[&str],
    ) -> ValidationError {
        let mut error = self.finish(id, status);
        let plural = if limit_flags.len() > 1 { "s" } else { "" };
        error.message = format!(
            "{}. To adjust the related {noun}{plural}, configure {}, or contact your service administrator.",
            error.message,
            flag_list(limit_flags),
        );
        error
    }
}

/// `-a`, `-a and -b`, `-a, -b and -c`, like Mimir's `buildFlagsList`.
fn flag_list(flags: &[&str]) -> String {
    let dashed: Vec<String> = flags.iter().map(|flag| format!("-{flag}")).collect();
    match dashed.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

/// A label as name and value bytes, whichever way the caller holds it.
pub(crate) trait LabelBytes {
    fn name(&self) -> &[u8];
    fn value(&self) -> &[u8];
}

impl LabelBytes for Label {
    fn name(&self) -> &[u8] {
        &self.name
    }

    fn value(&self) -> &[u8] {
        &self.value
    }
}

impl LabelBytes for (&[u8], &[u8]) {
    fn name(&self) -> &[u8] {
        self.0
    }

    fn value(&self) -> &[u8] {
        self.1
    }
}

/// Mimir's `FromLabelAdaptersToString`: the first `__name__` value, then the other labels as
/// `{name="quoted value", ...}` in their current order, or `{}` when there is nothing at all.
pub(crate) fn format_series<L: LabelBytes>(labels: &[L]) -> Vec<u8> {
    let mut out = Vec::new();
    let metric_index = labels.iter().position(|label| label.name() == b"__name__");
    if let Some(index) = metric_index {
        out.extend_from_slice(labels[index].value());
    }
    let mut count = 0;
    for (index, label) in labels.iter().enumerate() {
        if Some(index) == metric_index {
            continue;
        }
        out.extend_from_slice(if count == 0 { b"{" } else { b", " });
        out.extend_from_slice(label.name());
        out.push(b'=');
        gofmt::quote_into(label.value(), &mut out);
        count += 1;
    }
    if count > 0 {
        out.push(b'}');
    }
    if out.is_empty() {
        out.extend_from_slice(b"{}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_lists_follow_mimir() {
        assert_eq!(flag_list(&["a"]), "-a");
        assert_eq!(flag_list(&["a", "b"]), "-a and -b");
        assert_eq!(flag_list(&["a", "b", "c"]), "-a, -b and -c");
    }

    #[test]
    fn per_tenant_hint_is_appended_after_the_id() {
        let error = Message::new("too many").finish_per_tenant(
            ids::TENANT_MAX_INGESTION_RATE,
            429,
            &[flags::INGESTION_RATE, flags::INGESTION_BURST_SIZE],
        );
        assert_eq!(
            error.message,
            "too many (err-mimir-tenant-max-ingestion-rate). To adjust the related per-tenant \
             limits, configure -distributor.ingestion-rate-limit and \
             -distributor.ingestion-burst-size, or contact your service administrator."
        );
        assert_eq!(error.to_string(), error.message);
        assert_eq!(
            error.discard_reason().as_deref(),
            Some("tenant_max_ingestion_rate")
        );
    }

    #[test]
    fn series_strings_put_the_metric_name_first() {
        let labels = [
            Label::new("a", "1"),
            Label::new("__name__", "up"),
            Label::new("b", "x\"y"),
        ];
        assert_eq!(format_series(&labels), br#"up{a="1", b="x\"y"}"#.to_vec());
        assert_eq!(
            format_series(&[Label::new("__name__", "up")]),
            b"up".to_vec()
        );
        assert_eq!(
            format_series(&[Label::new("job", "j")]),
            br#"{job="j"}"#.to_vec()
        );
        assert_eq!(format_series::<Label>(&[]), b"{}".to_vec());
    }
}
