//! Head throughput: appending 100k samples over 1k series, selecting one series, and resolving
//! regex matchers over a 100k-series head.

use criterion::{Criterion, criterion_group, criterion_main};
use mimir_tsdb::{Head, HeadConfig, Labels, MatchOp, Matcher};

const SERIES: usize = 1000;
const SAMPLES_PER_SERIES: i64 = 100;

/// Series in the regex-selection head.
const BIG_SERIES: usize = 100_000;

fn series_labels(i: usize) -> Labels {
    Labels::from_pairs([
        ("__name__".to_string(), "bench_metric".to_string()),
        ("instance".to_string(), format!("host-{i}")),
        ("job".to_string(), format!("job-{}", i % 10)),
    ])
}

fn filled_head() -> Head {
    let head = Head::new(HeadConfig::default());
    let refs: Vec<u64> = (0..SERIES)
        .map(|i| head.get_or_create_series(series_labels(i)).map(|(r, _)| r))
        .collect::<Result<_, _>>()
        .expect("no series limit is configured");
    for step in 0..SAMPLES_PER_SERIES {
        for r in &refs {
            head.append(*r, step * 15_000, step as f64)
                .expect("timestamps increase");
        }
    }
    head
}

/// `m_{i%100}{instance="host-{i/1000}", job="loadgen", series="{i}"}`, one sample each.
fn big_head() -> Head {
    let head = Head::new(HeadConfig::default());
    for i in 0..BIG_SERIES {
        let labels = Labels::from_pairs([
            ("__name__".to_string(), format!("m_{}", i % 100)),
            ("instance".to_string(), format!("host-{}", i / 1000)),
            ("job".to_string(), "loadgen".to_string()),
            ("series".to_string(), i.to_string()),
        ]);
        let (r, _) = head
            .get_or_create_series(labels)
            .expect("no series limit is configured");
        head.append(r, 0, 1.0).expect("first sample");
    }
    head
}

/// A selector as (op, name, value) triples.
type Selector<'a> = &'a [(MatchOp, &'a str, &'a str)];

fn regex_matchers(pairs: Selector<'_>) -> Vec<Matcher> {
    pairs
        .iter()
        .map(|(op, name, value)| Matcher::new(*op, *name, *value).expect("valid regex"))
        .collect()
}

fn bench_head(c: &mut Criterion) {
    c.bench_function("append 100k samples across 1k series", |b| {
        b.iter(filled_head)
    });
    let head = filled_head();
    let matchers = [
        Matcher::equal("__name__", "bench_metric"),
        Matcher::equal("instance", "host-500"),
    ];
    c.bench_function("select one series", |b| {
        b.iter(|| head.select(&matchers, 0, i64::MAX, None, 0))
    });

    let big = big_head();
    let cases: [(&str, Selector<'_>, usize); 2] = [
        (
            r#"{__name__="m_4", instance=~"host-1.*"}"#,
            &[
                (MatchOp::Equal, "__name__", "m_4"),
                (MatchOp::RegexMatch, "instance", "host-1.*"),
            ],
            110,
        ),
        (
            r#"{__name__=~"m_1[0-9]", series=~".*7"}"#,
            &[
                (MatchOp::RegexMatch, "__name__", "m_1[0-9]"),
                (MatchOp::RegexMatch, "series", ".*7"),
            ],
            1000,
        ),
    ];
    for (name, pairs, expected) in cases {
        let matchers = regex_matchers(pairs);
        assert_eq!(
            big.select(&matchers, 0, i64::MAX, None, 0).series.len(),
            expected
        );
        c.bench_function(&format!("100k series: select {name}"), |b| {
            b.iter(|| big.select(&matchers, 0, i64::MAX, None, 0))
        });
        // What a query pays: the matchers are built (regexes compiled) per request.
        c.bench_function(
            &format!("100k series: build matchers + select {name}"),
            |b| b.iter(|| big.select(&regex_matchers(pairs), 0, i64::MAX, None, 0)),
        );
    }
}

criterion_group!(benches, bench_head);
criterion_main!(benches);
