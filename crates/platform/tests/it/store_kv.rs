//! Conformance: get/set/delete, typed and raw JSON access, versions, batches, TTL expiry.

use std::time::Duration;

use platform::store::{Condition, StoreError, WriteOutcome};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::harness::{Ctx, app, site};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Ticket {
    id: u64,
    title: String,
    tags: Vec<String>,
    due: Option<String>,
}

fn ticket(id: u64) -> Ticket {
    Ticket {
        id,
        title: format!("Printer on floor {id} jams — ünïcode ✓"),
        tags: vec!["a".into()],
        due: None,
    }
}

async fn get_set_delete(ctx: &Ctx) {
    let kv = ctx.store.kv(&site("site-1"), &app("techdesk"));
    assert_eq!(kv.get::<Ticket>("ticket:1").await.unwrap(), None);
    assert_eq!(kv.set("ticket:1", &ticket(1)).await.unwrap(), 1);
    assert_eq!(kv.get::<Ticket>("ticket:1").await.unwrap(), Some(ticket(1)));
    let entry = kv.get_entry::<Ticket>("ticket:1").await.unwrap().unwrap();
    assert_eq!(
        (entry.key.as_str(), entry.version, entry.expires_at),
        ("ticket:1", 1, None)
    );

    // raw JSON access sees the same value
    let raw = kv.get_json("ticket:1").await.unwrap().unwrap();
    assert_eq!(raw["title"], json!(ticket(1).title));
    assert_eq!(
        kv.set_json("raw", &json!([1, 2.5, "x", null, {"b": true}]))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        kv.get_json("raw").await.unwrap(),
        Some(json!([1, 2.5, "x", null, {"b": true}]))
    );

    // a value of the wrong type is a typed error naming the key
    let err = kv.get::<Ticket>("raw").await.unwrap_err();
    assert!(
        matches!(err, StoreError::Deserialize { ref key, .. } if key == "raw"),
        "{err}"
    );

    assert!(kv.delete("ticket:1").await.unwrap());
    assert!(!kv.delete("ticket:1").await.unwrap());
    assert_eq!(kv.get::<Ticket>("ticket:1").await.unwrap(), None);
}

async fn versions(ctx: &Ctx) {
    let kv = ctx.store.kv(&site("site-1"), &app("dispatch"));
    for expected in 1..=5 {
        assert_eq!(kv.set("counter", &expected).await.unwrap(), expected);
    }
    let e = kv.get_entry::<i64>("counter").await.unwrap().unwrap();
    assert_eq!((e.value, e.version), (5, 5));
    // deleting and creating again starts over at 1
    kv.delete("counter").await.unwrap();
    assert_eq!(kv.set("counter", &0).await.unwrap(), 1);
    // batch and transaction writes bump versions the same way
    assert_eq!(
        kv.set_many(&[("counter", 1), ("other", 1)]).await.unwrap(),
        vec![2, 1]
    );
    let out = kv.transaction().set("counter", &2).commit().await.unwrap();
    assert_eq!(out, vec![WriteOutcome::Set { version: 3 }]);
}

async fn batches(ctx: &Ctx) {
    let kv = ctx.store.kv(&site("site-1"), &app("techdesk"));
    let items: Vec<(String, u32)> = (0..20).map(|i| (format!("b:{i:02}"), i)).collect();
    let versions = kv.set_many(&items).await.unwrap();
    assert_eq!(versions, vec![1; 20]);

    let got = kv
        .get_many::<u32, _>(&["b:03", "missing", "b:19", "b:03"])
        .await
        .unwrap();
    let values: Vec<Option<u32>> = got.iter().map(|e| e.as_ref().map(|e| e.value)).collect();
    assert_eq!(values, vec![Some(3), None, Some(19), Some(3)]);
    assert!(kv.get_many::<u32, &str>(&[]).await.unwrap().is_empty());

    let deleted = kv.delete_many(&["b:00", "nope", "b:01"]).await.unwrap();
    assert_eq!(deleted, vec![true, false, true]);
    assert_eq!(kv.get::<u32>("b:00").await.unwrap(), None);

    // over the limit: a typed error stating it, nothing written
    let too_many: Vec<(String, u32)> = (0..21).map(|i| (format!("c:{i:02}"), i)).collect();
    let err = kv.set_many(&too_many).await.unwrap_err();
    assert_eq!(err.to_string(), "batch has 21 keys; the limit is 20");
    assert!(kv.get_many::<u32, _>(&["c:00"]).await.unwrap()[0].is_none());
    let keys: Vec<String> = (0..21).map(|i| format!("b:{i:02}")).collect();
    assert!(matches!(
        kv.get_many::<u32, _>(&keys).await,
        Err(StoreError::BatchTooLarge { len: 21, .. })
    ));
    assert!(matches!(
        kv.delete_many(&keys).await,
        Err(StoreError::BatchTooLarge { .. })
    ));

    // one bad item fails the whole batch before anything is written
    let err = kv.set_many(&[("d:ok", 1), ("d/bad", 2)]).await.unwrap_err();
    assert!(matches!(err, StoreError::KeyInvalidChar { .. }), "{err}");
    assert_eq!(kv.get::<u32>("d:ok").await.unwrap(), None);
}

async fn ttl_expiry(ctx: &Ctx) {
    let s = site("site-ttl");
    let kv = ctx.store.kv(&s, &app("techdesk"));
    assert_eq!(
        kv.set_with_ttl("t:short", &"bye", Duration::from_secs(10))
            .await
            .unwrap(),
        1
    );
    kv.set("t:forever", &"stay").await.unwrap();
    let e = kv.get_entry::<String>("t:short").await.unwrap().unwrap();
    let expires = e.expires_at.expect("has an expiry");
    assert_eq!(expires.as_millisecond(), ctx.clock_now_ms() + 10_000);

    ctx.clock.advance(Duration::from_millis(9_999));
    assert_eq!(
        kv.get::<String>("t:short").await.unwrap().as_deref(),
        Some("bye")
    );
    ctx.clock.advance(Duration::from_millis(1));

    // invisible to every read
    assert_eq!(kv.get::<String>("t:short").await.unwrap(), None);
    assert!(kv.get_many::<String, _>(&["t:short"]).await.unwrap()[0].is_none());
    let page = kv.query().begins_with("t:").fetch().await.unwrap();
    let keys: Vec<&str> = page.entries.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, vec!["t:forever"]);
    let summary = ctx.store.site_summary(&s).await.unwrap();
    assert_eq!(summary.total_entries(), 1);
    // an expired key counts as absent for conditions and deletes
    kv.transaction()
        .check("t:short", Condition::Absent)
        .commit()
        .await
        .unwrap();
    let err = kv
        .transaction()
        .check("t:short", Condition::Present)
        .commit()
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::ConditionFailed { actual: None, .. }),
        "{err}"
    );

    // setting it again creates it afresh (version 1, no TTL unless given)
    kv.set_with_ttl("t:again", &1, Duration::from_secs(1))
        .await
        .unwrap();
    ctx.clock.advance(Duration::from_secs(2));
    assert!(!kv.delete("t:again").await.unwrap());
    kv.set_with_ttl("t:renew", &1, Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(kv.set("t:renew", &2).await.unwrap(), 2);
    ctx.clock.advance(Duration::from_secs(5));
    assert_eq!(
        kv.get::<i32>("t:renew").await.unwrap(),
        Some(2),
        "set without TTL clears the TTL"
    );
    assert_eq!(kv.set("t:short", &"back").await.unwrap(), 1);
    assert_eq!(
        kv.get_entry::<String>("t:short")
            .await
            .unwrap()
            .unwrap()
            .expires_at,
        None
    );

    // a TTL inside a transaction
    kv.transaction()
        .set_with_ttl("t:tx", &1, Duration::from_secs(3))
        .commit()
        .await
        .unwrap();
    ctx.clock.advance(Duration::from_secs(3));
    assert_eq!(kv.get::<i32>("t:tx").await.unwrap(), None);

    // the sweep deletes expired rows only
    kv.set_with_ttl("t:gone1", &1, Duration::from_secs(1))
        .await
        .unwrap();
    kv.set_with_ttl("t:gone2", &1, Duration::from_secs(1))
        .await
        .unwrap();
    ctx.clock.advance(Duration::from_secs(1));
    assert_eq!(ctx.store.purge_expired().await.unwrap(), 3);
    assert_eq!(ctx.store.purge_expired().await.unwrap(), 0);
    assert_eq!(
        kv.get::<String>("t:forever").await.unwrap().as_deref(),
        Some("stay")
    );

    let err = kv
        .set_with_ttl("t:x", &1, Duration::ZERO)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("1 ms to 365 days"), "{err}");
}

impl Ctx {
    fn clock_now_ms(&self) -> i64 {
        use platform::store::Clock;
        self.clock.now_ms()
    }
}

conformance!(get_set_delete, versions, batches, ttl_expiry);
