//! The ingester's WAL records: a series (its ref and labels), a batch of samples (ref, time,
//! value) and a batch of native histogram samples (ref, time, encoded histogram). Little-endian,
//! length-prefixed; the WAL frames and checksums each record.

use mimir_tsdb::{Labels, SeriesRef};

/// Record kind of a series: `ref u64, count u32, (name_len u32, name, value_len u32, value)*`.
pub const SERIES: u8 = 1;
/// Record kind of samples: `(ref u64, timestamp i64, value bits u64)*`.
pub const SAMPLES: u8 = 2;

/// Record kind of native histogram samples: `(ref u64, timestamp i64, len u32, histogram)*`,
/// the histogram as the head stores it (see `histograms::canonical`).
pub const HISTOGRAMS: u8 = 3;

const SAMPLE_BYTES: usize = 24;

pub fn encode_series(series_ref: SeriesRef, labels: &Labels) -> Vec<u8> {
    let size = 12
        + labels
            .iter()
            .map(|l| 8 + l.name.len() + l.value.len())
            .sum::<usize>();
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(&series_ref.to_le_bytes());
    out.extend_from_slice(&(labels.len() as u32).to_le_bytes());
    for label in labels.iter() {
        for text in [&label.name, &label.value] {
            out.extend_from_slice(&(text.len() as u32).to_le_bytes());
            out.extend_from_slice(text.as_bytes());
        }
    }
    out
}

pub fn encode_samples(samples: &[(SeriesRef, i64, f64)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(samples.len() * SAMPLE_BYTES);
    for (series_ref, timestamp, value) in samples {
        out.extend_from_slice(&series_ref.to_le_bytes());
        out.extend_from_slice(&timestamp.to_le_bytes());
        out.extend_from_slice(&value.to_bits().to_le_bytes());
    }
    out
}

pub fn encode_histograms<H: AsRef<[u8]>>(histograms: &[(SeriesRef, i64, H)]) -> Vec<u8> {
    let size = histograms
        .iter()
        .map(|(_, _, h)| 20 + h.as_ref().len())
        .sum();
    let mut out = Vec::with_capacity(size);
    for (series_ref, timestamp, histogram) in histograms {
        let histogram = histogram.as_ref();
        out.extend_from_slice(&series_ref.to_le_bytes());
        out.extend_from_slice(&timestamp.to_le_bytes());
        out.extend_from_slice(&(histogram.len() as u32).to_le_bytes());
        out.extend_from_slice(histogram);
    }
    out
}

/// Decodes a histograms record; `None` when it is malformed.
pub fn decode_histograms(bytes: &[u8]) -> Option<Vec<(SeriesRef, i64, &[u8])>> {
    let mut reader = Reader { bytes };
    let mut histograms = Vec::new();
    while !reader.bytes.is_empty() {
        let series_ref = reader.u64()?;
        let timestamp = reader.u64()? as i64;
        let len = reader.u32()? as usize;
        histograms.push((series_ref, timestamp, reader.take(len)?));
    }
    Some(histograms)
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.bytes.len() < n {
            return None;
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Some(head)
    }

    fn u32(&mut self) -> Option<u32> {
        self.take(4)?.try_into().ok().map(u32::from_le_bytes)
    }

    fn u64(&mut self) -> Option<u64> {
        self.take(8)?.try_into().ok().map(u64::from_le_bytes)
    }

    fn text(&mut self) -> Option<&'a str> {
        let len = self.u32()? as usize;
        std::str::from_utf8(self.take(len)?).ok()
    }
}

/// Decodes a series record; `None` when it is malformed.
pub fn decode_series(bytes: &[u8]) -> Option<(SeriesRef, Labels)> {
    let mut reader = Reader { bytes };
    let series_ref = reader.u64()?;
    let count = reader.u32()? as usize;
    let mut pairs = Vec::with_capacity(count.min(1024));
    for _ in 0..count {
        let name = reader.text()?;
        let value = reader.text()?;
        pairs.push((name, value));
    }
    if !reader.bytes.is_empty() {
        return None;
    }
    Some((series_ref, Labels::from_pairs(pairs)))
}

/// Decodes a samples record; `None` when it is malformed.
pub fn decode_samples(bytes: &[u8]) -> Option<Vec<(SeriesRef, i64, f64)>> {
    if !bytes.len().is_multiple_of(SAMPLE_BYTES) {
        return None;
    }
    let mut reader = Reader { bytes };
    let mut samples = Vec::with_capacity(bytes.len() / SAMPLE_BYTES);
    while !reader.bytes.is_empty() {
        let series_ref = reader.u64()?;
        let timestamp = reader.u64()? as i64;
        let value = f64::from_bits(reader.u64()?);
        samples.push((series_ref, timestamp, value));
    }
    Some(samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip() {
        let labels = Labels::from_pairs([("__name__", "up"), ("job", "ä")]);
        let (series_ref, decoded) = decode_series(&encode_series(7, &labels)).unwrap();
        assert_eq!((series_ref, decoded), (7, labels));
        let samples = vec![
            (7, -5, 1.5),
            (8, i64::MAX, f64::from_bits(0x7ff0_0000_0000_0002)),
        ];
        let decoded = decode_samples(&encode_samples(&samples)).unwrap();
        assert_eq!(decoded.len(), 2);
        assert_eq!((decoded[0].0, decoded[0].1, decoded[0].2), (7, -5, 1.5));
        assert_eq!(decoded[1].2.to_bits(), 0x7ff0_0000_0000_0002);
    }

    #[test]
    fn histogram_records_round_trip() {
        let histograms: Vec<(SeriesRef, i64, &[u8])> = vec![
            (7, -5, b"\x08\x01"),
            (8, i64::MAX, b""),
            (7, 3, &[0xff; 300]),
        ];
        assert_eq!(
            decode_histograms(&encode_histograms(&histograms)).unwrap(),
            histograms
        );
        assert_eq!(decode_histograms(&[]).unwrap(), vec![]);
    }

    #[test]
    fn malformed_records_are_none() {
        assert!(decode_series(&[1, 2, 3]).is_none());
        let mut bad = encode_series(1, &Labels::from_pairs([("a", "b")]));
        bad.push(0);
        assert!(decode_series(&bad).is_none());
        assert!(decode_samples(&[0; 23]).is_none());
        let mut bad = encode_histograms(&[(1, 2, b"abc")]);
        bad.pop();
        assert!(decode_histograms(&bad).is_none());
    }
}
