//! The operator tree and its evaluation.

use super::{EngineOptions, QueryError, QueryParams, QueryResult, Storage};
use crate::Expr;

pub(crate) fn evaluate(
    _options: &EngineOptions,
    _storage: &dyn Storage,
    _expr: &Expr,
    _params: QueryParams,
) -> Result<QueryResult, QueryError> {
    Err(QueryError::Execution(
        "the PromQL engine is being built".to_string(),
    ))
}
