//! What `mimir-host` does, from command line to exit code: resolve config in two passes (the host's
//! own keys first, to find the plugin directories; then every discovered plugin's section), discover
//! plugins, answer the informational flags, resolve `-target`, and run the selected components.

use std::process::ExitCode;
use std::sync::Arc;

use serde_json::Value;

use crate::config::{self, CommandLine};
use crate::loader::{self, Discovery};
use crate::modules::ModuleGraph;
use crate::runner;
use crate::settings::{HOST_SECTIONS, HostConfig};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Runs the program with `args` (without argv\[0\]).
pub fn main_with_args(args: Vec<String>) -> ExitCode {
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Everything the informational flags and the runner need.
pub struct Prepared {
    pub command_line: CommandLine,
    pub host: HostConfig,
    pub defaults: Value,
    pub effective: Value,
    pub discovery: Discovery,
    pub graph: ModuleGraph,
}

fn host_part(tree: &Value) -> Value {
    let mut host = serde_json::Map::new();
    if let Value::Object(map) = tree {
        for key in HOST_SECTIONS {
            if let Some(value) = map.get(key) {
                host.insert(key.to_string(), value.clone());
            }
        }
    }
    Value::Object(host)
}

fn host_config(tree: &Value) -> Result<HostConfig, String> {
    serde_json::from_value(host_part(tree))
        .map_err(|error| format!("invalid configuration: {error}"))
}

/// Parses flags, file and environment, discovers plugins and builds the module graph.
pub fn prepare(args: Vec<String>, env: &[(String, String)]) -> Result<Prepared, String> {
    let command_line = config::parse_args(args).map_err(|e| e.to_string())?;
    let host_defaults =
        serde_json::to_value(HostConfig::default()).map_err(|error| error.to_string())?;
    let first_pass =
        config::resolve(&host_defaults, &command_line, env, false).map_err(|e| e.to_string())?;
    let first_host = host_config(&first_pass.value)?;
    if !command_line.version {
        crate::logging::init(&first_host.log.level)?;
    }
    let discovery = loader::discover(loader::plugin_dirs(&first_host.plugins.dir))
        .map_err(|error| error.to_string())?;

    let mut defaults = host_defaults;
    let mut discovery = discovery;
    attach_plugin_sections(&mut defaults, &mut discovery)?;
    let mut command_line = command_line;
    rename_flag_aliases(&mut command_line, &defaults, &discovery);
    let resolved =
        config::resolve(&defaults, &command_line, env, true).map_err(|e| e.to_string())?;
    for name in &resolved.ignored_env {
        tracing::warn!(variable = %name, "environment variable names no configuration key; ignored");
    }
    let host = host_config(&resolved.value)?;
    host.validate()?;
    let graph = ModuleGraph::new(&discovery);
    Ok(Prepared {
        command_line,
        host,
        defaults,
        effective: resolved.value,
        discovery,
        graph,
    })
}

/// Adds each plugin's config section and shared sections (their defaults) to the defaults tree. A
/// plugin whose section collides with the host's or another plugin's, or that declares a shared
/// section with other defaults than an earlier plugin, is refused.
fn attach_plugin_sections(defaults: &mut Value, discovery: &mut Discovery) -> Result<(), String> {
    let Value::Object(tree) = defaults else {
        return Err("host defaults are not an object".to_string());
    };
    let mut kept = Vec::new();
    let mut shared_owners: std::collections::BTreeMap<String, String> = Default::default();
    for plugin in std::mem::take(&mut discovery.plugins) {
        match plugin_sections(&plugin.manifest, tree, &shared_owners) {
            Ok(sections) => {
                for (name, value, shared) in sections {
                    if shared {
                        shared_owners.insert(name.clone(), plugin.manifest.name.clone());
                    }
                    tree.insert(name, value);
                }
                kept.push(plugin);
            }
            Err(reason) => discovery.refused.push(loader::Refused {
                presumed_name: plugin.manifest.name.clone(),
                reason: format!("{}: {reason}", plugin.path.display()),
                path: plugin.path.clone(),
            }),
        }
    }
    discovery.plugins = kept;
    Ok(())
}

/// The sections a plugin adds: (name, defaults, shared), or why it cannot add them.
fn plugin_sections(
    manifest: &mimir_proto::plugin::PluginManifest,
    tree: &serde_json::Map<String, Value>,
    shared_owners: &std::collections::BTreeMap<String, String>,
) -> Result<Vec<(String, Value, bool)>, String> {
    let parse = |json: &str| -> Value {
        serde_json::from_str(json).unwrap_or(Value::Object(serde_json::Map::new()))
    };
    let mut sections = Vec::new();
    for shared in &manifest.shared_sections {
        let defaults = parse(&shared.defaults_json);
        match (tree.get(&shared.name), shared_owners.get(&shared.name)) {
            (Some(existing), Some(owner)) if *existing != defaults => {
                return Err(format!(
                    "shared config section `{}` has other defaults than in `{owner}`'s plugin; build both from the same sources",
                    shared.name
                ));
            }
            (Some(_), Some(_)) => {}
            (Some(_), None) => {
                return Err(format!("config section `{}` is already taken", shared.name));
            }
            (None, _) => sections.push((shared.name.clone(), defaults, true)),
        }
    }
    let section = &manifest.config_section;
    if !section.is_empty() {
        if tree.contains_key(section) || sections.iter().any(|(name, _, _)| name == section) {
            return Err(format!("config section `{section}` is already taken"));
        }
        sections.push((
            section.clone(),
            parse(&manifest.config_defaults_json),
            false,
        ));
    }
    Ok(sections)
}

/// Flags a schema names with `x-flag` (Mimir's names, e.g. `-distributor.ingestion-rate-limit`)
/// are rewritten to the flag of their key path before resolving.
fn rename_flag_aliases(command_line: &mut CommandLine, defaults: &Value, discovery: &Discovery) {
    let docs = config::flag_docs(defaults, &schemas(discovery));
    let aliases: std::collections::BTreeMap<&str, &str> = docs
        .iter()
        .filter(|doc| doc.flag != doc.key_flag)
        .map(|doc| (&doc.flag[1..], &doc.key_flag[1..]))
        .collect();
    for (flag, _) in &mut command_line.settings {
        if let Some(key_flag) = aliases.get(flag.as_str()) {
            *flag = (*key_flag).to_string();
        }
    }
}

fn schemas(discovery: &Discovery) -> Vec<(String, Value)> {
    let mut schemas = vec![(
        String::new(),
        serde_json::to_value(schemars::schema_for!(HostConfig)).unwrap_or(Value::Null),
    )];
    for plugin in &discovery.plugins {
        let manifest = &plugin.manifest;
        for shared in &manifest.shared_sections {
            if schemas.iter().all(|(name, _)| *name != shared.name) {
                let schema = serde_json::from_str(&shared.schema_json).unwrap_or(Value::Null);
                schemas.push((shared.name.clone(), schema));
            }
        }
        if manifest.config_section.is_empty() {
            continue;
        }
        let schema = serde_json::from_str(&manifest.config_schema_json).unwrap_or(Value::Null);
        schemas.push((manifest.config_section.clone(), schema));
    }
    schemas
}

/// The markdown config reference for the host and every discovered plugin.
pub fn reference(prepared: &Prepared) -> String {
    let docs = config::flag_docs(&prepared.defaults, &schemas(&prepared.discovery));
    config::render_reference(&docs)
}

fn run(args: Vec<String>) -> Result<(), String> {
    let env: Vec<(String, String)> = std::env::vars().collect();
    let prepared = prepare(args, &env)?;
    let command_line = &prepared.command_line;
    if command_line.version {
        println!("mimir-host, version {VERSION}");
        return Ok(());
    }
    if command_line.help {
        let docs = config::flag_docs(&prepared.defaults, &schemas(&prepared.discovery));
        print!("{}", config::render_help("mimir-host", &docs));
        return Ok(());
    }
    if command_line.config_reference {
        print!("{}", reference(&prepared));
        return Ok(());
    }
    if command_line.modules {
        print!("{}", prepared.graph.render());
        return Ok(());
    }
    if command_line.print_config {
        print!("{}", config::to_yaml(&prepared.effective));
        return Ok(());
    }
    if prepared.discovery.plugins.is_empty() {
        let dirs: Vec<String> = prepared
            .discovery
            .dirs
            .iter()
            .map(|d| d.display().to_string())
            .collect();
        let mut message = format!(
            "no plugins found in {}: build them with `cargo build --release --workspace`, or point -plugins.dir at the directory that holds the libmimir_*.so files",
            dirs.join(", ")
        );
        for refused in &prepared.discovery.refused {
            message.push_str(&format!("\nrefused: {}", refused.reason));
        }
        return Err(message);
    }
    let order = prepared
        .graph
        .resolve(&prepared.host.target)
        .map_err(|error| error.to_string())?;
    for refused in &prepared.discovery.refused {
        tracing::warn!(
            "skipping plugin not needed by -target={}: {}",
            prepared.host.target,
            refused.reason
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("mimir-host")
        .build()
        .map_err(|error| format!("cannot start the tokio runtime: {error}"))?;
    runtime.block_on(runner::serve(Arc::new(prepared), order))
}
