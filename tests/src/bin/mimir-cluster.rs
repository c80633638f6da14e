//! `mimir-cluster`: starts a local multi-process `mimir-host` cluster on loopback, one process per
//! `-target`, wired together with `-bus.peers`, and keeps it running until Ctrl-C.
//!
//! ```text
//! mimir-cluster -plugins.dir=target/release -target=echo -target=greeter
//! ```
//! Every argument that is not a `-target=` goes to every process.

use std::time::Duration;

use mimir_tests::cluster::Cluster;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args
        .iter()
        .any(|a| a == "-h" || a == "-help" || a == "--help")
        || args.is_empty()
    {
        println!(
            "usage: mimir-cluster [mimir-host flags...] -target=<a> -target=<b> ...\n\
             Starts one mimir-host per -target on loopback, wired with -bus.peers; Ctrl-C stops them.\n\
             Uses the mimir-host binary of target/debug (MIMIR_TEST_PROFILE=release for target/release)."
        );
        return;
    }
    let (targets, shared): (Vec<String>, Vec<String>) =
        args.into_iter().partition(|a| a.starts_with("-target="));
    let targets: Vec<String> = targets
        .iter()
        .map(|t| t.trim_start_matches("-target=").to_string())
        .collect();
    let mut cluster = Cluster::start(&targets, &shared);
    cluster.wait_ready(Duration::from_secs(60));
    for (target, process) in &cluster.processes {
        println!(
            "{target}: http {} grpc {}",
            process.url("/"),
            process.grpc_address()
        );
    }
    println!("cluster ready; Ctrl-C stops it");
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}
