//! Native histogram samples as the ingester stores them: a pushed `Histogram` message is decoded,
//! checked as Prometheus' TSDB checks a histogram before appending it (`ValidateHistogram`), and
//! re-encoded without its timestamp in prost's encoding, which is canonical: equal histograms get
//! equal bytes, so the head recognises a resent sample as a duplicate by its bytes.

use mimir_proto::Message;
use mimir_proto::ingester::{BucketSpan, Histogram, histogram};

/// The schema of histograms with custom bucket bounds.
pub const CUSTOM_BUCKETS_SCHEMA: i32 = -53;

/// The stored form of an encoded histogram: its timestamp and its bytes without it. An error is
/// the message the client gets (400).
pub fn canonical(encoded: &[u8]) -> Result<(i64, Vec<u8>), String> {
    let mut h = Histogram::decode(encoded)
        .map_err(|error| format!("malformed native histogram: {error}"))?;
    validate(&h)?;
    let timestamp = std::mem::take(&mut h.timestamp);
    Ok((timestamp, h.encode_to_vec()))
}

fn is_float(h: &Histogram) -> bool {
    matches!(h.count, Some(histogram::Count::CountFloat(_)))
}

/// Prometheus' `Histogram.Validate` / `FloatHistogram.Validate`, with its messages.
fn validate(h: &Histogram) -> Result<(), String> {
    let custom = h.schema == CUSTOM_BUCKETS_SCHEMA;
    if !custom && !(-4..=8).contains(&h.schema) {
        return Err(format!(
            "histogram has an invalid schema, which must be between -4 and 8 or -53 for custom \
             buckets: got schema {}",
            h.schema
        ));
    }
    let float = is_float(h);
    let (negative, positive) = if float {
        (h.negative_counts.len(), h.positive_counts.len())
    } else {
        (h.negative_deltas.len(), h.positive_deltas.len())
    };
    if custom {
        if !h.negative_spans.is_empty() || negative > 0 {
            return Err("histogram with custom buckets must not have negative buckets".to_string());
        }
        if !h.custom_values.is_sorted_by(|a, b| a < b) {
            return Err(
                "custom buckets: custom bounds must be in strictly increasing order".to_string(),
            );
        }
    }
    check_spans("negative", &h.negative_spans, negative)?;
    check_spans("positive", &h.positive_spans, positive)?;
    if custom {
        let mut last_index: i64 = -1;
        for span in &h.positive_spans {
            last_index += i64::from(span.offset) + i64::from(span.length);
        }
        if h.positive_spans.first().is_some_and(|s| s.offset < 0) {
            return Err("custom buckets: span number 1 with offset < 0".to_string());
        }
        if last_index > h.custom_values.len() as i64 {
            return Err(format!(
                "custom buckets: the last bucket index {last_index} is beyond the {} custom bounds",
                h.custom_values.len()
            ));
        }
    }
    if float {
        for (side, counts) in [
            ("negative", &h.negative_counts),
            ("positive", &h.positive_counts),
        ] {
            for (i, count) in counts.iter().enumerate() {
                if *count < 0.0 {
                    return Err(negative_bucket(side, i, count));
                }
            }
        }
        return Ok(());
    }
    let mut in_buckets: u128 = match h.zero_count {
        Some(histogram::ZeroCount::ZeroCountInt(zero)) => u128::from(zero),
        _ => 0,
    };
    for (side, deltas) in [
        ("negative", &h.negative_deltas),
        ("positive", &h.positive_deltas),
    ] {
        let mut count: i64 = 0;
        for (i, delta) in deltas.iter().enumerate() {
            count = count.wrapping_add(*delta);
            if count < 0 {
                return Err(negative_bucket(side, i, &count));
            }
            in_buckets += count as u128;
        }
    }
    let total = match h.count {
        Some(histogram::Count::CountInt(count)) => u128::from(count),
        _ => 0,
    };
    if in_buckets > total {
        return Err(format!(
            "{in_buckets} observations found in buckets, but the Count field is {total}: \
             histogram's observation count should be at least the number of observations found \
             in the buckets"
        ));
    }
    Ok(())
}

fn negative_bucket(side: &str, index: usize, count: &dyn std::fmt::Display) -> String {
    format!(
        "{side} side: bucket number {} has observation count of {count}: histogram has a bucket \
         whose observation count is negative",
        index + 1
    )
}

fn check_spans(side: &str, spans: &[BucketSpan], buckets: usize) -> Result<(), String> {
    let mut needed: u64 = 0;
    for (i, span) in spans.iter().enumerate() {
        if i > 0 && span.offset < 0 {
            return Err(format!(
                "{side} side: span number {} with offset {}: histogram has a span whose offset \
                 is negative",
                i + 1,
                span.offset
            ));
        }
        needed += u64::from(span.length);
    }
    if needed != buckets as u64 {
        return Err(format!(
            "{side} side: spans need {needed} buckets, have {buckets} buckets: histogram spans \
             specify different number of buckets than provided"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn integer(spans: &[(i32, u32)], deltas: &[i64], count: u64) -> Histogram {
        Histogram {
            count: Some(histogram::Count::CountInt(count)),
            sum: 10.0,
            schema: 1,
            positive_spans: spans
                .iter()
                .map(|(offset, length)| BucketSpan {
                    offset: *offset,
                    length: *length,
                })
                .collect(),
            positive_deltas: deltas.to_vec(),
            timestamp: 77,
            ..Histogram::default()
        }
    }

    #[test]
    fn canonical_bytes_drop_the_timestamp_and_ignore_the_encoding() {
        let h = integer(&[(0, 2)], &[1, 1], 3);
        let (t, bytes) = canonical(&h.encode_to_vec()).unwrap();
        assert_eq!(t, 77);
        let back = Histogram::decode(bytes.as_slice()).unwrap();
        assert_eq!(back, Histogram { timestamp: 0, ..h });
        // The same histogram with its deltas unpacked and the timestamp first.
        let mut other = vec![0x78, 77];
        let mut rest = Histogram {
            positive_deltas: vec![],
            timestamp: 0,
            ..integer(&[(0, 2)], &[], 3)
        }
        .encode_to_vec();
        other.append(&mut rest);
        other.extend([0x60, 2, 0x60, 2]);
        assert_eq!(canonical(&other).unwrap(), (77, bytes));
    }

    #[test]
    fn inconsistent_histograms_are_refused_with_prometheus_messages() {
        let cases = [
            (integer(&[(0, 2)], &[1], 3), "spans need 2 buckets, have 1"),
            (
                integer(&[(0, 1), (-1, 1)], &[1, 0], 3),
                "offset is negative",
            ),
            (
                integer(&[(0, 2)], &[1, -2], 3),
                "observation count is negative",
            ),
            (
                integer(&[(0, 2)], &[2, 0], 3),
                "4 observations found in buckets",
            ),
            (
                Histogram {
                    schema: 9,
                    ..integer(&[], &[], 0)
                },
                "invalid schema",
            ),
            (
                Histogram {
                    schema: CUSTOM_BUCKETS_SCHEMA,
                    custom_values: vec![1.0],
                    ..integer(&[(0, 3)], &[1, 0, 0], 3)
                },
                "beyond the 1 custom bounds",
            ),
        ];
        for (h, expected) in cases {
            let error = canonical(&h.encode_to_vec()).unwrap_err();
            assert!(error.contains(expected), "{error}");
        }
        assert!(canonical(&[0x0a]).unwrap_err().starts_with("malformed"));
        let custom = Histogram {
            schema: CUSTOM_BUCKETS_SCHEMA,
            custom_values: vec![1.0, 2.0],
            ..integer(&[(0, 3)], &[1, 0, 0], 3)
        };
        assert!(canonical(&custom.encode_to_vec()).is_ok());
    }
}
