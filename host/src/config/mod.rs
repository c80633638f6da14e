//! Layered configuration for the host: defaults < YAML file < `MIMIR_*`
//! environment variables < command-line flags, with Go/Mimir-style flags.
//!
//! A configuration tree is a [`serde_json::Value`] object whose keys are
//! snake_case. The *defaults tree* is the schema: every leaf of it is a
//! settable key, its JSON type is the key's type, and every key path maps to
//! a flag (`server.http_listen_port` <-> `-server.http-listen-port`) and an
//! environment variable (`MIMIR_SERVER__HTTP_LISTEN_PORT`). A default that is
//! an empty object `{}` is an *open map*: any keys beneath it are accepted
//! and a flag/env string `a=b,c=d` becomes `{"a":"b","c":"d"}`. A `null`
//! default is *untyped*: any keys beneath it are accepted and values are kept
//! as given (a string from a flag stays a string).
//!
//! Layering is done on `serde_json` values by this module, not by the
//! `config` crate. The `config` crate was tried and dropped because it is
//! not exact for our trees: it drops empty objects and empty arrays from the
//! defaults (so open maps vanish), a YAML `server: ~` replaces a whole
//! section with null, environment keys are lowercased including user keys of
//! open maps, its tables are `HashMap`s (key order is lost), and it cannot
//! say which layer a key came from, which the unknown-key messages need
//! (`flag provided but not defined: -x` vs. `unknown configuration key ... in
//! <file>`). Each layer is therefore validated on its own and merged here:
//!
//! * file: parsed with `serde_yaml_ng` (YAML merge keys `<<` applied). A
//!   `null` value means "not set" and keeps the default. Values are coerced
//!   to the default's type (see below); a mapping where the default is a
//!   scalar, or a scalar where the default is a section, is an error.
//! * environment: `MIMIR_` prefix (matched case-insensitively, like the
//!   `config` crate's `Environment` source), `__` between segments, segments
//!   lowercased. Variables that name no known leaf are returned in
//!   [`Resolved::ignored_env`], never an error. Keys beneath open maps are
//!   lowercased too (environment names cannot carry case reliably).
//! * flags: applied in command-line order, later ones win. Dashes become
//!   underscores in each segment, except beneath an open map where user keys
//!   are kept verbatim (`-bus.peers.ingester-a=h:9095`).
//!
//! Strings from env and flags (and YAML scalars) are coerced to the type of
//! the default: integer or float numbers, booleans (`true`/`false`/`1`/`0`,
//! case-insensitive), lists (comma-separated, items trimmed, empty string =
//! empty list), open maps (`a=b,c=d`). Coercion happens per layer as each
//! value is applied, so a bad value in the file is an error even when a
//! flag overrides it. `-config.expand-env` reads the `env` argument of
//! [`resolve`], not the process environment. In lenient mode
//! (`strict = false`) unknown keys and flags are dropped silently; they are
//! not copied into the result, which thus has the shape of the defaults
//! tree (plus the contents of open maps).
//!
//! Layout: `args` (command line), `layers` (key lookup, file/env/flag
//! layers), `coerce` (type coercion), `expand` (`${VAR}` expansion), `docs`
//! (help text and markdown reference).

mod args;
mod coerce;
mod docs;
mod expand;
mod layers;

use std::path::PathBuf;

use serde_json::{Map, Value};

pub use args::parse_args;
pub use docs::{FlagDoc, flag_docs, render_help, render_reference};

/// Everything that can go wrong while reading the command line and the
/// configuration layers. Every message names the flag or the dotted key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A word on the command line that is not a flag.
    #[error(
        "unexpected argument `{arg}`: flags start with '-' and there are no positional arguments"
    )]
    UnexpectedArgument {
        /// The offending word.
        arg: String,
    },
    /// A token that starts with '-' but is not a well-formed flag.
    #[error("bad flag syntax: {arg}")]
    BadFlagSyntax {
        /// The offending token.
        arg: String,
    },
    /// A flag that needs a value was given without one.
    #[error("flag needs an argument: -{flag}")]
    FlagNeedsArgument {
        /// Flag name without dashes.
        flag: String,
    },
    /// A flag that is neither a command flag nor a config key.
    #[error("flag provided but not defined: -{flag}")]
    FlagNotDefined {
        /// Flag name without dashes.
        flag: String,
    },
    /// A command flag (such as `-help=maybe`) with a value it cannot take.
    #[error("invalid value {value:?} for flag -{flag}: expected {expected}")]
    InvalidFlagValue {
        /// Flag name without dashes.
        flag: String,
        /// The value given.
        value: String,
        /// What the flag accepts.
        expected: String,
    },
    /// A value (from the file, the environment or a flag) that cannot be
    /// coerced to the type of the key's default.
    #[error(
        "invalid value {value:?} for `{key}` (flag -{flag}, env {env}): expected {expected}",
        flag = layers::key_to_flag(key),
        env = layers::key_to_env(key)
    )]
    InvalidValue {
        /// Dotted key path, e.g. `server.http_listen_port`.
        key: String,
        /// The value as given (JSON text for non-strings).
        value: String,
        /// The expected type.
        expected: String,
    },
    /// A key in the config file that is not in the defaults tree.
    #[error("unknown configuration key `{key}` in {}", path.display())]
    UnknownKey {
        /// Dotted key path.
        key: String,
        /// The config file.
        path: PathBuf,
    },
    /// The config file could not be read.
    #[error("cannot read config file {}: {cause}", path.display())]
    ReadFile {
        /// The config file.
        path: PathBuf,
        /// The I/O error.
        cause: std::io::Error,
    },
    /// The config file is not valid YAML or not a mapping at the top.
    #[error("cannot parse config file {}: {message}", path.display())]
    ParseFile {
        /// The config file.
        path: PathBuf,
        /// What the parser said.
        message: String,
    },
}

/// The parsed command line: command flags plus config-key settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandLine {
    /// `-config.file=<path>`.
    pub config_file: Option<PathBuf>,
    /// `-config.expand-env`.
    pub expand_env: bool,
    /// `-help`, `-h`, `--help`.
    pub help: bool,
    /// `-version`.
    pub version: bool,
    /// `-modules`.
    pub modules: bool,
    /// `-print.config`.
    pub print_config: bool,
    /// `-config.reference`.
    pub config_reference: bool,
    /// Config-key flags in command-line order: (flag name without dashes, e.g. "server.http-listen-port", value; None for a bare flag).
    pub settings: Vec<(String, Option<String>)>,
}

/// The outcome of [`resolve`].
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// The effective config tree (defaults < file < env < flags), types coerced.
    pub value: Value,
    /// MIMIR_* environment variables that matched no key (caller warns).
    pub ignored_env: Vec<String>,
}

/// Layers the config file, the environment and the flags of `command_line`
/// over `defaults`. `env` is the process environment (pass
/// `std::env::vars()` collected), so tests can inject their own; it also
/// feeds `-config.expand-env`. With `strict = false` unknown keys and flags
/// are dropped instead of being errors.
pub fn resolve(
    defaults: &Value,
    command_line: &CommandLine,
    env: &[(String, String)],
    strict: bool,
) -> Result<Resolved, ConfigError> {
    let mut value = defaults.clone();
    if !value.is_object() {
        value = Value::Object(Map::new());
    }
    if let Some(path) = &command_line.config_file {
        let text = std::fs::read_to_string(path).map_err(|cause| ConfigError::ReadFile {
            path: path.clone(),
            cause,
        })?;
        let text = if command_line.expand_env {
            expand::expand_env(&text, env)
        } else {
            text
        };
        let tree = layers::parse_yaml(&text, path)?;
        layers::merge_file(defaults, &tree, &mut value, path, strict)?;
    }
    let ignored_env = layers::apply_env(defaults, env, &mut value)?;
    layers::apply_flags(defaults, &command_line.settings, &mut value, strict)?;
    Ok(Resolved { value, ignored_env })
}

/// The subset of `value` that differs from `defaults` (for `/config?mode=diff`), as a tree of the same shape.
pub fn diff(defaults: &Value, value: &Value) -> Value {
    match (defaults, value) {
        (Value::Object(d), Value::Object(v)) => {
            let mut out = Map::new();
            for (key, val) in v {
                match d.get(key) {
                    Some(def) if def == val => {}
                    Some(def @ Value::Object(_)) if val.is_object() => {
                        let sub = diff(def, val);
                        if sub.as_object().is_some_and(|m| !m.is_empty()) {
                            out.insert(key.clone(), sub);
                        }
                    }
                    _ => {
                        out.insert(key.clone(), val.clone());
                    }
                }
            }
            Value::Object(out)
        }
        _ if defaults == value => Value::Object(Map::new()),
        _ => value.clone(),
    }
}

/// YAML text of a tree (serde_yaml_ng).
pub fn to_yaml(value: &Value) -> String {
    serde_yaml_ng::to_string(value).unwrap_or_else(|e| format!("# cannot render yaml: {e}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn defaults() -> Value {
        json!({
            "target": "all",
            "server": {"http_listen_port": 8080, "enabled": false, "tags": ["a"]},
            "bus": {"peers": {}},
        })
    }

    fn write_file(name: &str, text: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("mimir-config-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write temp file");
        path
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn cmd(config_file: Option<PathBuf>, settings: &[(&str, &str)]) -> CommandLine {
        CommandLine {
            config_file,
            settings: settings
                .iter()
                .map(|(k, v)| (k.to_string(), Some(v.to_string())))
                .collect(),
            ..CommandLine::default()
        }
    }

    #[test]
    fn precedence_flag_over_env_over_file_over_default() {
        let file = write_file(
            "prec.yaml",
            "server:\n  http_listen_port: 1\ntarget: file\n",
        );
        let e = env(&[
            ("MIMIR_SERVER__HTTP_LISTEN_PORT", "2"),
            ("MIMIR_TARGET", "env"),
        ]);
        let cl = cmd(Some(file), &[("server.http-listen-port", "3")]);
        let r = resolve(&defaults(), &cl, &e, true).expect("resolve");
        assert_eq!(r.value["server"]["http_listen_port"], json!(3));
        assert_eq!(r.value["target"], json!("env"));
        assert_eq!(r.value["server"]["enabled"], json!(false));
        assert!(r.ignored_env.is_empty());
    }

    #[test]
    fn file_alone_overrides_defaults_and_open_maps_are_accepted() {
        let file = write_file("open.yaml", "bus:\n  peers:\n    ingester: \"host:9095\"\n");
        let r = resolve(&defaults(), &cmd(Some(file), &[]), &[], true).expect("resolve");
        assert_eq!(r.value["bus"]["peers"], json!({"ingester": "host:9095"}));
        assert_eq!(r.value["target"], json!("all"));
    }

    #[test]
    fn unknown_file_key_names_dotted_path_and_file() {
        let file = write_file("unknown.yaml", "server:\n  http_port: 1\n");
        let err =
            resolve(&defaults(), &cmd(Some(file.clone()), &[]), &[], true).expect_err("error");
        let want = format!(
            "unknown configuration key `server.http_port` in {}",
            file.display()
        );
        assert_eq!(err.to_string(), want);
        // Lenient mode drops the key instead.
        let r = resolve(&defaults(), &cmd(Some(file), &[]), &[], false).expect("lenient");
        assert_eq!(r.value, defaults());
    }

    #[test]
    fn unknown_flag_is_an_error_only_when_strict() {
        let cl = cmd(None, &[("foo.bar", "1")]);
        let err = resolve(&defaults(), &cl, &[], true).expect_err("error");
        assert_eq!(err.to_string(), "flag provided but not defined: -foo.bar");
        let r = resolve(&defaults(), &cl, &[], false).expect("lenient");
        assert_eq!(r.value, defaults());
    }

    #[test]
    fn unmatched_env_vars_are_ignored_and_reported() {
        let e = env(&[
            ("MIMIR_NOPE", "1"),
            ("MIMIR_TARGET", "x"),
            ("HOME", "/root"),
        ]);
        let r = resolve(&defaults(), &CommandLine::default(), &e, true).expect("resolve");
        assert_eq!(r.ignored_env, vec!["MIMIR_NOPE".to_string()]);
        assert_eq!(r.value["target"], json!("x"));
    }

    #[test]
    fn expand_env_applies_to_file_text_only_when_asked() {
        let file = write_file(
            "expand.yaml",
            "target: ${T}\nserver:\n  http_listen_port: ${P:9000}\n",
        );
        let e = env(&[("T", "ingester")]);
        let mut cl = cmd(Some(file.clone()), &[]);
        cl.expand_env = true;
        let r = resolve(&defaults(), &cl, &e, true).expect("resolve");
        assert_eq!(r.value["target"], json!("ingester"));
        assert_eq!(r.value["server"]["http_listen_port"], json!(9000));
        // Without the flag the text is taken literally: `${P:9000}` is no integer.
        let err = resolve(&defaults(), &cmd(Some(file), &[]), &e, true).expect_err("error");
        assert!(
            matches!(err, ConfigError::InvalidValue { ref key, .. } if key == "server.http_listen_port")
        );
    }

    #[test]
    fn missing_file_and_bad_yaml_name_the_path() {
        let missing = std::env::temp_dir().join("definitely-missing-mimir.yaml");
        let err =
            resolve(&defaults(), &cmd(Some(missing.clone()), &[]), &[], true).expect_err("error");
        assert!(
            err.to_string()
                .starts_with(&format!("cannot read config file {}", missing.display()))
        );
        let bad = write_file("bad.yaml", "server: [1\n");
        let err = resolve(&defaults(), &cmd(Some(bad), &[]), &[], true).expect_err("error");
        assert!(matches!(err, ConfigError::ParseFile { .. }), "{err}");
    }

    #[test]
    fn diff_keeps_only_changed_leaves() {
        let mut v = defaults();
        v["server"]["http_listen_port"] = json!(9);
        v["bus"]["peers"] = json!({"a": "b"});
        let d = diff(&defaults(), &v);
        assert_eq!(
            d,
            json!({"server": {"http_listen_port": 9}, "bus": {"peers": {"a": "b"}}})
        );
        assert_eq!(diff(&defaults(), &defaults()), json!({}));
    }

    #[test]
    fn to_yaml_renders_nested_keys() {
        let y = to_yaml(&json!({"server": {"http_listen_port": 8080}}));
        assert_eq!(y, "server:\n  http_listen_port: 8080\n");
    }
}
