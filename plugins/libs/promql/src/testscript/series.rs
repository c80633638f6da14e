//! Series descriptions, the notation of `load` lines and expected-result lines
//! (`metric{l="v"} 0+10x10 _x3 stale {{schema:0 sum:1}}x2`), as Prometheus' `ParseSeriesDesc` reads
//! them: a label set in PromQL syntax, then space-separated value items expanded into one value per
//! time slot (README §4). Native histograms are kept as their literal text; [`HistogramValue::to_histogram`]
//! reads and expands them.

use super::labels::{Cursor, read_metric};
use super::literal::scan_series_number;
use crate::engine::histogram::{
    FloatHistogram, parse_histogram_literal, parse_histogram_literal_with_hint,
};

/// The most values one line may expand to; guards against `1x999999999999`.
pub const MAX_VALUES_PER_LINE: usize = 1 << 20;

/// One time slot of a value sequence.
#[derive(Debug, Clone, PartialEq)]
pub enum SampleValue {
    Float(f64),
    /// `stale`: a staleness marker (the float `StaleNaN`, bits `0x7ff0000000000002`).
    Stale,
    Histogram(HistogramValue),
    /// `_`: no sample in this slot, but time advances.
    Omitted,
}

/// A native histogram value, not yet interpreted: the slot holds `base` (± `index` × `step`).
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramValue {
    /// The literal of the first value, braces included: `{{schema:0 sum:5 count:4 buckets:[1 2 1]}}`.
    pub base: String,
    /// For `{{A}}+{{B}}xn` and `{{A}}-{{B}}xn`: the direction and the literal of `B`.
    pub step: Option<(StepDirection, String)>,
    /// The position within its expansion: 0 for `A`, k for `A ± k·B` (and for the k-th copy of `Axn`).
    pub index: usize,
    /// Byte column (1-based) of the literal within its line, for error messages.
    pub column: usize,
}

impl HistogramValue {
    /// The histogram of this slot, as Prometheus' series-description expansion computes it
    /// (`histogramsSeries`): slot 0 is `base`; slot k is slot k−1 combined with `step` by
    /// `FloatHistogram.Add`/`Sub` (cumulatively, not `base + k·step`, so rounding matches). The
    /// expansion fails if the running value's schema is greater than the step's, or if one has custom
    /// buckets and the other not. `Axn` repeats `A`.
    pub fn to_histogram(&self) -> Result<FloatHistogram, String> {
        self.to_histogram_with_hint().map(|(h, _)| h)
    }

    /// Like [`to_histogram`](HistogramValue::to_histogram), also telling whether the base literal spelled
    /// out `counter_reset_hint:` (the harness compares hints only then).
    pub fn to_histogram_with_hint(&self) -> Result<(FloatHistogram, bool), String> {
        let (mut current, has_hint) = parse_histogram_literal_with_hint(&self.base)?;
        let Some((direction, step_text)) = &self.step else {
            return Ok((current, has_hint));
        };
        if self.index == 0 {
            return Ok((current, has_hint));
        }
        let step = parse_histogram_literal(step_text)?;
        for _ in 0..self.index {
            if current.schema > step.schema {
                return Err(format!(
                    "error combining histograms: cannot merge from schema {} to {}",
                    step.schema, current.schema
                ));
            }
            let combined = match direction {
                StepDirection::Add => current.add(&step),
                StepDirection::Sub => current.sub(&step),
            };
            combined.map_err(|e| format!("error combining histograms: {e}"))?;
        }
        Ok((current, has_hint))
    }
}

/// Whether a histogram sequence adds or subtracts its step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepDirection {
    Add,
    Sub,
}

/// A parsed series description: sorted labels (with `__name__`) and one value per slot.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesDesc {
    pub labels: Vec<(String, String)>,
    pub values: Vec<SampleValue>,
}

/// Parses a whole series-description line.
pub(crate) fn parse_series_desc(line: &str) -> Result<SeriesDesc, String> {
    let mut cursor = Cursor::new(line);
    let labels = read_metric(&mut cursor)?;
    let values = read_values(&mut cursor)?;
    Ok(SeriesDesc { labels, values })
}

/// Reads the value items after the metric until the end of the line or a `#` comment.
pub(crate) fn read_values(cursor: &mut Cursor<'_>) -> Result<Vec<SampleValue>, String> {
    let mut values = Vec::new();
    loop {
        cursor.skip_spaces();
        if cursor.rest().starts_with("{{") {
            read_histogram_item(cursor, &mut values)?;
        } else {
            let Some((_, word)) = cursor.next_word() else {
                break;
            };
            expand_item(word, &mut values)?;
        }
        if values.len() > MAX_VALUES_PER_LINE {
            return Err(format!(
                "more than {MAX_VALUES_PER_LINE} values on one line"
            ));
        }
    }
    Ok(values)
}

/// Parses the `n` of a repetition `xn`.
fn repetitions(text: &str, item: &str) -> Result<usize, String> {
    let invalid = || format!("invalid repetition in series values {item:?}");
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    let count: usize = text.parse().map_err(|_| invalid())?;
    if count >= MAX_VALUES_PER_LINE {
        return Err(format!("repetition {count} in {item:?} is too large"));
    }
    Ok(count)
}

/// Expands one float item: `v`, `axn`, `a+bxn`, `a-bxn`, `_`, `_xn` or `stale`.
fn expand_item(item: &str, values: &mut Vec<SampleValue>) -> Result<(), String> {
    if item == "stale" {
        values.push(SampleValue::Stale);
        return Ok(());
    }
    if let Some(rest) = item.strip_prefix('_') {
        let count = match rest.strip_prefix('x') {
            Some(times) => repetitions(times, item)?,
            None if rest.is_empty() => 1,
            None => return Err(format!("invalid series value {item:?}")),
        };
        values.extend(std::iter::repeat_n(SampleValue::Omitted, count));
        return Ok(());
    }
    let invalid = || format!("invalid series value {item:?}");
    let (start, rest) = read_signed(item).ok_or_else(invalid)?;
    if rest.is_empty() {
        values.push(SampleValue::Float(start));
        return Ok(());
    }
    if let Some(times) = rest.strip_prefix('x') {
        let count = repetitions(times, item)?;
        values.extend(std::iter::repeat_n(SampleValue::Float(start), count + 1));
        return Ok(());
    }
    let negative = rest.starts_with('-');
    let unsigned = rest.strip_prefix(['+', '-']).ok_or_else(invalid)?;
    let (magnitude, len) = scan_series_number(unsigned).ok_or_else(invalid)?;
    let times = unsigned[len..].strip_prefix('x').ok_or_else(invalid)?;
    let count = repetitions(times, item)?;
    let increment = if negative { -magnitude } else { magnitude };
    // Cumulative addition, as Prometheus' grammar does, so that results match bit for bit.
    let mut current = start;
    for _ in 0..=count {
        values.push(SampleValue::Float(current));
        current += increment;
    }
    Ok(())
}

/// A number with an optional sign at the start of `text`, and the text after it.
fn read_signed(text: &str) -> Option<(f64, &str)> {
    let (negative, unsigned) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (magnitude, len) = scan_series_number(unsigned)?;
    let value = if negative { -magnitude } else { magnitude };
    Some((value, &unsigned[len..]))
}

/// Reads `{{…}}`, `{{…}}xn` or `{{A}}±{{B}}xn`; the cursor is on `{{`.
fn read_histogram_item(
    cursor: &mut Cursor<'_>,
    values: &mut Vec<SampleValue>,
) -> Result<(), String> {
    let column = cursor.pos + 1;
    let base = read_histogram_literal(cursor)?;
    let rest = cursor.rest();
    let direction = match rest.as_bytes().first() {
        Some(b'+') => Some(StepDirection::Add),
        Some(b'-') => Some(StepDirection::Sub),
        _ => None,
    };
    let step = match direction {
        Some(direction) => {
            cursor.pos += 1;
            if !cursor.rest().starts_with("{{") {
                return Err(format!("expected a histogram after {base}{}", &rest[..1]));
            }
            Some((direction, read_histogram_literal(cursor)?))
        }
        None => None,
    };
    let count = match cursor.rest().strip_prefix('x') {
        Some(after) => {
            let len = after.bytes().take_while(u8::is_ascii_digit).count();
            cursor.pos += 1 + len;
            repetitions(&after[..len], &base)?
        }
        None if step.is_some() => return Err(format!("histogram sequence after {base} needs xn")),
        None => 0,
    };
    if cursor
        .peek()
        .is_some_and(|c| !c.is_whitespace() && c != '#')
    {
        return Err(format!("unexpected text after histogram {base}"));
    }
    for index in 0..=count {
        values.push(SampleValue::Histogram(HistogramValue {
            base: base.clone(),
            step: step.clone(),
            index,
            column,
        }));
    }
    Ok(())
}

/// Reads one `{{…}}` literal (it holds no braces of its own) and returns its text.
fn read_histogram_literal(cursor: &mut Cursor<'_>) -> Result<String, String> {
    let rest = cursor.rest();
    let end = rest
        .find("}}")
        .ok_or_else(|| "unclosed histogram literal, missing '}}'".to_string())?;
    let literal = &rest[..end + 2];
    if literal[2..end].contains(['{', '}']) {
        return Err(format!("unexpected brace in histogram literal {literal}"));
    }
    cursor.pos += end + 2;
    Ok(literal.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn floats(values: &[SampleValue]) -> Vec<Option<f64>> {
        values
            .iter()
            .map(|value| match value {
                SampleValue::Float(v) => Some(*v),
                _ => None,
            })
            .collect()
    }

    fn values(text: &str) -> Vec<SampleValue> {
        parse_series_desc(&format!("m {text}"))
            .expect("valid series")
            .values
    }

    #[test]
    fn increasing_and_decreasing_sequences_have_n_plus_one_values() {
        assert_eq!(
            floats(&values("0+10x3")),
            [Some(0.0), Some(10.0), Some(20.0), Some(30.0)]
        );
        assert_eq!(
            floats(&values("1-2x2")),
            [Some(1.0), Some(-1.0), Some(-3.0)]
        );
        assert_eq!(
            floats(&values("-2+4x3")),
            [Some(-2.0), Some(2.0), Some(6.0), Some(10.0)]
        );
        assert_eq!(floats(&values("1x4")), [Some(1.0); 5]);
        assert_eq!(
            values("0x10").len(),
            11,
            "no hexadecimal in series descriptions"
        );
    }

    #[test]
    fn omitted_slots_and_stale_markers() {
        assert_eq!(values("_x2"), [SampleValue::Omitted, SampleValue::Omitted]);
        assert_eq!(
            values("1 _ stale 3"),
            [
                SampleValue::Float(1.0),
                SampleValue::Omitted,
                SampleValue::Stale,
                SampleValue::Float(3.0)
            ]
        );
    }

    #[test]
    fn special_and_scientific_numbers() {
        let parsed = values("Inf -Inf +Inf 1e3 -1.5e-3 .5 NaN");
        assert_eq!(
            floats(&parsed[..6]),
            [
                Some(f64::INFINITY),
                Some(f64::NEG_INFINITY),
                Some(f64::INFINITY),
                Some(1000.0),
                Some(-0.0015),
                Some(0.5)
            ]
        );
        assert!(matches!(parsed[6], SampleValue::Float(v) if v.is_nan()));
    }

    #[test]
    fn comments_end_the_values() {
        assert_eq!(values("1 2 # 3 4").len(), 2);
    }

    #[test]
    fn histograms_are_kept_as_text_with_their_position() {
        let parsed =
            values("1 {{schema:0 sum:5 count:4 buckets:[1 2 1]}}+{{sum:1 count:1}}x2 {{}}");
        assert_eq!(parsed.len(), 5);
        let SampleValue::Histogram(third) = &parsed[3] else {
            panic!("expected a histogram, got {:?}", parsed[3]);
        };
        assert_eq!(third.base, "{{schema:0 sum:5 count:4 buckets:[1 2 1]}}");
        assert_eq!(
            third.step,
            Some((StepDirection::Add, "{{sum:1 count:1}}".to_string()))
        );
        assert_eq!(third.index, 2);
        assert_eq!(third.column, 5);
        assert!(
            matches!(&parsed[4], SampleValue::Histogram(h) if h.base == "{{}}" && h.step.is_none())
        );
        assert_eq!(values("{{sum:1}}x3").len(), 4);
    }

    fn histogram_at(text: &str, slot: usize) -> FloatHistogram {
        match &values(text)[slot] {
            SampleValue::Histogram(h) => h.to_histogram().expect("valid histogram"),
            other => panic!("expected a histogram, got {other:?}"),
        }
    }

    #[test]
    fn histogram_sequences_add_their_step_cumulatively() {
        // README §4's example: slot 3 is A + 3·B.
        let h = histogram_at(
            "{{schema:0 sum:5 count:4 buckets:[1 2 1]}}+{{schema:0 sum:5 count:4 buckets:[1 2 1]}}x10",
            3,
        );
        assert_eq!((h.sum, h.count), (20.0, 16.0));
        assert_eq!(h.positive_buckets, vec![4.0, 8.0, 4.0]);
        // functions.test: gauge histograms keep their hint.
        let text = "{{schema:0 sum:0 count:0 buckets:[0 0 0] counter_reset_hint:gauge}}+{{schema:0 sum:1 count:2 buckets:[1 1 1] counter_reset_hint:gauge}}x5";
        let h = histogram_at(text, 5);
        assert_eq!((h.sum, h.count), (5.0, 10.0));
        assert_eq!(h.positive_buckets, vec![5.0, 5.0, 5.0]);
        assert_eq!(
            h.counter_reset_hint,
            crate::engine::histogram::CounterResetHint::Gauge
        );
        // Subtraction, and a finer step reduced to the base's schema.
        let h = histogram_at(
            "{{sum:10 count:10 buckets:[5 5]}}-{{sum:1 count:2 buckets:[1 1]}}x3",
            2,
        );
        assert_eq!((h.sum, h.count), (8.0, 6.0));
        assert_eq!(h.positive_buckets, vec![3.0, 3.0]);
        let h = histogram_at(
            "{{schema:0 count:1 buckets:[1]}}+{{schema:1 count:2 offset:1 buckets:[1 1]}}x1",
            1,
        );
        assert_eq!(h.schema, 0);
        assert_eq!(h.positive_buckets, vec![1.0, 2.0]);
        // The harness' reader rejects a base finer than the step.
        let SampleValue::Histogram(bad) = &values("{{schema:1 count:1}}+{{schema:0 count:1}}x2")[1]
        else {
            panic!("expected a histogram");
        };
        assert!(bad.to_histogram().is_err());
        // Slot 0 is the base, unparsed steps are not looked at.
        assert_eq!(histogram_at("{{sum:1}}+{{sum:2}}x2", 0).sum, 1.0);
    }

    #[test]
    fn invalid_descriptions_are_rejected() {
        for line in [
            "m 1+x3",
            "m 1+2",
            "m 1x",
            "m foo",
            "m stale2",
            "m _y",
            "m {{sum:1",
            "m {{sum:1}}+2x3",
            r#"m{a="1" 1"#,
            r#"m{a=1} 1"#,
            r#"m{a="1",a="2"} 1"#,
            "1 2",
            "m 1x99999999999999999999",
        ] {
            assert!(parse_series_desc(line).is_err(), "{line} should not parse");
        }
    }
}
