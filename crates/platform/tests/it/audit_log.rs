//! `platform::audit::AuditLog` on both store backends: append-only, newest-first, filters,
//! paging across store pages, cursors, redaction, CSV export, retention purge, isolation.

use std::collections::BTreeSet;
use std::time::Duration;

use futures_util::StreamExt;
use platform::audit::{
    Action, Actor, ActorKind, AuditError, AuditFilter, AuditLog, DEFAULT_RETENTION_DAYS, NewEntry,
    Outcome,
};
use platform::store::SiteId;
use serde_json::json;

use crate::harness::{Ctx, site};

conformance!(
    newest_first_and_append_only,
    filters_match_each_field,
    paging_crosses_store_pages_without_gaps,
    cursors_are_checked,
    detail_is_redacted,
    csv_export_streams_every_match,
    retention_purge_removes_only_old_entries,
);

fn entry(actor: &str, action: Action, target: &str, outcome: Outcome) -> NewEntry {
    NewEntry {
        actor: Actor {
            kind: ActorKind::User,
            id: format!("id-{actor}"),
            display: actor.to_owned(),
        },
        action,
        target: target.to_owned(),
        detail: json!({"n": target}),
        outcome,
        request_id: Some("req-1".into()),
    }
}

async fn record_n(ctx: &Ctx, log: &AuditLog, s: &SiteId, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        let outcome = if i % 2 == 0 {
            Outcome::Ok
        } else {
            Outcome::Denied
        };
        let e = log
            .record(s, entry("Ann", Action::SIGN_IN, &format!("t{i}"), outcome))
            .await
            .unwrap();
        ids.push(e.id);
        ctx.clock.advance(Duration::from_millis(10));
    }
    ids
}

async fn newest_first_and_append_only(ctx: &Ctx) {
    let log = AuditLog::new(ctx.store.clone());
    let s = site("audit-a");
    let ids = record_n(ctx, &log, &s, 5).await;
    let page = log
        .query(&s, &AuditFilter::default(), None, 100)
        .await
        .unwrap();
    let got: Vec<_> = page.entries.iter().map(|e| e.id.clone()).collect();
    let mut expected = ids.clone();
    expected.reverse();
    assert_eq!(got, expected, "newest first");
    assert!(page.entries.windows(2).all(|w| w[0].at_ms >= w[1].at_ms));
    assert_eq!(page.entries[0].target, "t4");
    assert_eq!(page.next_cursor, None);
    // Recording more never changes what is there.
    record_n(ctx, &log, &s, 2).await;
    let again = log
        .query(&s, &AuditFilter::default(), None, 100)
        .await
        .unwrap();
    assert_eq!(again.entries.len(), 7);
    assert_eq!(again.entries[2..], page.entries[..]);
    // Another site sees nothing.
    let other = log
        .query(&site("audit-b"), &AuditFilter::default(), None, 100)
        .await
        .unwrap();
    assert!(other.entries.is_empty());
}

async fn filters_match_each_field(ctx: &Ctx) {
    let log = AuditLog::new(ctx.store.clone());
    let s = site("audit-f");
    let t0 = jiff::Timestamp::now().as_millisecond();
    ctx.clock
        .set(jiff::Timestamp::from_millisecond(t0).unwrap());
    log.record(
        &s,
        entry("Ann Lee", Action::SIGN_IN, "session", Outcome::Ok),
    )
    .await
    .unwrap();
    ctx.clock.advance(Duration::from_secs(3600));
    log.record(
        &s,
        entry(
            "Bob",
            Action::SETTINGS_CHANGE,
            "techdesk.queue",
            Outcome::Ok,
        ),
    )
    .await
    .unwrap();
    ctx.clock.advance(Duration::from_secs(3600));
    log.record(
        &s,
        entry("Bob", Action::JIRA_WRITE, "FS-12", Outcome::Denied),
    )
    .await
    .unwrap();
    let q = |f: AuditFilter| {
        let log = log.clone();
        let s = s.clone();
        async move {
            log.query(&s, &f, None, 100)
                .await
                .unwrap()
                .entries
                .into_iter()
                .map(|e| e.target)
                .collect::<Vec<_>>()
        }
    };
    let f = AuditFilter::default;
    assert_eq!(
        q(AuditFilter {
            action: Some(Action::JIRA_WRITE),
            ..f()
        })
        .await,
        ["FS-12"]
    );
    assert_eq!(
        q(AuditFilter {
            outcome: Some(Outcome::Ok),
            ..f()
        })
        .await,
        ["techdesk.queue", "session"]
    );
    assert_eq!(
        q(AuditFilter {
            actor: Some("ann".into()),
            ..f()
        })
        .await,
        ["session"]
    );
    assert_eq!(
        q(AuditFilter {
            actor: Some("id-Bob".into()),
            ..f()
        })
        .await,
        ["FS-12", "techdesk.queue"]
    );
    assert_eq!(
        q(AuditFilter {
            text: Some("QUEUE".into()),
            ..f()
        })
        .await,
        ["techdesk.queue"]
    );
    assert_eq!(
        q(AuditFilter {
            from_ms: Some(t0 + 1000),
            to_ms: Some(t0 + 3_600_000 + 1000),
            ..f()
        })
        .await,
        ["techdesk.queue"]
    );
    assert!(
        q(AuditFilter {
            from_ms: Some(t0 + 10 * 3_600_000),
            ..f()
        })
        .await
        .is_empty()
    );
}

async fn paging_crosses_store_pages_without_gaps(ctx: &Ctx) {
    let log = AuditLog::new(ctx.store.clone());
    let s = site("audit-p");
    let ids = record_n(ctx, &log, &s, 230).await;
    for (filter, limit, expected) in [
        (
            AuditFilter::default(),
            7u32,
            ids.iter().rev().cloned().collect::<Vec<_>>(),
        ),
        (
            AuditFilter {
                outcome: Some(Outcome::Denied),
                ..AuditFilter::default()
            },
            30,
            ids.iter()
                .enumerate()
                .rev()
                .filter(|(i, _)| i % 2 == 1)
                .map(|(_, id)| id.clone())
                .collect(),
        ),
    ] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = log
                .query(&s, &filter, cursor.as_deref(), limit)
                .await
                .unwrap();
            assert!(page.entries.len() <= limit as usize);
            seen.extend(page.entries.into_iter().map(|e| e.id));
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(seen, expected, "every entry once, newest first");
        assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), seen.len());
    }
}

async fn cursors_are_checked(ctx: &Ctx) {
    let log = AuditLog::new(ctx.store.clone());
    let s = site("audit-c");
    record_n(ctx, &log, &s, 150).await;
    let page = log
        .query(&s, &AuditFilter::default(), None, 100)
        .await
        .unwrap();
    let cursor = page.next_cursor.unwrap();
    for bad in [
        "",
        "v1",
        "v2.0.-",
        "v1.x.-",
        "v1.999.-",
        "v1.0.<script>",
        "v1.0.AAAA",
    ] {
        let r = log.query(&s, &AuditFilter::default(), Some(bad), 10).await;
        assert!(matches!(r, Err(AuditError::InvalidCursor)), "{bad:?}");
    }
    // A cursor of one site does not page another.
    let r = log
        .query(
            &site("audit-c2"),
            &AuditFilter::default(),
            Some(&cursor),
            10,
        )
        .await;
    assert!(matches!(r, Err(AuditError::InvalidCursor)));
}

async fn detail_is_redacted(ctx: &Ctx) {
    let log = AuditLog::new(ctx.store.clone());
    let s = site("audit-r");
    let mut new = entry("Ann", Action::SETTINGS_CHANGE, "credentials", Outcome::Ok);
    new.detail = json!({"email": "svc@example.com", "api_token": "ATATT-secret", "nested": {"clientSecret": "x1"}});
    log.record(&s, new).await.unwrap();
    let stored = ctx
        .store
        .kv(&s, &crate::harness::app("platform"))
        .query()
        .begins_with("audit:")
        .fetch()
        .await
        .unwrap();
    let raw = stored.entries[0].value.to_string();
    assert!(
        !raw.contains("ATATT-secret") && !raw.contains("x1"),
        "{raw}"
    );
    assert!(raw.contains("svc@example.com"));
}

async fn csv_export_streams_every_match(ctx: &Ctx) {
    let log = AuditLog::new(ctx.store.clone());
    let s = site("audit-x");
    record_n(ctx, &log, &s, 120).await;
    let mut evil = entry(
        "=cmd|'/C calc'!A0",
        Action::ADMIN_OVERRIDE,
        "a,\"b\" c",
        Outcome::Error,
    );
    evil.detail = json!({"note": "@SUM(1+1)"});
    log.record(&s, evil).await.unwrap();
    let mut body = String::new();
    let mut stream = std::pin::pin!(log.export_csv(&s, AuditFilter::default()));
    while let Some(chunk) = stream.next().await {
        body.push_str(std::str::from_utf8(&chunk.unwrap()).unwrap());
    }
    let lines: Vec<&str> = body.split("\r\n").collect();
    assert!(lines[0].starts_with("id,at,site,actor_kind,actor_id,actor,action"));
    assert!(body.ends_with("\r\n"));
    // header + 121 rows (one row holds a quoted newline, so count rows by CRLF instead).
    assert_eq!(body.matches("\r\n").count(), 1 + 121);
    assert!(body.contains(",'=cmd|'/C calc'!A0,"), "{}", lines[1]);
    assert!(body.contains("\"a,\"\"b\"\" c\""), "RFC 4180 quoting");
    assert!(body.contains("admin_override"));
    let filtered = log.export_csv(
        &s,
        AuditFilter {
            outcome: Some(Outcome::Error),
            ..AuditFilter::default()
        },
    );
    let chunks: Vec<_> = filtered.collect().await;
    let text: String = chunks
        .into_iter()
        .map(|c| String::from_utf8(c.unwrap().to_vec()).unwrap())
        .collect();
    assert_eq!(
        text.matches("\r\n").count(),
        2,
        "header and the one error row"
    );
}

async fn retention_purge_removes_only_old_entries(ctx: &Ctx) {
    let log = AuditLog::new(ctx.store.clone());
    let s = site("audit-ret");
    assert_eq!(
        log.retention_days(&s).await.unwrap(),
        DEFAULT_RETENTION_DAYS
    );
    let now = jiff::Timestamp::now();
    let at = |days_ago: u64| {
        now.checked_sub(jiff::SignedDuration::from_secs((days_ago * 86_400) as i64))
            .unwrap()
    };
    for (days_ago, target) in [
        (400u64, "old-400"),
        (366, "old-366"),
        (10, "recent-10"),
        (0, "today"),
    ] {
        ctx.clock.set(at(days_ago));
        log.record(&s, entry("Ann", Action::SIGN_IN, target, Outcome::Ok))
            .await
            .unwrap();
    }
    ctx.clock.set(now);
    // Another site's old entries are not touched.
    let other = site("audit-ret2");
    ctx.clock.set(at(500));
    log.record(&other, entry("Ann", Action::SIGN_IN, "other", Outcome::Ok))
        .await
        .unwrap();
    ctx.clock.set(now);
    let targets = |log: AuditLog, s: SiteId| async move {
        log.query(&s, &AuditFilter::default(), None, 100)
            .await
            .unwrap()
            .entries
            .into_iter()
            .map(|e| e.target)
            .collect::<Vec<_>>()
    };
    assert_eq!(log.purge(&s).await.unwrap(), 2);
    assert_eq!(
        targets(log.clone(), s.clone()).await,
        ["today", "recent-10"]
    );
    assert_eq!(log.purge(&s).await.unwrap(), 0, "idempotent");
    log.set_retention_days(&s, 5).await.unwrap();
    assert_eq!(log.purge(&s).await.unwrap(), 1);
    assert_eq!(targets(log.clone(), s.clone()).await, ["today"]);
    assert!(log.set_retention_days(&s, 0).await.is_err());
    assert!(log.set_retention_days(&s, 100_000).await.is_err());
    assert_eq!(targets(log.clone(), other).await, ["other"]);
}
