//! Conformance: prefix queries order by key bytes identically on both backends; pages
//! concatenate to the full ordered set; cursors are opaque, validated and bound to the query.

use std::collections::BTreeSet;

use platform::store::{Kv, StoreError};

use crate::harness::{Ctx, app, site};

/// Keys sharing prefixes and using every allowed punctuation character, so byte order
/// (' ' < '#' < '-' < '.' < digits < ':' < upper < '_' < lower) is really exercised.
fn tricky_keys() -> Vec<String> {
    let stems = [
        "a", "a ", "a#", "a-", "a.", "a:", "a_", "aa", "A", "Z", "0", "9", "a:b", "a:b:c", "a b",
        "z", "_",
    ];
    let tails = [
        "", " ", "#", "-", ".", "0", ":", "A", "_", "a", ":x", " #-._:",
    ];
    let mut keys = BTreeSet::new();
    for s in stems {
        for t in tails {
            let k = format!("{s}{t}");
            if !k.trim().is_empty() {
                keys.insert(k);
            }
        }
    }
    for i in 0..40 {
        keys.insert(format!("user:{i}"));
        keys.insert(format!("user:{i}:profile"));
    }
    keys.into_iter().collect()
}

async fn fill(kv: &Kv, keys: &[String]) {
    for chunk in keys.chunks(20) {
        let items: Vec<(&str, &str)> = chunk.iter().map(|k| (k.as_str(), k.as_str())).collect();
        kv.set_many(&items).await.unwrap();
    }
}

async fn all_pages(kv: &Kv, prefix: &str, limit: u32) -> Vec<String> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut q = kv.query().begins_with(prefix).limit(limit);
        if let Some(c) = cursor.take() {
            q = q.cursor(c);
        }
        let page = q.fetch_as::<String>().await.unwrap();
        assert!(page.entries.len() <= limit as usize);
        for e in &page.entries {
            assert_eq!(e.value, e.key, "values come back with their keys");
            assert_eq!(e.version, 1);
        }
        out.extend(page.entries.into_iter().map(|e| e.key));
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
        assert!(out.len() < 10_000, "paging does not end");
    }
    out
}

async fn ordering_and_paging(ctx: &Ctx) {
    let kv = ctx.store.kv(&site("site-q"), &app("techdesk"));
    let keys = tricky_keys();
    assert!(keys.len() > 250, "{}", keys.len());
    fill(&kv, &keys).await;
    // noise that must never show up: another app and another site with the same keys
    fill(
        &ctx.store.kv(&site("site-q"), &app("dispatch")),
        &keys[..40],
    )
    .await;
    fill(
        &ctx.store.kv(&site("site-other"), &app("techdesk")),
        &keys[..40],
    )
    .await;

    // Rust's String order is byte order, the order both backends must use
    let mut expected = keys.clone();
    expected.sort();
    for prefix in ["", "a", "a:", "a:b", "a ", "user:1", "user:1:", "zz", "A"] {
        let want: Vec<String> = expected
            .iter()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect();
        for limit in [1, 7, 20, 100] {
            let got = all_pages(&kv, prefix, limit).await;
            assert_eq!(got, want, "prefix {prefix:?}, limit {limit}");
        }
    }
    let unique: BTreeSet<&String> = expected.iter().collect();
    assert_eq!(unique.len(), expected.len(), "no duplicates");

    // the last page has no cursor; an exact multiple ends without an empty extra page
    let ten: Vec<String> = (0..10).map(|i| format!("ten:{i}")).collect();
    fill(&kv, &ten).await;
    let page = kv
        .query()
        .begins_with("ten:")
        .limit(10)
        .fetch()
        .await
        .unwrap();
    assert_eq!((page.entries.len(), page.cursor), (10, None));
    let page = kv
        .query()
        .begins_with("ten:")
        .limit(5)
        .fetch()
        .await
        .unwrap();
    let next = kv
        .query()
        .begins_with("ten:")
        .limit(5)
        .cursor(page.cursor.unwrap())
        .fetch()
        .await
        .unwrap();
    assert_eq!((next.entries.len(), next.cursor), (5, None));
    assert_eq!(next.entries[0].key, "ten:5");
}

async fn cursors(ctx: &Ctx) {
    let s = site("site-c");
    let kv = ctx.store.kv(&s, &app("techdesk"));
    let keys: Vec<String> = (0..30).map(|i| format!("p:{i:02}")).collect();
    fill(&kv, &keys).await;
    let page = kv
        .query()
        .begins_with("p:")
        .limit(10)
        .fetch()
        .await
        .unwrap();
    let cursor = page.cursor.expect("more pages");
    assert!(!cursor.contains("p:09"), "cursors are opaque: {cursor}");
    assert!(
        cursor
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
        "{cursor}"
    );

    // writes between pages do not disturb paging: new keys after the cursor appear
    kv.set("p:09a", &"late").await.unwrap();
    let next = kv
        .query()
        .begins_with("p:")
        .limit(10)
        .cursor(cursor.clone())
        .fetch()
        .await
        .unwrap();
    assert_eq!(next.entries[0].key, "p:09a");

    // a cursor is bound to its prefix, site and app
    let bad = [
        kv.query()
            .begins_with("q:")
            .cursor(cursor.clone())
            .fetch()
            .await,
        kv.query().cursor(cursor.clone()).fetch().await,
        ctx.store
            .kv(&site("site-x"), &app("techdesk"))
            .query()
            .begins_with("p:")
            .cursor(cursor.clone())
            .fetch()
            .await,
        ctx.store
            .kv(&s, &app("dispatch"))
            .query()
            .begins_with("p:")
            .cursor(cursor.clone())
            .fetch()
            .await,
    ];
    for r in bad {
        let err = r.unwrap_err();
        assert!(matches!(err, StoreError::InvalidCursor { .. }), "{err}");
        assert!(err.to_string().contains("different query"), "{err}");
    }
    // garbage and tampering are rejected, never a panic
    let mut tampered = cursor.clone();
    tampered.push('A');
    for c in [
        "",
        "!!!",
        "AAAA",
        tampered.as_str(),
        &"Q".repeat(2_000),
        "cDow",
        "€",
    ] {
        let err = kv
            .query()
            .begins_with("p:")
            .cursor(c)
            .fetch()
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::InvalidCursor { .. }),
            "{c:?}: {err}"
        );
    }
}

conformance!(ordering_and_paging, cursors);
