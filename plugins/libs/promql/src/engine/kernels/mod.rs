//! Numeric kernels of PromQL functions and aggregations, free of the operator plumbing.
