//! The series lines of a `load` block (README §3.1): each line expands into samples on the load's
//! step, a series listed twice keeps its later line, and a start-timestamp line (`metric{…}@st …`)
//! gives per-sample start-time offsets for the sample line of the same series right after it.

use super::ScriptError;
use super::labels::{Cursor, read_metric};
use super::literal::parse_signed_duration_ms;
use super::series::{MAX_VALUES_PER_LINE, SampleValue, read_values};

/// One series of a `load` command.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadSeries {
    /// Sorted by name, `__name__` included.
    pub labels: Vec<(String, String)>,
    /// One entry per slot: (milliseconds since the epoch, value). `Omitted` slots load nothing.
    pub samples: Vec<(i64, SampleValue)>,
    /// From an `@st` line: per slot, the start timestamp's offset from the sample's timestamp in ms
    /// (`None` for `_`). Same length as `samples`.
    pub start_offsets_ms: Option<Vec<Option<i64>>>,
    /// 1-based line of the sample line.
    pub line: usize,
}

/// A start-timestamp line waiting for its sample line.
struct PendingOffsets {
    labels: Vec<(String, String)>,
    offsets: Vec<Option<i64>>,
    index: usize,
}

/// Reads the series lines `lines[start..end]` of a load with the given step.
pub(crate) fn read_load_block(
    lines: &[&str],
    start: usize,
    end: usize,
    step_ms: i64,
) -> Result<Vec<LoadSeries>, ScriptError> {
    let mut series: Vec<LoadSeries> = Vec::new();
    let mut pending: Option<PendingOffsets> = None;
    for (index, line) in lines.iter().enumerate().take(end).skip(start) {
        let error = |message: String| ScriptError::new(index, message);
        let mut cursor = Cursor::new(line);
        let labels = read_metric(&mut cursor).map_err(error)?;
        if let Some(after) = cursor.rest().strip_prefix("@st") {
            if pending.is_some() {
                return Err(error(
                    "a start-timestamp line must be followed by its sample line".to_string(),
                ));
            }
            cursor.pos += 3;
            if !after.starts_with(char::is_whitespace) {
                return Err(error("expected start-time offsets after `@st`".to_string()));
            }
            let offsets = read_offsets(&mut cursor).map_err(error)?;
            pending = Some(PendingOffsets {
                labels,
                offsets,
                index,
            });
            continue;
        }
        let values = read_values(&mut cursor).map_err(error)?;
        let start_offsets_ms = match pending.take() {
            None => None,
            Some(offsets) if offsets.labels != labels => {
                return Err(ScriptError::new(
                    offsets.index,
                    "a start-timestamp line must be followed by the sample line of the same series",
                ));
            }
            Some(offsets) if offsets.offsets.len() != values.len() => {
                return Err(error(format!(
                    "{} start-time offsets but {} values",
                    offsets.offsets.len(),
                    values.len()
                )));
            }
            Some(offsets) => Some(offsets.offsets),
        };
        let samples = on_steps(values, step_ms).map_err(error)?;
        let entry = LoadSeries {
            labels,
            samples,
            start_offsets_ms,
            line: index + 1,
        };
        match series.iter_mut().find(|known| known.labels == entry.labels) {
            Some(known) => *known = entry,
            None => series.push(entry),
        }
    }
    if let Some(offsets) = pending {
        return Err(ScriptError::new(
            offsets.index,
            "a start-timestamp line must be followed by its sample line",
        ));
    }
    Ok(series)
}

/// Puts value `i` at `i × step_ms`.
fn on_steps(values: Vec<SampleValue>, step_ms: i64) -> Result<Vec<(i64, SampleValue)>, String> {
    values
        .into_iter()
        .enumerate()
        .map(|(slot, value)| {
            i64::try_from(slot)
                .ok()
                .and_then(|slot| slot.checked_mul(step_ms))
                .map(|timestamp| (timestamp, value))
                .ok_or_else(|| "sample timestamp overflows".to_string())
        })
        .collect()
}

/// Reads the items of a start-timestamp line: `_`, `_xN`, `<dur>`, `<dur>xN`, `<dur>±<dur>xN`.
fn read_offsets(cursor: &mut Cursor<'_>) -> Result<Vec<Option<i64>>, String> {
    let mut offsets = Vec::new();
    while let Some((_, item)) = cursor.next_word() {
        expand_offset_item(item, &mut offsets)?;
        if offsets.len() > MAX_VALUES_PER_LINE {
            return Err(format!(
                "more than {MAX_VALUES_PER_LINE} offsets on one line"
            ));
        }
    }
    Ok(offsets)
}

fn expand_offset_item(item: &str, offsets: &mut Vec<Option<i64>>) -> Result<(), String> {
    let invalid = || format!("invalid start-time offset {item:?}");
    let count = |text: &str| -> Result<usize, String> {
        let count: usize = text.parse().map_err(|_| invalid())?;
        if count >= MAX_VALUES_PER_LINE {
            return Err(invalid());
        }
        Ok(count)
    };
    if let Some(rest) = item.strip_prefix('_') {
        let omitted = match rest.strip_prefix('x') {
            Some(times) => count(times)?,
            None if rest.is_empty() => 1,
            None => return Err(invalid()),
        };
        offsets.extend(std::iter::repeat_n(None, omitted));
        return Ok(());
    }
    let (head, times) = match item.split_once('x') {
        Some((head, times)) => (head, Some(count(times)?)),
        None => (item, None),
    };
    // The step's sign is the first `+`/`-` after the base's optional leading sign.
    let base_len = head
        .char_indices()
        .skip(1)
        .find(|(_, c)| matches!(c, '+' | '-'))
        .map_or(head.len(), |(position, _)| position);
    let base = parse_signed_duration_ms(&head[..base_len]).map_err(|_| invalid())?;
    let step_text = &head[base_len..];
    if step_text.is_empty() {
        offsets.extend(std::iter::repeat_n(Some(base), times.unwrap_or(0) + 1));
        return Ok(());
    }
    let step = parse_signed_duration_ms(step_text).map_err(|_| invalid())?;
    let Some(times) = times else {
        return Err(invalid());
    };
    let mut current = base;
    for _ in 0..=times {
        offsets.push(Some(current));
        current = current.checked_add(step).ok_or_else(invalid)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offsets(text: &str) -> Result<Vec<Option<i64>>, String> {
        let mut result = Vec::new();
        for item in text.split_whitespace() {
            expand_offset_item(item, &mut result)?;
        }
        Ok(result)
    }

    #[test]
    fn start_time_offsets_expand_like_values() {
        assert_eq!(
            offsets("_ _ -30s-1mx2"),
            Ok(vec![
                None,
                None,
                Some(-30_000),
                Some(-90_000),
                Some(-150_000)
            ])
        );
        assert_eq!(
            offsets("_x2 -1msx1"),
            Ok(vec![None, None, Some(-1), Some(-1)])
        );
        assert_eq!(offsets("-0msx1"), Ok(vec![Some(0), Some(0)]));
        assert_eq!(
            offsets("1m+30sx1 5s"),
            Ok(vec![Some(60_000), Some(90_000), Some(5_000)])
        );
        assert!(offsets("-30s-1m").is_err());
        assert!(offsets("-30").is_err());
        assert!(offsets("_y").is_err());
    }

    #[test]
    fn st_lines_attach_to_the_next_sample_line() {
        let lines = [
            r#"m{a="1"}@st _ -1sx1"#,
            r#"m{a="1"} _ 1 2"#,
            r#"m{a="2"} 1x2"#,
            r#"m{a="2"} 5"#,
        ];
        let series = read_load_block(&lines, 0, lines.len(), 60_000).expect("valid load");
        assert_eq!(series.len(), 2);
        assert_eq!(
            series[0].start_offsets_ms,
            Some(vec![None, Some(-1000), Some(-1000)])
        );
        assert_eq!(series[0].samples[2], (120_000, SampleValue::Float(2.0)));
        assert_eq!(
            series[1].samples,
            [(0, SampleValue::Float(5.0))],
            "the later line wins"
        );
        assert_eq!(series[1].line, 4);
    }

    #[test]
    fn st_lines_must_match_their_sample_line() {
        let other_series = [r#"m{a="1"}@st _ -1s"#, r#"m{a="2"} 1 2"#];
        assert!(read_load_block(&other_series, 0, 2, 1000).is_err());
        let other_length = [r#"m{a="1"}@st _"#, r#"m{a="1"} 1 2"#];
        assert!(read_load_block(&other_length, 0, 2, 1000).is_err());
        let dangling = [r#"m{a="1"}@st _"#];
        assert!(read_load_block(&dangling, 0, 1, 1000).is_err());
    }
}
