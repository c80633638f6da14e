//! Behaviour of [`Head`] the ingester relies on.

use std::sync::Arc;

use super::*;
use crate::matcher::MatchOp;

fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs.iter().copied())
}

fn up(job: &str) -> Labels {
    labels(&[("__name__", "up"), ("job", job)])
}

fn head(window_ms: i64, max_series: usize) -> Head {
    Head::new(HeadConfig {
        out_of_order_time_window_ms: window_ms,
        max_series,
    })
}

fn eq(name: &str, value: &str) -> Matcher {
    Matcher::equal(name, value)
}

fn re(name: &str, value: &str) -> Matcher {
    Matcher::new(MatchOp::RegexMatch, name, value).unwrap()
}

fn samples_of(head: &Head, labels: &Labels, mint: i64, maxt: i64) -> Vec<(i64, f64)> {
    let matchers: Vec<Matcher> = labels.iter().map(|l| eq(&l.name, &l.value)).collect();
    let page = head.select(&matchers, mint, maxt, None, 0);
    page.series
        .into_iter()
        .find(|s| s.labels == *labels)
        .map(|s| s.samples)
        .unwrap_or_default()
}

#[test]
fn head_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Head>();
}

#[test]
fn in_order_samples_and_exact_duplicates_are_accepted() {
    let h = head(0, 0);
    let (r, created) = h.get_or_create_series(up("a")).unwrap();
    assert!(created);
    assert_eq!(h.get_or_create_series(up("a")).unwrap(), (r, false));
    assert_eq!(h.append(r, 1000, 1.0), Ok(AppendOutcome::InOrder));
    assert_eq!(h.append(r, 2000, 2.0), Ok(AppendOutcome::InOrder));
    assert_eq!(h.append(r, 2000, 2.0), Ok(AppendOutcome::Duplicate));
    assert_eq!(
        samples_of(&h, &up("a"), 0, 10_000),
        [(1000, 1.0), (2000, 2.0)]
    );
}

#[test]
fn same_timestamp_with_another_value_is_refused() {
    let h = head(0, 0);
    let (r, _) = h.get_or_create_series(up("a")).unwrap();
    h.append(r, 1000, 1.0).unwrap();
    let err = h.append(r, 1000, 1.5).unwrap_err();
    assert_eq!(
        err,
        AppendError::DuplicateTimestamp {
            timestamp: 1000,
            labels: up("a")
        }
    );
    assert!(
        err.to_string()
            .contains("(err-mimir-sample-duplicate-timestamp)")
    );
    // A NaN with another payload is another value: the staleness marker is not a plain NaN.
    h.append(r, 2000, f64::NAN).unwrap();
    let stale = f64::from_bits(crate::chunk::STALE_NAN_BITS);
    assert!(h.append(r, 2000, stale).is_err());
    assert_eq!(samples_of(&h, &up("a"), 0, 10_000)[0], (1000, 1.0));
}

#[test]
fn out_of_order_is_refused_when_the_window_is_zero() {
    let h = head(0, 0);
    let (r, _) = h.get_or_create_series(up("a")).unwrap();
    h.append(r, 2000, 1.0).unwrap();
    let err = h.append(r, 1000, 1.0).unwrap_err();
    assert_eq!(
        err,
        AppendError::OutOfOrder {
            timestamp: 1000,
            labels: up("a")
        }
    );
    assert!(
        err.to_string()
            .contains("out-of-order samples are not allowed")
    );
}

#[test]
fn out_of_order_inside_the_window_is_kept_and_merged() {
    let h = head(10_000, 0);
    let (r, _) = h.get_or_create_series(up("a")).unwrap();
    for t in [10_000, 20_000, 30_000] {
        h.append(r, t, t as f64).unwrap();
    }
    assert_eq!(h.append(r, 25_000, 25.0), Ok(AppendOutcome::OutOfOrder));
    assert_eq!(h.append(r, 20_000, 20_000.0), Ok(AppendOutcome::Duplicate));
    assert!(matches!(
        h.append(r, 25_000, 26.0),
        Err(AppendError::DuplicateTimestamp { .. })
    ));
    let times: Vec<i64> = samples_of(&h, &up("a"), 0, 40_000)
        .iter()
        .map(|s| s.0)
        .collect();
    assert_eq!(times, [10_000, 20_000, 25_000, 30_000]);
}

#[test]
fn out_of_order_outside_the_window_is_too_old() {
    let h = head(10_000, 0);
    let (r, _) = h.get_or_create_series(up("a")).unwrap();
    h.append(r, 30_000, 1.0).unwrap();
    assert_eq!(h.append(r, 20_000, 1.0), Ok(AppendOutcome::OutOfOrder));
    let err = h.append(r, 19_999, 1.0).unwrap_err();
    assert_eq!(
        err,
        AppendError::TooOldSample {
            timestamp: 19_999,
            labels: up("a"),
            window_ms: 10_000
        }
    );
    assert!(err.to_string().contains("out-of-order time window of 10s"));
}

#[test]
fn the_window_is_measured_from_the_newest_sample_of_the_head() {
    let h = head(10_000, 0);
    let (a, _) = h.get_or_create_series(up("a")).unwrap();
    let (b, _) = h.get_or_create_series(up("b")).unwrap();
    h.append(a, 5_000, 1.0).unwrap();
    h.append(b, 100_000, 1.0).unwrap();
    // Newer than a's own samples: in order, whatever the head's max.
    assert_eq!(h.append(a, 6_000, 1.0), Ok(AppendOutcome::InOrder));
    // Older than a's newest and more than 10s behind the head: too old.
    assert!(matches!(
        h.append(a, 5_500, 1.0),
        Err(AppendError::TooOldSample { .. })
    ));
}

#[test]
fn max_series_refuses_new_series_only() {
    let h = head(0, 2);
    h.get_or_create_series(up("a")).unwrap();
    h.get_or_create_series(up("b")).unwrap();
    let err = h.get_or_create_series(up("c")).unwrap_err();
    assert_eq!(err, AppendError::MaxSeries { limit: 2 });
    assert!(
        err.to_string()
            .contains("-ingester.max-global-series-per-user")
    );
    assert!(h.get_or_create_series(up("a")).is_ok());
    assert_eq!(h.num_series(), 2);
}

#[test]
fn append_to_an_unknown_ref_is_an_error() {
    let h = head(0, 0);
    assert_eq!(
        h.append(42, 1, 1.0),
        Err(AppendError::UnknownSeries { series_ref: 42 })
    );
}

#[test]
fn append_series_keeps_going_after_a_refused_sample() {
    let h = head(0, 0);
    let stats = h
        .append_series(
            up("a"),
            &[(10, 1.0), (20, 2.0), (15, 3.0), (20, 2.0), (30, 4.0)],
        )
        .unwrap();
    assert!(stats.created);
    assert_eq!(
        (stats.in_order, stats.duplicates, stats.rejected),
        (3, 1, 1)
    );
    assert!(matches!(
        stats.first_error,
        Some(AppendError::OutOfOrder { timestamp: 15, .. })
    ));
    assert_eq!(samples_of(&h, &up("a"), 0, 100).len(), 3);
    assert_eq!((h.min_time(), h.max_time()), (Some(10), Some(30)));
}

#[test]
fn select_crosses_chunk_boundaries_with_inclusive_bounds() {
    let h = head(0, 0);
    let (r, _) = h.get_or_create_series(up("a")).unwrap();
    // 300 samples every 15s: chunks hold samples 0..=119, 120..=239, 240..=299.
    for i in 0..300i64 {
        h.append(r, i * 15_000, i as f64).unwrap();
    }
    let all = samples_of(&h, &up("a"), i64::MIN, i64::MAX);
    assert_eq!(all.len(), 300);
    assert!(all.windows(2).all(|w| w[0].0 < w[1].0));
    // Sample 119 is the last of chunk 0 and sample 120 the first of chunk 1.
    let across = samples_of(&h, &up("a"), 119 * 15_000, 120 * 15_000);
    assert_eq!(across, [(119 * 15_000, 119.0), (120 * 15_000, 120.0)]);
    let middle = samples_of(&h, &up("a"), 100 * 15_000 + 1, 250 * 15_000 - 1);
    assert_eq!(middle.first(), Some(&(101 * 15_000, 101.0)));
    assert_eq!(middle.last(), Some(&(249 * 15_000, 249.0)));
    assert_eq!(middle.len(), 149);
    // A range without samples leaves the series out.
    assert!(
        h.select(&[eq("job", "a")], 300 * 15_000, i64::MAX, None, 0)
            .series
            .is_empty()
    );
}

#[test]
fn paging_returns_every_series_once_in_label_order() {
    let h = head(0, 0);
    for i in 0..23 {
        let job = format!("job-{:02}", (i * 7) % 23);
        let (r, _) = h.get_or_create_series(up(&job)).unwrap();
        h.append(r, 100, i as f64).unwrap();
    }
    // One series without samples in range must not appear nor break paging.
    let (quiet, _) = h.get_or_create_series(up("job-05b")).unwrap();
    h.append(quiet, 10_000, 0.0).unwrap();

    let matchers = [eq("__name__", "up")];
    let mut seen = Vec::new();
    let mut after: Option<Labels> = None;
    let mut pages = 0;
    loop {
        let page = h.select(&matchers, 0, 1000, after.as_ref(), 4);
        assert!(page.series.len() <= 4);
        seen.extend(page.series.into_iter().map(|s| s.labels));
        pages += 1;
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let expected: Vec<Labels> = (0..23).map(|i| up(&format!("job-{i:02}"))).collect();
    assert_eq!(seen, expected);
    assert_eq!(pages, 6);
}

#[test]
fn a_cursor_survives_series_changes_between_pages() {
    let h = head(0, 0);
    for job in ["a", "b", "c", "d"] {
        h.append_series(up(job), &[(100, 1.0)]).unwrap();
    }
    let first = h.select(&[], 0, 1000, None, 2);
    assert_eq!(first.next, Some(up("b")));
    h.append_series(up("bb"), &[(100, 1.0)]).unwrap();
    let rest = h.select(&[], 0, 1000, first.next.as_ref(), 0);
    let jobs: Vec<&str> = rest
        .series
        .iter()
        .filter_map(|s| s.labels.get("job"))
        .collect();
    assert_eq!(jobs, ["bb", "c", "d"]);
    assert_eq!(rest.next, None);
}

#[test]
fn label_names_and_values_follow_matchers_and_time() {
    let h = head(0, 0);
    h.append_series(
        labels(&[("__name__", "up"), ("job", "api"), ("env", "prod")]),
        &[(100, 1.0)],
    )
    .unwrap();
    h.append_series(
        labels(&[("__name__", "up"), ("job", "web")]),
        &[(5000, 1.0)],
    )
    .unwrap();
    h.append_series(
        labels(&[("__name__", "errors"), ("zone", "z1")]),
        &[(100, 1.0)],
    )
    .unwrap();

    let all = i64::MAX;
    assert_eq!(
        h.label_names(&[], 0, all),
        ["__name__", "env", "job", "zone"]
    );
    assert_eq!(
        h.label_names(&[eq("__name__", "up")], 0, all),
        ["__name__", "env", "job"]
    );
    assert_eq!(
        h.label_names(&[eq("__name__", "up")], 1000, all),
        ["__name__", "job"]
    );
    assert_eq!(h.label_values("__name__", &[], 0, all), ["errors", "up"]);
    assert_eq!(
        h.label_values("job", &[re("job", ".+")], 0, all),
        ["api", "web"]
    );
    assert_eq!(h.label_values("job", &[], 0, 1000), ["api"]);
    assert_eq!(h.label_values("nope", &[], 0, all), Vec::<String>::new());
    assert_eq!(
        h.series(&[eq("env", "")], 0, all),
        [labels(&[("__name__", "errors"), ("zone", "z1")]), up("web")]
    );
}

#[test]
fn truncate_before_drops_old_chunks_and_empty_series() {
    let h = head(0, 0);
    let (old, _) = h.get_or_create_series(up("old")).unwrap();
    let (live, _) = h.get_or_create_series(up("live")).unwrap();
    for i in 0..240i64 {
        h.append(old, i, 0.0).unwrap();
        h.append(live, i * 10, 0.0).unwrap();
    }
    // "old" ends at 239; "live" has chunks ending at 1190 and 2390.
    assert_eq!(h.truncate_before(1000), 1);
    assert_eq!(h.num_series(), 1);
    assert_eq!(h.label_values("job", &[], i64::MIN, i64::MAX), ["live"]);
    assert_eq!(
        h.select(&[eq("job", "old")], 0, i64::MAX, None, 0)
            .series
            .len(),
        0
    );
    assert_eq!(
        h.append(old, 5000, 1.0),
        Err(AppendError::UnknownSeries { series_ref: old })
    );
    assert_eq!(h.min_time(), Some(0));
    assert_eq!(samples_of(&h, &up("live"), 0, i64::MAX).len(), 240);
    assert_eq!(h.truncate_before(1200), 0);
    assert_eq!(h.min_time(), Some(1200));
    assert_eq!(samples_of(&h, &up("live"), 0, i64::MAX).len(), 120);
    // Re-creating a removed series gives it a new ref.
    let (again, created) = h.get_or_create_series(up("old")).unwrap();
    assert!(created && again > live);
}

#[test]
fn a_series_without_samples_survives_one_truncation() {
    let h = head(0, 0);
    let (r, _) = h.get_or_create_series(up("a")).unwrap();
    assert_eq!(h.truncate_before(0), 0);
    assert_eq!(h.num_series(), 1);
    assert_eq!(h.truncate_before(0), 1);
    assert_eq!(h.num_series(), 0);
    assert!(h.append(r, 1, 1.0).is_err());
}

#[test]
fn restore_series_keeps_refs_and_new_refs_continue_above() {
    let h = head(0, 1);
    h.restore_series(7, up("a")).unwrap();
    h.restore_series(3, up("b")).unwrap();
    // Idempotent for the same pair; max_series does not apply to restored series.
    h.restore_series(7, up("a")).unwrap();
    assert_eq!(h.num_series(), 2);
    assert_eq!(h.get_or_create_series(up("a")).unwrap(), (7, false));
    h.append(3, 100, 1.0).unwrap();
    assert_eq!(samples_of(&h, &up("b"), 0, 1000), [(100, 1.0)]);
    assert!(matches!(
        h.restore_series(7, up("c")),
        Err(TsdbError::SeriesRefConflict { .. })
    ));
    assert!(matches!(
        h.restore_series(9, up("a")),
        Err(TsdbError::LabelsConflict { .. })
    ));
    assert_eq!(
        h.restore_series(0, up("z")),
        Err(TsdbError::ReservedSeriesRef)
    );

    let unlimited = head(0, 0);
    unlimited.restore_series(7, up("a")).unwrap();
    let (fresh, created) = unlimited.get_or_create_series(up("new")).unwrap();
    assert!(created);
    assert_eq!(fresh, 8);
}

#[test]
fn for_each_series_snapshots_all_samples_in_ref_order() {
    let h = head(1000, 0);
    h.append_series(up("a"), &[(10, 1.0), (30, 3.0), (20, 2.0)])
        .unwrap();
    h.append_series(up("b"), &[(5, 5.0)]).unwrap();
    h.get_or_create_series(up("empty")).unwrap();
    let mut seen = Vec::new();
    h.for_each_series(|r, l, s, _| seen.push((r, l.clone(), s.to_vec())));
    assert_eq!(
        seen,
        [
            (1, up("a"), vec![(10, 1.0), (20, 2.0), (30, 3.0)]),
            (2, up("b"), vec![(5, 5.0)]),
        ]
    );
}

#[test]
fn concurrent_appends_to_disjoint_series_are_all_visible() {
    let h = Arc::new(head(0, 0));
    let workers: Vec<_> = (0..2)
        .map(|worker| {
            let h = Arc::clone(&h);
            std::thread::spawn(move || {
                for s in 0..50 {
                    let (r, _) = h
                        .get_or_create_series(up(&format!("w{worker}-s{s}")))
                        .unwrap();
                    for t in 0..300 {
                        h.append(r, t, (worker * 1000 + t) as f64).unwrap();
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    let page = h.select(&[re("job", "w.*")], i64::MIN, i64::MAX, None, 0);
    assert_eq!(page.series.len(), 100);
    assert!(page.series.iter().all(|s| s.samples.len() == 300));
    assert!(page.series.windows(2).all(|w| w[0].labels < w[1].labels));
    assert_eq!((h.min_time(), h.max_time()), (Some(0), Some(299)));
}

#[test]
fn series_are_found_from_borrowed_pairs() {
    let h = head(0, 0);
    let (a, _) = h
        .get_or_create_series(Labels::from_pairs([("__name__", "up"), ("job", "a")]))
        .unwrap();
    assert_eq!(
        h.series_ref_for_pairs(&[("__name__", "up"), ("job", "a")]),
        Some(a)
    );
    assert_eq!(
        h.series_ref_for_pairs(&[("__name__", "up"), ("job", "b")]),
        None
    );
    assert_eq!(h.series_ref_for_pairs(&[("__name__", "up")]), None);
    h.append(a, 1, 1.0).unwrap();
    assert_eq!(h.truncate_before(10), 1);
    assert_eq!(
        h.series_ref_for_pairs(&[("__name__", "up"), ("job", "a")]),
        None
    );
}

#[test]
fn series_whose_hashes_collide_are_told_apart_and_removed_cleanly() {
    let mut index = Index::default();
    let sets: Vec<Labels> = ["a", "b", "c"]
        .iter()
        .map(|value| Labels::from_pairs([("__name__", "up"), ("job", *value)]))
        .collect();
    for (series_ref, labels) in (1..).zip(&sets) {
        index.insert_hashed(series_ref, labels, 42);
    }
    let find = |index: &Index, labels: &Labels| index.find(42, |key| key.matches(labels));
    assert_eq!(
        sets.iter().map(|l| find(&index, l)).collect::<Vec<_>>(),
        [Some(1), Some(2), Some(3)]
    );
    assert_eq!(index.find(7, |key| key.matches(&sets[0])), None);

    // Removing the series in the main table promotes a colliding one.
    index.labels.remove(&1);
    index.remove_hashed(1, 42);
    assert_eq!(find(&index, &sets[0]), None);
    assert_eq!(find(&index, &sets[1]), Some(2));
    assert_eq!(find(&index, &sets[2]), Some(3));
    index.labels.remove(&3);
    index.remove_hashed(3, 42);
    assert_eq!(find(&index, &sets[1]), Some(2));
    assert_eq!(find(&index, &sets[2]), None);
    assert!(index.collisions.is_empty());
    index.labels.remove(&2);
    index.remove_hashed(2, 42);
    assert!(index.by_hash.is_empty() && index.collisions.is_empty());
}

#[test]
fn refs_of_many_series_agree_with_one_at_a_time() {
    let head = head(0, 0);
    let known = [up("a"), up("b"), labels(&[("__name__", "x"), ("le", "1")])];
    for one in &known {
        head.get_or_create_series(one.clone()).unwrap();
    }
    let as_pairs = |set: &Labels| -> Vec<(String, String)> {
        set.iter()
            .map(|l| (l.name.to_string(), l.value.to_string()))
            .collect()
    };
    let asked: Vec<Vec<(String, String)>> = vec![
        as_pairs(&known[1]),
        as_pairs(&up("missing")),
        as_pairs(&known[0]),
        Vec::new(),
        as_pairs(&known[2]),
        as_pairs(&known[1]),
    ];
    let mut refs = Vec::new();
    head.series_refs_for_pairs(asked.iter().map(Vec::as_slice), &mut refs);
    let one_at_a_time: Vec<Option<SeriesRef>> = asked
        .iter()
        .map(|pairs| head.series_ref_for_pairs(pairs))
        .collect();
    assert_eq!(refs, one_at_a_time);
    assert_eq!(refs.iter().filter(|r| r.is_some()).count(), 4);
    assert_eq!(refs[0], refs[5]);

    // A series whose hash collides with another's is found through the collision table.
    let collided = up("c");
    {
        let mut index = head.index.write();
        let hash = crate::series_key::index_hash_of(&collided);
        index.insert_hashed(98, &up("decoy"), hash);
        index.insert_hashed(99, &collided, hash);
    }
    let pairs = as_pairs(&collided);
    let mut refs = Vec::new();
    head.series_refs_for_pairs([pairs.as_slice()].into_iter(), &mut refs);
    assert_eq!(refs, [Some(99)]);
}

/// A series as (ref, labels, samples as (time, value bits)).
type Contents = (SeriesRef, Labels, Vec<(i64, u64)>);

/// Every series' data, for comparing heads.
fn contents(head: &Head) -> Vec<Contents> {
    let mut all = Vec::new();
    head.for_each_series(|series_ref, labels, samples, _| {
        let samples = samples.iter().map(|(t, v)| (*t, v.to_bits())).collect();
        all.push((series_ref, labels.clone(), samples));
    });
    all
}

proptest::proptest! {
    #[test]
    fn appending_many_is_appending_each_in_order(
        window_ms in proptest::prop_oneof![proptest::strategy::Just(0i64), 1i64..50],
        samples in proptest::collection::vec((0usize..6, 0i64..100, 0u8..3), 0..60),
    ) {
        let one_by_one = head(window_ms, 0);
        let many = head(window_ms, 0);
        let mut refs = Vec::new();
        for job in ["a", "b", "c", "d", "e"] {
            let (series_ref, _) = one_by_one.get_or_create_series(up(job)).unwrap();
            many.get_or_create_series(up(job)).unwrap();
            refs.push(series_ref);
        }
        // Index 5 is a ref no series has.
        refs.push(1_000);
        let batch: Vec<(SeriesRef, i64, f64)> = samples
            .iter()
            .map(|(series, t, v)| (refs[*series], *t, f64::from(*v)))
            .collect();
        let expected: Vec<_> = batch
            .iter()
            .map(|(series_ref, t, v)| one_by_one.append(*series_ref, *t, *v))
            .collect();
        let mut outcomes = Vec::new();
        many.append_many(&batch, &mut outcomes);
        proptest::prop_assert_eq!(outcomes, expected);
        proptest::prop_assert_eq!(contents(&many), contents(&one_by_one));
        proptest::prop_assert_eq!(many.min_time(), one_by_one.min_time());
        proptest::prop_assert_eq!(many.max_time(), one_by_one.max_time());
    }
}

#[test]
fn refs_of_more_series_than_one_lookup_batch_come_back_in_order() {
    let head = head(0, 0);
    let jobs: Vec<String> = (0..3 * LOOKUP_BATCH + 5).map(|i| i.to_string()).collect();
    let mut expected = Vec::new();
    for (i, job) in jobs.iter().enumerate() {
        // Every third series is missing.
        if i % 3 == 0 {
            expected.push(None);
        } else {
            expected.push(Some(head.get_or_create_series(up(job)).unwrap().0));
        }
    }
    let asked: Vec<[(&str, &str); 2]> = jobs
        .iter()
        .map(|job| [("__name__", "up"), ("job", job.as_str())])
        .collect();
    let mut refs = Vec::new();
    head.series_refs_for_pairs(asked.iter().map(|pairs| &pairs[..]), &mut refs);
    assert_eq!(refs, expected);
}

/// Regex matchers on labels with many values are checked on the candidates of the other matchers
/// (see `Index::matching`); the answer must be what the postings give, whatever the mix of matchers.
#[test]
fn regexes_on_labels_with_many_values_select_what_the_postings_select() {
    let h = head(0, 0);
    let values = 2048;
    for i in 0..values {
        let series = i.to_string();
        let name = format!("metric_{}", i % 10);
        let ls = if i % 3 == 0 {
            labels(&[("__name__", &name), ("series", &series)])
        } else {
            labels(&[("__name__", &name), ("series", &series), ("zone", "a")])
        };
        let (r, _) = h.get_or_create_series(ls).unwrap();
        h.append(r, 1, 1.0).unwrap();
    }
    let not_re =
        |name: &str, value: &str| Matcher::new(MatchOp::RegexNoMatch, name, value).unwrap();
    let cases: Vec<Vec<Matcher>> = vec![
        vec![eq("__name__", "metric_7"), re("series", ".*7")],
        vec![re("__name__", "metric_[12]"), re("series", "1.*|.*9")],
        vec![eq("__name__", "metric_3"), not_re("series", ".*[02468]")],
        vec![eq("__name__", "metric_3"), re("series", "")],
        vec![
            eq("__name__", "metric_4"),
            not_re("zone", "a"),
            re("series", ".*4"),
        ],
        vec![re("series", ".*77")],
        vec![not_re("zone", "a"), re("series", "1.*")],
        vec![re("__name__", ".+"), re("series", ".*5")],
    ];
    let all = h.select(&[], 0, 10, None, 0).series;
    assert_eq!(all.len(), values);
    for matchers in cases {
        let mut expected: Vec<Labels> = all
            .iter()
            .filter(|s| matchers.iter().all(|m| m.matches_labels(&s.labels)))
            .map(|s| s.labels.clone())
            .collect();
        expected.sort();
        let got: Vec<Labels> = h
            .select(&matchers, 0, 10, None, 0)
            .series
            .into_iter()
            .map(|s| s.labels)
            .collect();
        assert_eq!(got, expected, "matchers {matchers:?}");
    }
}

#[test]
fn a_kept_selection_serves_until_a_series_is_created_or_removed() {
    let h = head(0, 0);
    let create = |job: &str, t: i64| {
        let (r, _) = h.get_or_create_series(up(job)).unwrap();
        h.append(r, t, 1.0).unwrap();
    };
    create("a", 10);
    create("b", 10);
    let jobs = |s: &Selection| -> Vec<String> {
        s.candidates
            .iter()
            .map(|(l, _)| l.get("job").unwrap().to_string())
            .collect()
    };
    let first = h.selection(&[eq("__name__", "up")]);
    // Same matchers, in any order, unchanged index: the very same selection.
    let again = h.selection(&[eq("__name__", "up")]);
    assert!(Arc::ptr_eq(&first, &again));
    // Appending to existing series changes nothing the selection depends on.
    let (a, _) = h.get_or_create_series(up("a")).unwrap();
    h.append(a, 20, 2.0).unwrap();
    assert!(Arc::ptr_eq(&first, &h.selection(&[eq("__name__", "up")])));
    // A new series is seen at once.
    create("c", 30);
    let with_c = h.selection(&[eq("__name__", "up")]);
    assert_eq!(jobs(&with_c), ["a", "b", "c"]);
    // A removed series is gone at once.
    assert!(h.truncate_before(25) > 0);
    assert_eq!(jobs(&h.selection(&[eq("__name__", "up")])), ["c"]);
}

fn histograms_of(head: &Head, labels: &Labels, mint: i64, maxt: i64) -> Vec<(i64, Vec<u8>)> {
    let matchers: Vec<Matcher> = labels.iter().map(|l| eq(&l.name, &l.value)).collect();
    let page = head.select(&matchers, mint, maxt, None, 0);
    page.series
        .into_iter()
        .find(|s| s.labels == *labels)
        .map(|s| s.histograms.iter().map(|(t, h)| (*t, h.to_vec())).collect())
        .unwrap_or_default()
}

#[test]
fn histograms_follow_the_append_rules_on_one_time_line_with_floats() {
    let h = head(0, 0);
    let (r, _) = h.get_or_create_series(up("h")).unwrap();
    assert_eq!(h.append_histogram(r, 10, b"a"), Ok(AppendOutcome::InOrder));
    assert_eq!(h.append_histogram(r, 20, b"b"), Ok(AppendOutcome::InOrder));
    // An exact duplicate is ignored; other content at that timestamp is refused.
    assert_eq!(
        h.append_histogram(r, 20, b"b"),
        Ok(AppendOutcome::Duplicate)
    );
    assert!(matches!(
        h.append_histogram(r, 20, b"c"),
        Err(AppendError::DuplicateTimestamp { timestamp: 20, .. })
    ));
    // A float after the newest histogram is in order; at or before it, it is not.
    assert_eq!(h.append(r, 30, 1.0), Ok(AppendOutcome::InOrder));
    assert!(matches!(
        h.append(r, 25, 1.0),
        Err(AppendError::OutOfOrder { timestamp: 25, .. })
    ));
    assert!(matches!(
        h.append_histogram(r, 30, b"d"),
        Err(AppendError::DuplicateTimestamp { timestamp: 30, .. })
    ));
    assert!(matches!(
        h.append_histogram(r, 29, b"d"),
        Err(AppendError::OutOfOrder { timestamp: 29, .. })
    ));
    assert_eq!(h.append_histogram(r, 40, b"e"), Ok(AppendOutcome::InOrder));
    assert!(matches!(
        h.append(r, 40, 1.0),
        Err(AppendError::DuplicateTimestamp { timestamp: 40, .. })
    ));
    assert!(matches!(
        h.append(r, 35, 1.0),
        Err(AppendError::OutOfOrder { timestamp: 35, .. })
    ));
    assert_eq!(samples_of(&h, &up("h"), 0, 100), [(30, 1.0)]);
    assert_eq!(
        histograms_of(&h, &up("h"), 15, 40),
        [(20, b"b".to_vec()), (40, b"e".to_vec())]
    );
    assert_eq!(h.min_time(), Some(10));
    assert_eq!(h.max_time(), Some(40));
}

#[test]
fn histograms_out_of_order_inside_the_window() {
    let h = head(100, 0);
    let (r, _) = h.get_or_create_series(up("h")).unwrap();
    h.append_histogram(r, 200, b"a").unwrap();
    h.append(r, 150, 2.0).unwrap();
    assert_eq!(
        h.append_histogram(r, 120, b"b"),
        Ok(AppendOutcome::OutOfOrder)
    );
    assert_eq!(
        h.append_histogram(r, 120, b"b"),
        Ok(AppendOutcome::Duplicate)
    );
    assert!(matches!(
        h.append_histogram(r, 150, b"b"),
        Err(AppendError::DuplicateTimestamp { timestamp: 150, .. })
    ));
    assert!(matches!(
        h.append(r, 120, 1.0),
        Err(AppendError::DuplicateTimestamp { timestamp: 120, .. })
    ));
    assert!(matches!(
        h.append_histogram(r, 99, b"c"),
        Err(AppendError::TooOldSample { timestamp: 99, .. })
    ));
    assert_eq!(
        histograms_of(&h, &up("h"), 0, 1000),
        [(120, b"b".to_vec()), (200, b"a".to_vec())]
    );
}

#[test]
fn histogram_only_series_are_selected_listed_truncated_and_snapshotted() {
    let h = head(0, 0);
    let (r, _) = h.get_or_create_series(up("h")).unwrap();
    for t in [10, 20, 30] {
        h.append_histogram(r, t, &[t as u8]).unwrap();
    }
    let (floats, _) = h.get_or_create_series(up("f")).unwrap();
    h.append(floats, 5, 1.0).unwrap();
    assert_eq!(
        h.series(&[eq("__name__", "up")], 11, 19),
        Vec::<Labels>::new()
    );
    assert_eq!(h.series(&[eq("__name__", "up")], 20, 20), vec![up("h")]);
    assert_eq!(h.label_values("job", &[], 25, 40), vec!["h".to_string()]);
    let page = h.select(&[eq("__name__", "up")], 0, 100, None, 0);
    assert_eq!(page.series.len(), 2);
    assert!(page.series[1].samples.is_empty());
    assert_eq!(page.series[1].histograms.len(), 3);

    let mut seen = Vec::new();
    h.for_each_series(|series_ref, _, samples, histograms| {
        seen.push((series_ref, samples.len(), histograms.len()));
    });
    assert_eq!(seen, [(r, 0, 3), (floats, 1, 0)]);

    assert_eq!(h.truncate_before(20), 1, "the float series is gone");
    assert_eq!(
        histograms_of(&h, &up("h"), 0, 100),
        [(20, vec![20]), (30, vec![30])]
    );
    assert_eq!(h.min_time(), Some(20));
    assert_eq!(h.truncate_before(31), 1);
    assert_eq!(h.num_series(), 0);
}
