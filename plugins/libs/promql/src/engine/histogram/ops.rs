//! Arithmetic on [`FloatHistogram`]s, following `model/histogram/float_histogram.go` and `generic.go`.
//!
//! `add`/`sub` reconcile the operands the way Prometheus does: the finer schema is reduced to the coarser
//! one, the zero buckets are widened to a common threshold that does not cut through a populated bucket
//! (buckets that fall inside move into the zero bucket), and custom-bucket histograms with different
//! bounds are mapped onto the intersection of their bounds. Results may hold empty buckets and adjacent
//! spans; [`FloatHistogram::compact`] normalises them.
//!
//! Where Prometheus panics on an inconsistent histogram (spans promising more buckets than there are), the
//! functions here return [`HistogramError::InvalidLayout`] or stop iterating, so that no input panics.

use std::fmt;

use super::bounds::{
    exponential_bound, is_custom_buckets_schema, is_exponential_schema, target_idx,
};
use super::{CounterResetHint, FloatHistogram, Span, indexed_buckets};
use crate::engine::kernels::{kahan_sum_dec, kahan_sum_inc};

/// Why two histograms could not be combined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistogramError {
    /// One histogram has exponential buckets and the other custom buckets (Prometheus'
    /// `ErrHistogramsIncompatibleSchema`).
    IncompatibleSchema,
    /// Spans and buckets do not agree, or a span after the first has a negative offset.
    InvalidLayout(String),
    /// A resolution change that Prometheus rejects (custom buckets, or a target schema that is not lower).
    InvalidResolution(String),
}

impl fmt::Display for HistogramError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HistogramError::IncompatibleSchema => f.write_str(
                "cannot apply this operation on histograms with a mix of exponential and custom bucket schemas",
            ),
            HistogramError::InvalidLayout(message) | HistogramError::InvalidResolution(message) => {
                f.write_str(message)
            }
        }
    }
}

impl std::error::Error for HistogramError {}

/// What `add`, `sub` and `kahan_add` report besides the result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AddOutcome {
    /// One operand said `CounterReset`, the other `NotCounterReset`; the result's hint is `Unknown`.
    pub counter_reset_collision: bool,
    /// The custom bounds differed and the buckets were mapped onto the intersection of both bounds
    /// (the "mismatched custom buckets were reconciled" info annotation).
    pub nhcb_bounds_reconciled: bool,
}

/// Checks that spans and buckets agree (Prometheus' `checkHistogramSpans`).
fn check_layout(spans: &[Span], buckets: usize, side: &str) -> Result<(), HistogramError> {
    let mut total: u64 = 0;
    for (n, span) in spans.iter().enumerate() {
        if n > 0 && span.offset < 0 {
            return Err(HistogramError::InvalidLayout(format!(
                "{side} side: span number {} with offset {}: histogram has a span whose offset is negative",
                n + 1,
                span.offset
            )));
        }
        total += u64::from(span.length);
    }
    if total != buckets as u64 {
        return Err(HistogramError::InvalidLayout(format!(
            "{side} side: spans need {total} buckets, have {buckets} buckets: histogram spans specify different number of buckets than provided"
        )));
    }
    Ok(())
}

fn check_histogram(h: &FloatHistogram) -> Result<(), HistogramError> {
    check_layout(&h.positive_spans, h.positive_buckets.len(), "positive")?;
    check_layout(&h.negative_spans, h.negative_buckets.len(), "negative")
}

/// Spans, buckets and compensation buckets after a resolution change.
pub(crate) type Reduced = (Vec<Span>, Vec<f64>, Vec<f64>);

/// Merges the buckets of `origin_schema` into `target_schema` (Prometheus' `reduceResolution` for
/// absolute counts). With `compensation`, the Kahan compensation buckets are merged alongside
/// (`kahanReduceResolution`): merged counts are then summed with compensation.
pub(crate) fn reduce_resolution_buckets(
    spans: &[Span],
    buckets: &[f64],
    compensation: Option<&[f64]>,
    origin_schema: i32,
    target_schema: i32,
) -> Result<Reduced, HistogramError> {
    let mut target_spans: Vec<Span> = Vec::new();
    let mut target_buckets: Vec<f64> = Vec::new();
    let mut target_comp: Vec<f64> = Vec::new();
    let mut bucket_idx: i32 = 0;
    let mut count_idx = 0usize;
    let mut last_target: i32 = 0;
    for (n, span) in spans.iter().enumerate() {
        if n > 0 && span.offset < 0 {
            return Err(HistogramError::InvalidLayout(format!(
                "span number {} with offset {}: histogram has a span whose offset is negative",
                n + 1,
                span.offset
            )));
        }
        bucket_idx = bucket_idx.wrapping_add(span.offset);
        for _ in 0..span.length {
            let Some(&count) = buckets.get(count_idx) else {
                return Err(HistogramError::InvalidLayout(format!(
                    "have {} buckets but spans need more: histogram spans specify different number of buckets than provided",
                    buckets.len()
                )));
            };
            let comp = compensation
                .and_then(|c| c.get(count_idx).copied())
                .unwrap_or(0.0);
            let target = target_idx(bucket_idx, origin_schema, target_schema);
            if target_spans.is_empty() {
                target_spans.push(Span::new(target, 1));
                target_buckets.push(count);
                target_comp.push(comp);
                last_target = target;
            } else if last_target == target {
                let last = target_buckets.len() - 1;
                if compensation.is_some() {
                    let (s, c) = kahan_sum_inc(count, target_buckets[last], target_comp[last]);
                    let (s, c) = kahan_sum_inc(comp, s, c);
                    target_buckets[last] = s;
                    target_comp[last] = c;
                } else {
                    target_buckets[last] += count;
                }
            } else if last_target.wrapping_add(1) == target {
                if let Some(span) = target_spans.last_mut() {
                    span.length = span.length.wrapping_add(1);
                }
                last_target = target;
                target_buckets.push(count);
                target_comp.push(comp);
            } else {
                target_spans.push(Span::new(
                    target.wrapping_sub(last_target).wrapping_sub(1),
                    1,
                ));
                last_target = target;
                target_buckets.push(count);
                target_comp.push(comp);
            }
            bucket_idx = bucket_idx.wrapping_add(1);
            count_idx += 1;
        }
    }
    if count_idx != buckets.len() {
        return Err(HistogramError::InvalidLayout(format!(
            "spans need {count_idx} buckets, have {} buckets: histogram spans specify different number of buckets than provided",
            buckets.len()
        )));
    }
    Ok((target_spans, target_buckets, target_comp))
}

/// Removes empty buckets (and, with `max_empty > 0`, merges spans at most `max_empty` buckets apart)
/// in place (Prometheus' `compactBuckets` for absolute counts). A bucket counts as empty only if its
/// compensation bucket (when given) is zero too.
pub(crate) fn compact_buckets(
    buckets: &mut Vec<f64>,
    mut compensation: Option<&mut Vec<f64>>,
    spans: &mut Vec<Span>,
    max_empty: usize,
) {
    if let Some(c) = compensation.as_deref_mut() {
        c.resize(buckets.len(), 0.0);
    }
    let is_empty = |buckets: &[f64], comp: Option<&Vec<f64>>, i: usize| {
        buckets[i] == 0.0 && comp.is_none_or(|c| c[i] == 0.0)
    };
    // Fast path: nothing empty, no mergeable offsets, no zero-length spans.
    let any_empty = buckets.contains(&0.0);
    if !any_empty
        && !spans
            .iter()
            .any(|s| (s.offset >= 0 && s.offset as usize <= max_empty) || s.length == 0)
    {
        return;
    }

    // Merge spans with zero offset into their predecessor.
    if spans.len() > 1 {
        let mut merged: Vec<Span> = Vec::with_capacity(spans.len());
        for (i, span) in spans.iter().enumerate() {
            match merged.last_mut() {
                Some(last) if i > 0 && span.offset == 0 => {
                    last.length = last.length.wrapping_add(span.length)
                }
                _ => merged.push(*span),
            }
        }
        *spans = merged;
    }
    // Drop zero-length spans, moving their offset to the next span.
    let mut kept: Vec<Span> = Vec::with_capacity(spans.len());
    let mut carry: i32 = 0;
    let mut pending = false;
    for span in spans.iter() {
        if span.length == 0 {
            carry = carry.wrapping_add(span.offset);
            pending = true;
            continue;
        }
        let mut span = *span;
        if pending {
            span.offset = span.offset.wrapping_add(carry);
            carry = 0;
            pending = false;
        }
        kept.push(span);
    }
    *spans = kept;
    if spans.is_empty() {
        buckets.clear();
        if let Some(c) = compensation.as_deref_mut() {
            c.clear();
        }
        return;
    }

    // Cut out empty buckets at the start and end of spans, and runs of more than `max_empty` empty
    // buckets inside spans.
    let mut i_bucket = 0usize;
    let mut i_span = 0usize;
    let mut pos_in_span: u32 = 0;
    while i_bucket < buckets.len() && i_span < spans.len() {
        let mut n_empty = 0usize;
        while (n_empty as u64 + u64::from(pos_in_span)) < u64::from(spans[i_span].length)
            && i_bucket + n_empty < buckets.len()
            && is_empty(buckets, compensation.as_deref(), i_bucket + n_empty)
        {
            n_empty += 1;
        }
        if n_empty > 0 {
            let remaining = u64::from(spans[i_span].length - pos_in_span);
            if pos_in_span > 0 && (n_empty as u64) < remaining && n_empty <= max_empty {
                // Few enough empty buckets in the middle of a span: keep them.
                i_bucket += n_empty;
                pos_in_span += n_empty as u32;
                continue;
            }
            buckets.drain(i_bucket..i_bucket + n_empty);
            if let Some(c) = compensation.as_deref_mut() {
                c.drain(i_bucket..i_bucket + n_empty);
            }
            if pos_in_span == 0 {
                if n_empty as u64 == u64::from(spans[i_span].length) {
                    // The whole span is empty.
                    let offset = spans[i_span].offset;
                    spans.remove(i_span);
                    if let Some(next) = spans.get_mut(i_span) {
                        next.offset = next
                            .offset
                            .wrapping_add(offset)
                            .wrapping_add(n_empty as i32);
                    }
                    continue;
                }
                spans[i_span].length -= n_empty as u32;
                spans[i_span].offset = spans[i_span].offset.wrapping_add(n_empty as i32);
                continue;
            }
            // In the middle or at the end of the span: split it.
            let new_span = Span::new(
                n_empty as i32,
                spans[i_span].length - pos_in_span - n_empty as u32,
            );
            spans[i_span].length = pos_in_span;
            i_span += 1;
            pos_in_span = 0;
            if new_span.length == 0 {
                if let Some(next) = spans.get_mut(i_span) {
                    next.offset = next.offset.wrapping_add(n_empty as i32);
                }
                continue;
            }
            spans.insert(i_span, new_span);
            continue;
        }
        i_bucket += 1;
        pos_in_span += 1;
        if pos_in_span >= spans[i_span].length {
            pos_in_span = 0;
            i_span += 1;
        }
    }
    if max_empty == 0 || buckets.is_empty() || spans.is_empty() {
        return;
    }

    // Merge spans whose gap is at most `max_empty`, filling the gap with empty buckets.
    let mut i_bucket = spans[0].length as usize;
    let mut i_span = 1usize;
    while i_span < spans.len() {
        let offset = spans[i_span].offset;
        if offset < 0 || offset as usize > max_empty {
            i_bucket += spans[i_span].length as usize;
            i_span += 1;
            continue;
        }
        let offset = offset as usize;
        let length = spans[i_span].length;
        spans[i_span - 1].length = spans[i_span - 1]
            .length
            .wrapping_add(offset as u32)
            .wrapping_add(length);
        spans.remove(i_span);
        let at = i_bucket.min(buckets.len());
        buckets.splice(at..at, std::iter::repeat_n(0.0, offset));
        if let Some(c) = compensation.as_deref_mut() {
            let at = at.min(c.len());
            c.splice(at..at, std::iter::repeat_n(0.0, offset));
        }
        i_bucket += offset;
    }
}

/// Adds (or, with `negative`, subtracts) the buckets `b` into `a`, inserting buckets `a` lacks
/// (Prometheus' `addBuckets`, and `kahanAddBuckets` when compensation buckets are given). Buckets of `b`
/// at the start whose upper bound is `<= threshold` are skipped (they are in the zero bucket).
#[allow(clippy::too_many_arguments)]
fn add_buckets(
    schema: i32,
    threshold: f64,
    negative: bool,
    spans_a: &mut Vec<Span>,
    buckets_a: &mut Vec<f64>,
    mut comp_a: Option<&mut Vec<f64>>,
    spans_b: &[Span],
    buckets_b: &[f64],
    comp_b: Option<&[f64]>,
) {
    let mut i_span: isize = -1;
    let mut i_bucket: isize = -1;
    let mut i_in_span: i32 = 0;
    let mut index_a: i32 = 0;
    let mut index_b: i32 = 0;
    let mut b_idx = 0usize;
    let mut lower_than_threshold = true;
    let kahan = comp_a.is_some();

    for span_b in spans_b {
        index_b = index_b.wrapping_add(span_b.offset);
        for _ in 0..span_b.length {
            'body: {
                if lower_than_threshold
                    && is_exponential_schema(schema)
                    && exponential_bound(index_b, schema) <= threshold
                {
                    break 'body;
                }
                lower_than_threshold = false;
                let Some(&raw_b) = buckets_b.get(b_idx) else {
                    return;
                };
                let mut bucket_b = raw_b;
                let mut comp_bucket_b = comp_b.and_then(|c| c.get(b_idx).copied()).unwrap_or(0.0);
                if negative {
                    bucket_b *= -1.0;
                    comp_bucket_b *= -1.0;
                }
                let add_into = |slot: usize,
                                buckets_a: &mut Vec<f64>,
                                comp_a: &mut Option<&mut Vec<f64>>| {
                    match comp_a.as_deref_mut() {
                        Some(c) => {
                            let (s, k) = kahan_sum_inc(bucket_b, buckets_a[slot], c[slot]);
                            buckets_a[slot] = s;
                            c[slot] = k;
                            if comp_bucket_b != 0.0 {
                                let (s, k) = kahan_sum_inc(comp_bucket_b, buckets_a[slot], c[slot]);
                                buckets_a[slot] = s;
                                c[slot] = k;
                            }
                        }
                        None => buckets_a[slot] += bucket_b,
                    }
                };
                let insert_at =
                    |slot: usize, buckets_a: &mut Vec<f64>, comp_a: &mut Option<&mut Vec<f64>>| {
                        buckets_a.insert(slot, bucket_b);
                        if let Some(c) = comp_a.as_deref_mut() {
                            c.insert(slot.min(c.len()), if kahan { comp_bucket_b } else { 0.0 });
                        }
                    };

                if i_span == -1 {
                    if spans_a.is_empty() || spans_a[0].offset > index_b {
                        // Add the bucket before all others.
                        insert_at(0, buckets_a, &mut comp_a);
                        if !spans_a.is_empty() && spans_a[0].offset == index_b.wrapping_add(1) {
                            spans_a[0].length = spans_a[0].length.wrapping_add(1);
                            spans_a[0].offset = spans_a[0].offset.wrapping_sub(1);
                            break 'body;
                        }
                        spans_a.insert(0, Span::new(index_b, 1));
                        if spans_a.len() > 1 {
                            spans_a[1].offset =
                                spans_a[1].offset.wrapping_sub(index_b.wrapping_add(1));
                        }
                        break 'body;
                    } else if spans_a[0].offset == index_b
                        && spans_a[0].length > 0
                        && !buckets_a.is_empty()
                    {
                        add_into(0, buckets_a, &mut comp_a);
                        break 'body;
                    }
                    i_span = 0;
                    i_bucket = 0;
                    i_in_span = 0;
                    index_a = spans_a[0].offset;
                }
                let mut delta_index = index_b.wrapping_sub(index_a);
                loop {
                    let remaining_in_span =
                        (spans_a[i_span as usize].length as i32).wrapping_sub(i_in_span);
                    if delta_index < remaining_in_span {
                        // The bucket is in the current span.
                        i_bucket += delta_index as isize;
                        i_in_span = i_in_span.wrapping_add(delta_index);
                        add_into(i_bucket as usize, buckets_a, &mut comp_a);
                        break;
                    }
                    delta_index = delta_index.wrapping_sub(remaining_in_span);
                    i_bucket += remaining_in_span as isize;
                    i_span += 1;
                    if i_span as usize == spans_a.len()
                        || delta_index < spans_a[i_span as usize].offset
                    {
                        // The bucket is in the gap behind the previous span (or there are no more spans).
                        insert_at(i_bucket as usize, buckets_a, &mut comp_a);
                        if delta_index == 0 {
                            // Directly after the previous span: extend it.
                            if (i_span as usize) < spans_a.len() {
                                let s = &mut spans_a[i_span as usize];
                                s.offset = s.offset.wrapping_sub(1);
                            }
                            i_span -= 1;
                            i_in_span = spans_a[i_span as usize].length as i32;
                            spans_a[i_span as usize].length =
                                spans_a[i_span as usize].length.wrapping_add(1);
                            break 'body;
                        }
                        if (i_span as usize) < spans_a.len()
                            && delta_index == spans_a[i_span as usize].offset.wrapping_sub(1)
                        {
                            // Directly before the next span: extend that one.
                            i_in_span = 0;
                            let s = &mut spans_a[i_span as usize];
                            s.offset = s.offset.wrapping_sub(1);
                            s.length = s.length.wrapping_add(1);
                            break 'body;
                        }
                        // A new span between the two.
                        i_in_span = 0;
                        if (i_span as usize) < spans_a.len() {
                            let s = &mut spans_a[i_span as usize];
                            s.offset = s.offset.wrapping_sub(delta_index.wrapping_add(1));
                        }
                        spans_a.insert(i_span as usize, Span::new(delta_index, 1));
                        break 'body;
                    }
                    // Try the start of the next span.
                    delta_index = delta_index.wrapping_sub(spans_a[i_span as usize].offset);
                    i_in_span = 0;
                }
            }
            index_a = index_b;
            index_b = index_b.wrapping_add(1);
            b_idx += 1;
        }
    }
}

/// The intersection of two sorted custom bound lists (Prometheus' `intersectCustomBucketBounds`).
fn intersect_custom_bounds(a: &[f64], b: &[f64]) -> Vec<f64> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            out.push(a[i]);
            i += 1;
            j += 1;
        } else if a[i] < b[j] {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// Maps both custom-bucket layouts onto `intersected` bounds and adds (or subtracts) them
/// (Prometheus' `addCustomBucketsWithMismatches`); returns spans, buckets and compensation buckets.
/// A target bucket is left out if both its count and its compensation are zero.
#[allow(clippy::too_many_arguments)]
fn add_custom_buckets_with_mismatches(
    negative: bool,
    spans_a: &[Span],
    buckets_a: &[f64],
    bounds_a: &[f64],
    spans_b: &[Span],
    buckets_b: &[f64],
    bounds_b: &[f64],
    comp_a: Option<&[f64]>,
    intersected: &[f64],
) -> (Vec<Span>, Vec<f64>, Vec<f64>) {
    let mut target = vec![0.0; intersected.len() + 1];
    let mut c_target = vec![0.0; intersected.len() + 1];
    let mut map =
        |spans: &[Span], buckets: &[f64], bounds: &[f64], negative: bool, comp: Option<&[f64]>| {
            let mut src_idx: i64 = 0;
            let mut bucket_idx = 0usize;
            let mut intersect_idx = 0usize;
            for span in spans {
                src_idx += i64::from(span.offset);
                for _ in 0..span.length {
                    if let Some(&value) = buckets.get(bucket_idx) {
                        let mut t = target.len() - 1;
                        if src_idx >= 0 && (src_idx as usize) < bounds.len() {
                            let src_bound = bounds[src_idx as usize];
                            while intersect_idx < intersected.len() {
                                if intersected[intersect_idx] >= src_bound {
                                    t = intersect_idx;
                                    break;
                                }
                                intersect_idx += 1;
                            }
                        }
                        if negative {
                            (target[t], c_target[t]) = kahan_sum_dec(value, target[t], c_target[t]);
                        } else {
                            (target[t], c_target[t]) = kahan_sum_inc(value, target[t], c_target[t]);
                            if let Some(&c) = comp.and_then(|c| c.get(bucket_idx)) {
                                (target[t], c_target[t]) = kahan_sum_inc(c, target[t], c_target[t]);
                            }
                        }
                    }
                    src_idx += 1;
                    bucket_idx += 1;
                }
            }
        };
    map(spans_a, buckets_a, bounds_a, false, comp_a);
    map(spans_b, buckets_b, bounds_b, negative, None);

    let mut spans: Vec<Span> = Vec::new();
    let mut buckets = Vec::new();
    let mut comps = Vec::new();
    let mut last_idx: i32 = -1;
    for (i, (&count, &comp)) in target.iter().zip(&c_target).enumerate() {
        if count == 0.0 && comp == 0.0 {
            continue;
        }
        buckets.push(count);
        comps.push(comp);
        let idx = i as i32;
        match spans.last_mut() {
            Some(last) if idx == last_idx + 1 => last.length += 1,
            Some(_) => spans.push(Span::new(idx - last_idx - 1, 1)),
            None => spans.push(Span::new(idx, 1)),
        }
        last_idx = idx;
    }
    (spans, buckets, comps)
}

/// Whether two custom bound lists are equal (Prometheus' `CustomBucketBoundsMatch`).
pub fn custom_bounds_match(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

impl FloatHistogram {
    /// The receiver's hint after combining with `other` (Prometheus' `adjustCounterReset`); returns
    /// whether the hints collided (`CounterReset` against `NotCounterReset`).
    fn adjust_counter_reset(&mut self, other: &FloatHistogram) -> bool {
        use CounterResetHint::*;
        match (self.counter_reset_hint, other.counter_reset_hint) {
            (a, b) if a == b => false,
            (Gauge, _) => false,
            (_, Gauge) => {
                self.counter_reset_hint = Gauge;
                false
            }
            (Unknown, _) => false,
            (_, Unknown) => {
                self.counter_reset_hint = Unknown;
                false
            }
            _ => {
                self.counter_reset_hint = Unknown;
                true
            }
        }
    }

    /// The zero count this histogram would have with the larger threshold `larger` (Prometheus'
    /// `zeroCountForLargerThreshold`), and the threshold actually needed: if `larger` falls inside a
    /// populated bucket it is raised to that bucket's upper bound. With `c`, the compensation
    /// histogram's counts are folded in too and its zero count returned third.
    fn zero_count_for_larger_threshold(
        &self,
        larger: f64,
        c: Option<&FloatHistogram>,
    ) -> (f64, f64, f64) {
        let mut larger = larger;
        let c_zero = c.map_or(0.0, |c| c.zero_count);
        if larger == self.zero_threshold || larger.is_nan() || larger < self.zero_threshold {
            return (self.zero_count, larger, c_zero);
        }
        // Each round raises the threshold, so this ends; the cap only guards against invalid input.
        for _ in 0..10_000 {
            let mut count = self.zero_count;
            let mut c_count = c_zero;
            let mut restart = false;
            for (i, b) in self.positive_bucket_iter().enumerate() {
                if b.lower >= larger {
                    break;
                }
                (count, c_count) = kahan_sum_inc(b.count, count, c_count);
                if let Some(&cb) = c.and_then(|c| c.positive_buckets.get(i)) {
                    (count, c_count) = kahan_sum_inc(cb, count, c_count);
                }
                if b.upper > larger {
                    if b.count != 0.0 {
                        larger = b.upper;
                    }
                    break;
                }
            }
            for (i, b) in self.negative_bucket_iter().enumerate() {
                if b.upper <= -larger {
                    break;
                }
                (count, c_count) = kahan_sum_inc(b.count, count, c_count);
                if let Some(&cb) = c.and_then(|c| c.negative_buckets.get(i)) {
                    (count, c_count) = kahan_sum_inc(cb, count, c_count);
                }
                if b.lower < -larger {
                    if b.count != 0.0 {
                        larger = -b.lower;
                        restart = true;
                    }
                    break;
                }
            }
            if !restart {
                return (count, larger, c_count);
            }
        }
        (self.zero_count, larger, c_zero)
    }

    /// Empties the buckets inside the zero bucket, whose counts are already in the zero count, and
    /// compacts (Prometheus' `trimBucketsInZeroBucket`).
    fn trim_buckets_in_zero_bucket(&mut self, mut c: Option<&mut FloatHistogram>) {
        let threshold = self.zero_threshold;
        let positive: Vec<bool> = self
            .positive_bucket_iter()
            .map(|b| b.lower < threshold)
            .take_while(|inside| *inside)
            .collect();
        for i in 0..positive.len() {
            self.positive_buckets[i] = 0.0;
            if let Some(slot) = c.as_deref_mut().and_then(|c| c.positive_buckets.get_mut(i)) {
                *slot = 0.0;
            }
        }
        let negative: Vec<bool> = self
            .negative_bucket_iter()
            .map(|b| b.upper > -threshold)
            .take_while(|inside| *inside)
            .collect();
        for i in 0..negative.len() {
            self.negative_buckets[i] = 0.0;
            if let Some(slot) = c.as_deref_mut().and_then(|c| c.negative_buckets.get_mut(i)) {
                *slot = 0.0;
            }
        }
        match c {
            Some(c) => self.kahan_compact(0, c),
            None => {
                self.compact(0);
            }
        }
    }

    /// Widens the zero buckets of `self` and `other` to a common threshold (Prometheus'
    /// `reconcileZeroBuckets`): `self` is changed, `other` is not; returns the zero count `other` would
    /// have, and that of its (absent) compensation.
    fn reconcile_zero_buckets(
        &mut self,
        other: &FloatHistogram,
        mut c: Option<&mut FloatHistogram>,
    ) -> (f64, f64) {
        let mut other_zero_count = other.zero_count;
        let mut other_c_zero_count = 0.0;
        let mut other_threshold = other.zero_threshold;
        let mut rounds = 0;
        while other_threshold != self.zero_threshold
            && !other_threshold.is_nan()
            && !self.zero_threshold.is_nan()
            && rounds < 10_000
        {
            rounds += 1;
            if self.zero_threshold > other_threshold {
                (other_zero_count, other_threshold, other_c_zero_count) =
                    other.zero_count_for_larger_threshold(self.zero_threshold, None);
            }
            if other_threshold > self.zero_threshold {
                let (count, threshold, c_count) =
                    self.zero_count_for_larger_threshold(other_threshold, c.as_deref());
                self.zero_count = count;
                self.zero_threshold = threshold;
                if let Some(c) = c.as_deref_mut() {
                    c.zero_count = c_count;
                    c.zero_threshold = threshold;
                }
                self.trim_buckets_in_zero_bucket(c.as_deref_mut());
            }
        }
        (other_zero_count, other_c_zero_count)
    }

    fn combine(
        &mut self,
        other: &FloatHistogram,
        negative: bool,
    ) -> Result<AddOutcome, HistogramError> {
        if self.uses_custom_buckets() != other.uses_custom_buckets() {
            return Err(HistogramError::IncompatibleSchema);
        }
        check_histogram(self)?;
        check_histogram(other)?;
        let mut outcome = AddOutcome {
            counter_reset_collision: self.adjust_counter_reset(other),
            nhcb_bounds_reconciled: false,
        };
        if !self.uses_custom_buckets() {
            let (other_zero, _) = self.reconcile_zero_buckets(other, None);
            if negative {
                self.zero_count -= other_zero;
            } else {
                self.zero_count += other_zero;
            }
        }
        if negative {
            self.count -= other.count;
            self.sum -= other.sum;
        } else {
            self.count += other.count;
            self.sum += other.sum;
        }

        if self.uses_custom_buckets() {
            if custom_bounds_match(&self.custom_values, &other.custom_values) {
                add_buckets(
                    self.schema,
                    self.zero_threshold,
                    negative,
                    &mut self.positive_spans,
                    &mut self.positive_buckets,
                    None,
                    &other.positive_spans,
                    &other.positive_buckets,
                    None,
                );
            } else {
                outcome.nhcb_bounds_reconciled = true;
                let intersected =
                    intersect_custom_bounds(&self.custom_values, &other.custom_values);
                let (spans, buckets, _) = add_custom_buckets_with_mismatches(
                    negative,
                    &self.positive_spans,
                    &self.positive_buckets,
                    &self.custom_values,
                    &other.positive_spans,
                    &other.positive_buckets,
                    &other.custom_values,
                    None,
                    &intersected,
                );
                self.positive_spans = spans;
                self.positive_buckets = buckets;
                self.custom_values = intersected;
            }
            return Ok(outcome);
        }

        let mut other_pos = (other.positive_spans.clone(), other.positive_buckets.clone());
        let mut other_neg = (other.negative_spans.clone(), other.negative_buckets.clone());
        if other.schema < self.schema {
            let (s, b, _) = reduce_resolution_buckets(
                &self.positive_spans,
                &self.positive_buckets,
                None,
                self.schema,
                other.schema,
            )?;
            let (ns, nb, _) = reduce_resolution_buckets(
                &self.negative_spans,
                &self.negative_buckets,
                None,
                self.schema,
                other.schema,
            )?;
            (self.positive_spans, self.positive_buckets) = (s, b);
            (self.negative_spans, self.negative_buckets) = (ns, nb);
            self.schema = other.schema;
        } else if other.schema > self.schema {
            let (s, b, _) = reduce_resolution_buckets(
                &other.positive_spans,
                &other.positive_buckets,
                None,
                other.schema,
                self.schema,
            )?;
            let (ns, nb, _) = reduce_resolution_buckets(
                &other.negative_spans,
                &other.negative_buckets,
                None,
                other.schema,
                self.schema,
            )?;
            other_pos = (s, b);
            other_neg = (ns, nb);
        }
        add_buckets(
            self.schema,
            self.zero_threshold,
            negative,
            &mut self.positive_spans,
            &mut self.positive_buckets,
            None,
            &other_pos.0,
            &other_pos.1,
            None,
        );
        add_buckets(
            self.schema,
            self.zero_threshold,
            negative,
            &mut self.negative_spans,
            &mut self.negative_buckets,
            None,
            &other_neg.0,
            &other_neg.1,
            None,
        );
        Ok(outcome)
    }

    /// Adds `other` into `self` (Prometheus' `FloatHistogram.Add`): counts, sums and buckets are added,
    /// buckets only `other` has are inserted. The finer schema is reduced to the coarser one, the zero
    /// buckets are widened to a common threshold, and custom buckets with different bounds are mapped
    /// onto the intersection of the bounds (reported in the outcome). Mixing exponential and custom
    /// buckets is an error, and `self` is then unchanged. The result may hold empty buckets.
    pub fn add(&mut self, other: &FloatHistogram) -> Result<AddOutcome, HistogramError> {
        let backup = self.clone();
        self.combine(other, false).inspect_err(|_| *self = backup)
    }

    /// Subtracts `other` from `self` (Prometheus' `FloatHistogram.Sub`), reconciling as [`add`] does.
    /// The counter-reset hint is adjusted as for `add`; PromQL's `-` operator sets it to `Gauge`
    /// afterwards.
    ///
    /// [`add`]: FloatHistogram::add
    pub fn sub(&mut self, other: &FloatHistogram) -> Result<AddOutcome, HistogramError> {
        let backup = self.clone();
        self.combine(other, true).inspect_err(|_| *self = backup)
    }

    /// A compensation histogram for [`kahan_add`](FloatHistogram::kahan_add): this layout, all counts 0
    /// (Prometheus' `newCompensationHistogram`).
    pub fn new_compensation(&self) -> FloatHistogram {
        FloatHistogram {
            counter_reset_hint: self.counter_reset_hint,
            schema: self.schema,
            zero_threshold: self.zero_threshold,
            positive_spans: self.positive_spans.clone(),
            negative_spans: if self.uses_custom_buckets() {
                Vec::new()
            } else {
                self.negative_spans.clone()
            },
            positive_buckets: vec![0.0; self.positive_buckets.len()],
            negative_buckets: if self.uses_custom_buckets() {
                Vec::new()
            } else {
                vec![0.0; self.negative_buckets.len()]
            },
            custom_values: self.custom_values.clone(),
            ..FloatHistogram::default()
        }
    }

    /// Like [`add`](FloatHistogram::add) with Kahan–Neumaier compensation of every count, the sum and
    /// every bucket (Prometheus' `FloatHistogram.KahanAdd`, which the `sum` and `avg` aggregations and
    /// `sum_over_time`/`avg_over_time` use). `c` is the running compensation (`None` on the first call);
    /// the updated compensation is returned. The final value is `self.add(&c)` followed by
    /// `compact(0)`.
    pub fn kahan_add(
        &mut self,
        other: &FloatHistogram,
        c: Option<FloatHistogram>,
    ) -> Result<(FloatHistogram, AddOutcome), HistogramError> {
        if self.uses_custom_buckets() != other.uses_custom_buckets() {
            return Err(HistogramError::IncompatibleSchema);
        }
        check_histogram(self)?;
        check_histogram(other)?;
        let backup = self.clone();
        let mut c = c.unwrap_or_else(|| self.new_compensation());
        if check_histogram(&c).is_err()
            || c.positive_buckets.len() != self.positive_buckets.len()
            || c.negative_buckets.len() != self.negative_buckets.len()
        {
            c = self.new_compensation();
        }
        let result = self.kahan_combine(other, &mut c);
        match result {
            Ok(outcome) => Ok((c, outcome)),
            Err(e) => {
                *self = backup;
                Err(e)
            }
        }
    }

    fn kahan_combine(
        &mut self,
        other: &FloatHistogram,
        c: &mut FloatHistogram,
    ) -> Result<AddOutcome, HistogramError> {
        let mut outcome = AddOutcome {
            counter_reset_collision: self.adjust_counter_reset(other),
            nhcb_bounds_reconciled: false,
        };
        if !self.uses_custom_buckets() {
            let (other_zero, other_c_zero) = self.reconcile_zero_buckets(other, Some(c));
            (self.zero_count, c.zero_count) =
                kahan_sum_inc(other_zero, self.zero_count, c.zero_count);
            (self.zero_count, c.zero_count) =
                kahan_sum_inc(other_c_zero, self.zero_count, c.zero_count);
        }
        (self.count, c.count) = kahan_sum_inc(other.count, self.count, c.count);
        (self.sum, c.sum) = kahan_sum_inc(other.sum, self.sum, c.sum);

        if self.uses_custom_buckets() {
            if custom_bounds_match(&self.custom_values, &other.custom_values) {
                add_buckets(
                    self.schema,
                    self.zero_threshold,
                    false,
                    &mut self.positive_spans,
                    &mut self.positive_buckets,
                    Some(&mut c.positive_buckets),
                    &other.positive_spans,
                    &other.positive_buckets,
                    None,
                );
            } else {
                outcome.nhcb_bounds_reconciled = true;
                let intersected =
                    intersect_custom_bounds(&self.custom_values, &other.custom_values);
                let (spans, buckets, comps) = add_custom_buckets_with_mismatches(
                    false,
                    &self.positive_spans,
                    &self.positive_buckets,
                    &self.custom_values,
                    &other.positive_spans,
                    &other.positive_buckets,
                    &other.custom_values,
                    Some(&c.positive_buckets),
                    &intersected,
                );
                self.positive_spans = spans;
                self.positive_buckets = buckets;
                c.positive_buckets = comps;
                self.custom_values = intersected.clone();
                c.custom_values = intersected;
            }
            c.positive_spans = self.positive_spans.clone();
            return Ok(outcome);
        }

        let mut other_pos = (
            other.positive_spans.clone(),
            other.positive_buckets.clone(),
            None,
        );
        let mut other_neg = (
            other.negative_spans.clone(),
            other.negative_buckets.clone(),
            None,
        );
        if other.schema < self.schema {
            let (s, b, cb) = reduce_resolution_buckets(
                &self.positive_spans,
                &self.positive_buckets,
                Some(&c.positive_buckets),
                self.schema,
                other.schema,
            )?;
            let (ns, nb, ncb) = reduce_resolution_buckets(
                &self.negative_spans,
                &self.negative_buckets,
                Some(&c.negative_buckets),
                self.schema,
                other.schema,
            )?;
            (
                self.positive_spans,
                self.positive_buckets,
                c.positive_buckets,
            ) = (s, b, cb);
            (
                self.negative_spans,
                self.negative_buckets,
                c.negative_buckets,
            ) = (ns, nb, ncb);
            self.schema = other.schema;
        } else if other.schema > self.schema {
            if !other.positive_buckets.is_empty() {
                let zeros = vec![0.0; other.positive_buckets.len()];
                let (s, b, cb) = reduce_resolution_buckets(
                    &other.positive_spans,
                    &other.positive_buckets,
                    Some(&zeros),
                    other.schema,
                    self.schema,
                )?;
                other_pos = (s, b, Some(cb));
            }
            if !other.negative_buckets.is_empty() {
                let zeros = vec![0.0; other.negative_buckets.len()];
                let (s, b, cb) = reduce_resolution_buckets(
                    &other.negative_spans,
                    &other.negative_buckets,
                    Some(&zeros),
                    other.schema,
                    self.schema,
                )?;
                other_neg = (s, b, Some(cb));
            }
        }
        add_buckets(
            self.schema,
            self.zero_threshold,
            false,
            &mut self.positive_spans,
            &mut self.positive_buckets,
            Some(&mut c.positive_buckets),
            &other_pos.0,
            &other_pos.1,
            other_pos.2.as_deref(),
        );
        add_buckets(
            self.schema,
            self.zero_threshold,
            false,
            &mut self.negative_spans,
            &mut self.negative_buckets,
            Some(&mut c.negative_buckets),
            &other_neg.0,
            &other_neg.1,
            other_neg.2.as_deref(),
        );
        c.schema = self.schema;
        c.zero_threshold = self.zero_threshold;
        c.positive_spans = self.positive_spans.clone();
        c.negative_spans = self.negative_spans.clone();
        Ok(outcome)
    }

    /// Multiplies every count, the sum and the zero count by `factor` (Prometheus' `Mul`); a negative
    /// factor makes the histogram a gauge.
    pub fn mul(&mut self, factor: f64) -> &mut FloatHistogram {
        self.zero_count *= factor;
        self.count *= factor;
        self.sum *= factor;
        for b in self
            .positive_buckets
            .iter_mut()
            .chain(&mut self.negative_buckets)
        {
            *b *= factor;
        }
        if factor < 0.0 {
            self.counter_reset_hint = CounterResetHint::Gauge;
        }
        self
    }

    /// Divides like [`mul`](FloatHistogram::mul) multiplies (Prometheus' `Div`). Division by zero sets the
    /// count, sum and zero count to ±Inf/NaN and removes all buckets; a negative divisor makes the
    /// histogram a gauge.
    pub fn div(&mut self, scalar: f64) -> &mut FloatHistogram {
        self.zero_count /= scalar;
        self.count /= scalar;
        self.sum /= scalar;
        if scalar == 0.0 {
            self.positive_buckets.clear();
            self.negative_buckets.clear();
            self.positive_spans.clear();
            self.negative_spans.clear();
            return self;
        }
        for b in self
            .positive_buckets
            .iter_mut()
            .chain(&mut self.negative_buckets)
        {
            *b /= scalar;
        }
        if scalar < 0.0 {
            self.counter_reset_hint = CounterResetHint::Gauge;
        }
        self
    }

    /// Removes empty buckets at the edges of spans and runs of more than `max_empty` empty buckets
    /// inside them, and merges spans at most `max_empty` buckets apart (Prometheus' `Compact`).
    pub fn compact(&mut self, max_empty: usize) -> &mut FloatHistogram {
        compact_buckets(
            &mut self.positive_buckets,
            None,
            &mut self.positive_spans,
            max_empty,
        );
        compact_buckets(
            &mut self.negative_buckets,
            None,
            &mut self.negative_spans,
            max_empty,
        );
        self
    }

    /// `compact` keeping the compensation buckets of `c` in step (Prometheus' `kahanCompact`).
    fn kahan_compact(&mut self, max_empty: usize, c: &mut FloatHistogram) {
        compact_buckets(
            &mut self.positive_buckets,
            Some(&mut c.positive_buckets),
            &mut self.positive_spans,
            max_empty,
        );
        compact_buckets(
            &mut self.negative_buckets,
            Some(&mut c.negative_buckets),
            &mut self.negative_spans,
            max_empty,
        );
        c.positive_spans = self.positive_spans.clone();
        c.negative_spans = self.negative_spans.clone();
    }

    /// Reduces the histogram to the lower-resolution `target_schema` (Prometheus' `ReduceResolution`).
    pub fn reduce_resolution(&mut self, target_schema: i32) -> Result<(), HistogramError> {
        if self.uses_custom_buckets() {
            return Err(HistogramError::InvalidResolution(
                "cannot reduce resolution when there are custom buckets".to_string(),
            ));
        }
        if is_custom_buckets_schema(target_schema) {
            return Err(HistogramError::InvalidResolution(
                "cannot reduce resolution to custom buckets schema".to_string(),
            ));
        }
        if target_schema >= self.schema {
            return Err(HistogramError::InvalidResolution(format!(
                "cannot reduce resolution from schema {} to {}",
                self.schema, target_schema
            )));
        }
        let (s, b, _) = reduce_resolution_buckets(
            &self.positive_spans,
            &self.positive_buckets,
            None,
            self.schema,
            target_schema,
        )?;
        let (ns, nb, _) = reduce_resolution_buckets(
            &self.negative_spans,
            &self.negative_buckets,
            None,
            self.schema,
            target_schema,
        )?;
        (self.positive_spans, self.positive_buckets) = (s, b);
        (self.negative_spans, self.negative_buckets) = (ns, nb);
        self.schema = target_schema;
        Ok(())
    }

    /// Exact equality as Prometheus' `Equals`: same schema, bit-identical count, sum, zero count and
    /// bucket counts, same zero threshold and custom bounds, and spans describing the same layout
    /// (zero-length spans aside).
    pub fn equals(&self, other: &FloatHistogram) -> bool {
        let bits = |a: f64, b: f64| a.to_bits() == b.to_bits();
        self.schema == other.schema
            && bits(self.count, other.count)
            && bits(self.sum, other.sum)
            && (!self.uses_custom_buckets()
                || custom_bounds_match(&self.custom_values, &other.custom_values))
            && self.zero_threshold == other.zero_threshold
            && bits(self.zero_count, other.zero_count)
            && spans_match(&self.negative_spans, &other.negative_spans)
            && self.negative_buckets.len() == other.negative_buckets.len()
            && self
                .negative_buckets
                .iter()
                .zip(&other.negative_buckets)
                .all(|(a, b)| bits(*a, *b))
            && spans_match(&self.positive_spans, &other.positive_spans)
            && self.positive_buckets.len() == other.positive_buckets.len()
            && self
                .positive_buckets
                .iter()
                .zip(&other.positive_buckets)
                .all(|(a, b)| bits(*a, *b))
    }

    /// Whether `self` follows a counter reset relative to `previous` (Prometheus' `DetectReset`): a
    /// `CounterReset`/`NotCounterReset` hint decides; otherwise any smaller count, a populated bucket of
    /// `previous` missing in `self`, a higher schema or a smaller zero threshold is a reset.
    pub fn detect_reset(&self, previous: &FloatHistogram) -> bool {
        match self.counter_reset_hint {
            CounterResetHint::CounterReset => return true,
            CounterResetHint::NotCounterReset => return false,
            _ => {}
        }
        if self.count < previous.count {
            return true;
        }
        if self.uses_custom_buckets() {
            if !previous.uses_custom_buckets() {
                return true;
            }
            if !custom_bounds_match(&self.custom_values, &previous.custom_values) {
                return self.detect_reset_with_mismatched_custom_bounds(previous);
            }
        } else if previous.uses_custom_buckets() {
            return true;
        }
        if self.schema > previous.schema {
            return true;
        }
        if self.zero_threshold < previous.zero_threshold {
            return true;
        }
        let (previous_zero, new_threshold, _) =
            previous.zero_count_for_larger_threshold(self.zero_threshold, None);
        if new_threshold != self.zero_threshold {
            return true;
        }
        if self.zero_count < previous_zero {
            return true;
        }
        let curr = merged_buckets(self, true, self.schema, self.zero_threshold);
        let prev = merged_buckets(previous, true, self.schema, self.zero_threshold);
        if detect_reset_between(&curr, &prev) {
            return true;
        }
        let curr = merged_buckets(self, false, self.schema, self.zero_threshold);
        let prev = merged_buckets(previous, false, self.schema, self.zero_threshold);
        detect_reset_between(&curr, &prev)
    }

    /// Reset detection between custom-bucket histograms with different bounds: the counts rolled up to
    /// each bound both share must not decrease (Prometheus' `detectResetWithMismatchedCustomBounds`).
    fn detect_reset_with_mismatched_custom_bounds(&self, previous: &FloatHistogram) -> bool {
        let curr: Vec<super::Bucket> = self.positive_bucket_iter().collect();
        let prev: Vec<super::Bucket> = previous.positive_bucket_iter().collect();
        // Sum of the buckets (from position `*pos` on) whose upper bound is <= `bound`.
        let rollup = |buckets: &[super::Bucket], pos: &mut usize, bound: f64| {
            let mut sum = 0.0;
            while *pos < buckets.len() && buckets[*pos].upper <= bound {
                sum += buckets[*pos].count;
                *pos += 1;
            }
            sum
        };
        let (cb, pb) = (&self.custom_values, &previous.custom_values);
        let (mut ci, mut pi) = (0usize, 0usize);
        let (mut cpos, mut ppos) = (0usize, 0usize);
        while ci <= cb.len() && pi <= pb.len() {
            let c_bound = cb.get(ci).copied().unwrap_or(f64::INFINITY);
            let p_bound = pb.get(pi).copied().unwrap_or(f64::INFINITY);
            if c_bound == p_bound {
                let c_sum = rollup(&curr, &mut cpos, c_bound);
                let p_sum = rollup(&prev, &mut ppos, c_bound);
                if c_sum < p_sum {
                    return true;
                }
                ci += 1;
                pi += 1;
            } else if c_bound < p_bound {
                ci += 1;
            } else {
                pi += 1;
            }
        }
        false
    }
}

/// `(index, count)` of one side merged into `target_schema`, skipping leading buckets whose upper bound
/// is `<= absolute_start` (Prometheus' `floatBucketIterator` with a target schema and start value).
fn merged_buckets(
    h: &FloatHistogram,
    positive: bool,
    target_schema: i32,
    absolute_start: f64,
) -> Vec<(i32, f64)> {
    let (spans, buckets) = if positive {
        (&h.positive_spans, &h.positive_buckets)
    } else {
        (&h.negative_spans, &h.negative_buckets)
    };
    let indexed = indexed_buckets(spans, buckets);
    let mut merged: Vec<(i32, f64)> = Vec::with_capacity(indexed.len());
    if h.schema == target_schema || h.uses_custom_buckets() {
        merged = indexed;
    } else {
        for (idx, count) in indexed {
            let t = target_idx(idx, h.schema, target_schema);
            match merged.last_mut() {
                Some(last) if last.0 == t => last.1 += count,
                _ => merged.push((t, count)),
            }
        }
    }
    if absolute_start != 0.0 && is_exponential_schema(target_schema) {
        let skip = merged
            .iter()
            .take_while(|(idx, _)| exponential_bound(*idx, target_schema) <= absolute_start)
            .count();
        merged.drain(..skip);
    }
    merged
}

/// Prometheus' `detectReset` over two bucket sequences of the same schema.
fn detect_reset_between(curr: &[(i32, f64)], prev: &[(i32, f64)]) -> bool {
    let mut ci = 0usize;
    for &(p_idx, p_count) in prev {
        while ci < curr.len() && curr[ci].0 < p_idx {
            ci += 1;
        }
        match curr.get(ci) {
            Some(&(c_idx, c_count)) if c_idx == p_idx => {
                if c_count < p_count {
                    return true;
                }
            }
            _ => {
                if p_count != 0.0 {
                    return true;
                }
            }
        }
    }
    false
}

/// Whether two span lists describe the same layout, ignoring zero-length spans (Prometheus'
/// `spansMatch`).
pub fn spans_match(s1: &[Span], s2: &[Span]) -> bool {
    normalized_spans(s1) == normalized_spans(s2)
}

/// Spans with zero-length spans folded into the following span's offset.
fn normalized_spans(spans: &[Span]) -> Vec<(i64, u64)> {
    let mut out: Vec<(i64, u64)> = Vec::new();
    let mut carry: i64 = 0;
    for span in spans {
        if span.length == 0 {
            carry += i64::from(span.offset);
            continue;
        }
        out.push((carry + i64::from(span.offset), u64::from(span.length)));
        carry = 0;
    }
    out
}
