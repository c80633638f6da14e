//! Durations in limits are written as Prometheus/Mimir write them (`model.Duration`): `10m`,
//! `1h30m`, `2w`, `0`; units `y` (365 days), `w`, `d`, `h`, `m`, `s`, `ms`, each at most once and
//! in that order, with millisecond precision. [`PromDuration`] parses, prints (`90m` prints as
//! `1h30m`, zero as `0s`) and (de)serializes that syntax.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::errors::ConfigError;

/// A non-negative duration in Prometheus syntax with millisecond precision.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PromDuration(Duration);

/// Units in the only order Prometheus accepts them, with their length in milliseconds.
const UNITS: [(&str, u64); 7] = [
    ("y", 365 * 24 * 3_600_000),
    ("w", 7 * 24 * 3_600_000),
    ("d", 24 * 3_600_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

/// Go keeps durations as `int64` nanoseconds; anything longer is out of range there.
const MAX_MILLIS: u64 = (i64::MAX / 1_000_000) as u64;

impl PromDuration {
    /// Zero, which disables the limits that accept it.
    pub const ZERO: Self = Self(Duration::ZERO);

    /// Wraps a duration, dropping anything below a millisecond.
    pub fn from_duration(duration: Duration) -> Self {
        Self(Duration::from_millis(
            u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
        ))
    }

    /// Whole minutes.
    pub const fn from_mins(minutes: u64) -> Self {
        Self(Duration::from_secs(minutes * 60))
    }

    /// The duration.
    pub fn as_duration(self) -> Duration {
        self.0
    }

    /// Milliseconds, saturating at `i64::MAX`, ready to compare with sample timestamps.
    pub fn as_millis_i64(self) -> i64 {
        i64::try_from(self.0.as_millis()).unwrap_or(i64::MAX)
    }

    /// Whether the duration is zero.
    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }
}

impl From<Duration> for PromDuration {
    fn from(duration: Duration) -> Self {
        Self::from_duration(duration)
    }
}

/// Parses Prometheus duration syntax (`model.ParseDuration`).
pub fn parse_duration(input: &str) -> Result<Duration, ConfigError> {
    if input.is_empty() {
        return Err(ConfigError::EmptyDuration);
    }
    if input == "0" {
        return Ok(Duration::ZERO);
    }
    let invalid = || ConfigError::InvalidDuration {
        input: input.to_owned(),
    };
    let bytes = input.as_bytes();
    let mut position = 0;
    let mut next_unit = 0;
    let mut total: u64 = 0;
    while position < bytes.len() {
        let digits_start = position;
        while position < bytes.len() && bytes[position].is_ascii_digit() {
            position += 1;
        }
        let unit_start = position;
        while position < bytes.len() && bytes[position].is_ascii_alphabetic() {
            position += 1;
        }
        if digits_start == unit_start || unit_start == position {
            return Err(invalid());
        }
        let unit = &input[unit_start..position];
        let offset = UNITS[next_unit..]
            .iter()
            .position(|(name, _)| *name == unit)
            .ok_or_else(invalid)?;
        let (_, unit_millis) = UNITS[next_unit + offset];
        next_unit += offset + 1;
        let out_of_range = || ConfigError::DurationOutOfRange {
            input: input.to_owned(),
        };
        let amount: u64 = input[digits_start..unit_start]
            .parse()
            .map_err(|_| out_of_range())?;
        total = amount
            .checked_mul(unit_millis)
            .and_then(|millis| total.checked_add(millis))
            .filter(|millis| *millis <= MAX_MILLIS)
            .ok_or_else(out_of_range)?;
    }
    Ok(Duration::from_millis(total))
}

impl FromStr for PromDuration {
    type Err = ConfigError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        parse_duration(input).map(Self)
    }
}

impl fmt::Display for PromDuration {
    /// `model.Duration.String()`: years and weeks only when they divide exactly.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut millis = u64::try_from(self.0.as_millis()).unwrap_or(u64::MAX);
        if millis == 0 {
            return formatter.write_str("0s");
        }
        for (unit, unit_millis) in UNITS {
            let exact_only = matches!(unit, "y" | "w");
            if exact_only && millis % unit_millis != 0 {
                continue;
            }
            let amount = millis / unit_millis;
            if amount > 0 {
                write!(formatter, "{amount}{unit}")?;
                millis -= amount * unit_millis;
            }
        }
        Ok(())
    }
}

impl serde::Serialize for PromDuration {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for PromDuration {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for PromDuration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "PromDuration".into()
    }

    fn json_schema(_generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A Prometheus duration such as `10m`, `1h30m` or `0`: units y, w, d, h, m, s, ms, each at most once, in that order.",
            "pattern": "^(0|([0-9]+y)?([0-9]+w)?([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?([0-9]+ms)?)$"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn millis(input: &str) -> u128 {
        parse_duration(input).unwrap().as_millis()
    }

    #[test]
    fn parses_prometheus_syntax() {
        assert_eq!(millis("0"), 0);
        assert_eq!(millis("0s"), 0);
        assert_eq!(millis("10m"), 600_000);
        assert_eq!(millis("1h30m"), 5_400_000);
        assert_eq!(
            millis("1y2w3d4h5m6s7ms"),
            31_536_000_000 + 1_209_600_000 + 259_200_000 + 14_706_007
        );
        assert_eq!(millis("500ms"), 500);
    }

    #[test]
    fn rejects_everything_else() {
        for input in [
            "1", "m", "1.5h", "-1m", "1m1h", "1m1m", "1 m", "10x", "1h 2m", "ms1",
        ] {
            assert!(
                matches!(
                    parse_duration(input),
                    Err(ConfigError::InvalidDuration { .. })
                ),
                "{input}"
            );
        }
        assert!(matches!(
            parse_duration(""),
            Err(ConfigError::EmptyDuration)
        ));
        assert!(matches!(
            parse_duration("300y"),
            Err(ConfigError::DurationOutOfRange { .. })
        ));
        assert_eq!(
            parse_duration("1.5h").unwrap_err().to_string(),
            r#"not a valid duration string: "1.5h""#
        );
    }

    #[test]
    fn prints_like_model_duration() {
        let print = |input: &str| input.parse::<PromDuration>().unwrap().to_string();
        assert_eq!(print("0"), "0s");
        assert_eq!(print("90m"), "1h30m");
        assert_eq!(print("14d"), "2w");
        assert_eq!(print("10d"), "10d");
        assert_eq!(print("365d"), "1y");
        assert_eq!(print("1500ms"), "1s500ms");
    }

    #[test]
    fn serde_uses_the_string_form() {
        let duration: PromDuration = serde_yaml_ng::from_str("1h30m").unwrap();
        assert_eq!(duration.as_duration(), Duration::from_secs(5_400));
        assert_eq!(serde_yaml_ng::to_string(&duration).unwrap().trim(), "1h30m");
        assert!(serde_yaml_ng::from_str::<PromDuration>("ten").is_err());
    }
}
