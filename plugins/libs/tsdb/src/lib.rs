//! `mimir-tsdb`: the in-memory TSDB head of one tenant, as the ingester holds it — series index,
//! postings, Gorilla XOR chunks, label matchers, Prometheus' append rules and queries.
//!
//! It owns memory only. It must never depend on the WAL (`mimir-wal`), the file system, the
//! plugin SDK/ABI or an async runtime: the ingester combines this crate with the WAL, writing a
//! series record with the ref from [`Head::get_or_create_series`] before the samples it then
//! passes to [`Head::append`], and replaying with [`Head::restore_series`] + [`Head::append`].
//!
//! Why hand-written: no maintained Rust crate provides a Prometheus-compatible head we can embed —
//! Gorilla chunks bit-compatible with Prometheus' XOR encoding (`tsdb/chunkenc/xor.go`), postings
//! with Prometheus' matcher semantics (`PostingsForMatchers`), and Mimir's append rules and error
//! messages. This is one of the places the project writes by hand.
//!
//! Append rules (Prometheus' `memSeries.appendable`, Mimir's messages):
//! - newer than the series' newest sample: appended in order;
//! - same timestamp, bit-identical value: accepted as a duplicate, nothing changes;
//!   same timestamp, other value: [`AppendError::DuplicateTimestamp`];
//! - older than the series' newest sample: out of order. Refused with
//!   [`AppendError::OutOfOrder`] when the window is 0; otherwise kept (merged at query time) if
//!   `t >= head_max_t - window`, where `head_max_t` is the newest sample of the whole head as in
//!   Prometheus, else [`AppendError::TooOldSample`];
//! - a new series beyond `max_series`: [`AppendError::MaxSeries`].
//!
//! Native histogram samples ([`Head::append_histogram`]) follow the same rules on the same time
//! line as the series' float samples: a sample at or before the series' newest sample of either
//! kind is out of order, a timestamp held by the other kind is a duplicate timestamp, and an
//! exact duplicate (same bytes) is ignored. A series keeps them in a map by timestamp, each as
//! its encoded `Histogram` message (the ingester protocol's, without the timestamp, in prost's
//! canonical encoding). That is simple, exact (the reply sends the bytes as they are) and takes
//! no codec of its own; Prometheus' compressed histogram chunk encoding can replace it later,
//! when histogram volumes make memory matter.

mod bstream;
pub mod chunk;
pub mod error;
pub mod head;
pub mod labels;
pub mod matcher;
pub mod postings;
mod series;
mod series_key;
mod u64hash;

pub use chunk::{SAMPLES_PER_CHUNK, STALE_NAN_BITS, XorChunk, XorIter, decode_chunk_into};
pub use error::{AppendError, TsdbError};
pub use head::{AppendStats, Head, HeadConfig, SelectPage, Selection, SeriesChunks, SeriesData};
pub use labels::{Interner, Label, Labels, METRIC_NAME};
pub use matcher::{MatchOp, Matcher};
pub use postings::{Postings, SeriesRef};
pub use series::AppendOutcome;
