//! The module graph as data: components and groups come from plugin manifests (never from a chain
//! of `if target == ...`), `-target` resolves against them, and start order is a topological sort of
//! the manifests' dependencies (ties broken by name).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::loader::{Discovery, Refused};

/// Groups that always exist, even before any plugin joins them (Mimir's deployment modes).
pub const BUILT_IN_GROUPS: [&str; 4] = ["all", "read", "write", "backend"];

#[derive(Debug, Clone)]
pub struct Module {
    pub name: String,
    pub version: String,
    pub description: String,
    pub path: String,
    pub dependencies: Vec<String>,
}

#[derive(Debug, Default)]
pub struct ModuleGraph {
    modules: BTreeMap<String, Module>,
    groups: BTreeMap<String, BTreeSet<String>>,
    refused: Vec<Refused>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TargetError {
    #[error(
        "unrecognised module name `{name}` in -target; known modules: {modules}; groups: {groups}"
    )]
    Unknown {
        name: String,
        modules: String,
        groups: String,
    },
    #[error("-target names `{name}`, whose plugin was refused: {reason}")]
    Refused { name: String, reason: String },
    #[error("-target={target} selects no component: no discovered plugin joins {target}")]
    Empty { target: String },
    #[error("components depend on each other in a cycle: {0}")]
    Cycle(String),
    #[error("`{name}` is both a component and a group name")]
    Ambiguous { name: String },
}

impl ModuleGraph {
    pub fn new(discovery: &Discovery) -> ModuleGraph {
        let mut graph = ModuleGraph {
            refused: discovery.refused.clone(),
            ..ModuleGraph::default()
        };
        for group in BUILT_IN_GROUPS {
            graph.groups.insert(group.to_string(), BTreeSet::new());
        }
        for plugin in &discovery.plugins {
            let manifest = &plugin.manifest;
            for group in &manifest.groups {
                graph
                    .groups
                    .entry(group.clone())
                    .or_default()
                    .insert(manifest.name.clone());
            }
            graph.modules.insert(
                manifest.name.clone(),
                Module {
                    name: manifest.name.clone(),
                    version: manifest.version.clone(),
                    description: manifest.description.clone(),
                    path: plugin.path.display().to_string(),
                    dependencies: manifest.dependencies.clone(),
                },
            );
        }
        graph
    }

    pub fn module(&self, name: &str) -> Option<&Module> {
        self.modules.get(name)
    }

    /// The components `target` selects, in start order.
    pub fn resolve(&self, target: &str) -> Result<Vec<String>, TargetError> {
        let mut selected = BTreeSet::new();
        for name in target.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let as_module = self.modules.contains_key(name);
            let as_group = self.groups.get(name);
            match (as_module, as_group) {
                (true, Some(_)) => {
                    return Err(TargetError::Ambiguous {
                        name: name.to_string(),
                    });
                }
                (true, None) => {
                    selected.insert(name.to_string());
                }
                (false, Some(members)) => selected.extend(members.iter().cloned()),
                (false, None) => return Err(self.unknown(name)),
            }
        }
        if selected.is_empty() {
            return Err(TargetError::Empty {
                target: target.to_string(),
            });
        }
        self.start_order(&selected)
    }

    fn unknown(&self, name: &str) -> TargetError {
        if let Some(refused) = self.refused.iter().find(|r| r.presumed_name == name) {
            return TargetError::Refused {
                name: name.to_string(),
                reason: refused.reason.clone(),
            };
        }
        let modules: Vec<&str> = self.modules.keys().map(String::as_str).collect();
        let groups: Vec<&str> = self.groups.keys().map(String::as_str).collect();
        TargetError::Unknown {
            name: name.to_string(),
            modules: if modules.is_empty() {
                "(none)".to_string()
            } else {
                modules.join(", ")
            },
            groups: groups.join(", "),
        }
    }

    /// Kahn's algorithm over dependencies inside `selected`; dependencies outside it are remote.
    fn start_order(&self, selected: &BTreeSet<String>) -> Result<Vec<String>, TargetError> {
        let local_deps = |name: &str| -> BTreeSet<String> {
            self.modules
                .get(name)
                .map(|m| {
                    m.dependencies
                        .iter()
                        .filter(|d| selected.contains(*d) && d.as_str() != name)
                        .cloned()
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut pending: BTreeMap<String, BTreeSet<String>> = selected
            .iter()
            .map(|name| (name.clone(), local_deps(name)))
            .collect();
        let mut order = Vec::with_capacity(pending.len());
        while !pending.is_empty() {
            let ready: Vec<String> = pending
                .iter()
                .filter(|(_, deps)| deps.is_empty())
                .map(|(name, _)| name.clone())
                .collect();
            if ready.is_empty() {
                let cycle: Vec<&str> = pending.keys().map(String::as_str).collect();
                return Err(TargetError::Cycle(cycle.join(", ")));
            }
            for name in ready {
                pending.remove(&name);
                for deps in pending.values_mut() {
                    deps.remove(&name);
                }
                order.push(name);
            }
        }
        Ok(order)
    }

    /// What `-modules` prints.
    pub fn render(&self) -> String {
        let in_all = self.groups.get("all").cloned().unwrap_or_default();
        let mut out = String::from("Modules:\n");
        if self.modules.is_empty() {
            out.push_str("(no plugins found)\n");
        }
        for name in self.modules.keys() {
            let marker = if in_all.contains(name) { " *" } else { "" };
            let _ = writeln!(out, "{name}{marker}");
        }
        out.push_str("\nGroups:\n");
        for (group, members) in &self.groups {
            let members: Vec<&str> = members.iter().map(String::as_str).collect();
            let list = if members.is_empty() {
                "(none)".to_string()
            } else {
                members.join(", ")
            };
            let _ = writeln!(out, "{group}: {list}");
        }
        out.push_str("\nPlugins:\n");
        for module in self.modules.values() {
            let _ = writeln!(
                out,
                "{} {} from {}",
                module.name, module.version, module.path
            );
        }
        if !self.refused.is_empty() {
            out.push_str("\nRefused plugins:\n");
            for refused in &self.refused {
                let _ = writeln!(out, "{}", refused.reason);
            }
        }
        out.push_str("\nModules marked with * are included in target All.\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(modules: &[(&str, &[&str], &[&str])]) -> ModuleGraph {
        let mut graph = ModuleGraph::default();
        for group in BUILT_IN_GROUPS {
            graph.groups.insert(group.to_string(), BTreeSet::new());
        }
        for (name, groups, deps) in modules {
            for group in *groups {
                graph
                    .groups
                    .entry((*group).to_string())
                    .or_default()
                    .insert((*name).to_string());
            }
            graph.modules.insert(
                (*name).to_string(),
                Module {
                    name: (*name).to_string(),
                    version: "1.0.0".to_string(),
                    description: String::new(),
                    path: format!("/p/libmimir_{name}.so"),
                    dependencies: deps.iter().map(|d| (*d).to_string()).collect(),
                },
            );
        }
        graph
    }

    #[test]
    fn groups_expand_and_dependencies_order_the_start() {
        let g = graph(&[
            ("distributor", &["all", "write"], &["ingester"]),
            ("ingester", &["all", "write"], &[]),
            ("querier", &["all", "read"], &["ingester"]),
            ("alertmanager", &["backend"], &[]),
        ]);
        assert_eq!(
            g.resolve("all").unwrap(),
            vec!["ingester", "distributor", "querier"]
        );
        assert_eq!(g.resolve("write").unwrap(), vec!["ingester", "distributor"]);
        assert_eq!(
            g.resolve("all,alertmanager").unwrap(),
            vec!["alertmanager", "ingester", "distributor", "querier"]
        );
        // A dependency outside the target is remote: it does not block the start.
        assert_eq!(g.resolve("querier").unwrap(), vec!["querier"]);
    }

    #[test]
    fn unknown_and_empty_targets_are_errors() {
        let g = graph(&[("ingester", &["all"], &[])]);
        let error = g.resolve("ingestr").unwrap_err().to_string();
        assert!(
            error.contains("unrecognised module name `ingestr`"),
            "{error}"
        );
        assert!(error.contains("known modules: ingester"), "{error}");
        assert!(
            error.contains("groups: all, backend, read, write"),
            "{error}"
        );
        assert_eq!(
            g.resolve("backend").unwrap_err(),
            TargetError::Empty {
                target: "backend".to_string()
            }
        );
    }

    #[test]
    fn cycles_are_reported() {
        let g = graph(&[("a", &[], &["b"]), ("b", &[], &["a"])]);
        assert_eq!(
            g.resolve("a,b").unwrap_err(),
            TargetError::Cycle("a, b".to_string())
        );
    }

    #[test]
    fn render_marks_modules_in_all() {
        let g = graph(&[
            ("ingester", &["all", "write"], &[]),
            ("echo", &["examples"], &[]),
        ]);
        let text = g.render();
        assert!(text.starts_with("Modules:\necho\ningester *\n"), "{text}");
        assert!(text.contains("examples: echo\n"), "{text}");
        assert!(text.contains("read: (none)\n"), "{text}");
        assert!(
            text.contains("ingester 1.0.0 from /p/libmimir_ingester.so"),
            "{text}"
        );
        assert!(text.ends_with("Modules marked with * are included in target All.\n"));
    }
}
