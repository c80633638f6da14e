//! Chunk decoding: 1000 XOR chunks of 120 samples each, as a query over a day of scrapes reads
//! them. Half the series are counters, half gauges; scrapes are 15 s apart with a few ms jitter.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mimir_tsdb::{SAMPLES_PER_CHUNK, XorChunk};
use std::hint::black_box;

const CHUNKS: usize = 1000;

/// A small deterministic generator (xorshift64*), so every run decodes the same bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn chunk(i: usize, rng: &mut Rng) -> XorChunk {
    let mut chunk = XorChunk::new();
    let mut t = 1_700_000_000_000i64 + rng.below(15_000) as i64;
    let counter = i.is_multiple_of(2);
    // Counters step by whole events and sometimes stay flat; gauges wander around a level.
    let rate = 1 + rng.below(50);
    let mut v = if counter {
        rng.below(1_000_000) as f64
    } else {
        (rng.below(1_000_000) as f64) / 100.0
    };
    for _ in 0..SAMPLES_PER_CHUNK {
        chunk.append(t, v).expect("a chunk holds far more samples");
        // Most scrapes land on the exact interval; some are a few milliseconds off.
        t += 15_000;
        if rng.below(4) == 0 {
            t += rng.below(11) as i64 - 5;
        }
        if counter {
            if rng.below(5) != 0 {
                v += rng.below(rate * 15) as f64;
            }
        } else {
            v += ((rng.below(2001) as f64) - 1000.0) / 1000.0;
        }
    }
    chunk
}

fn bench_chunk(c: &mut Criterion) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let chunks: Vec<XorChunk> = (0..CHUNKS).map(|i| chunk(i, &mut rng)).collect();
    let mut group = c.benchmark_group("chunk");
    group.throughput(Throughput::Elements((CHUNKS * SAMPLES_PER_CHUNK) as u64));
    group.bench_function("decode 1000 chunks x 120 samples", |b| {
        b.iter(|| {
            let mut sum_t = 0i64;
            let mut sum_v = 0u64;
            for chunk in &chunks {
                for (t, v) in black_box(chunk).iter() {
                    sum_t = sum_t.wrapping_add(t);
                    sum_v = sum_v.wrapping_add(v.to_bits());
                }
            }
            black_box((sum_t, sum_v))
        })
    });
    group.finish();
}

criterion_group!(benches, bench_chunk);
criterion_main!(benches);
