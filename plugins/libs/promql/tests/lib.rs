//! Integration tests of the PromQL parser: valid expressions and their printed form, invalid ones and
//! their Prometheus error messages, and every eval expression of Prometheus' own test scripts.

mod corpus;
mod engine;
mod invalid;
mod pretty;
mod robustness;
mod scripts;
mod scripts_dir;
mod valid;
