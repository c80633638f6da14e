//! A local cluster: several `mimir-host` processes on loopback, one per target, each told where the
//! components of the others run (`-bus.peers`), so that calls between them go over gRPC.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::{HostProcess, free_port, run_host};

/// The groups of the plugins in `plugin_args`, read from `mimir-host -modules`.
pub fn groups(plugin_args: &[String]) -> BTreeMap<String, Vec<String>> {
    let mut args = plugin_args.to_vec();
    args.push("-modules".to_string());
    let output = run_host(&args, &[]);
    let text = String::from_utf8_lossy(&output.stdout);
    let mut groups = BTreeMap::new();
    let mut in_groups = false;
    for line in text.lines() {
        if line == "Groups:" {
            in_groups = true;
            continue;
        }
        if line.is_empty() {
            in_groups = false;
            continue;
        }
        if let Some((group, members)) = line.split_once(": ").filter(|_| in_groups) {
            let members = members
                .split(", ")
                .filter(|m| *m != "(none)")
                .map(str::to_string)
                .collect();
            groups.insert(group.to_string(), members);
        }
    }
    groups
}

/// The components a `-target` value selects, expanding groups.
fn components(target: &str, groups: &BTreeMap<String, Vec<String>>) -> Vec<String> {
    target
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .flat_map(|t| {
            groups
                .get(t)
                .cloned()
                .unwrap_or_else(|| vec![t.to_string()])
        })
        .collect()
}

/// Processes of one local cluster.
pub struct Cluster {
    pub processes: Vec<(String, HostProcess)>,
}

impl Cluster {
    /// Starts one process per target; `extra_args` go to every process (e.g. `-plugins.dir=`).
    pub fn start(targets: &[String], extra_args: &[String]) -> Cluster {
        let groups = groups(extra_args);
        let ports: Vec<(u16, u16)> = targets.iter().map(|_| (free_port(), free_port())).collect();
        let mut peers = Vec::new();
        for (target, (_, grpc_port)) in targets.iter().zip(&ports) {
            for component in components(target, &groups) {
                peers.push(format!("{component}=127.0.0.1:{grpc_port}"));
            }
        }
        let mut processes = Vec::new();
        for (index, (target, (http_port, grpc_port))) in targets.iter().zip(&ports).enumerate() {
            let mut args = extra_args.to_vec();
            args.push(format!("-target={target}"));
            args.push(format!("-instance-id=process-{index}"));
            if !peers.is_empty() {
                args.push(format!("-bus.peers={}", peers.join(",")));
            }
            processes.push((
                target.clone(),
                HostProcess::start_on(&args, *http_port, *grpc_port),
            ));
        }
        Cluster { processes }
    }

    /// Waits until every process is ready.
    pub fn wait_ready(&mut self, timeout: Duration) {
        for (_, process) in &mut self.processes {
            process.wait_ready(timeout);
        }
    }
}
