//! The head of one tenant: series index, postings and the series' samples, with concurrent
//! appends and queries.
//!
//! Locking: the index (label set ↔ ref, postings, interner) sits behind one `RwLock`; the series
//! data is split over [`STRIPES`] `RwLock`ed shards chosen by ref, so appends to series in different
//! stripes run in parallel. The lock order is index, then a stripe; a stripe lock is never held
//! while taking the index lock, and no lock is held while calling a caller's closure.
//!
//! Query order: [`Head::select`] returns series sorted by label set (Prometheus' order, which the
//! querier's merge relies on). Paging uses the last label set returned as the cursor, so a cursor
//! stays valid when series are created or truncated between pages.

use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap};

use crate::u64hash::{RefHash, U64Hash};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use parking_lot::RwLock;

use crate::error::{AppendError, TsdbError};
use crate::labels::{Interner, Labels};
use crate::matcher::Matcher;
use crate::postings::{Postings, SeriesRef};
use crate::series::{AppendOutcome, MemSeries};
use crate::series_key::{SeriesKey, index_hash, index_hash_of};

/// Number of series shards; a power of two.
pub const STRIPES: usize = 1 << STRIPE_BITS;

/// Series looked up together by [`Head::series_refs_for_pairs`]: enough for their cache misses to
/// overlap, few enough for what they load to stay cached between passes.
const LOOKUP_BATCH: usize = 32;

/// The low bits of a ref that choose its stripe.
const STRIPE_BITS: u32 = 7;

/// Per-tenant head settings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeadConfig {
    /// How far behind the head's newest sample an out-of-order sample may be; 0 (or negative)
    /// disallows out-of-order samples.
    pub out_of_order_time_window_ms: i64,
    /// Most series the head may hold; 0 = unlimited. Not applied to [`Head::restore_series`].
    pub max_series: usize,
}

/// What [`Head::append_series`] did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AppendStats {
    /// The series' ref.
    pub series_ref: SeriesRef,
    /// Whether the series was created by this call.
    pub created: bool,
    /// Samples appended in order.
    pub in_order: usize,
    /// Samples stored out of order.
    pub out_of_order: usize,
    /// Samples ignored as exact duplicates.
    pub duplicates: usize,
    /// Samples refused.
    pub rejected: usize,
    /// The first refusal, for the response (Mimir reports one error and keeps going).
    pub first_error: Option<AppendError>,
}

/// One series of a query result.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesData {
    /// The series' labels.
    pub labels: Labels,
    /// Samples in the query range, sorted by time.
    pub samples: Vec<(i64, f64)>,
    /// Native histogram samples in the query range, sorted by time (see
    /// [`Head::append_histogram`] for the bytes).
    pub histograms: Vec<(i64, Arc<[u8]>)>,
}

/// The series a query pages through; see [`Head::selection`].
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Sorted by labels.
    candidates: Vec<(Labels, SeriesRef)>,
}

impl Selection {
    /// How many series it holds.
    pub fn len(&self) -> usize {
        self.candidates.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.candidates.is_empty()
    }
}

/// One series as [`Head::select_chunks_from`] hands it over.
#[derive(Debug, Default)]
pub struct SeriesChunks {
    bytes: Vec<u8>,
    ranges: Vec<(usize, usize)>,
    /// Out-of-order samples in the range, by time.
    pub ooo: Vec<(i64, f64)>,
    /// Histogram samples in the range, by time, as [`Head::select_from`] gives them.
    pub histograms: Vec<(i64, Arc<[u8]>)>,
}

impl SeriesChunks {
    /// The encoded in-order chunks, oldest first (see [`crate::decode_chunk_into`]).
    pub fn chunks(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        self.ranges.iter().map(|&(a, b)| &self.bytes[a..b])
    }
}

/// One batch of [`Head::select`] results.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SelectPage {
    /// Series in label-set order.
    pub series: Vec<SeriesData>,
    /// Pass back as `after` to get the next page; `None` when the selection is exhausted.
    pub next: Option<Labels>,
}

#[derive(Debug, Default)]
struct Index {
    /// [`index_hash`] → the first series with that hash and its key, so that finding a
    /// series from borrowed label pairs touches one table entry and one key.
    by_hash: HashMap<u64, (SeriesRef, SeriesKey), U64Hash>,
    /// Further series whose hash equals that of the entry in `by_hash` (rare).
    collisions: HashMap<u64, Vec<(SeriesRef, SeriesKey)>, U64Hash>,
    labels: HashMap<SeriesRef, Labels, U64Hash>,
    postings: Postings,
    interner: Interner,
    /// The ref the next created series gets.
    next_ref: SeriesRef,
    /// Counts series created and removed: a selection taken at one generation is exact while
    /// the generation stays.
    generation: u64,
}

impl Index {
    /// The ref of the series with hash `hash` whose key satisfies `same`.
    fn find(&self, hash: u64, same: impl Fn(&SeriesKey) -> bool) -> Option<SeriesRef> {
        let (first_ref, first_key) = self.by_hash.get(&hash)?;
        if same(first_key) {
            return Some(*first_ref);
        }
        self.collisions
            .get(&hash)?
            .iter()
            .find(|(_, key)| same(key))
            .map(|(series_ref, _)| *series_ref)
    }

    fn ref_of(&self, labels: &Labels) -> Option<SeriesRef> {
        self.find(index_hash_of(labels), |key| key.matches(labels))
    }

    fn insert(&mut self, series_ref: SeriesRef, labels: &Labels) -> Labels {
        self.insert_hashed(series_ref, labels, index_hash_of(labels))
    }

    /// [`Index::insert`] with the labels' hash given (tests force collisions with it).
    fn insert_hashed(&mut self, series_ref: SeriesRef, labels: &Labels, hash: u64) -> Labels {
        let shared = self.interner.intern_labels(labels);
        let key = SeriesKey::of(labels);
        match self.by_hash.entry(hash) {
            Entry::Vacant(slot) => {
                slot.insert((series_ref, key));
            }
            Entry::Occupied(_) => self
                .collisions
                .entry(hash)
                .or_default()
                .push((series_ref, key)),
        }
        self.labels.insert(series_ref, shared.clone());
        self.postings.add(series_ref, &shared);
        self.next_ref = self.next_ref.max(series_ref.saturating_add(1));
        self.generation += 1;
        shared
    }

    fn remove(&mut self, series_ref: SeriesRef) {
        if let Some(labels) = self.labels.remove(&series_ref) {
            self.generation += 1;
            self.remove_hashed(series_ref, index_hash_of(&labels));
            self.postings.remove(series_ref, &labels);
        }
    }

    /// Takes `series_ref` out of the hash tables under `hash`.
    fn remove_hashed(&mut self, series_ref: SeriesRef, hash: u64) {
        let first_is_it = self
            .by_hash
            .get(&hash)
            .is_some_and(|(first, _)| *first == series_ref);
        let Entry::Occupied(mut others) = self.collisions.entry(hash) else {
            if first_is_it {
                self.by_hash.remove(&hash);
            }
            return;
        };
        if first_is_it {
            // Promote a colliding series into the main table.
            let promoted = others.get_mut().swap_remove(0);
            self.by_hash.insert(hash, promoted);
        } else {
            others.get_mut().retain(|(other, _)| *other != series_ref);
        }
        if others.get().is_empty() {
            others.remove();
        }
    }

    /// Matching series as (labels, ref), unordered.
    ///
    /// A regex matcher on a label with many values (`series=~".*7"` over 100 000 values) costs a
    /// match per value when resolved through the postings. When the other matchers already
    /// narrow the series down to fewer candidates than that, [`Postings::select_with`] checks
    /// such a matcher against the candidates' own labels instead.
    fn matching(&self, matchers: &[Matcher]) -> Vec<(Labels, SeriesRef)> {
        let labels_of = |r: SeriesRef| self.labels.get(&r);
        self.postings
            .select_with(matchers, Some(&labels_of))
            .into_iter()
            .filter_map(|r| self.labels.get(&r).map(|l| (l.clone(), r)))
            .collect()
    }
}

type Stripe = RwLock<HashMap<SeriesRef, MemSeries, RefHash<STRIPE_BITS>>>;

/// The in-memory TSDB head of one tenant. `Send + Sync`; every method takes `&self`.
#[derive(Debug)]
pub struct Head {
    config: HeadConfig,
    index: RwLock<Index>,
    stripes: Box<[Stripe]>,
    /// Oldest sample held (`i64::MAX` when none); recomputed by truncation.
    min_time: AtomicI64,
    /// Newest sample ever appended (`i64::MIN` when none).
    max_time: AtomicI64,
    selections: selection_cache::SelectionCache,
}

impl Head {
    /// An empty head.
    pub fn new(config: HeadConfig) -> Self {
        Self {
            config,
            index: RwLock::new(Index {
                next_ref: 1,
                ..Index::default()
            }),
            stripes: (0..STRIPES)
                .map(|_| RwLock::new(HashMap::default()))
                .collect(),
            min_time: AtomicI64::new(i64::MAX),
            max_time: AtomicI64::new(i64::MIN),
            selections: selection_cache::SelectionCache::default(),
        }
    }

    /// The settings the head was built with.
    pub fn config(&self) -> HeadConfig {
        self.config
    }

    fn stripe(&self, series_ref: SeriesRef) -> &Stripe {
        // STRIPES is a power of two, so masking is a cheap modulo.
        &self.stripes[(series_ref as usize) & (STRIPES - 1)]
    }

    /// The ref of `labels`, creating the series if needed (`true` when created).
    ///
    /// Label strings are interned. Fails with [`AppendError::MaxSeries`] when creating it would
    /// exceed `max_series`. Write the WAL series record with the ref before appending samples.
    pub fn get_or_create_series(&self, labels: Labels) -> Result<(SeriesRef, bool), AppendError> {
        let hash = index_hash_of(&labels);
        if let Some(series_ref) = self.index.read().find(hash, |key| key.matches(&labels)) {
            return Ok((series_ref, false));
        }
        let mut index = self.index.write();
        if let Some(series_ref) = index.find(hash, |key| key.matches(&labels)) {
            return Ok((series_ref, false));
        }
        let limit = self.config.max_series;
        if limit > 0 && index.labels.len() >= limit {
            return Err(AppendError::MaxSeries { limit });
        }
        let series_ref = index.next_ref;
        let shared = index.insert_hashed(series_ref, &labels, hash);
        self.stripe(series_ref)
            .write()
            .insert(series_ref, MemSeries::new(shared));
        Ok((series_ref, true))
    }

    /// The ref of an existing series.
    pub fn series_ref(&self, labels: &Labels) -> Option<SeriesRef> {
        self.index.read().ref_of(labels)
    }

    /// The ref of the series with exactly these label pairs (sorted by name, no empty value),
    /// without building a label set; `None` when there is none.
    pub fn series_ref_for_pairs<N: AsRef<[u8]>, V: AsRef<[u8]>>(
        &self,
        pairs: &[(N, V)],
    ) -> Option<SeriesRef> {
        let hash = index_hash(pairs.iter().map(|(n, v)| (n.as_ref(), v.as_ref())));
        self.index.read().find(hash, |key| key.matches_pairs(pairs))
    }

    /// [`Head::series_ref_for_pairs`] for many series at once, in order, into `refs`. The index
    /// lock is taken once and the lookups run, [`LOOKUP_BATCH`] series at a time, in passes
    /// (table entries, then keys) whose memory loads do not wait on one another, so the cache
    /// misses of different series overlap instead of adding up, and each pass finds what the
    /// previous one loaded still cached.
    pub fn series_refs_for_pairs<'s, N, V>(
        &self,
        series: impl Iterator<Item = &'s [(N, V)]>,
        refs: &mut Vec<Option<SeriesRef>>,
    ) where
        N: AsRef<[u8]> + 's,
        V: AsRef<[u8]> + 's,
    {
        let hashed: Vec<(&[(N, V)], u64)> = series
            .map(|pairs| {
                let hash = index_hash(pairs.iter().map(|(n, v)| (n.as_ref(), v.as_ref())));
                (pairs, hash)
            })
            .collect();
        refs.clear();
        let index = self.index.read();
        let mut firsts: Vec<Option<&(SeriesRef, SeriesKey)>> = Vec::with_capacity(LOOKUP_BATCH);
        for batch in hashed.chunks(LOOKUP_BATCH) {
            firsts.clear();
            firsts.extend(batch.iter().map(|(_, hash)| index.by_hash.get(hash)));
            for ((pairs, hash), first) in batch.iter().zip(&firsts) {
                let found = match first {
                    None => None,
                    Some((series_ref, key)) if key.matches_pairs(pairs) => Some(*series_ref),
                    Some(_) => index.collisions.get(hash).and_then(|others| {
                        others
                            .iter()
                            .find(|(_, key)| key.matches_pairs(pairs))
                            .map(|(series_ref, _)| *series_ref)
                    }),
                };
                refs.push(found);
            }
        }
    }

    /// The labels of an existing series.
    pub fn series_labels(&self, series_ref: SeriesRef) -> Option<Labels> {
        self.index.read().labels.get(&series_ref).cloned()
    }

    /// Appends one sample to an existing series, with Prometheus' rules (see the crate docs).
    ///
    /// [`AppendError::UnknownSeries`] means the ref was never created or has been truncated
    /// away; call [`Head::get_or_create_series`] again.
    pub fn append(
        &self,
        series_ref: SeriesRef,
        t: i64,
        v: f64,
    ) -> Result<AppendOutcome, AppendError> {
        self.append_to(series_ref, t, |series, head_max_t, window| {
            series.append(t, v, head_max_t, window)
        })
    }

    /// Appends one native histogram sample to an existing series, with the rules of
    /// [`Head::append`] (see the crate docs): `h` is its encoded `Histogram` message without
    /// the timestamp, in a canonical encoding (equal histograms, equal bytes: a resent sample
    /// is recognised as a duplicate by its bytes).
    pub fn append_histogram(
        &self,
        series_ref: SeriesRef,
        t: i64,
        h: &[u8],
    ) -> Result<AppendOutcome, AppendError> {
        self.append_to(series_ref, t, |series, head_max_t, window| {
            series.append_histogram(t, h, head_max_t, window)
        })
    }

    /// One sample at `t` appended to an existing series by `append` (given the head's newest
    /// timestamp and the out-of-order window), under the series' stripe lock.
    fn append_to(
        &self,
        series_ref: SeriesRef,
        t: i64,
        append: impl FnOnce(&mut MemSeries, i64, i64) -> Result<AppendOutcome, AppendError>,
    ) -> Result<AppendOutcome, AppendError> {
        let head_max_t = self.max_time.load(Ordering::Acquire);
        let outcome = {
            let mut stripe = self.stripe(series_ref).write();
            let series = stripe
                .get_mut(&series_ref)
                .ok_or(AppendError::UnknownSeries { series_ref })?;
            append(series, head_max_t, self.config.out_of_order_time_window_ms)?
        };
        self.note_appended(outcome, t, t);
        Ok(outcome)
    }

    /// Appends `samples` as calling [`Head::append`] for each in order would, with the results in
    /// `outcomes` (same order).
    ///
    /// Without an out-of-order window a sample's outcome depends only on its own series, so the
    /// samples are applied stripe by stripe, in order within each: every stripe is locked once and
    /// the series lookups of one stripe overlap their cache misses. With a window the outcome
    /// depends on the head's newest sample, so they are applied one by one.
    pub fn append_many(
        &self,
        samples: &[(SeriesRef, i64, f64)],
        outcomes: &mut Vec<Result<AppendOutcome, AppendError>>,
    ) {
        outcomes.clear();
        let window = self.config.out_of_order_time_window_ms;
        if window > 0 {
            outcomes.extend(samples.iter().map(|(r, t, v)| self.append(*r, *t, *v)));
            return;
        }
        let stripe_of = |series_ref: SeriesRef| (series_ref as usize) & (STRIPES - 1);
        // A counting sort of the sample positions by stripe, stable.
        let mut starts = [0usize; STRIPES + 1];
        for (series_ref, _, _) in samples {
            starts[stripe_of(*series_ref) + 1] += 1;
        }
        for stripe in 0..STRIPES {
            starts[stripe + 1] += starts[stripe];
        }
        let mut next = starts;
        let mut by_stripe = vec![0usize; samples.len()];
        for (position, (series_ref, _, _)) in samples.iter().enumerate() {
            let slot = &mut next[stripe_of(*series_ref)];
            by_stripe[*slot] = position;
            *slot += 1;
        }
        outcomes.resize_with(samples.len(), || Ok(AppendOutcome::Duplicate));
        let head_max_t = self.max_time.load(Ordering::Acquire);
        let (mut min_t, mut max_t) = (i64::MAX, i64::MIN);
        for stripe in 0..STRIPES {
            let positions = &by_stripe[starts[stripe]..starts[stripe + 1]];
            if positions.is_empty() {
                continue;
            }
            let mut series = self.stripes[stripe].write();
            // Read every series of the stripe first: these loads do not depend on one another,
            // so their cache misses overlap, and the appends below find the series cached.
            for &position in positions {
                std::hint::black_box(series.get(&samples[position].0).map(MemSeries::max_t));
            }
            for &position in positions {
                let (series_ref, t, v) = samples[position];
                let outcome = match series.get_mut(&series_ref) {
                    Some(one) => one.append(t, v, head_max_t, window),
                    None => Err(AppendError::UnknownSeries { series_ref }),
                };
                if matches!(
                    outcome,
                    Ok(AppendOutcome::InOrder | AppendOutcome::OutOfOrder)
                ) {
                    min_t = min_t.min(t);
                    max_t = max_t.max(t);
                }
                outcomes[position] = outcome;
            }
        }
        if min_t <= max_t {
            self.note_appended(AppendOutcome::InOrder, min_t, max_t);
        }
    }

    /// Creates the series if needed and appends `samples` in the given order under one lock.
    ///
    /// Refused samples do not stop the others (Mimir's soft errors); they are counted in the
    /// returned stats. Only a refused series creation is an `Err`.
    pub fn append_series(
        &self,
        labels: Labels,
        samples: &[(i64, f64)],
    ) -> Result<AppendStats, AppendError> {
        let (series_ref, created) = self.get_or_create_series(labels)?;
        let mut stats = AppendStats {
            series_ref,
            created,
            ..AppendStats::default()
        };
        let window = self.config.out_of_order_time_window_ms;
        let mut stripe = self.stripe(series_ref).write();
        let Some(series) = stripe.get_mut(&series_ref) else {
            // Truncated between creation and now: report it like Head::append would.
            stats.rejected = samples.len();
            stats.first_error = Some(AppendError::UnknownSeries { series_ref });
            return Ok(stats);
        };
        let (mut min_t, mut max_t) = (i64::MAX, i64::MIN);
        for (t, v) in samples {
            let head_max_t = self.max_time.load(Ordering::Acquire).max(max_t);
            match series.append(*t, *v, head_max_t, window) {
                Ok(outcome) => {
                    match outcome {
                        AppendOutcome::InOrder => stats.in_order += 1,
                        AppendOutcome::OutOfOrder => stats.out_of_order += 1,
                        AppendOutcome::Duplicate => stats.duplicates += 1,
                    }
                    if outcome != AppendOutcome::Duplicate {
                        min_t = min_t.min(*t);
                        max_t = max_t.max(*t);
                    }
                }
                Err(err) => {
                    stats.rejected += 1;
                    stats.first_error.get_or_insert(err);
                }
            }
        }
        drop(stripe);
        if min_t <= max_t {
            self.note_appended(AppendOutcome::InOrder, min_t, max_t);
        }
        Ok(stats)
    }

    fn note_appended(&self, outcome: AppendOutcome, min_t: i64, max_t: i64) {
        if outcome == AppendOutcome::Duplicate {
            return;
        }
        // Most appends move neither bound: read before writing the shared cache line.
        if min_t < self.min_time.load(Ordering::Acquire) {
            self.min_time.fetch_min(min_t, Ordering::AcqRel);
        }
        if max_t > self.max_time.load(Ordering::Acquire) {
            self.max_time.fetch_max(max_t, Ordering::AcqRel);
        }
    }

    /// One page of the series matching `matchers` with samples in `mint..=maxt` (inclusive).
    ///
    /// Series come in label-set order, starting strictly after `after` (pass the previous page's
    /// `next`); at most `limit` series per page (0 = no limit). Series without samples in range
    /// are skipped. Each call takes the [`Head::selection`] anew (unless it is kept); the ingester
    /// pages with [`Head::select_from`] over one selection instead.
    pub fn select(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
        after: Option<&Labels>,
        limit: usize,
    ) -> SelectPage {
        let mut page = SelectPage::default();
        let selection = self.selection(matchers);
        page.next = self.select_from(
            &selection,
            mint,
            maxt,
            after,
            limit,
            |labels, samples, histograms| {
                page.series.push(SeriesData {
                    labels: labels.clone(),
                    samples: samples.to_vec(),
                    histograms: histograms.to_vec(),
                });
            },
        );
        page
    }

    /// The series matching `matchers` now, in label-set order: what [`Head::select_from`] pages
    /// through. Keeping it between pages spares each page resolving the matchers and sorting
    /// again; series created after it was taken are not in it (the query sees the series of its
    /// start, as Prometheus' queriers do), series truncated since are skipped.
    ///
    /// The last selections taken are kept while no series is created or removed, so asking again
    /// with the same matchers costs nothing (see `selection_cache`).
    pub fn selection(&self, matchers: &[Matcher]) -> Arc<Selection> {
        let key = selection_cache::key(matchers);
        let (generation, mut candidates) = {
            let index = self.index.read();
            if let Some(kept) = self.selections.get(&key, index.generation) {
                return kept;
            }
            (index.generation, index.matching(matchers))
        };
        candidates.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let selection = Arc::new(Selection { candidates });
        self.selections.put(key, generation, Arc::clone(&selection));
        selection
    }

    /// One page of `selection` as [`Head::select`] gives it, without building the page: `visit`
    /// gets each series' labels, float samples and histogram samples (borrowed, valid for that
    /// call only), and the next page's cursor is returned.
    pub fn select_from(
        &self,
        selection: &Selection,
        mint: i64,
        maxt: i64,
        after: Option<&Labels>,
        limit: usize,
        mut visit: impl FnMut(&Labels, &[(i64, f64)], &[(i64, Arc<[u8]>)]),
    ) -> Option<Labels> {
        self.page_from(
            selection,
            after,
            limit,
            &mut (Vec::new(), Vec::new()),
            |s, (samples, histograms)| {
                samples.clear();
                histograms.clear();
                s.samples_in_into(mint, maxt, samples);
                s.histograms_in_into(mint, maxt, histograms);
                !samples.is_empty() || !histograms.is_empty()
            },
            |labels, (samples, histograms)| visit(labels, samples, histograms),
        )
    }

    /// [`Head::select_from`] handing over encoded chunks instead of decoded samples: `visit` gets
    /// each series' labels and [`SeriesChunks`] (the in-order chunks overlapping the range, whole,
    /// so they may hold samples outside it; the out-of-order samples and the histograms in the
    /// range). The ingester sends chunks as they are and the querier decodes them, once: nothing
    /// is decoded, encoded and decoded again on the way. A series is visited when it has a chunk
    /// overlapping the range, even if none of that chunk's samples falls inside it.
    pub fn select_chunks_from(
        &self,
        selection: &Selection,
        mint: i64,
        maxt: i64,
        after: Option<&Labels>,
        limit: usize,
        visit: impl FnMut(&Labels, &SeriesChunks),
    ) -> Option<Labels> {
        self.page_from(
            selection,
            after,
            limit,
            &mut SeriesChunks::default(),
            |s, series| {
                series.bytes.clear();
                series.ranges.clear();
                series.ooo.clear();
                series.histograms.clear();
                s.chunks_in_into(
                    mint,
                    maxt,
                    &mut series.bytes,
                    &mut series.ranges,
                    &mut series.ooo,
                );
                s.histograms_in_into(mint, maxt, &mut series.histograms);
                !series.ranges.is_empty() || !series.ooo.is_empty() || !series.histograms.is_empty()
            },
            visit,
        )
    }

    /// The paging both selects share: from just after `after`, `read` refills `buffer` from each
    /// series (under its stripe lock) and says whether it has anything; `visit` gets the series
    /// that do, at most `limit` (0 = all). Returns the next page's cursor.
    fn page_from<B>(
        &self,
        selection: &Selection,
        after: Option<&Labels>,
        limit: usize,
        buffer: &mut B,
        mut read: impl FnMut(&MemSeries, &mut B) -> bool,
        mut visit: impl FnMut(&Labels, &B),
    ) -> Option<Labels> {
        let from = after.map_or(0, |after| {
            selection
                .candidates
                .partition_point(|(labels, _)| labels <= after)
        });
        let mut emitted = 0;
        let mut last: Option<&Labels> = None;
        for (labels, series_ref) in &selection.candidates[from..] {
            if limit > 0 && emitted == limit {
                return last.cloned();
            }
            if self.read_series(*series_ref, |s| read(s, buffer)) == Some(true) {
                visit(labels, buffer);
                emitted += 1;
                last = Some(labels);
            }
        }
        None
    }

    /// Label sets of matching series with samples in `mint..=maxt`, sorted (all series for no
    /// matchers).
    pub fn series(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Vec<Labels> {
        let mut found = self.matching_in_range(matchers, mint, maxt);
        found.sort_unstable();
        found
    }

    /// Label names of matching series with samples in `mint..=maxt`, sorted and deduplicated.
    pub fn label_names(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Vec<String> {
        let found = self.matching_in_range(matchers, mint, maxt);
        let names: BTreeSet<&str> = found
            .iter()
            .flat_map(|labels| labels.iter().map(|l| &*l.name))
            .collect();
        names.into_iter().map(str::to_string).collect()
    }

    /// Values of `name` across matching series with samples in `mint..=maxt`, sorted and
    /// deduplicated; series without the label contribute nothing.
    pub fn label_values(
        &self,
        name: &str,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Vec<String> {
        let found = self.matching_in_range(matchers, mint, maxt);
        let values: BTreeSet<&str> = found.iter().filter_map(|l| l.get(name)).collect();
        values.into_iter().map(str::to_string).collect()
    }

    fn matching_in_range(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Vec<Labels> {
        let candidates = self.index.read().matching(matchers);
        candidates
            .into_iter()
            .filter(|(_, series_ref)| {
                self.read_series(*series_ref, |s| s.has_samples_in(mint, maxt)) == Some(true)
            })
            .map(|(labels, _)| labels)
            .collect()
    }

    fn read_series<T>(&self, series_ref: SeriesRef, f: impl FnOnce(&MemSeries) -> T) -> Option<T> {
        self.stripe(series_ref).read().get(&series_ref).map(f)
    }

    /// Number of series held.
    pub fn num_series(&self) -> usize {
        self.index.read().labels.len()
    }

    /// The oldest sample timestamp held, `None` when the head has no samples.
    pub fn min_time(&self) -> Option<i64> {
        let t = self.min_time.load(Ordering::Acquire);
        (t != i64::MAX).then_some(t)
    }

    /// The newest sample timestamp ever appended, `None` before the first sample. Truncation does
    /// not lower it.
    pub fn max_time(&self) -> Option<i64> {
        let t = self.max_time.load(Ordering::Acquire);
        (t != i64::MIN).then_some(t)
    }

    /// Drops chunks whose newest sample is older than `t` (and out-of-order samples older than
    /// `t`), then removes series left without samples from the index. Returns how many series
    /// were removed.
    ///
    /// A series that has never received a sample survives one truncation, so a caller between
    /// [`Head::get_or_create_series`] and [`Head::append`] is not cut off.
    pub fn truncate_before(&self, t: i64) -> usize {
        let mut empty = Vec::new();
        let mut min_t = i64::MAX;
        for stripe in self.stripes.iter() {
            for (series_ref, series) in stripe.write().iter_mut() {
                series.truncate_before(t);
                if let Some(series_min) = series.min_t() {
                    min_t = min_t.min(series_min);
                } else if series.pending {
                    series.pending = false;
                } else {
                    empty.push(*series_ref);
                }
            }
        }
        self.min_time.store(min_t, Ordering::Release);

        let mut index = self.index.write();
        let mut removed = 0;
        for series_ref in empty {
            let mut stripe = self.stripe(series_ref).write();
            // An append may have landed since the scan.
            let still_empty = stripe
                .get(&series_ref)
                .is_some_and(|s| s.is_empty() && !s.pending);
            if still_empty {
                stripe.remove(&series_ref);
                index.remove(series_ref);
                removed += 1;
            }
        }
        if removed > 0 {
            index.interner.collect_garbage();
        }
        removed
    }

    /// Calls `f` with every series holding samples, in ref order, with all its float samples and
    /// all its histogram samples, each sorted by time (for WAL checkpoints). No head lock is held
    /// while `f` runs.
    pub fn for_each_series(
        &self,
        mut f: impl FnMut(SeriesRef, &Labels, &[(i64, f64)], &[(i64, Arc<[u8]>)]),
    ) {
        let mut all: Vec<(SeriesRef, Labels)> = {
            let index = self.index.read();
            index.labels.iter().map(|(r, l)| (*r, l.clone())).collect()
        };
        all.sort_unstable_by_key(|(series_ref, _)| *series_ref);
        for (series_ref, labels) in all {
            let found = self.read_series(series_ref, |s| {
                let mut histograms = Vec::new();
                s.histograms_in_into(i64::MIN, i64::MAX, &mut histograms);
                (s.samples_in(i64::MIN, i64::MAX), histograms)
            });
            if let Some((samples, histograms)) = found
                && (!samples.is_empty() || !histograms.is_empty())
            {
                f(series_ref, &labels, &samples, &histograms);
            }
        }
    }

    /// Recreates a series under a given ref (WAL replay). Refs created later continue above the
    /// highest ref restored. Restoring the same (ref, labels) pair twice is a no-op.
    /// `max_series` is not applied: what was acknowledged before a restart comes back.
    pub fn restore_series(&self, series_ref: SeriesRef, labels: Labels) -> Result<(), TsdbError> {
        if series_ref == 0 {
            return Err(TsdbError::ReservedSeriesRef);
        }
        let mut index = self.index.write();
        if let Some(existing) = index.labels.get(&series_ref) {
            if *existing == labels {
                return Ok(());
            }
            return Err(TsdbError::SeriesRefConflict {
                series_ref,
                existing: existing.clone(),
                requested: labels,
            });
        }
        if let Some(existing_ref) = index.ref_of(&labels) {
            return Err(TsdbError::LabelsConflict {
                labels,
                existing_ref,
                requested_ref: series_ref,
            });
        }
        let shared = index.insert(series_ref, &labels);
        self.stripe(series_ref)
            .write()
            .insert(series_ref, MemSeries::new(shared));
        Ok(())
    }
}

mod selection_cache;
#[cfg(test)]
mod tests;
