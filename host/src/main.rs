//! The `mimir-host` binary. See the crate docs of `mimir_host`.

fn main() -> std::process::ExitCode {
    mimir_host::app::main_with_args(std::env::args().skip(1).collect())
}
