//! The table of PromQL functions (<https://prometheus.io/docs/prometheus/latest/querying/functions/>):
//! name, argument types, how many optional trailing arguments they take, return type, and whether
//! Prometheus gates them behind `--enable-feature=promql-experimental-functions`. The parser type-checks
//! calls against it, as Prometheus' `checkAST` does with `functions.go`.

use std::fmt;

/// The type of a PromQL value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    Scalar,
    Vector,
    Matrix,
    String,
}

impl ValueType {
    /// The name used in user-facing messages ("instant vector", "range vector").
    pub fn documented(self) -> &'static str {
        match self {
            Self::Scalar => "scalar",
            Self::Vector => "instant vector",
            Self::Matrix => "range vector",
            Self::String => "string",
        }
    }
}

impl fmt::Display for ValueType {
    /// The internal name (`vector`, `matrix`), as Prometheus' `ValueType`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Scalar => "scalar",
            Self::Vector => "vector",
            Self::Matrix => "matrix",
            Self::String => "string",
        })
    }
}

/// A PromQL function signature.
#[derive(Debug, PartialEq, Eq)]
pub struct Function {
    pub name: &'static str,
    pub arg_types: &'static [ValueType],
    /// 0: exactly `arg_types`; n > 0: the last type may be left out or repeated up to n times in total;
    /// -1: the last type may repeat without limit (and may be left out).
    pub variadic: i32,
    pub return_type: ValueType,
    pub experimental: bool,
}

use ValueType::{Matrix as M, Scalar as S, String as Str, Vector as V};

const fn f(
    name: &'static str,
    arg_types: &'static [ValueType],
    return_type: ValueType,
) -> Function {
    Function {
        name,
        arg_types,
        variadic: 0,
        return_type,
        experimental: false,
    }
}

const fn variadic(
    name: &'static str,
    arg_types: &'static [ValueType],
    variadic: i32,
    return_type: ValueType,
    experimental: bool,
) -> Function {
    Function {
        name,
        arg_types,
        variadic,
        return_type,
        experimental,
    }
}

const fn experimental(
    name: &'static str,
    arg_types: &'static [ValueType],
    return_type: ValueType,
) -> Function {
    Function {
        name,
        arg_types,
        variadic: 0,
        return_type,
        experimental: true,
    }
}

/// Every function of Prometheus 3, sorted by name.
pub static FUNCTIONS: &[Function] = &[
    f("abs", &[V], V),
    f("absent", &[V], V),
    f("absent_over_time", &[M], V),
    f("acos", &[V], V),
    f("acosh", &[V], V),
    f("asin", &[V], V),
    f("asinh", &[V], V),
    f("atan", &[V], V),
    f("atanh", &[V], V),
    f("avg_over_time", &[M], V),
    f("ceil", &[V], V),
    f("changes", &[M], V),
    f("clamp", &[V, S, S], V),
    f("clamp_max", &[V, S], V),
    f("clamp_min", &[V, S], V),
    f("cos", &[V], V),
    f("cosh", &[V], V),
    f("count_over_time", &[M], V),
    variadic("day_of_month", &[V], 1, V, false),
    variadic("day_of_week", &[V], 1, V, false),
    variadic("day_of_year", &[V], 1, V, false),
    variadic("days_in_month", &[V], 1, V, false),
    f("deg", &[V], V),
    f("delta", &[M], V),
    f("deriv", &[M], V),
    experimental("double_exponential_smoothing", &[M, S, S], V),
    f("end", &[], S),
    f("exp", &[V], V),
    experimental("first_over_time", &[M], V),
    f("floor", &[V], V),
    f("histogram_avg", &[V], V),
    f("histogram_count", &[V], V),
    f("histogram_fraction", &[S, S, V], V),
    f("histogram_quantile", &[S, V], V),
    variadic("histogram_quantiles", &[V, Str, S], -1, V, true),
    f("histogram_stddev", &[V], V),
    f("histogram_stdvar", &[V], V),
    f("histogram_sum", &[V], V),
    variadic("hour", &[V], 1, V, false),
    f("idelta", &[M], V),
    f("increase", &[M], V),
    variadic("info", &[V, V], 1, V, true),
    f("irate", &[M], V),
    variadic("label_join", &[V, Str, Str, Str], -1, V, false),
    f("label_replace", &[V, Str, Str, Str, Str], V),
    f("last_over_time", &[M], V),
    f("ln", &[V], V),
    f("log10", &[V], V),
    f("log2", &[V], V),
    experimental("mad_over_time", &[M], V),
    f("max_of", &[S, S], S),
    f("max_over_time", &[M], V),
    f("min_of", &[S, S], S),
    f("min_over_time", &[M], V),
    variadic("minute", &[V], 1, V, false),
    variadic("month", &[V], 1, V, false),
    f("pi", &[], S),
    f("predict_linear", &[M, S], V),
    f("present_over_time", &[M], V),
    f("quantile_over_time", &[S, M], V),
    f("rad", &[V], V),
    f("range", &[], S),
    f("rate", &[M], V),
    f("resets", &[M], V),
    variadic("round", &[V, S], 1, V, false),
    f("scalar", &[V], S),
    f("sgn", &[V], V),
    f("sin", &[V], V),
    f("sinh", &[V], V),
    f("sort", &[V], V),
    variadic("sort_by_label", &[V, Str], -1, V, true),
    variadic("sort_by_label_desc", &[V, Str], -1, V, true),
    f("sort_desc", &[V], V),
    f("sqrt", &[V], V),
    f("start", &[], S),
    f("start_timestamp", &[V], V),
    f("stddev_over_time", &[M], V),
    f("stdvar_over_time", &[M], V),
    f("step", &[], S),
    f("sum_over_time", &[M], V),
    f("tan", &[V], V),
    f("tanh", &[V], V),
    f("time", &[], S),
    f("timestamp", &[V], V),
    experimental("ts_of_first_over_time", &[M], V),
    experimental("ts_of_last_over_time", &[M], V),
    experimental("ts_of_max_over_time", &[M], V),
    experimental("ts_of_min_over_time", &[M], V),
    f("vector", &[S], V),
    variadic("year", &[V], 1, V, false),
];

/// Looks a function up by its exact (case-sensitive) name.
pub fn function(name: &str) -> Option<&'static Function> {
    FUNCTIONS
        .binary_search_by(|func| func.name.cmp(name))
        .ok()
        .map(|index| &FUNCTIONS[index])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_so_lookup_finds_every_entry() {
        for pair in FUNCTIONS.windows(2) {
            assert!(
                pair[0].name < pair[1].name,
                "{} before {}",
                pair[0].name,
                pair[1].name
            );
        }
        for func in FUNCTIONS {
            assert_eq!(function(func.name).map(|found| found.name), Some(func.name));
        }
        assert!(function("Rate").is_none());
    }
}
