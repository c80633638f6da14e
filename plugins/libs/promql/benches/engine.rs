//! The engine's hot paths on an in-memory data set shaped like the write-path benchmark's: 10 000
//! counters (100 instances × 100 series, 10 jobs) scraped every 15 s for an hour, plus classic histogram
//! buckets. Queries are the read benchmark's, as instant queries and as 1 h range queries at a 60 s step.
//!
//! `cargo bench -p mimir-promql --bench engine`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mimir_promql::engine::{Engine, Labels, MemoryStorage, Sample};

const HOUR_MS: i64 = 3_600_000;
const BUCKETS: [&str; 6] = ["0.1", "0.5", "1", "5", "10", "+Inf"];

fn storage() -> MemoryStorage {
    let mut storage = MemoryStorage::new();
    let samples = |slope: f64| {
        (0..=240).map(move |i| Sample {
            t: i * 15_000,
            v: slope * i as f64,
        })
    };
    for series in 0..10_000 {
        let labels = Labels::new(vec![
            ("__name__".into(), "requests_total".into()),
            ("job".into(), format!("job-{}", series % 10)),
            ("instance".into(), format!("host-{}", series / 100)),
            ("series".into(), series.to_string()),
        ]);
        storage.append(labels, samples(1.0 + (series % 7) as f64));
    }
    for instance in 0..100 {
        for (i, le) in BUCKETS.iter().enumerate() {
            let labels = Labels::new(vec![
                ("__name__".into(), "latency_seconds_bucket".into()),
                ("job".into(), format!("job-{}", instance % 10)),
                ("instance".into(), format!("host-{instance}")),
                ("le".into(), (*le).into()),
            ]);
            storage.append(labels, samples((i + 1) as f64));
        }
    }
    storage
}

const QUERIES: [&str; 5] = [
    "sum by (job) (rate(requests_total[5m]))",
    "topk(5, requests_total)",
    "histogram_quantile(0.9, sum by (le) (rate(latency_seconds_bucket[5m])))",
    "count by (instance) (requests_total)",
    "requests_total{instance=~\"host-1.*\"}",
];

fn bench(c: &mut Criterion) {
    let storage = storage();
    let engine = Engine::default();
    let mut group = c.benchmark_group("engine");
    group.sample_size(10);
    for query in QUERIES {
        group.bench_function(format!("instant {query}"), |b| {
            b.iter(|| black_box(engine.instant_query(&storage, query, HOUR_MS)))
        });
        group.bench_function(format!("range 1h/60s {query}"), |b| {
            b.iter(|| black_box(engine.range_query(&storage, query, 0, HOUR_MS, 60_000)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
