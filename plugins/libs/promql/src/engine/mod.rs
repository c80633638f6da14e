//! The PromQL evaluation engine.
//!
//! The model is Mimir's streaming query engine (MQE): an expression becomes a tree of operators, and
//! series flow through it one at a time, each carrying its values for every step of the query. A
//! selector pulls series from [`Storage`] as it needs them, a function transforms each series as it
//! passes, an aggregation folds series into per-group accumulators, and only operators that must see a
//! whole side (binary operators' matching side, `sort`, `topk`) hold more than one series. Per-step work
//! runs over slices of a series' decoded samples, without allocating per sample.
//!
//! Numeric kernels (rate extrapolation, `*_over_time`, `histogram_quantile`, Kahan sums, quantiles,
//! date parts) live in [`kernels`], free of the operator plumbing, so each one can be checked against
//! Prometheus' definitions on its own.

mod error;
mod eval;
pub mod histogram;
pub mod kernels;
mod storage;
mod value;

use std::time::Duration;

pub use error::QueryError;
pub use storage::{CompiledMatcher, MemoryStorage, SeriesIter, Storage, StoredSeries};
pub use value::{
    Annotations, HistogramSample, Labels, METRIC_NAME, QueryResult, STALE_NAN_BITS, Sample, Series,
    Value, VectorSample, is_stale_nan,
};

/// Engine settings; the defaults are Prometheus' and Mimir's.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// How far back an instant selector looks for a sample (`-querier.lookback-delta`, 5m).
    pub lookback_delta_ms: i64,
    /// The most samples a query may hold at once (`-querier.max-samples`, 50e6).
    pub max_samples: usize,
    /// How long a query may run (`-querier.timeout`, 2m).
    pub timeout: Duration,
    /// The step of a subquery written without one (`foo[10m:]`), Prometheus' global evaluation interval.
    pub default_subquery_step_ms: i64,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            lookback_delta_ms: 5 * 60 * 1000,
            max_samples: 50_000_000,
            timeout: Duration::from_secs(120),
            default_subquery_step_ms: 60 * 1000,
        }
    }
}

/// Evaluates PromQL queries against a [`Storage`].
#[derive(Debug, Clone, Default)]
pub struct Engine {
    options: EngineOptions,
}

impl Engine {
    pub fn new(options: EngineOptions) -> Engine {
        Engine { options }
    }

    pub fn options(&self) -> &EngineOptions {
        &self.options
    }
}

/// The time frame of one evaluation: an instant query has `start_ms == end_ms` and `step_ms == 0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryParams {
    pub start_ms: i64,
    pub end_ms: i64,
    pub step_ms: i64,
}

impl QueryParams {
    pub fn instant(time_ms: i64) -> QueryParams {
        QueryParams {
            start_ms: time_ms,
            end_ms: time_ms,
            step_ms: 0,
        }
    }

    pub fn is_instant(&self) -> bool {
        self.step_ms == 0
    }
}

impl Engine {
    /// Parses and evaluates an instant query at `time_ms`.
    pub fn instant_query(
        &self,
        storage: &dyn Storage,
        query: &str,
        time_ms: i64,
    ) -> Result<QueryResult, QueryError> {
        let expr = crate::parse(query)?;
        eval::evaluate_text(
            &self.options,
            storage,
            &expr,
            query,
            QueryParams::instant(time_ms),
        )
    }

    /// Parses and evaluates a range query; the result is always a matrix.
    pub fn range_query(
        &self,
        storage: &dyn Storage,
        query: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    ) -> Result<QueryResult, QueryError> {
        let expr = crate::parse(query)?;
        if step_ms <= 0 {
            return Err(QueryError::BadData(
                "zero or negative query resolution step widths are not accepted. Try a positive integer"
                    .to_string(),
            ));
        }
        eval::evaluate_text(
            &self.options,
            storage,
            &expr,
            query,
            QueryParams {
                start_ms,
                end_ms,
                step_ms,
            },
        )
    }

    /// Evaluates a parsed expression. Instant queries return the expression's own type; range queries
    /// return a matrix (and fail for string expressions, as Prometheus does).
    pub fn eval(
        &self,
        storage: &dyn Storage,
        expr: &crate::Expr,
        params: QueryParams,
    ) -> Result<QueryResult, QueryError> {
        eval::evaluate(&self.options, storage, expr, params)
    }
}
