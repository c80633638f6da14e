//! Where Prometheus' PromQL test scripts are (`shared/promql-tests`, beside the repository) and
//! which files in it are scripts.

use std::path::{Path, PathBuf};

pub const CORPUS_DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../../shared/promql-tests"
);

/// The `.test` files of `dir`, sorted.
pub fn test_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .collect()
        })
        .unwrap_or_default();
    files.retain(|path| path.extension().is_some_and(|ext| ext == "test"));
    files.sort();
    files
}
