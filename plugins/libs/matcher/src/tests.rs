use proptest::prelude::*;

use super::*;

fn kind(pattern: &str) -> Kind {
    FastRegex::new(pattern).unwrap().kind
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn fast_paths_follow_the_syntax_tree() {
    assert_eq!(kind("api"), Kind::Literal("api".into()));
    assert_eq!(kind(""), Kind::Literal(String::new()));
    assert_eq!(kind("a\\.b"), Kind::Literal("a.b".into()));
    assert_eq!(
        kind("foo|bar|baz"),
        Kind::Set(strings(&["bar", "baz", "foo"]))
    );
    assert_eq!(kind("(foo|bar)"), Kind::Set(strings(&["bar", "foo"])));
    assert_eq!(kind("(?:a|b|c)"), Kind::Set(strings(&["a", "b", "c"])));
    assert_eq!(kind("prod|"), Kind::Set(strings(&["", "prod"])));
    assert_eq!(
        kind("m_1[0-2]"),
        Kind::Set(strings(&["m_10", "m_11", "m_12"]))
    );
    assert_eq!(
        kind("(?i)ab"),
        Kind::Set(strings(&["AB", "Ab", "aB", "ab"]))
    );
    assert_eq!(kind(".*"), Kind::Any);
    assert_eq!(kind("(.*)"), Kind::Any);
    assert_eq!(kind(".*?"), Kind::Any);
    assert_eq!(kind(".+"), Kind::NonEmpty);
    assert_eq!(kind("host-1.*"), Kind::Prefix("host-1".into()));
    assert_eq!(kind(".*7"), Kind::Suffix("7".into()));
    assert_eq!(kind(".*err.*"), Kind::Contains("err".into()));
    // `.` without the `s` flag does not match `\n`: not "everything".
    assert_eq!(kind("(?-s:.*)"), Kind::Regex);
    assert_eq!(kind("(?-s:a.*)"), Kind::Regex);
    assert_eq!(kind("[a-z]+"), Kind::Regex);
    assert_eq!(kind("^foo$"), Kind::Regex);
    assert_eq!(kind("a)|(b"), Kind::Regex);
}

#[test]
fn prefixes_and_suffixes_are_required() {
    let re = FastRegex::new("api-[0-9]+-x").unwrap();
    assert_eq!(re.kind, Kind::Regex);
    assert_eq!(re.literal_prefix(), "api-");
    assert_eq!(re.suffix, "-x");
    assert!(re.is_match("api-12-x"));
    assert!(!re.is_match("api--x"));
    assert!(!re.is_match("api-x"));
    assert_eq!(
        FastRegex::new("host-1.*").unwrap().literal_prefix(),
        "host-1"
    );
    assert_eq!(FastRegex::new("m_1[0-9]").unwrap().literal_prefix(), "m_1");
    assert_eq!(FastRegex::new(".*7").unwrap().literal_prefix(), "");
    assert_eq!(FastRegex::new("a|b").unwrap().literal_prefix(), "");
}

#[test]
fn set_matches_are_exposed() {
    let re = FastRegex::new("b|a|b").unwrap();
    assert_eq!(re.set_matches(), Some(&strings(&["a", "b"])[..]));
    assert_eq!(
        FastRegex::new("api").unwrap().set_matches(),
        Some(&strings(&["api"])[..])
    );
    assert_eq!(FastRegex::new("a.*").unwrap().set_matches(), None);
    // Too many to be a set.
    assert_eq!(FastRegex::new("[a-z][a-z]").unwrap().set_matches(), None);
}

#[test]
fn anchored_and_dot_matches_newline() {
    let re = FastRegex::new("a|b").unwrap();
    assert!(re.is_match("a") && !re.is_match("ab"));
    assert!(FastRegex::new(".*").unwrap().is_match("a\nb"));
    assert!(FastRegex::new("a.c").unwrap().is_match("a\nc"));
    assert!(!FastRegex::new("(?-s:a.c)").unwrap().is_match("a\nc"));
}

#[test]
fn errors_are_those_of_the_anchored_regex() {
    for pattern in ["(", "[a-", "a{2,1}", "(?P<x>a)(?P<x>b)", "\\p{Nope}"] {
        let ours = FastRegex::new(pattern).unwrap_err().to_string();
        let theirs = regex::Regex::new(&format!("^(?s:{pattern})$"))
            .unwrap_err()
            .to_string();
        assert_eq!(ours, theirs);
        assert_eq!(compile(pattern).unwrap_err().to_string(), theirs);
    }
}

#[test]
fn a_pattern_that_escapes_the_group_has_a_standalone_error() {
    let pattern = "a)|(b";
    let re = FastRegex::new(pattern).unwrap();
    let standalone = regex::Regex::new(std::hint::black_box(pattern))
        .unwrap_err()
        .to_string();
    assert_eq!(
        re.standalone_error().map(|e| e.to_string()),
        Some(standalone)
    );
    assert!(re.is_match("a)|(b") || !re.is_match("zzz"));
    assert!(FastRegex::new("a|b").unwrap().standalone_error().is_none());
}

#[test]
fn the_cache_shares_compiled_matchers() {
    let a = compile("cache-test-[0-9]+").unwrap();
    let b = compile("cache-test-[0-9]+").unwrap();
    assert!(Arc::ptr_eq(&a, &b));
}

#[test]
fn the_cache_is_bounded_and_promotes_old_hits() {
    let mut cache = Cache::default();
    let first = Arc::new(FastRegex::new("first").unwrap());
    cache.insert(Arc::clone(&first));
    for i in 0..CACHE_GENERATION {
        cache.insert(Arc::new(FastRegex::new(&format!("p{i}")).unwrap()));
    }
    // `first` moved to the old generation; a hit promotes it.
    assert!(!cache.current.contains_key("first"));
    assert!(Arc::ptr_eq(&cache.get("first").unwrap(), &first));
    assert!(cache.current.contains_key("first"));
    for i in 0..2 * CACHE_GENERATION {
        cache.insert(Arc::new(FastRegex::new(&format!("q{i}")).unwrap()));
    }
    assert!(cache.get("first").is_none());
    assert!(cache.current.len() <= CACHE_GENERATION && cache.old.len() <= CACHE_GENERATION);
}

/// Regex pieces: literals (with metacharacters escaped, newlines and non-ASCII), `.*`, `.+`,
/// classes, optional parts, alternations and groups.
fn pattern() -> impl Strategy<Value = String> {
    let literal = prop::sample::select(vec![
        "a", "b", "ab", "foo", "bar", "x\n", "é", "日本", "1", "-", "\\.", "\\|", "",
    ])
    .prop_map(str::to_string);
    let leaf = prop_oneof![
        4 => literal,
        2 => Just(".*".to_string()),
        2 => Just(".+".to_string()),
        1 => Just(".".to_string()),
        1 => Just("[0-9]".to_string()),
        1 => Just("[a-c]".to_string()),
        1 => Just("[^a]".to_string()),
        1 => Just("(?i)a".to_string()),
        1 => Just("(?-s:.*)".to_string()),
        1 => Just("\\d+".to_string()),
        1 => Just("^".to_string()),
    ];
    leaf.prop_recursive(3, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..4).prop_map(|parts| parts.concat()),
            prop::collection::vec(inner.clone(), 2..4).prop_map(|parts| parts.join("|")),
            prop::collection::vec(inner.clone(), 1..3)
                .prop_map(|parts| format!("({})", parts.join("|"))),
            inner.clone().prop_map(|p| format!("(?:{p})?")),
        ]
    })
}

fn input() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec![
            "a", "b", "ab", "foo", "bar", "\n", "é", "日本", "1", "7", "-", ".", "|", "A", "x",
        ]),
        0..6,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn fast_paths_agree_with_the_regex(pattern in pattern(), inputs in prop::collection::vec(input(), 1..12)) {
        let Ok(reference) = regex::Regex::new(&format!("^(?s:{pattern})$")) else {
            prop_assert!(FastRegex::new(&pattern).is_err());
            return Ok(());
        };
        let fast = FastRegex::new(&pattern).unwrap();
        let mut candidates = inputs;
        // The set's own strings, and the prefix, are interesting inputs too.
        candidates.extend(fast.set_matches().unwrap_or_default().iter().cloned());
        candidates.push(fast.literal_prefix().to_string());
        for value in &candidates {
            let expected = reference.is_match(value);
            prop_assert_eq!(fast.is_match(value), expected, "pattern {:?} value {:?} kind {:?}", pattern, value, fast.kind);
            if expected {
                prop_assert!(value.starts_with(fast.literal_prefix()));
                if let Some(set) = fast.set_matches() {
                    prop_assert!(set.contains(value));
                }
            }
        }
    }
}
