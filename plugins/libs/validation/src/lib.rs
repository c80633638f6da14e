//! `mimir-validation` owns everything the distributor needs between an HTTP remote-write body
//! and the series it may store, with Grafana Mimir's behaviour and its public error catalogue
//! (`err-mimir-<id>` messages and HTTP statuses): decoding remote-write 1.0
//! ([`decode_write_request`]), per-tenant [`Limits`] and their hot-reloaded runtime
//! [`Overrides`], series and metadata validation ([`validate_request`]), tenant IDs
//! ([`tenant_from_org_id`]) and ingestion rate limiting ([`RateLimiter`]).
//!
//! It is plain synchronous library code: it must never depend on an async runtime, an HTTP
//! framework, the plugin SDK or ABI, or any other component crate, so every component (and
//! every test) can use it as is. It never reads the clock: callers pass `now`.
//!
//! The push path, in Mimir's order:
//!
//! 1. [`tenant_from_org_id`] on `X-Scope-OrgID` (401 when missing).
//! 2. [`decompress_write_request`] with `-distributor.max-recv-msg-size` (400 on any failure).
//! 3. [`validate_write_request`] with [`Overrides::for_tenant`] (400 when the buffer is not a
//!    `WriteRequest`). [`decode_write_request`] and [`validate_request`] do the same through
//!    decoded structs.
//! 4. If nothing valid is left, answer the first error (400), or 200 when there was no error.
//! 5. [`RateLimiter::check_ingestion`] with [`Validated::ingestion_items`] (429).
//! 6. Push the series; if that fails, that error wins; otherwise answer 400 with
//!    [`Validated::first_error`] when there is one, else 200.

mod duration;
mod errors;
mod gofmt;
mod limits;
mod metadata;
mod overrides;
mod rate;
mod remote_write;
mod sections;
mod tenant;
mod validate;
mod wire;

pub use duration::{PromDuration, parse_duration};
pub use errors::{
    ConfigError, STATUS_BAD_REQUEST, STATUS_TOO_MANY_REQUESTS, STATUS_UNAUTHORIZED,
    ValidationError, discard_reason, flags, ids,
};
pub use limits::{Limits, METRIC_NAME_LABEL, NameValidationScheme};
pub use overrides::Overrides;
pub use rate::{RateLimiter, ingestion_burst_size_limited, ingestion_rate_limited};
pub use remote_write::{
    BucketSpan, DEFAULT_MAX_RECV_MSG_SIZE, Exemplar, Histogram, Label, MetricMetadata, MetricType,
    Sample, TimeSeries, WriteRequest, decode_write_request, decompress_write_request,
    encode_write_request, histogram,
};
pub use sections::{AuthConfig, RuntimeConfigSection};
pub use tenant::{
    ANONYMOUS_TENANT, MAX_TENANT_ID_LENGTH, ORG_ID_HEADER, RESERVED_TENANT_ID, tenant_from_org_id,
    validate_tenant_id,
};
pub use validate::{
    ValidSeries, ValidSeriesView, Validated, ValidatedRequest, validate_request,
    validate_write_request,
};
