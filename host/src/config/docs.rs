//! Flag documentation: one [`FlagDoc`] per leaf of the defaults tree, with
//! help text taken from JSON Schemas (schemars 1.x output), rendered as
//! Go-style `-help` text or as a markdown configuration reference.

use serde_json::Value;

use super::layers::key_to_flag;

/// Documentation of one config-key flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagDoc {
    /// The flag, e.g. `-server.http-listen-port`; a field's schema may name another one with
    /// `x-flag` (Mimir's flag names for per-tenant limits, e.g. `-distributor.ingestion-rate-limit`).
    pub flag: String,
    /// The flag derived from the key path; it works too.
    pub key_flag: String,
    /// The dotted key, e.g. `server.http_listen_port`.
    pub key: String,
    /// "int", "float", "boolean", "string", "list of strings" or "map of string to string".
    pub kind: &'static str,
    /// The rendered default, "" for empty.
    pub default: String,
    /// The description from the schema, "" when there is none.
    pub help: String,
}

/// The command flags that are not config keys, as (flag, kind, help).
const COMMAND_FLAGS: &[(&str, &str, &str)] = &[
    (
        "-config.expand-env",
        "boolean",
        "Expand ${VAR} and ${VAR:default} in the config file.",
    ),
    ("-config.file", "string", "Configuration file to load."),
    (
        "-config.reference",
        "boolean",
        "Print the configuration reference and exit.",
    ),
    ("-help", "boolean", "Print basic help."),
    (
        "-modules",
        "boolean",
        "List values that can be used as target.",
    ),
    ("-print.config", "boolean", "Print the config and exit."),
    ("-version", "boolean", "Print application version and exit."),
];

/// One FlagDoc per leaf key of `defaults`, in key order. `schemas` maps a
/// top-level section name (or "" for the root schema) to a JSON Schema; a
/// key's help is looked up in its section's schema first, then in the root.
pub fn flag_docs(defaults: &Value, schemas: &[(String, Value)]) -> Vec<FlagDoc> {
    let mut out = Vec::new();
    collect_leaves(defaults, &mut Vec::new(), schemas, &mut out);
    out
}

fn collect_leaves<'a>(
    node: &'a Value,
    path: &mut Vec<&'a str>,
    schemas: &[(String, Value)],
    out: &mut Vec<FlagDoc>,
) {
    match node {
        Value::Object(map) if !map.is_empty() || path.is_empty() => {
            for (key, child) in map {
                path.push(key);
                collect_leaves(child, path, schemas, out);
                path.pop();
            }
        }
        _ => {
            let key = path.join(".");
            let key_flag = format!("-{}", key_to_flag(&key));
            out.push(FlagDoc {
                flag: flag_alias(schemas, path)
                    .map(|alias| format!("-{alias}"))
                    .unwrap_or_else(|| key_flag.clone()),
                key_flag,
                kind: kind_of(node),
                default: render_default(node),
                help: describe(schemas, path).unwrap_or_default(),
                key,
            });
        }
    }
}

fn kind_of(default: &Value) -> &'static str {
    match default {
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::Array(_) => "list of strings",
        Value::Object(_) => "map of string to string",
        // `null` is untyped: flag and env values are kept as strings.
        Value::String(_) | Value::Null => "string",
    }
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn render_default(default: &Value) -> String {
    match default {
        Value::Array(items) => items.iter().map(scalar_text).collect::<Vec<_>>().join(","),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{k}={}", scalar_text(v)))
            .collect::<Vec<_>>()
            .join(","),
        other => scalar_text(other),
    }
}

/// Help for `path`: the section schema (path without the section) first, then the root schema.
fn describe(schemas: &[(String, Value)], path: &[&str]) -> Option<String> {
    let section = path
        .split_first()
        .filter(|(_, rest)| !rest.is_empty())
        .and_then(|(first, rest)| {
            let (_, schema) = schemas.iter().find(|(name, _)| name == first)?;
            lookup(schema, rest)
        });
    section.or_else(|| {
        let (_, root) = schemas.iter().find(|(name, _)| name.is_empty())?;
        lookup(root, path)
    })
}

/// The `x-flag` a field's schema names, if any (section schema first, then the root schema).
fn flag_alias(schemas: &[(String, Value)], path: &[&str]) -> Option<String> {
    let alias = |root: &Value, path: &[&str]| -> Option<String> {
        let mut node = root;
        for segment in path {
            node = find_property(root, node, segment, 0)?;
        }
        node.get("x-flag")
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let section = path
        .split_first()
        .filter(|(_, rest)| !rest.is_empty())
        .and_then(|(first, rest)| {
            let (_, schema) = schemas.iter().find(|(name, _)| name == first)?;
            alias(schema, rest)
        });
    section.or_else(|| {
        let (_, root) = schemas.iter().find(|(name, _)| name.is_empty())?;
        alias(root, path)
    })
}

const MAX_DEPTH: usize = 32;

fn lookup(root: &Value, path: &[&str]) -> Option<String> {
    let mut node = root;
    for segment in path {
        node = find_property(root, node, segment, 0)?;
    }
    description(root, node, 0)
}

/// `#/$defs/Name` (any local JSON pointer) -> the schema it points to.
fn deref<'a>(root: &'a Value, node: &Value) -> Option<&'a Value> {
    let reference = node.get("$ref")?.as_str()?;
    root.pointer(reference.strip_prefix('#')?)
}

/// Sub-schemas to look through: the `$ref` target and allOf/anyOf/oneOf entries.
fn wrapped<'a>(root: &'a Value, node: &'a Value) -> impl Iterator<Item = &'a Value> {
    let combined = ["allOf", "anyOf", "oneOf"]
        .into_iter()
        .filter_map(move |k| node.get(k).and_then(Value::as_array))
        .flatten();
    deref(root, node).into_iter().chain(combined)
}

fn find_property<'a>(
    root: &'a Value,
    node: &'a Value,
    name: &str,
    depth: usize,
) -> Option<&'a Value> {
    if depth > MAX_DEPTH {
        return None;
    }
    if let Some(found) = node.get("properties").and_then(|p| p.get(name)) {
        return Some(found);
    }
    wrapped(root, node).find_map(|sub| find_property(root, sub, name, depth + 1))
}

/// The node's own description, else that of the schema it wraps.
fn description(root: &Value, node: &Value, depth: usize) -> Option<String> {
    if depth > MAX_DEPTH {
        return None;
    }
    if let Some(text) = node.get("description").and_then(Value::as_str)
        && !text.trim().is_empty()
    {
        return Some(text.trim().to_string());
    }
    wrapped(root, node).find_map(|sub| description(root, sub, depth + 1))
}

/// Go's type name shown after the flag; "" for booleans.
fn go_type(kind: &str) -> &'static str {
    match kind {
        "int" => "int",
        "float" => "float",
        "string" => "string",
        "list of strings" => "comma-separated-list-of-strings",
        "map of string to string" => "map-of-string-to-string",
        _ => "",
    }
}

/// Go prints `(default ...)` only for non-zero defaults, quoting strings.
fn default_suffix(kind: &str, default: &str) -> String {
    match (kind, default) {
        (_, "") | ("int" | "float", "0" | "0.0") | ("boolean", "false") => String::new(),
        ("string", d) => format!(" (default {d:?})"),
        (_, d) => format!(" (default {d})"),
    }
}

/// `-help` text: a usage line then, per flag (sorted, command flags
/// included), Go's format: `  -name type\n    \thelp (default x)\n`.
pub fn render_help(program: &str, docs: &[FlagDoc]) -> String {
    let mut entries: Vec<(&str, &str, &str, &str)> = docs
        .iter()
        .map(|d| (d.flag.as_str(), d.kind, d.default.as_str(), d.help.as_str()))
        .chain(
            COMMAND_FLAGS
                .iter()
                .map(|&(flag, kind, help)| (flag, kind, "", help)),
        )
        .collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    let mut out = format!("Usage of {program}:\n");
    for (flag, kind, default, help) in entries {
        out.push_str("  ");
        out.push_str(flag);
        let type_name = go_type(kind);
        if !type_name.is_empty() {
            out.push(' ');
            out.push_str(type_name);
        }
        out.push_str("\n    \t");
        out.push_str(&help.replace('\n', "\n    \t"));
        out.push_str(&default_suffix(kind, default));
        out.push('\n');
    }
    out
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|")
        .replace("\n\n", "<br>")
        .replace('\n', " ")
}

/// Markdown reference: title, intro, then one table per top-level section.
pub fn render_reference(docs: &[FlagDoc]) -> String {
    let example = docs.iter().find(|d| d.key.contains('.')).or(docs.first());
    let (key, flag) = example.map_or(
        ("server.http_listen_port", "-server.http-listen-port"),
        |d| (d.key.as_str(), d.flag.as_str()),
    );
    let env = super::layers::key_to_env(key);
    let mut out = String::from("# Configuration reference\n\n");
    out.push_str(&format!(
        "Each setting is taken from, in increasing order of precedence: its default, the YAML \
         config file (`-config.file`), the environment, and the command-line flags.\n\n\
         - **YAML**: the dotted key is the path of nested mappings (`{key}`).\n\
         - **Environment**: `MIMIR_` then the key path in upper case with `__` between \
         segments (`{env}`). `MIMIR_*` variables that match no key are ignored with a warning.\n\
         - **Flags**: a dash then the key path with `_` replaced by `-` (`{flag}=value`). \
         A bare boolean flag means `true`.\n\
         - Lists are comma-separated (`a,b`); maps are comma-separated `key=value` pairs (`a=b,c=d`).\n\
         - With `-config.expand-env`, `${{VAR}}` and `${{VAR:default}}` in the config file are \
         replaced by environment values before parsing.\n"
    ));
    let mut sections: Vec<(&str, Vec<&FlagDoc>)> = vec![("", Vec::new())];
    for doc in docs {
        let section = doc.key.split_once('.').map_or("", |(first, _)| first);
        match sections.iter_mut().find(|(name, _)| *name == section) {
            Some((_, list)) => list.push(doc),
            None => sections.push((section, vec![doc])),
        }
    }
    for (name, list) in sections.iter().filter(|(_, list)| !list.is_empty()) {
        if name.is_empty() {
            out.push_str("\n## Top-level options\n\n");
        } else {
            out.push_str(&format!("\n## `{name}`\n\n"));
        }
        out.push_str("| key | flag | type | default | description |\n|---|---|---|---|---|\n");
        for d in list {
            let default = if d.default.is_empty() {
                String::new()
            } else {
                format!("`{}`", cell(&d.default))
            };
            let (key, flag, kind, help) = (&d.key, &d.flag, d.kind, cell(&d.help));
            out.push_str(&format!(
                "| `{key}` | `{flag}` | {kind} | {default} | {help} |\n"
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn defaults() -> Value {
        json!({
            "target": "all",
            "server": {"http_listen_port": 8080, "enabled": false, "ratio": 0.5, "tls": {"cert": ""}},
            "bus": {"peers": {}, "tags": ["a", "b"]},
        })
    }

    /// Shaped like schemars 1.x output: $ref with a sibling description, $ref in allOf/anyOf.
    fn root_schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "target": {"description": "Module to run.", "type": "string"},
                "server": {"description": "Server section.", "$ref": "#/$defs/Server"},
                "bus": {"anyOf": [{"$ref": "#/$defs/Bus"}, {"type": "null"}]},
            },
            "$defs": {
                "Server": {"type": "object", "properties": {
                    "http_listen_port": {"description": "HTTP server listen port.", "type": "integer"},
                    "enabled": {"type": "boolean"},
                    "tls": {"allOf": [{"$ref": "#/$defs/Tls"}]},
                }},
                "Tls": {"type": "object", "properties": {"cert": {"$ref": "#/$defs/Path"}}},
                "Path": {"description": "A file path.", "type": "string"},
                "Bus": {"type": "object", "properties": {"peers": {"description": "Root peers."}}},
            }
        })
    }

    /// Sorted by key so that the tests do not depend on serde_json's map order.
    fn docs() -> Vec<FlagDoc> {
        let bus = json!({"properties": {"peers": {"description": "Peer addresses\nby name."}}});
        let mut d = flag_docs(
            &defaults(),
            &[(String::new(), root_schema()), ("bus".into(), bus)],
        );
        d.sort_by(|a, b| a.key.cmp(&b.key));
        d
    }

    /// `flag|kind|default|help` of `key`.
    fn entry(docs: &[FlagDoc], key: &str) -> String {
        let d = docs.iter().find(|d| d.key == key).expect(key);
        format!("{}|{}|{}|{}", d.flag, d.kind, d.default, d.help)
    }

    #[test]
    fn one_doc_per_leaf_with_kind_default_and_help() {
        let d = docs();
        let want = [
            "bus.peers -bus.peers|map of string to string||Peer addresses\nby name.",
            "bus.tags -bus.tags|list of strings|a,b|",
            "server.enabled -server.enabled|boolean|false|",
            "server.http_listen_port -server.http-listen-port|int|8080|HTTP server listen port.",
            "server.ratio -server.ratio|float|0.5|",
            "server.tls.cert -server.tls.cert|string||A file path.",
            "target -target|string|all|Module to run.",
        ];
        let got: Vec<String> = d
            .iter()
            .map(|x| format!("{} {}", x.key, entry(&d, &x.key)))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn root_schema_is_the_fallback_for_sections() {
        let d = flag_docs(&defaults(), &[(String::new(), root_schema())]);
        assert!(entry(&d, "bus.peers").ends_with("|Root peers."));
        assert!(
            flag_docs(&defaults(), &[])
                .iter()
                .all(|d| d.help.is_empty())
        );
    }

    #[test]
    fn help_uses_go_format() {
        let help = render_help("mimir", &docs());
        assert!(help.starts_with("Usage of mimir:\n"));
        let port =
            "  -server.http-listen-port int\n    \tHTTP server listen port. (default 8080)\n";
        assert!(help.contains(port));
        assert!(help.contains("  -server.enabled\n    \t\n"));
        assert!(help.contains("  -target string\n    \tModule to run. (default \"all\")\n"));
        let peers = "  -bus.peers map-of-string-to-string\n    \tPeer addresses\n    \tby name.\n";
        assert!(help.contains(peers));
        assert!(help.contains("  -config.file string\n    \tConfiguration file to load.\n"));
        let flags: Vec<&str> = help.lines().filter(|l| l.starts_with("  -")).collect();
        let mut sorted = flags.clone();
        sorted.sort();
        assert_eq!(flags, sorted);
        assert_eq!(flags.len(), 7 + COMMAND_FLAGS.len());
    }

    #[test]
    fn reference_has_one_table_per_section() {
        let md = render_reference(&docs());
        assert!(md.starts_with("# Configuration reference\n"));
        assert!(md.contains("(`MIMIR_BUS__PEERS`)") && md.contains("(`-bus.peers=value`)"));
        let top = md.find("## Top-level options").expect("top-level table");
        let bus = md.find("## `bus`").expect("bus table");
        let server = md.find("## `server`").expect("server table");
        assert!(top < bus && bus < server);
        assert_eq!(
            md.matches("| key | flag | type | default | description |")
                .count(),
            3
        );
        let row = "| `server.http_listen_port` | `-server.http-listen-port` | int | `8080` |";
        assert!(md.contains(&format!("{row} HTTP server listen port. |\n")));
        let row = "| `bus.peers` | `-bus.peers` | map of string to string |  |";
        assert!(md.contains(&format!("{row} Peer addresses by name. |\n")));
    }
}
