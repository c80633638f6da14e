//! Type coercion of incoming values to the type of the default at the same
//! key: strings from the environment and flags, and YAML scalars.
//!
//! Numbers follow the default (integer or float), booleans accept
//! `true`/`false`/`1`/`0` (case-insensitive), lists are comma-separated
//! with items trimmed (empty string = empty list; items are coerced to the
//! type of the default's first item when that is a number or boolean), and
//! open maps (`{}`) take `a=b,c=d`. A `null` default is untyped: the value is
//! kept as given.

use serde_json::{Map, Number, Value};

use super::ConfigError;
use super::args::parse_bool;

pub(crate) fn invalid(key: &str, value: &Value, expected: &str) -> ConfigError {
    ConfigError::InvalidValue {
        key: key.to_string(),
        value: match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        },
        expected: expected.to_string(),
    }
}

/// Coerces `value` to the type of `default` (a leaf, open map or `null`).
pub(crate) fn coerce(default: &Value, value: Value, key: &str) -> Result<Value, ConfigError> {
    match default {
        Value::Null => Ok(value),
        Value::Bool(_) => match &value {
            Value::Bool(_) => Ok(value),
            Value::String(s) => parse_bool(s)
                .map(Value::Bool)
                .ok_or_else(|| invalid(key, &value, "a boolean (true, false, 1 or 0)")),
            _ => Err(invalid(key, &value, "a boolean (true, false, 1 or 0)")),
        },
        Value::Number(n) if n.is_f64() => {
            let parsed = match &value {
                Value::Number(v) => v.as_f64(),
                Value::String(s) => s.trim().parse::<f64>().ok(),
                _ => None,
            };
            parsed
                .and_then(Number::from_f64)
                .map(Value::Number)
                .ok_or_else(|| invalid(key, &value, "a number"))
        }
        Value::Number(_) => {
            let parsed = match &value {
                Value::Number(v) if v.is_i64() || v.is_u64() => Some(v.clone()),
                Value::String(s) => {
                    let s = s.trim();
                    s.parse::<i64>()
                        .map(Number::from)
                        .or_else(|_| s.parse::<u64>().map(Number::from))
                        .ok()
                }
                _ => None,
            };
            parsed
                .map(Value::Number)
                .ok_or_else(|| invalid(key, &value, "an integer"))
        }
        Value::String(_) => match value {
            Value::String(_) => Ok(value),
            Value::Number(n) => Ok(Value::String(n.to_string())),
            Value::Bool(b) => Ok(Value::String(b.to_string())),
            other => Err(invalid(key, &other, "a string")),
        },
        Value::Array(items) => {
            let element = items
                .first()
                .filter(|d| !d.is_string() && !d.is_array() && !d.is_object());
            let list = match value {
                Value::Array(list) => list,
                Value::String(s) if s.trim().is_empty() => Vec::new(),
                Value::String(s) => s
                    .split(',')
                    .map(|i| Value::String(i.trim().to_string()))
                    .collect(),
                other => return Err(invalid(key, &other, "a list (comma-separated)")),
            };
            match element {
                Some(d) => list
                    .into_iter()
                    .map(|i| coerce(d, i, key))
                    .collect::<Result<_, _>>()
                    .map(Value::Array),
                None => Ok(Value::Array(list)),
            }
        }
        Value::Object(_) => match value {
            Value::Object(_) => Ok(value),
            Value::String(s) => parse_map(&s).ok_or_else(|| {
                invalid(
                    key,
                    &Value::String(s),
                    "a map (key=value pairs, comma-separated)",
                )
            }),
            other => Err(invalid(
                key,
                &other,
                "a map (key=value pairs, comma-separated)",
            )),
        },
    }
}

/// `a=b,c=d` -> `{"a":"b","c":"d"}`; empty text is an empty map.
fn parse_map(s: &str) -> Option<Value> {
    let mut map = Map::new();
    for pair in s.split(',').filter(|p| !p.trim().is_empty()) {
        let (k, v) = pair.split_once('=')?;
        let k = k.trim();
        if k.is_empty() {
            return None;
        }
        map.insert(k.to_string(), Value::String(v.trim().to_string()));
    }
    Some(Value::Object(map))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn from_str(default: Value, s: &str) -> Result<Value, ConfigError> {
        coerce(&default, json!(s), "a.b")
    }

    #[test]
    fn numbers_follow_the_default() {
        assert_eq!(from_str(json!(8080), " 9009 ").expect("int"), json!(9009));
        assert_eq!(from_str(json!(1), "-3").expect("negative"), json!(-3));
        assert_eq!(from_str(json!(0.5), "2").expect("float"), json!(2.0));
        assert_eq!(
            coerce(&json!(0.5), json!(1), "k").expect("yaml int"),
            json!(1.0)
        );
        assert!(coerce(&json!(1), json!(1.5), "k").is_err());
        assert!(from_str(json!(0.5), "inf").is_err());
    }

    #[test]
    fn invalid_int_names_key_flag_and_env() {
        let err = coerce(&json!(8080), json!("80x"), "server.http_listen_port").expect_err("bad");
        assert!(matches!(&err, ConfigError::InvalidValue { key, value, .. }
            if key == "server.http_listen_port" && value == "80x"));
        assert_eq!(
            err.to_string(),
            "invalid value \"80x\" for `server.http_listen_port` (flag -server.http-listen-port, \
             env MIMIR_SERVER__HTTP_LISTEN_PORT): expected an integer"
        );
    }

    #[test]
    fn booleans() {
        assert_eq!(from_str(json!(false), "TRUE").expect("bool"), json!(true));
        assert_eq!(from_str(json!(true), "0").expect("bool"), json!(false));
        assert!(from_str(json!(false), "yes").is_err());
        assert!(coerce(&json!(false), json!(1), "k").is_err());
    }

    #[test]
    fn lists() {
        assert_eq!(
            from_str(json!(["a"]), "x, y").expect("list"),
            json!(["x", "y"])
        );
        assert_eq!(from_str(json!(["a"]), "").expect("empty"), json!([]));
        assert_eq!(from_str(json!([1]), "7,8").expect("ints"), json!([7, 8]));
        assert!(from_str(json!([1]), "1,x").is_err());
        let yaml = coerce(&json!([]), json!([{"a": 1}]), "k").expect("untyped items");
        assert_eq!(yaml, json!([{"a": 1}]));
    }

    #[test]
    fn open_maps_and_strings() {
        assert_eq!(
            from_str(json!({}), "a=b, c=d=e").expect("map"),
            json!({"a": "b", "c": "d=e"})
        );
        assert_eq!(from_str(json!({}), "").expect("empty map"), json!({}));
        assert!(from_str(json!({}), "novalue").is_err());
        assert!(from_str(json!({}), "=v").is_err());
        assert_eq!(
            coerce(&json!("s"), json!(12), "k").expect("yaml number"),
            json!("12")
        );
        assert!(coerce(&json!("s"), json!(["x"]), "k").is_err());
        assert_eq!(
            coerce(&json!(null), json!("a=b"), "k").expect("untyped"),
            json!("a=b")
        );
    }
}
