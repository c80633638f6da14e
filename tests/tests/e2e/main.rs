//! End-to-end suites: the real `mimir-host` binary with real plugins (see `mimir_tests`).

mod architecture;
mod bus;
mod cli;
mod endpoints;
mod lifecycle;
mod loader;
mod logs;
mod native_histograms;
mod panics;
mod prometheus;
mod read_path;
mod write_path;
