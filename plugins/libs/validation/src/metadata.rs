//! Metric metadata cleaning and validation, as Mimir's `cleanAndValidateMetadata`: a metric
//! family name is required (`enforce_metadata_metric_name`), HELP longer than
//! `max_metadata_length` is truncated on a character boundary, and a longer family name or unit
//! rejects the entry (HTTP 400).

use crate::errors::{Message, STATUS_BAD_REQUEST, ValidationError, flags, ids};
use crate::limits::Limits;
use crate::remote_write::MetricMetadata;

/// Mimir's `cleanAndValidateMetadata`.
pub(crate) fn clean_and_validate(
    limits: &Limits,
    metadata: &mut MetricMetadata,
) -> Result<(), ValidationError> {
    if limits.enforce_metadata_metric_name && metadata.metric_family_name.is_empty() {
        return Err(
            Message::new("received a metric metadata with no metric name")
                .finish(ids::METADATA_MISSING_METRIC_NAME, STATUS_BAD_REQUEST),
        );
    }
    let max_length = limits.max_metadata_length;
    if metadata.help.len() > max_length {
        // The last character boundary at or before the limit.
        let cut = metadata
            .help
            .char_indices()
            .map(|(index, _)| index)
            .take_while(|index| *index <= max_length)
            .last()
            .unwrap_or(0);
        metadata.help.truncate(cut);
    }
    if metadata.metric_family_name.len() > max_length {
        return Err(Message::new(
            "received a metric metadata whose metric name length exceeds the limit, metric name: '",
        )
        .truncated(metadata.metric_family_name.as_bytes())
        .text("'")
        .finish_per_tenant(
            ids::METADATA_METRIC_NAME_TOO_LONG,
            STATUS_BAD_REQUEST,
            &[flags::MAX_METADATA_LENGTH],
        ));
    }
    if metadata.unit.len() > max_length {
        return Err(Message::new(
            "received a metric metadata whose unit name length exceeds the limit, unit: '",
        )
        .truncated(metadata.unit.as_bytes())
        .text("' metric name: '")
        .truncated(metadata.metric_family_name.as_bytes())
        .text("'")
        .finish_per_tenant(
            ids::METADATA_UNIT_TOO_LONG,
            STATUS_BAD_REQUEST,
            &[flags::MAX_METADATA_LENGTH],
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(name: &str, help: &str, unit: &str) -> MetricMetadata {
        MetricMetadata {
            r#type: 0,
            metric_family_name: name.to_owned(),
            help: help.to_owned(),
            unit: unit.to_owned(),
        }
    }

    const HINT: &str = "To adjust the related per-tenant limit, configure \
                        -validation.max-metadata-length, or contact your service administrator.";

    #[test]
    fn every_metadata_error_has_mimirs_id_status_and_message() {
        let short = Limits {
            max_metadata_length: 3,
            ..Limits::default()
        };
        let cases = [
            (
                metadata("", "help", ""),
                ids::METADATA_MISSING_METRIC_NAME,
                "received a metric metadata with no metric name \
                 (err-mimir-metadata-missing-metric-name)"
                    .to_owned(),
            ),
            (
                metadata("abcd", "", ""),
                ids::METADATA_METRIC_NAME_TOO_LONG,
                format!(
                    "received a metric metadata whose metric name length exceeds the limit, \
                     metric name: 'abcd' (err-mimir-metric-name-too-long). {HINT}"
                ),
            ),
            (
                metadata("abc", "", "bytes"),
                ids::METADATA_UNIT_TOO_LONG,
                format!(
                    "received a metric metadata whose unit name length exceeds the limit, unit: \
                     'bytes' metric name: 'abc' (err-mimir-unit-too-long). {HINT}"
                ),
            ),
        ];
        for (mut entry, id, message) in cases {
            let error = clean_and_validate(&short, &mut entry).unwrap_err();
            assert_eq!(
                (error.id, error.status, error.message.as_str()),
                (id, 400, message.as_str())
            );
        }
    }

    #[test]
    fn long_help_is_truncated_on_a_character_boundary() {
        let limits = Limits {
            max_metadata_length: 3,
            ..Limits::default()
        };
        // 'é' takes bytes 1..3, so the last boundary at or before 3 is 3: "hé".
        let mut entry = metadata("abc", "héllo", "");
        clean_and_validate(&limits, &mut entry).unwrap();
        assert_eq!(entry.help, "hé");
        // 'é' spans bytes 2..4, past the limit, so the cut moves back to 2: "aa".
        let mut entry = metadata("abc", "aaé", "");
        clean_and_validate(&limits, &mut entry).unwrap();
        assert_eq!(entry.help, "aa");
        let mut entry = metadata("abc", "abc", "");
        clean_and_validate(&limits, &mut entry).unwrap();
        assert_eq!(entry.help, "abc");
    }

    #[test]
    fn the_metric_name_can_be_optional() {
        let lenient = Limits {
            enforce_metadata_metric_name: false,
            ..Limits::default()
        };
        assert!(clean_and_validate(&lenient, &mut metadata("", "", "")).is_ok());
    }
}
