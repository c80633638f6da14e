//! Plugin discovery and loading: finds `libmimir_*.so` files in the plugin directories, loads each
//! through abi_stable (which checks the layout of every type the root module references) and reads
//! its manifest. One of the three places FFI types may appear (with `ffi.rs` and the ABI crates).
//!
//! Loaded libraries are never unloaded: there is no hot reload, restart to change plugins.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use abi_stable::library::{LibraryError, lib_header_from_path};
use mimir_abi::{ABI_VERSION, ComponentBox, HostContext, PLUGIN_FILE_PREFIX, PluginModRef};
use mimir_proto::Message;
use mimir_proto::plugin::PluginManifest;

/// A plugin that loaded and passed every check.
pub struct Plugin {
    pub path: PathBuf,
    pub manifest: PluginManifest,
    module: PluginModRef,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("path", &self.path)
            .field("name", &self.manifest.name)
            .finish()
    }
}

/// A plugin file that could not be used, and why.
#[derive(Debug, Clone)]
pub struct Refused {
    pub path: PathBuf,
    /// The component name its file name suggests (`libmimir_query_frontend.so` → `query-frontend`).
    pub presumed_name: String,
    pub reason: String,
}

/// Everything found in the plugin directories.
#[derive(Debug, Default)]
pub struct Discovery {
    pub dirs: Vec<PathBuf>,
    pub plugins: Vec<Plugin>,
    pub refused: Vec<Refused>,
}

#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    #[error("component `{name}` is provided by two plugins: {} and {}", first.display(), second.display())]
    Duplicate {
        name: String,
        first: PathBuf,
        second: PathBuf,
    },
    #[error("cannot read plugin directory {}: {source}", dir.display())]
    ReadDir {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The directories searched: the configured ones, or the executable's directory then `./plugins`.
pub fn plugin_dirs(configured: &[String]) -> Vec<PathBuf> {
    let configured: Vec<PathBuf> = configured
        .iter()
        .map(|d| d.trim())
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .collect();
    if !configured.is_empty() {
        return configured;
    }
    let mut dirs = Vec::new();
    if let Some(exe_dir) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
    {
        dirs.push(exe_dir);
    }
    dirs.push(PathBuf::from("plugins"));
    dirs
}

/// Whether a file name is a plugin's: `libmimir_*.so` (Linux), `libmimir_*.dylib`, `mimir_*.dll`.
pub fn is_plugin_file_name(name: &str) -> bool {
    let stem = name.strip_prefix("lib").unwrap_or(name);
    let has_extension = [".so", ".dylib", ".dll"]
        .iter()
        .any(|extension| stem.ends_with(extension));
    stem.starts_with(PLUGIN_FILE_PREFIX) && has_extension
}

fn presumed_name(path: &Path) -> String {
    let file = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let stem = file.strip_prefix("lib").unwrap_or(file);
    let stem = stem.strip_prefix(PLUGIN_FILE_PREFIX).unwrap_or(stem);
    let stem = stem.split('.').next().unwrap_or(stem);
    stem.replace('_', "-")
}

/// Finds and loads every plugin in `dirs`. A missing directory is skipped; a file that is not a
/// usable plugin is refused (with its reason), not fatal; two plugins with one name are an error.
pub fn discover(dirs: Vec<PathBuf>) -> Result<Discovery, DiscoveryError> {
    let mut discovery = Discovery::default();
    let mut seen_files = Vec::new();
    for dir in &dirs {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => {
                return Err(DiscoveryError::ReadDir {
                    dir: dir.clone(),
                    source,
                });
            }
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| {
                path.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(is_plugin_file_name)
            })
            .collect();
        files.sort();
        for path in files {
            let canonical = path.canonicalize().unwrap_or_else(|_| path.clone());
            if seen_files.contains(&canonical) {
                continue;
            }
            seen_files.push(canonical);
            match load(&path) {
                Ok(plugin) => discovery.plugins.push(plugin),
                Err(reason) => discovery.refused.push(Refused {
                    presumed_name: presumed_name(&path),
                    path,
                    reason,
                }),
            }
        }
    }
    let mut by_name: BTreeMap<&str, &Path> = BTreeMap::new();
    for plugin in &discovery.plugins {
        if let Some(first) = by_name.insert(&plugin.manifest.name, &plugin.path) {
            return Err(DiscoveryError::Duplicate {
                name: plugin.manifest.name.clone(),
                first: first.to_path_buf(),
                second: plugin.path.clone(),
            });
        }
    }
    discovery.dirs = dirs;
    Ok(discovery)
}

/// Loads one plugin file. The error is a short message fit for a user.
pub fn load(path: &Path) -> Result<Plugin, String> {
    if !path.exists() {
        return Err(format!("{}: no such file", path.display()));
    }
    let header = lib_header_from_path(path).map_err(|error| describe(path, &error))?;
    let module = header
        .init_root_module::<PluginModRef>()
        .map_err(|error| describe(path, &error))?;
    let abi_version = module.abi_version();
    if abi_version != ABI_VERSION {
        return Err(format!(
            "{}: built for plugin ABI version {abi_version}, this host speaks version {ABI_VERSION}; rebuild the plugin against this mimir-abi",
            path.display()
        ));
    }
    let bytes = (module.manifest())();
    let manifest = PluginManifest::decode(bytes.as_slice())
        .map_err(|error| format!("{}: unreadable manifest: {error}", path.display()))?;
    validate_manifest(&manifest).map_err(|reason| format!("{}: {reason}", path.display()))?;
    Ok(Plugin {
        path: path.to_path_buf(),
        manifest,
        module,
    })
}

fn validate_manifest(manifest: &PluginManifest) -> Result<(), String> {
    let name = &manifest.name;
    let well_formed = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && name.starts_with(|c: char| c.is_ascii_lowercase());
    if !well_formed {
        return Err(format!(
            "invalid component name `{name}` in manifest: use lowercase letters, digits and '-'"
        ));
    }
    if crate::kv::KV_DESTINATION == name.as_str() {
        return Err(format!(
            "component name `{name}` is reserved for the host's key-value service"
        ));
    }
    for route in &manifest.http_routes {
        if !route.path.starts_with('/') {
            return Err(format!(
                "component `{name}` declares HTTP route `{}`, which does not start with '/'",
                route.path
            ));
        }
    }
    Ok(())
}

/// Turns abi_stable's error (for a layout mismatch, thousands of lines) into a few lines: what
/// kind of error, the first mismatch with its expected/found values, the versions.
fn describe(path: &Path, error: &LibraryError) -> String {
    let full = error.to_string();
    let summary = match error {
        LibraryError::OpenError { .. } => {
            format!("cannot open the library: {}", first_line(&full))
        }
        LibraryError::GetSymbolError { .. } => {
            "not a mimir-host plugin (it exports no plugin root module)".to_string()
        }
        LibraryError::IncompatibleVersionNumber {
            expected_version,
            actual_version,
            ..
        } => format!(
            "built against mimir-abi {actual_version}, incompatible with this host's {expected_version}"
        ),
        LibraryError::AbiInstability(_) => {
            format!(
                "built against a different plugin ABI:\n{}",
                mismatch_summary(&full)
            )
        }
        _ => first_lines(&full, 6),
    };
    format!("{}: {summary}", path.display())
}

fn first_line(text: &str) -> &str {
    text.lines().find(|l| !l.trim().is_empty()).unwrap_or(text)
}

fn first_lines(text: &str, count: usize) -> String {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .take(count)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The `Error:` entries of an abi_stable layout report (which runs to thousands of lines), each as
/// `what: expected X, found Y`, at most three.
fn mismatch_summary(full: &str) -> String {
    let lines: Vec<&str> = full.lines().map(str::trim).collect();
    let value_after = |start: usize, label: &str| -> Option<String> {
        let at = lines[start..]
            .iter()
            .take(12)
            .position(|l| *l == label)
            .map(|offset| start + offset + 1)?;
        lines.get(at).map(|v| v.to_string())
    };
    let mut entries = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let Some(what) = line.strip_prefix("Error:") else {
            continue;
        };
        let mut entry = format!("  {}", what.trim());
        if let (Some(expected), Some(found)) = (
            value_after(index, "Expected:"),
            value_after(index, "Found:"),
        ) {
            entry.push_str(&format!(": expected `{expected}`, found `{found}`"));
        }
        entries.push(entry);
        if entries.len() == 3 {
            break;
        }
    }
    if entries.is_empty() {
        return first_lines(full, 8);
    }
    entries.join("\n")
}

impl Plugin {
    /// Builds one component instance of this plugin.
    pub fn instantiate(&self, context: HostContext) -> Result<ComponentBox, mimir_abi::BusError> {
        (self.module.new_component())(context).into_result()
    }

    pub fn name(&self) -> &str {
        &self.manifest.name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_file_names() {
        assert!(is_plugin_file_name("libmimir_ingester.so"));
        assert!(is_plugin_file_name("libmimir_query_frontend.dylib"));
        assert!(is_plugin_file_name("mimir_ruler.dll"));
        assert!(!is_plugin_file_name("libfixture_panicky.so"));
        assert!(!is_plugin_file_name("libmimir_ingester.rlib"));
        assert!(!is_plugin_file_name("mimir-host"));
    }

    #[test]
    fn presumed_names_follow_crate_names() {
        assert_eq!(
            presumed_name(Path::new("/x/libmimir_query_frontend.so")),
            "query-frontend"
        );
        assert_eq!(presumed_name(Path::new("mimir_ruler.dll")), "ruler");
    }

    #[test]
    fn missing_and_foreign_files_are_refused_clearly() {
        let missing = load(Path::new("/nonexistent/libmimir_x.so")).unwrap_err();
        assert!(missing.contains("no such file"), "{missing}");

        let dir = tempfile::tempdir().unwrap();
        let not_a_library = dir.path().join("libmimir_text.so");
        std::fs::write(&not_a_library, b"not an ELF file").unwrap();
        let refused = load(&not_a_library).unwrap_err();
        assert!(refused.contains("cannot open the library"), "{refused}");
        assert!(refused.contains("libmimir_text.so"), "{refused}");
    }
}
