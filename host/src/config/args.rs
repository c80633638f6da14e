//! Command-line tokenizer for Go/Mimir-style flags.
//!
//! Flags use one dash (two are accepted too) and come as `-name=value`,
//! `-name value` (the next token is taken as the value when it does not
//! start with '-') or bare `-name`. The command flags (`-config.file`,
//! `-config.expand-env`, `-help`/`-h`, `-version`, `-modules`,
//! `-print.config`, `-config.reference`) are recognised here; every other
//! flag is recorded in [`CommandLine::settings`] and checked against the
//! config keys later, by `resolve`. Boolean command flags never take the
//! next token as their value (only `=true`/`=false`), as in Go. There are no
//! positional arguments.

use std::path::PathBuf;

use super::{CommandLine, ConfigError};

/// Parses the command line (without `argv[0]`).
pub fn parse_args<I: IntoIterator<Item = String>>(args: I) -> Result<CommandLine, ConfigError> {
    let mut out = CommandLine::default();
    let mut tokens = args.into_iter().peekable();
    while let Some(token) = tokens.next() {
        let (name, inline) = split_flag(&token)?;
        let bool_slot = match name.as_str() {
            "config.file" => {
                let value = match inline {
                    Some(v) => v,
                    None => match tokens.next_if(|next| !next.starts_with('-')) {
                        Some(v) => v,
                        None => return Err(ConfigError::FlagNeedsArgument { flag: name }),
                    },
                };
                out.config_file = (!value.is_empty()).then(|| PathBuf::from(value));
                continue;
            }
            "config.expand-env" => &mut out.expand_env,
            "help" | "h" => &mut out.help,
            "version" => &mut out.version,
            "modules" => &mut out.modules,
            "print.config" => &mut out.print_config,
            "config.reference" => &mut out.config_reference,
            _ => {
                let value = match inline {
                    Some(v) => Some(v),
                    None => tokens.next_if(|next| !next.starts_with('-')),
                };
                out.settings.push((name, value));
                continue;
            }
        };
        *bool_slot = match inline {
            None => true,
            Some(v) => parse_bool(&v).ok_or(ConfigError::InvalidFlagValue {
                flag: name,
                value: v,
                expected: "true or false".to_string(),
            })?,
        };
    }
    Ok(out)
}

/// Splits `-name[=value]` / `--name[=value]` into the name and the inline value.
fn split_flag(token: &str) -> Result<(String, Option<String>), ConfigError> {
    let Some(rest) = token.strip_prefix('-') else {
        return Err(ConfigError::UnexpectedArgument {
            arg: token.to_string(),
        });
    };
    let rest = rest.strip_prefix('-').unwrap_or(rest);
    let (name, value) = match rest.split_once('=') {
        Some((n, v)) => (n, Some(v.to_string())),
        None => (rest, None),
    };
    if name.is_empty() || name.starts_with('-') {
        return Err(ConfigError::BadFlagSyntax {
            arg: token.to_string(),
        });
    }
    Ok((name.to_string(), value))
}

/// Go's `strconv.ParseBool` restricted to the spellings users write.
pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<CommandLine, ConfigError> {
        parse_args(args.iter().map(|s| s.to_string()))
    }

    fn setting(name: &str, value: Option<&str>) -> (String, Option<String>) {
        (name.to_string(), value.map(str::to_string))
    }

    #[test]
    fn all_setting_forms_in_order() {
        let cl = parse(&[
            "-server.http-listen-port=8081",
            "--target",
            "ingester",
            "-server.enabled",
            "-server.tags=",
            "-bus.peers",
            "a=b,c=d",
        ])
        .expect("parse");
        assert_eq!(
            cl.settings,
            vec![
                setting("server.http-listen-port", Some("8081")),
                setting("target", Some("ingester")),
                setting("server.enabled", None),
                setting("server.tags", Some("")),
                setting("bus.peers", Some("a=b,c=d")),
            ]
        );
        assert_eq!(cl.config_file, None);
        assert!(!cl.help);
    }

    #[test]
    fn value_with_equals_sign_is_kept_whole() {
        let cl = parse(&["-bus.peers=a=b"]).expect("parse");
        assert_eq!(cl.settings, vec![setting("bus.peers", Some("a=b"))]);
    }

    #[test]
    fn bare_flag_before_another_flag_has_no_value() {
        let cl = parse(&["-server.enabled", "-target=all"]).expect("parse");
        assert_eq!(
            cl.settings,
            vec![
                setting("server.enabled", None),
                setting("target", Some("all"))
            ]
        );
    }

    #[test]
    fn command_flags() {
        let cl = parse(&[
            "-config.file",
            "/etc/mimir.yaml",
            "-config.expand-env",
            "--help",
            "-version=true",
            "-modules=false",
            "-print.config",
            "-config.reference=1",
        ])
        .expect("parse");
        assert_eq!(cl.config_file, Some(PathBuf::from("/etc/mimir.yaml")));
        assert!(cl.expand_env && cl.help && cl.version && cl.print_config && cl.config_reference);
        assert!(!cl.modules);
        assert!(cl.settings.is_empty());
        assert!(parse(&["-h"]).expect("parse").help);
        let cl = parse(&["-config.file=/a.yaml"]).expect("parse");
        assert_eq!(cl.config_file, Some(PathBuf::from("/a.yaml")));
    }

    #[test]
    fn bool_command_flag_does_not_take_next_word() {
        let err = parse(&["-help", "me"]).expect_err("stray word");
        assert_eq!(
            err.to_string(),
            "unexpected argument `me`: flags start with '-' and there are no positional arguments"
        );
    }

    #[test]
    fn errors_name_the_flag() {
        let err = parse(&["-config.file"]).expect_err("missing value");
        assert_eq!(err.to_string(), "flag needs an argument: -config.file");
        let err = parse(&["-config.file", "-help"]).expect_err("missing value");
        assert_eq!(err.to_string(), "flag needs an argument: -config.file");
        let err = parse(&["-version=maybe"]).expect_err("bad bool");
        assert_eq!(
            err.to_string(),
            "invalid value \"maybe\" for flag -version: expected true or false"
        );
        let err = parse(&["---x"]).expect_err("bad syntax");
        assert_eq!(err.to_string(), "bad flag syntax: ---x");
        assert!(matches!(
            parse(&["-"]),
            Err(ConfigError::BadFlagSyntax { .. })
        ));
        assert!(matches!(
            parse(&["-=1"]),
            Err(ConfigError::BadFlagSyntax { .. })
        ));
    }

    #[test]
    fn parse_bool_spellings() {
        assert_eq!(parse_bool("TRUE"), Some(true));
        assert_eq!(parse_bool("0"), Some(false));
        assert_eq!(parse_bool("yes"), None);
    }
}
