//! mimir-tests: a harness that runs the real `mimir-host` binary with real plugins as one or more
//! local processes, on loopback ports, each with its own plugin directory and captured log.
//!
//! The binary and plugins must be built first (`cargo build --workspace`; the test command in the
//! README does it): `cargo test` builds neither a binary of another crate nor any `.so`.

pub mod client;
pub mod cluster;

use std::io::Read as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Where cargo put the binaries and plugins of the `dev` profile (or `MIMIR_TEST_PROFILE`).
pub fn artifacts_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    let profile = std::env::var("MIMIR_TEST_PROFILE").unwrap_or_else(|_| "debug".to_string());
    target.join(profile)
}

fn built(path: PathBuf) -> PathBuf {
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --workspace` before the tests (the README's test command does)",
        path.display()
    );
    path
}

/// The `mimir-host` binary.
pub fn host_binary() -> PathBuf {
    built(artifacts_dir().join("mimir-host"))
}

/// The shared library cargo built for crate `lib_name` (e.g. `mimir_example_echo`).
pub fn library(lib_name: &str) -> PathBuf {
    built(artifacts_dir().join(format!(
        "{}{lib_name}{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )))
}

/// A free loopback port for a server a test starts. Ports come from a block of this test
/// process' own below the kernel's ephemeral range (32768+), so that neither another test process
/// nor an outgoing connection takes the port between this check and the server's bind.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    const BLOCK: u16 = 16;
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let blocks = (32_000 - 10_000) / u32::from(BLOCK);
    let block = u16::try_from(std::process::id() % blocks).unwrap_or(0);
    let base = 10_000 + block * BLOCK;
    for _ in 0..BLOCK {
        let port = base + NEXT.fetch_add(1, Ordering::Relaxed) % BLOCK;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .unwrap_or_else(|error| panic!("no free port: {error}"))
}

/// A temporary plugin directory holding copies of chosen plugin files.
pub struct PluginDir {
    dir: tempfile::TempDir,
}

impl PluginDir {
    pub fn new() -> PluginDir {
        PluginDir {
            dir: tempfile::tempdir().unwrap_or_else(|error| panic!("no temp dir: {error}")),
        }
    }

    /// Copies the library of `lib_name` in under `file_name`.
    pub fn with(self, lib_name: &str, file_name: &str) -> PluginDir {
        self.with_file(&library(lib_name), file_name)
    }

    /// Copies any file in under `file_name`.
    pub fn with_file(self, source: &Path, file_name: &str) -> PluginDir {
        let destination = self.dir.path().join(file_name);
        std::fs::copy(source, &destination).unwrap_or_else(|error| {
            panic!(
                "cannot copy {} to {}: {error}",
                source.display(),
                destination.display()
            )
        });
        self
    }

    /// The write path: `distributor` and `ingester`.
    pub fn write_path() -> PluginDir {
        PluginDir::new()
            .with("mimir_distributor", "libmimir_distributor.so")
            .with("mimir_ingester", "libmimir_ingester.so")
    }

    /// The monolith's components: the write path and the `querier`.
    pub fn monolith() -> PluginDir {
        PluginDir::write_path().with("mimir_querier", "libmimir_querier.so")
    }

    /// The example plugins, `echo` and `greeter`.
    pub fn examples() -> PluginDir {
        PluginDir::new()
            .with("mimir_example_echo", "libmimir_example_echo.so")
            .with("mimir_example_greeter", "libmimir_example_greeter.so")
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The `-plugins.dir=` flag for this directory.
    pub fn flag(&self) -> String {
        format!("-plugins.dir={}", self.dir.path().display())
    }
}

impl Default for PluginDir {
    fn default() -> PluginDir {
        PluginDir::new()
    }
}

/// Runs `mimir-host` to completion (for informational flags and start-up errors).
pub fn run_host(args: &[String], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(host_binary());
    command.args(args).env_clear().env("PATH", "/usr/bin:/bin");
    for (name, value) in env {
        command.env(name, value);
    }
    command
        .output()
        .unwrap_or_else(|error| panic!("cannot run mimir-host: {error}"))
}

/// `count` ingester processes (`-target=ingester`, instance ids `ingester-0`…), each with its own
/// data directory, finding the ring through the KV at `kv` (`host:grpc-port`). The directories are
/// returned so a test can restart an ingester on its data.
pub fn start_ingesters(
    plugins: &PluginDir,
    kv: &str,
    count: usize,
) -> (Vec<HostProcess>, Vec<tempfile::TempDir>) {
    let mut ingesters = Vec::with_capacity(count);
    let mut dirs = Vec::with_capacity(count);
    for index in 0..count {
        let data = tempfile::tempdir().expect("temp dir");
        ingesters.push(HostProcess::start(&[
            plugins.flag(),
            "-target=ingester".to_string(),
            format!("-instance-id=ingester-{index}"),
            format!("-ingester.data-dir={}", data.path().display()),
            format!("-bus.peers=kv={kv}"),
        ]));
        dirs.push(data);
    }
    (ingesters, dirs)
}

/// A running `mimir-host` process on loopback ports, with its log captured to a file.
pub struct HostProcess {
    child: Child,
    pub http_port: u16,
    pub grpc_port: u16,
    log_path: PathBuf,
    _log_dir: tempfile::TempDir,
}

impl HostProcess {
    /// Starts `mimir-host` with `args` plus loopback listen flags on fresh ports.
    pub fn start(args: &[String]) -> HostProcess {
        let http_port = free_port();
        let grpc_port = free_port();
        HostProcess::start_on(args, http_port, grpc_port)
    }

    /// Starts `mimir-host` on the given ports.
    pub fn start_on(args: &[String], http_port: u16, grpc_port: u16) -> HostProcess {
        let log_dir = tempfile::tempdir().unwrap_or_else(|error| panic!("no temp dir: {error}"));
        let log_path = log_dir.path().join("mimir-host.log");
        let log = std::fs::File::create(&log_path)
            .unwrap_or_else(|error| panic!("cannot create the log file: {error}"));
        let stdout = log
            .try_clone()
            .unwrap_or_else(|error| panic!("cannot share the log file: {error}"));
        let child = Command::new(host_binary())
            .args(args)
            .arg("-server.http-listen-address=127.0.0.1")
            .arg(format!("-server.http-listen-port={http_port}"))
            .arg("-server.grpc-listen-address=127.0.0.1")
            .arg(format!("-server.grpc-listen-port={grpc_port}"))
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .current_dir(log_dir.path())
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(log)
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start mimir-host: {error}"));
        HostProcess {
            child,
            http_port,
            grpc_port,
            log_path,
            _log_dir: log_dir,
        }
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.http_port)
    }

    /// The gRPC address of this process.
    pub fn grpc_address(&self) -> String {
        format!("127.0.0.1:{}", self.grpc_port)
    }

    /// Everything the process logged so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Waits until `/ready` answers 200; on time-out or exit, fails with the log.
    pub fn wait_ready(&mut self, timeout: Duration) {
        let started = Instant::now();
        while started.elapsed() < timeout {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "mimir-host exited with {status} before it was ready:\n{}",
                    self.logs()
                );
            }
            if let Ok((200, _)) = get(&self.url("/ready")) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "mimir-host was not ready within {timeout:?}:\n{}",
            self.logs()
        );
    }

    /// Kills the process with SIGKILL (`kill -9`) and waits for it.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends a signal (e.g. `libc::SIGTERM`).
    pub fn signal(&self, signal: i32) {
        let pid = i32::try_from(self.child.id()).unwrap_or(i32::MAX);
        // SAFETY: kill(2) with a pid we own and a valid signal number has no memory effects.
        unsafe {
            libc::kill(pid, signal);
        }
    }

    /// Waits for the process to exit.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let started = Instant::now();
        while started.elapsed() < timeout {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        panic!(
            "mimir-host did not exit within {timeout:?}:\n{}",
            self.logs()
        );
    }
}

impl Drop for HostProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// GET `url`: status and body.
pub fn get(url: &str) -> Result<(u16, String), String> {
    get_with(url, &[])
}

/// GET `url` with headers: status and body.
pub fn get_with(url: &str, headers: &[(&str, &str)]) -> Result<(u16, String), String> {
    let mut request = agent().get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut response = request.call().map_err(|error| error.to_string())?;
    let status = response.status().as_u16();
    let mut body = String::new();
    response
        .body_mut()
        .as_reader()
        .read_to_string(&mut body)
        .map_err(|error| error.to_string())?;
    Ok((status, body))
}

/// POST a form-encoded `body` to `url` with headers: status and body.
pub fn post_form(url: &str, headers: &[(&str, &str)], body: &str) -> Result<(u16, String), String> {
    let mut request = agent()
        .post(url)
        .header("Content-Type", "application/x-www-form-urlencoded");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut response = request
        .send(body.as_bytes())
        .map_err(|error| error.to_string())?;
    let status = response.status().as_u16();
    let mut text = String::new();
    response
        .body_mut()
        .as_reader()
        .read_to_string(&mut text)
        .map_err(|error| error.to_string())?;
    Ok((status, text))
}

/// Another program the tests run (Prometheus, …), killed when dropped.
pub struct ExternalProcess {
    child: Child,
    pub dir: tempfile::TempDir,
}

impl ExternalProcess {
    /// Starts `program` with `args` in a fresh temporary directory (its cwd), output to `out.log`.
    pub fn start(program: &str, args: &[String], dir: tempfile::TempDir) -> ExternalProcess {
        let log = std::fs::File::create(dir.path().join("out.log"))
            .unwrap_or_else(|error| panic!("cannot create the log: {error}"));
        let stderr = log
            .try_clone()
            .unwrap_or_else(|error| panic!("cannot share the log: {error}"));
        let child = Command::new(program)
            .args(args)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|error| {
                panic!("cannot start {program}: {error} (the test command installs it)")
            });
        ExternalProcess { child, dir }
    }

    pub fn logs(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("out.log")).unwrap_or_default()
    }
}

impl Drop for ExternalProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
