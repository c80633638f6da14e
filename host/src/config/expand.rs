//! `-config.expand-env`: environment expansion in the config file text.
//!
//! Mimir's behaviour: `${VAR}` becomes the value of `VAR`, and
//! `${VAR:default}` becomes the value of `VAR` or `default` when `VAR` is
//! unset or empty; an unset variable without a default becomes the empty
//! string. Only the braced form is recognised (`$VAR` and `$$` are left
//! alone), the name runs to the first `}` (so defaults cannot contain `}`),
//! and an unterminated `${` or an empty `${}` is kept literally.

/// Expands `${VAR}` and `${VAR:default}` in `text` using `env`.
pub(crate) fn expand_env(text: &str, env: &[(String, String)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let inner = &after[..end];
        if inner.is_empty() {
            out.push_str("${}");
        } else {
            let (name, default) = match inner.split_once(':') {
                Some((name, default)) => (name, Some(default)),
                None => (inner, None),
            };
            let value = env
                .iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
                .unwrap_or("");
            out.push_str(match default {
                Some(default) if value.is_empty() => default,
                _ => value,
            });
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Vec<(String, String)> {
        vec![
            ("HOST".to_string(), "db.local".to_string()),
            ("EMPTY".to_string(), String::new()),
        ]
    }

    #[test]
    fn set_variable_is_substituted() {
        assert_eq!(
            expand_env("addr: ${HOST}:9095", &env()),
            "addr: db.local:9095"
        );
        assert_eq!(expand_env("${HOST:other}", &env()), "db.local");
    }

    #[test]
    fn defaults_apply_when_unset_or_empty() {
        assert_eq!(expand_env("port: ${PORT:8080}", &env()), "port: 8080");
        assert_eq!(expand_env("${EMPTY:x}", &env()), "x");
        assert_eq!(
            expand_env("url: ${U:http://a:1}", &env()),
            "url: http://a:1"
        );
    }

    #[test]
    fn unset_without_default_is_empty() {
        assert_eq!(expand_env("a${NOPE}b", &env()), "ab");
    }

    #[test]
    fn other_dollar_forms_are_untouched() {
        assert_eq!(
            expand_env("$HOST $$ ${} ${HOST", &env()),
            "$HOST $$ ${} ${HOST"
        );
        assert_eq!(expand_env("$${HOST}", &env()), "$db.local");
    }
}
