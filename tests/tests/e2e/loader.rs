//! Plugin loading: good, changed-ABI, foreign and missing files; duplicate names; refused plugins
//! that the target needs or does not need.

use std::path::Path;

use mimir_host::loader::{self, DiscoveryError};
use mimir_tests::{PluginDir, library, run_host};

/// A shared library that is certainly not a plugin: one of the C runtime's.
fn foreign_library() -> std::path::PathBuf {
    let candidates = [
        "/lib/x86_64-linux-gnu/libgcc_s.so.1",
        "/usr/lib/x86_64-linux-gnu/libgcc_s.so.1",
        "/lib/aarch64-linux-gnu/libgcc_s.so.1",
        "/lib64/libgcc_s.so.1",
    ];
    candidates
        .iter()
        .map(Path::new)
        .find(|p| p.exists())
        .map(Path::to_path_buf)
        .expect("libgcc_s.so.1 is present wherever Rust binaries run")
}

#[test]
fn a_good_plugin_loads_with_its_manifest() {
    let plugin = loader::load(&library("mimir_example_echo")).expect("echo loads");
    assert_eq!(plugin.manifest.name, "echo");
    assert_eq!(plugin.manifest.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(plugin.manifest.groups, vec!["examples".to_string()]);
    assert_eq!(plugin.manifest.config_section, "echo");
    let defaults: serde_json::Value =
        serde_json::from_str(&plugin.manifest.config_defaults_json).expect("defaults are JSON");
    assert_eq!(defaults, serde_json::json!({ "prefix": "" }));
}

#[test]
fn a_plugin_built_against_a_changed_abi_is_refused_with_a_short_message() {
    let dir = PluginDir::new().with("fixture_bad_abi", "libmimir_badabi.so");
    let path = dir.path().join("libmimir_badabi.so");
    let error = loader::load(&path).expect_err("a changed ABI is refused");
    assert!(error.starts_with(&path.display().to_string()), "{error}");
    assert!(
        error.contains("built against a different plugin ABI"),
        "{error}"
    );
    // abi_stable checks the package a type comes from before its fields: a plugin built from a
    // modified copy of the ABI fails there, and the message says what was expected and found.
    assert!(
        error.contains("mismatched package: expected `mimir-abi`, found `fixture-bad-abi`"),
        "names the first mismatch: {error}"
    );
    assert!(error.lines().count() <= 10, "short: {error}");
}

#[test]
fn a_library_that_is_not_a_plugin_is_refused_clearly() {
    let dir = PluginDir::new().with_file(&foreign_library(), "libmimir_foreign.so");
    let path = dir.path().join("libmimir_foreign.so");
    let error = loader::load(&path).expect_err("a foreign library is refused");
    assert_eq!(
        error,
        format!(
            "{}: not a mimir-host plugin (it exports no plugin root module)",
            path.display()
        )
    );
}

#[test]
fn a_missing_file_is_refused_clearly() {
    let error = loader::load(Path::new("/nonexistent/libmimir_gone.so"))
        .expect_err("a missing file is refused");
    assert_eq!(error, "/nonexistent/libmimir_gone.so: no such file");
}

#[test]
fn two_plugins_with_the_same_component_name_are_an_error() {
    let dir = PluginDir::new()
        .with("mimir_example_echo", "libmimir_echo_a.so")
        .with("mimir_example_echo", "libmimir_echo_b.so");
    let error =
        loader::discover(vec![dir.path().to_path_buf()]).expect_err("duplicates are an error");
    assert!(matches!(error, DiscoveryError::Duplicate { ref name, .. } if name == "echo"));
    let text = error.to_string();
    assert!(
        text.contains("libmimir_echo_a.so") && text.contains("libmimir_echo_b.so"),
        "{text}"
    );

    let output = run_host(&[dir.flag(), "-target=echo".to_string()], &[]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("component `echo` is provided by two plugins"),
        "{stderr}"
    );
}

#[test]
fn a_refused_plugin_the_target_needs_stops_start_up() {
    let dir = PluginDir::examples().with("fixture_bad_abi", "libmimir_badabi.so");
    let output = run_host(&[dir.flag(), "-target=badabi".to_string()], &[]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("error: -target names `badabi`, whose plugin was refused"),
        "{stderr}"
    );
    assert!(stderr.contains("libmimir_badabi.so"), "{stderr}");
}

#[test]
fn a_refused_plugin_the_target_does_not_need_is_skipped_and_listed() {
    let dir = PluginDir::examples().with("fixture_bad_abi", "libmimir_badabi.so");
    let output = run_host(&[dir.flag(), "-modules".to_string()], &[]);
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("\nRefused plugins:\n"), "{stdout}");
    assert!(
        stdout.contains("libmimir_badabi.so: built against a different plugin ABI"),
        "{stdout}"
    );

    let mut host = mimir_tests::HostProcess::start(&[dir.flag(), "-target=echo".to_string()]);
    host.wait_ready(std::time::Duration::from_secs(20));
    let logs = host.logs();
    assert!(logs.contains("WARN"), "{logs}");
    assert!(
        logs.contains("skipping plugin not needed by -target=echo"),
        "{logs}"
    );
}
