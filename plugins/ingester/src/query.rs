//! The ingester's read methods: series by matchers and time range (paged), label names and values,
//! series label sets, metadata. Per tenant; a tenant with no data answers empty.

use mimir_plugin_sdk::Error;
use mimir_proto::ingester::{
    LabelMatcher, LabelNamesResponse, LabelPair, LabelValuesResponse, QueryRequest, Series,
    SeriesResponse, label_matcher,
};
use mimir_tsdb::{Head, Labels, MatchOp, Matcher, SeriesChunks};

use mimir_proto::wire::{self, put_key, put_len_field, put_varint, varint_len};

use crate::records;
use crate::selections::{Key, Selections};

/// Converts the wire matchers; an invalid regex is a bad request.
pub fn matchers(wire: &[LabelMatcher]) -> Result<Vec<Matcher>, Error> {
    wire.iter()
        .map(|m| {
            let op = match label_matcher::Type::try_from(m.r#type) {
                Ok(label_matcher::Type::Eq) => MatchOp::Equal,
                Ok(label_matcher::Type::Neq) => MatchOp::NotEqual,
                Ok(label_matcher::Type::Re) => MatchOp::RegexMatch,
                Ok(label_matcher::Type::Nre) => MatchOp::RegexNoMatch,
                Err(_) => {
                    return Err(Error::bad_request(format!(
                        "unknown matcher type {}",
                        m.r#type
                    )));
                }
            };
            Matcher::new(op, m.name.clone(), m.value.clone())
                .map_err(|error| Error::bad_request(error.to_string()))
        })
        .collect()
}

fn wire_labels(labels: &Labels) -> Vec<LabelPair> {
    labels
        .iter()
        .map(|l| LabelPair {
            name: l.name.as_bytes().to_vec().into(),
            value: l.value.as_bytes().to_vec().into(),
        })
        .collect()
}

/// One page of `QueryStream`, as the encoded `QueryResponse`.
///
/// The reply is written straight from the head: each series' labels and samples go into the
/// protobuf bytes as they are read, with no `Series` message built in between (for a page of a
/// thousand series that was most of the ingester's query CPU: a `Vec` per label and per series,
/// then encoding, then freeing them). In-order samples go as the head's XOR chunks, copied as they
/// are (`Series.chunks`, about 1.5 bytes a sample; the querier decodes them once), out-of-order
/// ones as the packed `timestamp_deltas_ms` and `values` columns.
///
/// The first page takes the selection (see [`Selections`]); later pages reuse it while it is kept.
pub fn query_page(
    head: &Head,
    selections: &Selections,
    request: &QueryRequest,
    default_limit: usize,
) -> Result<Vec<u8>, Error> {
    let matchers = matchers(&request.matchers)?;
    let after = if request.cursor.is_empty() {
        None
    } else {
        let (_, labels) = records::decode_series(&request.cursor)
            .ok_or_else(|| Error::bad_request("malformed query cursor"))?;
        Some(labels)
    };
    let limit = if request.limit == 0 {
        default_limit
    } else {
        request.limit as usize
    };
    let key = Key {
        matchers: request.matchers.clone(),
        start_ms: request.start_ms,
        end_ms: request.end_ms,
    };
    let selection = match after.is_some().then(|| selections.get(&key)).flatten() {
        Some(kept) => kept,
        None => head.selection(&matchers),
    };
    // A series with its labels and a few dozen samples takes a few hundred bytes.
    let mut out = Vec::with_capacity(limit.min(selection.len()).min(4096) * 256);
    let next = head.select_chunks_from(
        &selection,
        request.start_ms,
        request.end_ms,
        after.as_ref(),
        limit,
        |labels, series| encode_series(&mut out, labels, series),
    );
    match next {
        Some(labels) => {
            selections.keep(key, selection);
            let cursor = records::encode_series(0, &labels);
            put_len_field(&mut out, QUERY_RESPONSE_NEXT_CURSOR, &cursor);
        }
        None if after.is_some() => selections.forget(&key),
        None => {}
    }
    Ok(out)
}

// Field numbers of the messages `query_page` writes (proto/proto/ingester.proto).
const QUERY_RESPONSE_SERIES: u32 = 1;
const QUERY_RESPONSE_NEXT_CURSOR: u32 = 2;
const SERIES_LABELS: u32 = 1;
const SERIES_HISTOGRAMS: u32 = 4;
const HISTOGRAM_TIMESTAMP: u32 = 15;
const SERIES_TIMESTAMP_DELTAS: u32 = 14;
const SERIES_VALUES: u32 = 15;
const SERIES_CHUNKS: u32 = 16;
const LABEL_NAME: u32 = 1;
const LABEL_VALUE: u32 = 2;

fn len_field_size(len: usize) -> usize {
    1 + varint_len(len as u64) + len
}

/// Appends one `QueryResponse.series` entry. Histogram samples go as `Series.histograms`: the
/// stored message bytes (which have no timestamp) followed by their timestamp field.
fn encode_series(out: &mut Vec<u8>, labels: &Labels, series: &SeriesChunks) {
    let (samples, histograms) = (&series.ooo, &series.histograms);
    let label_size =
        |name: &str, value: &str| len_field_size(name.len()) + len_field_size(value.len());
    put_key(out, QUERY_RESPONSE_SERIES, wire::LEN);
    // The body's length goes first; it is known once the body is written. Leave room for the
    // usual two-byte length and move the body if it needs another size.
    let length_at = out.len();
    out.extend_from_slice(&[0, 0]);
    let body_at = out.len();
    for l in labels.iter() {
        put_key(out, SERIES_LABELS, wire::LEN);
        put_varint(out, label_size(&l.name, &l.value) as u64);
        put_len_field(out, LABEL_NAME, l.name.as_bytes());
        put_len_field(out, LABEL_VALUE, l.value.as_bytes());
    }
    for chunk in series.chunks() {
        put_len_field(out, SERIES_CHUNKS, chunk);
    }
    if let Some(&(first, _)) = samples.first() {
        // Timestamps as zig-zag varint deltas, then the values as raw little-endian doubles.
        let zigzag = |delta: i64| ((delta << 1) ^ (delta >> 63)) as u64;
        let mut previous = 0i64;
        let deltas_len: usize = samples
            .iter()
            .map(|&(t, _)| {
                let len = varint_len(zigzag(t.wrapping_sub(previous)));
                previous = t;
                len
            })
            .sum();
        out.reserve(deltas_len + samples.len() * 8 + 12);
        put_key(out, SERIES_TIMESTAMP_DELTAS, wire::LEN);
        put_varint(out, deltas_len as u64);
        put_varint(out, zigzag(first));
        for pair in samples.windows(2) {
            put_varint(out, zigzag(pair[1].0.wrapping_sub(pair[0].0)));
        }
        put_key(out, SERIES_VALUES, wire::LEN);
        put_varint(out, (samples.len() * 8) as u64);
        for &(_, v) in samples {
            out.extend_from_slice(&v.to_bits().to_le_bytes());
        }
    }
    for (t, h) in histograms {
        put_key(out, SERIES_HISTOGRAMS, wire::LEN);
        put_varint(out, (h.len() + 1 + varint_len(*t as u64)) as u64);
        out.extend_from_slice(h);
        put_key(out, HISTOGRAM_TIMESTAMP, wire::VARINT);
        put_varint(out, *t as u64);
    }
    let body = out.len() - body_at;
    let size = varint_len(body as u64);
    if size != 2 {
        let old_end = out.len();
        if size > 2 {
            out.resize(old_end + size - 2, 0);
        }
        out.copy_within(body_at..old_end, length_at + size);
        out.truncate(length_at + size + body);
    }
    let mut value = body as u64;
    for byte in &mut out[length_at..length_at + size] {
        *byte = if value >= 0x80 {
            value as u8 | 0x80
        } else {
            value as u8
        };
        value >>= 7;
    }
}

pub fn label_names(
    head: &Head,
    wire: &[LabelMatcher],
    start: i64,
    end: i64,
) -> Result<LabelNamesResponse, Error> {
    Ok(LabelNamesResponse {
        names: head.label_names(&matchers(wire)?, start, end),
    })
}

pub fn label_values(
    head: &Head,
    name: &str,
    wire: &[LabelMatcher],
    start: i64,
    end: i64,
) -> Result<LabelValuesResponse, Error> {
    Ok(LabelValuesResponse {
        values: head.label_values(name, &matchers(wire)?, start, end),
    })
}

pub fn series(
    head: &Head,
    wire: &[LabelMatcher],
    start: i64,
    end: i64,
) -> Result<SeriesResponse, Error> {
    Ok(SeriesResponse {
        series: head
            .series(&matchers(wire)?, start, end)
            .iter()
            .map(|labels| Series {
                labels: wire_labels(labels),
                ..Series::default()
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use mimir_proto::Message;
    use mimir_proto::ingester::{BucketSpan, Histogram, QueryResponse, histogram};
    use mimir_tsdb::HeadConfig;

    use super::*;

    type SeriesSpec<'a> = (&'a [(&'a str, &'a str)], &'a [(i64, f64)]);

    fn head_with(series: &[SeriesSpec]) -> Head {
        let head = Head::new(HeadConfig::default());
        for (labels, samples) in series {
            let labels = Labels::from_pairs(labels.iter().copied());
            let (series_ref, _) = head.get_or_create_series(labels).unwrap();
            for &(t, v) in *samples {
                head.append(series_ref, t, v).unwrap();
            }
        }
        head
    }

    fn request(matchers: &[(&str, &str)], cursor: Vec<u8>, limit: u32) -> QueryRequest {
        QueryRequest {
            start_ms: 0,
            end_ms: 100,
            matchers: matchers
                .iter()
                .map(|(name, value)| LabelMatcher {
                    r#type: label_matcher::Type::Re as i32,
                    name: (*name).to_string(),
                    value: (*value).to_string(),
                })
                .collect(),
            cursor,
            limit,
        }
    }

    /// `page` with its series' chunks decoded (in `request`'s range) and merged with their
    /// out-of-order columns, as the querier reads them: the form `expected` builds.
    fn normalize(mut page: QueryResponse, request: &QueryRequest) -> QueryResponse {
        for series in &mut page.series {
            let mut samples = Vec::new();
            for chunk in std::mem::take(&mut series.chunks) {
                mimir_tsdb::decode_chunk_into(
                    &chunk,
                    request.start_ms,
                    request.end_ms,
                    &mut samples,
                )
                .unwrap();
            }
            let mut t = 0;
            for (delta, v) in series.timestamp_deltas_ms.iter().zip(&series.values) {
                t += delta;
                samples.push((t, *v));
            }
            samples.sort_by_key(|(t, _)| *t);
            series.timestamp_deltas_ms = samples
                .iter()
                .scan(0, |previous, &(t, _)| {
                    let delta = t - *previous;
                    *previous = t;
                    Some(delta)
                })
                .collect();
            series.values = samples.iter().map(|&(_, v)| v).collect();
        }
        page
    }

    /// The page as the querier decodes it, built the slow way from `Head::select`.
    fn expected(head: &Head, request: &QueryRequest) -> QueryResponse {
        let after = (!request.cursor.is_empty())
            .then(|| records::decode_series(&request.cursor).unwrap().1);
        let page = head.select(
            &matchers(&request.matchers).unwrap(),
            request.start_ms,
            request.end_ms,
            after.as_ref(),
            request.limit as usize,
        );
        QueryResponse {
            series: page
                .series
                .into_iter()
                .map(|s| Series {
                    labels: wire_labels(&s.labels),
                    samples: Vec::new(),
                    timestamp_deltas_ms: s
                        .samples
                        .iter()
                        .scan(0, |previous, &(t, _)| {
                            let delta = t - *previous;
                            *previous = t;
                            Some(delta)
                        })
                        .collect(),
                    values: s.samples.iter().map(|&(_, v)| v).collect(),
                    histograms: s
                        .histograms
                        .iter()
                        .map(|(t, h)| Histogram {
                            timestamp: *t,
                            ..Histogram::decode(&h[..]).unwrap()
                        })
                        .collect(),
                    chunks: Vec::new(),
                })
                .collect(),
            next_cursor: page
                .next
                .map(|l| records::encode_series(0, &l))
                .unwrap_or_default(),
        }
    }

    #[test]
    fn pages_decode_as_the_response_message_and_follow_their_cursor() {
        let head = head_with(&[
            (
                &[("__name__", "up"), ("job", "a"), ("zone", "ü-1")],
                &[(0, 0.0), (10, -0.0), (20, 1.5), (200, 9.0)],
            ),
            (&[("__name__", "up"), ("job", "b")], &[(5, f64::NAN)]),
            (&[("__name__", "up"), ("job", "c")], &[(300, 1.0)]),
            (&[("__name__", "up"), ("job", "d")], &[(-5, 1.0), (50, 2.0)]),
            (&[("__name__", "other")], &[(1, 1.0)]),
        ]);
        let selections = Selections::default();
        let mut cursor = Vec::new();
        let mut pages = 0;
        let mut seen = Vec::new();
        loop {
            let request = request(&[("__name__", "up")], cursor, 2);
            let bytes = query_page(&head, &selections, &request, 1000).unwrap();
            let got = normalize(QueryResponse::decode(bytes.as_slice()).unwrap(), &request);
            let want = expected(&head, &request);
            assert_eq!(got.next_cursor, want.next_cursor);
            assert_eq!(got.series.len(), want.series.len());
            for (g, w) in got.series.iter().zip(&want.series) {
                assert_eq!(g.labels, w.labels);
                assert!(g.samples.is_empty());
                assert_eq!(g.timestamp_deltas_ms, w.timestamp_deltas_ms);
                let bits = |s: &Series| s.values.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(g), bits(w));
                seen.push(String::from_utf8(g.labels[1].value.to_vec()).unwrap());
            }
            pages += 1;
            if got.next_cursor.is_empty() {
                break;
            }
            cursor = got.next_cursor;
        }
        // `c` has no sample in range; `-0.0` and NaN keep their bits.
        assert_eq!(seen, ["a", "b", "d"]);
        assert_eq!(pages, 2);
        // The selection was kept between the pages and dropped with the last one.
        assert_eq!(selections.len(), 0);
    }

    #[test]
    fn histograms_go_with_their_timestamps_beside_the_float_samples() {
        let head = head_with(&[(&[("__name__", "mixed")], &[(1, 1.0), (2, 2.0)])]);
        let sent: Vec<Histogram> = [(3, false), (150, true), (40, true), (-7, false)]
            .into_iter()
            .map(|(timestamp, float)| Histogram {
                count: Some(if float {
                    histogram::Count::CountFloat(1.5)
                } else {
                    histogram::Count::CountInt(2)
                }),
                sum: -2.5,
                schema: -2,
                positive_spans: vec![BucketSpan {
                    offset: -3,
                    length: 1,
                }],
                positive_deltas: if float { vec![] } else { vec![2] },
                positive_counts: if float { vec![1.5] } else { vec![] },
                timestamp,
                ..Histogram::default()
            })
            .collect();
        let labels = Labels::from_pairs([("__name__", "mixed")]);
        let mixed = head.series_ref(&labels).unwrap();
        let (only, _) = head
            .get_or_create_series(Labels::from_pairs([("__name__", "only")]))
            .unwrap();
        for (series_ref, h) in [(mixed, &sent[0]), (only, &sent[3]), (only, &sent[2])] {
            let (t, bytes) = crate::histograms::canonical(&h.encode_to_vec()).unwrap();
            head.append_histogram(series_ref, t, &bytes).unwrap();
        }
        let (t, bytes) = crate::histograms::canonical(&sent[1].encode_to_vec()).unwrap();
        head.append_histogram(mixed, t, &bytes).unwrap();
        let mut request = request(&[("__name__", ".+")], Vec::new(), 0);
        request.start_ms = -100;
        let got = normalize(
            QueryResponse::decode(
                query_page(&head, &Selections::default(), &request, 1000)
                    .unwrap()
                    .as_slice(),
            )
            .unwrap(),
            &request,
        );
        assert_eq!(got, expected(&head, &request));
        assert_eq!(got.series.len(), 2);
        assert_eq!(got.series[0].values, [1.0, 2.0]);
        assert_eq!(
            got.series[0].histograms,
            [sent[0].clone()],
            "150 is out of range"
        );
        assert_eq!(got.series[1].histograms, [sent[3].clone(), sent[2].clone()]);
    }

    #[test]
    fn chunks_and_out_of_order_samples_read_back_merged_and_in_range() {
        let head = Head::new(HeadConfig {
            out_of_order_time_window_ms: 1_000,
            ..HeadConfig::default()
        });
        let (r, _) = head
            .get_or_create_series(Labels::from_pairs([("__name__", "m")]))
            .unwrap();
        // Two chunks' worth in order, then out-of-order samples between them.
        for t in 0..150 {
            head.append(r, t * 10, t as f64).unwrap();
        }
        head.append(r, 605, -1.0).unwrap();
        head.append(r, 1_205, -2.0).unwrap();
        for (start_ms, end_ms) in [(0, 2_000), (600, 1_210), (1_300, 1_400), (5, 5)] {
            let mut request = request(&[("__name__", "m")], Vec::new(), 0);
            (request.start_ms, request.end_ms) = (start_ms, end_ms);
            let reply = QueryResponse::decode(
                query_page(&head, &Selections::default(), &request, 1000)
                    .unwrap()
                    .as_slice(),
            )
            .unwrap();
            if end_ms > 100 {
                assert!(
                    !reply.series[0].chunks.is_empty(),
                    "chunks are sent as they are"
                );
            }
            let got = normalize(reply, &request);
            let want = expected(&head, &request);
            // A chunk overlapping the range with no sample inside it still names its series.
            let want_series: Vec<_> = want
                .series
                .iter()
                .filter(|s| !s.values.is_empty())
                .collect();
            let got_series: Vec<_> = got.series.iter().filter(|s| !s.values.is_empty()).collect();
            assert_eq!(got_series, want_series, "range {start_ms}..={end_ms}");
        }
    }

    #[test]
    fn later_pages_read_the_selection_of_the_first() {
        let head = head_with(&[
            (&[("__name__", "up"), ("job", "a")], &[(1, 1.0)]),
            (&[("__name__", "up"), ("job", "c")], &[(1, 1.0)]),
        ]);
        let selections = Selections::default();
        let first = request(&[("__name__", "up")], Vec::new(), 1);
        let page = QueryResponse::decode(
            query_page(&head, &selections, &first, 1000)
                .unwrap()
                .as_slice(),
        )
        .unwrap();
        assert_eq!(page.series.len(), 1);
        assert_eq!(selections.len(), 1);
        // A series created after the first page is not part of this query.
        let (late, _) = head
            .get_or_create_series(Labels::from_pairs([("__name__", "up"), ("job", "b")]))
            .unwrap();
        head.append(late, 1, 1.0).unwrap();
        let rest = request(&[("__name__", "up")], page.next_cursor.clone(), 1);
        let page = QueryResponse::decode(
            query_page(&head, &selections, &rest, 1000)
                .unwrap()
                .as_slice(),
        )
        .unwrap();
        assert_eq!(page.series.len(), 1);
        assert_eq!(&page.series[0].labels[1].value[..], b"c");
        assert!(page.next_cursor.is_empty());
        assert_eq!(selections.len(), 0);
        // Without the kept selection (evicted), the page is taken anew and sees `b`.
        let again = QueryResponse::decode(
            query_page(&head, &Selections::default(), &rest, 1000)
                .unwrap()
                .as_slice(),
        )
        .unwrap();
        assert_eq!(&again.series[0].labels[1].value[..], b"b");
    }

    #[test]
    fn series_of_any_encoded_size_decode() {
        // Bodies under 128 bytes, around 16 KiB and beyond take 1, 2 and 3 length bytes.
        let many: Vec<(i64, f64)> = (0..100).map(|t| (t, t as f64 * 0.5)).collect();
        let head = head_with(&[
            (&[("__name__", "s")], &[(1, 1.0)]),
            (&[("__name__", "m")], &many[..6]),
            (&[("__name__", "l")], &many),
        ]);
        let tail: Vec<(i64, f64)> = (0..2000).map(|t| (1000 + t, 1.0)).collect();
        for (t, v) in tail {
            let labels = Labels::from_pairs([("__name__", "l")]);
            let (series_ref, _) = head.get_or_create_series(labels).unwrap();
            head.append(series_ref, t, v).unwrap();
        }
        for end_ms in [100, 1700, 5000] {
            let mut request = request(&[("__name__", ".+")], Vec::new(), 0);
            request.end_ms = end_ms;
            let bytes = query_page(&head, &Selections::default(), &request, 1000).unwrap();
            let got = normalize(QueryResponse::decode(bytes.as_slice()).unwrap(), &request);
            assert_eq!(got, expected(&head, &request));
        }
    }
}
