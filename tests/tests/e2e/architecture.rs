//! The rooms stay honest: components never depend on each other or on the host, the host never
//! depends on a component, and FFI crates are used only where the architecture allows.

use std::collections::BTreeMap;
use std::process::Command;

/// Package name → (is a component plugin (a `cdylib`), names of its normal dependencies).
fn workspace_dependencies() -> BTreeMap<String, (bool, Vec<String>)> {
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(mimir_tests::workspace_root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let packages = metadata["packages"].as_array().cloned().unwrap_or_default();
    packages
        .iter()
        .map(|package| {
            let name = package["name"].as_str().unwrap_or_default().to_string();
            let is_plugin = package["targets"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|t| t["crate_types"].as_array().cloned().unwrap_or_default())
                .any(|kind| kind == "cdylib");
            let dependencies = package["dependencies"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .filter(|d| d["kind"].is_null())
                .filter_map(|d| d["name"].as_str().map(str::to_string))
                .collect();
            (name, (is_plugin, dependencies))
        })
        .collect()
}

#[test]
fn components_and_the_host_never_depend_on_components_or_each_other() {
    let packages = workspace_dependencies();
    let is_component = |name: &str| packages.get(name).is_some_and(|(plugin, _)| *plugin);
    for component in [
        "mimir-example-echo",
        "mimir-ingester",
        "mimir-distributor",
        "mimir-querier",
    ] {
        assert!(
            is_component(component),
            "{component} is a plugin: {packages:?}"
        );
    }
    for (name, (_, dependencies)) in &packages {
        for dependency in dependencies {
            if is_component(name) || name == "mimir-host" {
                assert!(
                    !is_component(dependency),
                    "{name} depends on component {dependency}"
                );
            }
            if is_component(name) {
                assert_ne!(dependency, "mimir-host", "{name} depends on the host");
            }
        }
    }
    let abi = &packages["mimir-abi"].1;
    assert!(
        abi.iter().all(|d| d == "abi_stable" || d == "async-ffi"),
        "mimir-abi holds the FFI contract only: {abi:?}"
    );
}
