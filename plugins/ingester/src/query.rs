//! The ingester's read methods: series by matchers and time range (paged), label names and values,
//! series label sets, metadata. Per tenant; a tenant with no data answers empty.

use mimir_plugin_sdk::Error;
use mimir_proto::ingester::{
    LabelMatcher, LabelNamesResponse, LabelPair, LabelValuesResponse, QueryRequest, QueryResponse,
    Sample, Series, SeriesResponse, label_matcher,
};
use mimir_tsdb::{Head, Labels, MatchOp, Matcher};

use crate::records;

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

/// One page of `QueryStream`.
pub fn query_page(
    head: &Head,
    request: &QueryRequest,
    default_limit: usize,
) -> Result<QueryResponse, Error> {
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
    let page = head.select(
        &matchers,
        request.start_ms,
        request.end_ms,
        after.as_ref(),
        limit,
    );
    let series = page
        .series
        .into_iter()
        .map(|data| Series {
            labels: wire_labels(&data.labels),
            samples: data
                .samples
                .into_iter()
                .map(|(timestamp_ms, value)| Sample {
                    timestamp_ms,
                    value,
                })
                .collect(),
        })
        .collect();
    let next_cursor = page
        .next
        .map(|labels| records::encode_series(0, &labels))
        .unwrap_or_default();
    Ok(QueryResponse {
        series,
        next_cursor,
    })
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
                samples: Vec::new(),
            })
            .collect(),
    })
}
