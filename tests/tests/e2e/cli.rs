//! The command line against the real binary: `-modules`, `-target` groups and unknown targets,
//! config precedence (defaults < file < env < flags), unknown keys and flags, `-help`, `-version`.

use std::time::Duration;

use mimir_tests::{HostProcess, PluginDir, get, run_host};

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn modules_lists_modules_groups_and_plugin_files() {
    let plugins = PluginDir::examples();
    let output = run_host(&[plugins.flag(), "-modules".to_string()], &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    let dir = plugins.path().display().to_string();
    let version = env!("CARGO_PKG_VERSION");
    let expected = format!(
        "Modules:\necho\ngreeter\n\nGroups:\nall: (none)\nbackend: (none)\nexamples: echo, greeter\nread: (none)\nwrite: (none)\n\nPlugins:\necho {version} from {dir}/libmimir_example_echo.so\ngreeter {version} from {dir}/libmimir_example_greeter.so\n\nModules marked with * are included in target All.\n"
    );
    assert_eq!(text, expected);
}

#[test]
fn a_group_target_runs_its_members() {
    let plugins = PluginDir::examples();
    let mut host = HostProcess::start(&[plugins.flag(), "-target=examples".to_string()]);
    host.wait_ready(Duration::from_secs(30));
    let (status, services) = get(&host.url("/services")).expect("answers");
    assert_eq!(status, 200);
    assert_eq!(services, "echo: Running\ngreeter: Running\n");
}

#[test]
fn an_unknown_target_lists_the_known_names() {
    let plugins = PluginDir::examples();
    let output = run_host(&[plugins.flag(), "-target=echo,ingestr".to_string()], &[]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output).lines().last(),
        Some(
            "error: unrecognised module name `ingestr` in -target; known modules: echo, greeter; groups: all, backend, examples, read, write"
        )
    );
}

#[test]
fn the_default_target_all_with_no_member_is_an_error() {
    let plugins = PluginDir::examples();
    let output = run_host(&[plugins.flag()], &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("-target=all selects no component"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn no_plugins_at_all_is_a_clear_error() {
    let empty = PluginDir::new();
    let output = run_host(&[empty.flag()], &[]);
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(text.contains("error: no plugins found in"), "{text}");
    assert!(text.contains(&empty.path().display().to_string()), "{text}");
}

/// `greeter.greeting` as `-print.config` shows it, with the file, env and flag given.
fn effective_greeting(file: Option<&str>, env: Option<&str>, flag: Option<&str>) -> String {
    let plugins = PluginDir::examples();
    let mut args = vec![plugins.flag(), "-print.config".to_string()];
    let config_dir = tempfile::tempdir().expect("temp dir");
    if let Some(value) = file {
        let path = config_dir.path().join("mimir.yaml");
        std::fs::write(&path, format!("greeter:\n  greeting: {value}\n")).expect("write");
        args.push(format!("-config.file={}", path.display()));
    }
    if let Some(value) = flag {
        args.push(format!("-greeter.greeting={value}"));
    }
    let env: Vec<(&str, &str)> = env
        .map(|v| ("MIMIR_GREETER__GREETING", v))
        .into_iter()
        .collect();
    let output = run_host(&args, &env);
    assert!(output.status.success(), "{}", stderr(&output));
    yaml_greeting(&stdout(&output))
}

/// The value of `greeting:` inside the `greeter:` block of the printed YAML.
fn yaml_greeting(yaml: &str) -> String {
    let mut in_greeter = false;
    for line in yaml.lines() {
        if !line.starts_with(' ') {
            in_greeter = line.trim_end() == "greeter:";
            continue;
        }
        if let Some(value) = line.trim().strip_prefix("greeting:").filter(|_| in_greeter) {
            return value.trim().to_string();
        }
    }
    panic!("no greeter.greeting in:\n{yaml}")
}

#[test]
fn config_precedence_is_defaults_file_env_flags() {
    assert_eq!(effective_greeting(None, None, None), "hello");
    assert_eq!(effective_greeting(Some("file"), None, None), "file");
    assert_eq!(effective_greeting(Some("file"), Some("env"), None), "env");
    assert_eq!(
        effective_greeting(Some("file"), Some("env"), Some("flag")),
        "flag"
    );
    assert_eq!(effective_greeting(None, None, Some("flag")), "flag");
}

#[test]
fn config_file_env_expansion() {
    let plugins = PluginDir::examples();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("mimir.yaml");
    std::fs::write(&path, "greeter:\n  greeting: ${GREETING_WORD:hi}\n").expect("write");
    let args = vec![
        plugins.flag(),
        "-print.config".to_string(),
        format!("-config.file={}", path.display()),
        "-config.expand-env".to_string(),
    ];
    let output = run_host(&args, &[("GREETING_WORD", "howdy")]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(yaml_greeting(&stdout(&output)), "howdy");
    let output = run_host(&args, &[]);
    assert_eq!(yaml_greeting(&stdout(&output)), "hi");
}

#[test]
fn unknown_keys_and_flags_are_errors_naming_them() {
    let plugins = PluginDir::examples();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("mimir.yaml");
    std::fs::write(&path, "greeter:\n  greting: typo\n").expect("write");
    let output = run_host(
        &[plugins.flag(), format!("-config.file={}", path.display())],
        &[],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("greeter.greting"),
        "{}",
        stderr(&output)
    );

    let output = run_host(&[plugins.flag(), "-greeter.greting=typo".to_string()], &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("flag provided but not defined: -greeter.greting"),
        "{}",
        stderr(&output)
    );

    let output = run_host(
        &[
            plugins.flag(),
            "-server.http-listen-port=eighty".to_string(),
        ],
        &[],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("server.http_listen_port"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn help_lists_host_and_plugin_flags_and_version_prints_the_version() {
    let plugins = PluginDir::examples();
    let output = run_host(&[plugins.flag(), "-help".to_string()], &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let help = stdout(&output);
    assert!(help.contains("  -server.http-listen-port int\n"), "{help}");
    assert!(
        help.contains("HTTP server listen port. (default 8080)"),
        "{help}"
    );
    assert!(help.contains("  -greeter.greeting string\n"), "{help}");
    assert!(
        help.contains("Word the greeting starts with. (default \"hello\")"),
        "{help}"
    );

    let output = run_host(&["-version".to_string()], &[]);
    assert!(output.status.success());
    assert_eq!(
        stdout(&output),
        format!("mimir-host, version {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn the_committed_config_reference_matches_the_config_structs() {
    let plugins = PluginDir::examples()
        .with("mimir_distributor", "libmimir_distributor.so")
        .with("mimir_ingester", "libmimir_ingester.so")
        .with("mimir_querier", "libmimir_querier.so");
    let output = run_host(&[plugins.flag(), "-config.reference".to_string()], &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let generated = stdout(&output);
    let path = mimir_tests::workspace_root().join("config/reference.md");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        generated == committed,
        "config/reference.md is out of date: run `./target/debug/mimir-host -plugins.dir=target/debug -config.reference > config/reference.md`\n{generated}"
    );
}

#[test]
fn the_example_config_files_are_valid() {
    let plugins = PluginDir::examples();
    let root = mimir_tests::workspace_root().join("config");
    for file in [
        "mimir.yaml",
        "examples.yaml",
        "split/echo.yaml",
        "split/greeter.yaml",
    ] {
        let path = root.join(file);
        let output = run_host(
            &[
                plugins.flag(),
                format!("-config.file={}", path.display()),
                "-print.config".to_string(),
            ],
            &[],
        );
        assert!(output.status.success(), "{file}: {}", stderr(&output));
    }
}
