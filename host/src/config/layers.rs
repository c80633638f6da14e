//! Layering of the config file, the environment and the flags over the
//! defaults tree: key lookup, unknown-key checks and type coercion.
//!
//! The defaults tree decides everything: a non-empty object is a section,
//! an empty object is an open map (anything beneath is accepted), `null` is
//! untyped (anything beneath is accepted, values kept as given) and any
//! other value is a typed leaf whose JSON type the incoming value is coerced
//! to.

use std::path::Path;

use serde_json::{Map, Value};

use super::ConfigError;
use super::coerce::{coerce, invalid};

/// Where a flag or environment variable lands in the defaults tree.
enum Target<'d> {
    /// A typed leaf, an open map itself or an untyped `null`.
    Leaf {
        path: Vec<String>,
        default: &'d Value,
    },
    /// Beneath an open map or a `null`: the value is stored verbatim.
    Open { path: Vec<String> },
    /// Not a settable key (unknown, a whole section, or beneath a leaf).
    Unknown,
}

/// True for defaults beneath which any key is accepted.
fn is_open(default: &Value) -> bool {
    match default {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        _ => false,
    }
}

/// Walks `segments` through `defaults`. `typed` maps a segment to a key of a
/// section; `open` maps a segment beneath an open map to the stored key.
fn locate<'d>(
    defaults: &'d Value,
    segments: &[&str],
    typed: impl Fn(&str) -> String,
    open: impl Fn(&str) -> String,
) -> Target<'d> {
    if segments.is_empty() || segments.iter().any(|s| s.is_empty()) {
        return Target::Unknown;
    }
    let mut path = Vec::with_capacity(segments.len());
    let mut current = defaults;
    for (i, segment) in segments.iter().enumerate() {
        if i > 0 && is_open(current) {
            path.extend(segments[i..].iter().map(|s| open(s)));
            return Target::Open { path };
        }
        let key = typed(segment);
        match current.as_object().and_then(|m| m.get(&key)) {
            Some(next) => current = next,
            None => return Target::Unknown,
        }
        path.push(key);
    }
    match current {
        Value::Object(m) if !m.is_empty() => Target::Unknown,
        _ => Target::Leaf {
            path,
            default: current,
        },
    }
}

/// `server.http_listen_port` -> `server.http-listen-port` (no leading dash).
pub(crate) fn key_to_flag(key: &str) -> String {
    key.replace('_', "-")
}

/// `server.http_listen_port` -> `MIMIR_SERVER__HTTP_LISTEN_PORT`.
pub(crate) fn key_to_env(key: &str) -> String {
    format!("MIMIR_{}", key.to_ascii_uppercase().replace('.', "__"))
}

/// Stores `value` at `path`, creating (or replacing non-object) parents.
fn set_path(root: &mut Value, path: &[String], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut current = root;
    for key in parents {
        if !current.is_object() {
            *current = Value::Object(Map::new());
        }
        let Value::Object(map) = current else { return };
        current = map
            .entry(key.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    if !current.is_object() {
        *current = Value::Object(Map::new());
    }
    if let Value::Object(map) = current {
        map.insert(last.clone(), value);
    }
}

/// Parses the config file text; an empty document is an empty mapping.
pub(crate) fn parse_yaml(text: &str, path: &Path) -> Result<Value, ConfigError> {
    let parse_error = |message: String| ConfigError::ParseFile {
        path: path.to_path_buf(),
        message,
    };
    let mut yaml: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(text).map_err(|e| parse_error(e.to_string()))?;
    yaml.apply_merge().map_err(|e| parse_error(e.to_string()))?;
    match serde_json::to_value(yaml).map_err(|e| parse_error(e.to_string()))? {
        Value::Null => Ok(Value::Object(Map::new())),
        tree @ Value::Object(_) => Ok(tree),
        _ => Err(parse_error("the top level must be a mapping".to_string())),
    }
}

/// Merges the parsed file `tree` into `into`, checking keys and types
/// against `defaults`. A `null` in the file means "not set".
pub(crate) fn merge_file(
    defaults: &Value,
    tree: &Value,
    into: &mut Value,
    file: &Path,
    strict: bool,
) -> Result<(), ConfigError> {
    merge_section(defaults, tree, into, "", file, strict)
}

fn merge_section(
    defaults: &Value,
    tree: &Value,
    into: &mut Value,
    prefix: &str,
    file: &Path,
    strict: bool,
) -> Result<(), ConfigError> {
    let Some(entries) = tree.as_object() else {
        return Ok(());
    };
    for (k, v) in entries {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        if v.is_null() {
            continue;
        }
        let Some(default) = defaults.get(k) else {
            if strict {
                return Err(ConfigError::UnknownKey {
                    key,
                    path: file.to_path_buf(),
                });
            }
            continue;
        };
        if !is_open(default) && default.is_object() {
            if !v.is_object() {
                return Err(invalid(&key, v, "a mapping (section)"));
            }
            if !into.is_object() {
                *into = Value::Object(Map::new());
            }
            if let Value::Object(map) = into {
                let slot = map.entry(k.clone()).or_insert(Value::Null);
                if !slot.is_object() {
                    *slot = Value::Object(Map::new());
                }
                merge_section(default, v, slot, &key, file, strict)?;
            }
        } else {
            set_path(
                into,
                std::slice::from_ref(k),
                coerce(default, v.clone(), &key)?,
            );
        }
    }
    Ok(())
}

/// Applies `MIMIR_*` variables (sorted by name); returns the ignored names.
pub(crate) fn apply_env(
    defaults: &Value,
    env: &[(String, String)],
    into: &mut Value,
) -> Result<Vec<String>, ConfigError> {
    let mut vars: Vec<&(String, String)> = env
        .iter()
        .filter(|(name, _)| {
            name.get(..6)
                .is_some_and(|p| p.eq_ignore_ascii_case("MIMIR_"))
        })
        .collect();
    vars.sort();
    let mut ignored = Vec::new();
    for (name, value) in vars {
        let rest = name[6..].to_ascii_lowercase();
        let segments: Vec<&str> = rest.split("__").collect();
        let lower = |s: &str| s.to_string();
        match locate(defaults, &segments, lower, lower) {
            Target::Leaf { path, default } => {
                let v = coerce(default, Value::String(value.clone()), &path.join("."))?;
                set_path(into, &path, v);
            }
            Target::Open { path } => set_path(into, &path, Value::String(value.clone())),
            Target::Unknown => ignored.push(name.clone()),
        }
    }
    Ok(ignored)
}

/// Applies config-key flags in order; later ones win.
pub(crate) fn apply_flags(
    defaults: &Value,
    settings: &[(String, Option<String>)],
    into: &mut Value,
    strict: bool,
) -> Result<(), ConfigError> {
    for (flag, value) in settings {
        let segments: Vec<&str> = flag.split('.').collect();
        let target = locate(defaults, &segments, |s| s.replace('-', "_"), str::to_string);
        let needs_argument = || ConfigError::FlagNeedsArgument { flag: flag.clone() };
        match target {
            Target::Leaf { path, default } => {
                let v = match (value, default) {
                    (None, Value::Bool(_)) => Value::Bool(true),
                    (None, _) => return Err(needs_argument()),
                    (Some(s), _) => coerce(default, Value::String(s.clone()), &path.join("."))?,
                };
                set_path(into, &path, v);
            }
            Target::Open { path } => {
                let v = value.clone().ok_or_else(needs_argument)?;
                set_path(into, &path, Value::String(v));
            }
            Target::Unknown if strict => {
                return Err(ConfigError::FlagNotDefined { flag: flag.clone() });
            }
            Target::Unknown => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn defaults() -> Value {
        json!({
            "target": "all",
            "server": {"http_listen_port": 8080, "ratio": 0.5, "enabled": false, "tags": ["a"]},
            "bus": {"peers": {}, "extra": null},
            "ports": [1],
        })
    }

    fn flags(pairs: &[(&str, Option<&str>)]) -> Result<Value, ConfigError> {
        let settings: Vec<_> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
            .collect();
        let mut value = defaults();
        apply_flags(&defaults(), &settings, &mut value, true).map(|()| value)
    }

    #[test]
    fn bare_flag_sets_booleans_only() {
        let v = flags(&[("server.enabled", None)]).expect("bare bool");
        assert_eq!(v["server"]["enabled"], json!(true));
        let v = flags(&[("server.enabled", Some("false")), ("ports", Some("7,8"))]).expect("typed");
        assert_eq!(
            (&v["server"]["enabled"], &v["ports"]),
            (&json!(false), &json!([7, 8]))
        );
        let err = flags(&[("server.http-listen-port", None)]).expect_err("bare int");
        assert_eq!(
            err.to_string(),
            "flag needs an argument: -server.http-listen-port"
        );
    }

    #[test]
    fn sections_and_paths_below_leaves_are_not_flags() {
        for flag in ["server", "target.x", "server..enabled", "nope"] {
            let err = flags(&[(flag, Some("1"))]).expect_err(flag);
            assert_eq!(
                err.to_string(),
                format!("flag provided but not defined: -{flag}")
            );
        }
    }

    #[test]
    fn open_map_entries_keep_their_keys_and_later_flags_win() {
        let v = flags(&[
            ("bus.peers.ingester-a", Some("h:1")),
            ("bus.extra.deep.key", Some("v")),
            ("target", Some("one")),
            ("target", Some("two")),
        ])
        .expect("flags");
        assert_eq!(v["bus"]["peers"], json!({"ingester-a": "h:1"}));
        assert_eq!(v["bus"]["extra"], json!({"deep": {"key": "v"}}));
        assert_eq!(v["target"], json!("two"));
    }

    #[test]
    fn env_vars_map_to_keys_and_unknown_ones_are_returned() {
        let env: Vec<(String, String)> = [
            ("MIMIR_SERVER__HTTP_LISTEN_PORT", "8081"),
            ("MIMIR_BUS__PEERS__INGESTER", "h:9095"),
            ("MIMIR_SERVER", "x"),
            ("MIMIR_SERVER__NOPE", "1"),
            ("OTHER", "1"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let mut v = defaults();
        let ignored = apply_env(&defaults(), &env, &mut v).expect("env");
        assert_eq!(ignored, vec!["MIMIR_SERVER", "MIMIR_SERVER__NOPE"]);
        assert_eq!(v["server"]["http_listen_port"], json!(8081));
        assert_eq!(v["bus"]["peers"], json!({"ingester": "h:9095"}));
        let bad = vec![("MIMIR_SERVER__ENABLED".to_string(), "maybe".to_string())];
        let err = apply_env(&defaults(), &bad, &mut v).expect_err("bad bool");
        assert!(
            matches!(err, ConfigError::InvalidValue { ref key, .. } if key == "server.enabled")
        );
    }

    #[test]
    fn file_values_are_checked_against_defaults() -> Result<(), ConfigError> {
        let path = Path::new("/etc/mimir.yaml");
        let merge = |text: &str| {
            let tree = parse_yaml(text, path)?;
            let mut v = defaults();
            merge_file(&defaults(), &tree, &mut v, path, true).map(|()| v)
        };
        let v = merge("server:\n  ratio: 1\n  tags: a,b\ntarget: 12\nbus: ~\n").expect("merge");
        assert_eq!(v["server"]["ratio"], json!(1.0));
        assert_eq!(v["server"]["tags"], json!(["a", "b"]));
        assert_eq!(v["server"]["http_listen_port"], json!(8080));
        assert_eq!(v["target"], json!("12"));
        assert_eq!(v["bus"], defaults()["bus"]);
        let err = merge("server:\n  http_listen_port: [1]\n").expect_err("list for int");
        assert!(
            matches!(err, ConfigError::InvalidValue { ref key, .. } if key == "server.http_listen_port")
        );
        let err = merge("server: 3\n").expect_err("scalar for section");
        assert!(matches!(err, ConfigError::InvalidValue { ref key, .. } if key == "server"));
        let err = merge("- 1\n").expect_err("not a mapping");
        assert!(matches!(err, ConfigError::ParseFile { .. }));
        assert_eq!(merge("").expect("empty file"), defaults());
        let err = merge("base: &b {http_listen_port: 1}\n").expect_err("unknown");
        assert!(matches!(err, ConfigError::UnknownKey { ref key, .. } if key == "base"));
        // YAML merge keys are applied before the checks (lenient: `base` is dropped).
        let tree = parse_yaml("base: &b {http_listen_port: 1}\nserver: {<<: *b}\n", path)?;
        let mut v = defaults();
        merge_file(&defaults(), &tree, &mut v, path, false)?;
        assert_eq!(v["server"]["http_listen_port"], json!(1));
        assert!(v.get("base").is_none());
        Ok(())
    }
}
