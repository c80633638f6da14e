//! Head throughput: appending 100k samples over 1k series, and selecting one series.

use criterion::{Criterion, criterion_group, criterion_main};
use mimir_tsdb::{Head, HeadConfig, Labels, Matcher};

const SERIES: usize = 1000;
const SAMPLES_PER_SERIES: i64 = 100;

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
}

criterion_group!(benches, bench_head);
criterion_main!(benches);
