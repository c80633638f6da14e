//! Per-tenant ingestion rate limiting: one token bucket per tenant with the semantics of Go's
//! `golang.org/x/time/rate` that Mimir's limiter wraps. A bucket starts full (`burst` tokens),
//! refills at `rate` tokens per second up to `burst`, and a request of `n` items takes `n`
//! tokens or is refused without taking any; `n > burst` is always refused.
//!
//! Rate and burst are passed on every call, taken from the tenant's limits at that moment, so
//! runtime overrides apply without a restart; on a change the bucket keeps its tokens (clamped
//! to the new burst), as Mimir's limiter does when it re-reads limits. Time is injected
//! (`Instant`), so the limiter never reads the clock itself.
//!
//! Mimir's default strategy is *global*: the tenant's rate is split across the healthy
//! distributors (rate / N per instance, burst unchanged). That split is the caller's to make.

use std::collections::HashMap;
use std::time::Instant;

use parking_lot::Mutex;

use crate::errors::{Message, STATUS_TOO_MANY_REQUESTS, ValidationError, flags, ids};
use crate::gofmt;
use crate::limits::Limits;

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
    rate: f64,
    burst: f64,
}

impl Bucket {
    /// Refills for the time since `last` at the current rate (never backwards in time).
    fn advance(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        if self.rate > 0.0 && elapsed > 0.0 {
            self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        }
        if now > self.last {
            self.last = now;
        }
    }
}

/// Token buckets keyed by tenant.
#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    /// An empty limiter; buckets appear on a tenant's first request.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes `n` tokens from `tenant`'s bucket at `now` if it has them. `rate` is in items per
    /// second (`+Inf` never limits, `0` only lets the initial burst through); `burst` is the
    /// bucket size.
    pub fn allow(&self, tenant: &str, n: usize, now: Instant, rate: f64, burst: usize) -> bool {
        if rate == f64::INFINITY {
            return true;
        }
        let burst = burst as f64;
        let wanted = n as f64;
        let mut buckets = self.buckets.lock();
        let bucket = buckets.entry(tenant.to_owned()).or_insert_with(|| Bucket {
            tokens: burst,
            last: now,
            rate,
            burst,
        });
        bucket.advance(now);
        bucket.rate = rate;
        bucket.burst = burst;
        bucket.tokens = bucket.tokens.min(burst);
        if wanted > burst || wanted > bucket.tokens {
            return false;
        }
        bucket.tokens -= wanted;
        true
    }

    /// [`RateLimiter::allow`] with the tenant's `ingestion_rate` and `ingestion_burst_size`,
    /// returning Mimir's HTTP 429 error when refused: the burst-size message when the request
    /// alone is larger than the burst, the rate message otherwise.
    pub fn check_ingestion(
        &self,
        tenant: &str,
        items: usize,
        now: Instant,
        limits: &Limits,
    ) -> Result<(), ValidationError> {
        let burst = limits.ingestion_burst_size;
        if self.allow(tenant, items, now, limits.ingestion_rate, burst) {
            return Ok(());
        }
        if items > burst {
            return Err(ingestion_burst_size_limited(burst, items));
        }
        Err(ingestion_rate_limited(limits.ingestion_rate, burst))
    }

    /// Drops a tenant's bucket (for example when the tenant has been idle for long).
    pub fn forget(&self, tenant: &str) {
        self.buckets.lock().remove(tenant);
    }

    /// Number of tenants with a bucket.
    pub fn tenant_count(&self) -> usize {
        self.buckets.lock().len()
    }
}

/// Mimir's `ingestionRateLimitedError` (HTTP 429).
pub fn ingestion_rate_limited(rate: f64, burst: usize) -> ValidationError {
    Message::new(&format!(
        "the request has been rejected because the tenant exceeded the ingestion rate limit, set \
         to {} items/s with a maximum allowed burst of {burst}. This limit is applied on the \
         total number of samples, exemplars and metadata received across all distributors",
        gofmt::format_float(rate)
    ))
    .finish_per_tenant(
        ids::TENANT_MAX_INGESTION_RATE,
        STATUS_TOO_MANY_REQUESTS,
        &[flags::INGESTION_RATE, flags::INGESTION_BURST_SIZE],
    )
}

/// Mimir's `ingestionBurstSizeLimitedError` (HTTP 429).
pub fn ingestion_burst_size_limited(burst: usize, items: usize) -> ValidationError {
    Message::new(&format!(
        "the request has been rejected because the tenant exceeded the ingestion burst size \
         limit, set to {burst}, with {items} items. This limit is applied on the total number of \
         samples, exemplars and metadata received across all distributors"
    ))
    .finish_per_tenant(
        ids::TENANT_MAX_INGESTION_RATE,
        STATUS_TOO_MANY_REQUESTS,
        &[flags::INGESTION_BURST_SIZE],
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn burst_then_refusal_then_recovery() {
        let limiter = RateLimiter::new();
        let start = Instant::now();
        // rate 10/s, burst 100: the whole burst goes through at once.
        assert!(limiter.allow("t", 60, start, 10.0, 100));
        assert!(limiter.allow("t", 40, start, 10.0, 100));
        assert!(!limiter.allow("t", 1, start, 10.0, 100));
        // One second later, ten tokens are back: ten pass, the eleventh does not.
        let later = start + Duration::from_secs(1);
        assert!(!limiter.allow("t", 11, later, 10.0, 100));
        assert!(limiter.allow("t", 10, later, 10.0, 100));
        assert!(!limiter.allow("t", 1, later, 10.0, 100));
        // After a long pause the bucket is full again, not fuller.
        let much_later = later + Duration::from_secs(3_600);
        assert!(limiter.allow("t", 100, much_later, 10.0, 100));
        assert!(!limiter.allow("t", 1, much_later, 10.0, 100));
    }

    #[test]
    fn a_request_larger_than_the_burst_is_always_refused() {
        let limiter = RateLimiter::new();
        let now = Instant::now();
        assert!(!limiter.allow("t", 101, now, 1_000.0, 100));
        // And it took nothing.
        assert!(limiter.allow("t", 100, now, 1_000.0, 100));
    }

    #[test]
    fn tenants_have_their_own_buckets() {
        let limiter = RateLimiter::new();
        let now = Instant::now();
        assert!(limiter.allow("a", 5, now, 1.0, 5));
        assert!(!limiter.allow("a", 1, now, 1.0, 5));
        assert!(limiter.allow("b", 5, now, 1.0, 5));
        assert_eq!(limiter.tenant_count(), 2);
        limiter.forget("a");
        assert!(limiter.allow("a", 5, now, 1.0, 5));
    }

    #[test]
    fn new_limits_apply_from_the_next_call() {
        let limiter = RateLimiter::new();
        let start = Instant::now();
        assert!(limiter.allow("t", 10, start, 1.0, 10));
        // The second that passed refills at the old rate (one token); the new limits apply
        // from this call on.
        let later = start + Duration::from_secs(1);
        assert!(!limiter.allow("t", 2, later, 100.0, 50));
        let after = later + Duration::from_secs(1);
        assert!(limiter.allow("t", 50, after, 100.0, 50));
        // Lowering the burst clamps the refilled tokens to it.
        let refilled = after + Duration::from_secs(1);
        assert!(limiter.allow("t", 5, refilled, 100.0, 5));
        assert!(!limiter.allow("t", 1, refilled, 100.0, 5));
        assert!(limiter.allow("t", 1_000, refilled, f64::INFINITY, 0));
    }

    #[test]
    fn time_going_backwards_refills_nothing() {
        let limiter = RateLimiter::new();
        let start = Instant::now() + Duration::from_secs(10);
        assert!(limiter.allow("t", 10, start, 10.0, 10));
        assert!(!limiter.allow("t", 1, start - Duration::from_secs(5), 10.0, 10));
        assert!(limiter.allow("t", 10, start + Duration::from_secs(1), 10.0, 10));
    }

    #[test]
    fn refusals_carry_mimirs_messages() {
        let limiter = RateLimiter::new();
        let limits = Limits {
            ingestion_rate: 10.0,
            ingestion_burst_size: 20,
            ..Limits::default()
        };
        let now = Instant::now();
        let too_big = limiter.check_ingestion("t", 21, now, &limits).unwrap_err();
        assert_eq!(
            (too_big.id, too_big.status, too_big.message.as_str()),
            (
                ids::TENANT_MAX_INGESTION_RATE,
                429,
                "the request has been rejected because the tenant exceeded the ingestion burst \
                 size limit, set to 20, with 21 items. This limit is applied on the total number \
                 of samples, exemplars and metadata received across all distributors \
                 (err-mimir-tenant-max-ingestion-rate). To adjust the related per-tenant limit, \
                 configure -distributor.ingestion-burst-size, or contact your service \
                 administrator."
            )
        );
        assert!(limiter.check_ingestion("t", 20, now, &limits).is_ok());
        let too_fast = limiter.check_ingestion("t", 1, now, &limits).unwrap_err();
        assert_eq!(
            (too_fast.id, too_fast.status, too_fast.message.as_str()),
            (
                ids::TENANT_MAX_INGESTION_RATE,
                429,
                "the request has been rejected because the tenant exceeded the ingestion rate \
                 limit, set to 10 items/s with a maximum allowed burst of 20. This limit is \
                 applied on the total number of samples, exemplars and metadata received across \
                 all distributors (err-mimir-tenant-max-ingestion-rate). To adjust the related \
                 per-tenant limits, configure -distributor.ingestion-rate-limit and \
                 -distributor.ingestion-burst-size, or contact your service administrator."
            )
        );
    }
}
