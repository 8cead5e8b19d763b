//! Conformance: transactions are all-or-nothing, every condition kind works and fails with a
//! typed error, and concurrent transactions from two store instances (two processes' worth
//! of connections) never both win a conflicting condition.

use std::sync::Arc;

use platform::store::{Condition, Keyring, Kv, StoreError, WriteOutcome};

use crate::harness::{Ctx, app, site};

fn kv(ctx: &Ctx) -> Kv {
    ctx.store.kv(&site("site-tx"), &app("dispatch"))
}

async fn all_or_nothing(ctx: &Ctx) {
    let kv = kv(ctx);
    kv.set("existing", &"old").await.unwrap();
    let err = kv
        .transaction()
        .set("a", &1)
        .set("existing", &"new")
        .delete("existing")
        .check("c", Condition::Present)
        .commit()
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "transaction condition failed for key \"c\": expected the key to be present, but the key is absent"
    );
    assert!(
        matches!(err, StoreError::ConditionFailed { ref key, condition: Condition::Present, actual: None } if key == "c")
    );
    assert_eq!(kv.get::<i32>("a").await.unwrap(), None);
    let e = kv.get_entry::<String>("existing").await.unwrap().unwrap();
    assert_eq!((e.value.as_str(), e.version), ("old", 1));

    // success applies every write, in order
    let out = kv
        .transaction()
        .check("existing", Condition::VersionEquals(1))
        .set("a", &1)
        .set("a", &2)
        .delete("existing")
        .delete("never")
        .commit()
        .await
        .unwrap();
    assert_eq!(
        out,
        vec![
            WriteOutcome::Set { version: 1 },
            WriteOutcome::Set { version: 2 },
            WriteOutcome::Deleted { existed: true },
            WriteOutcome::Deleted { existed: false },
        ]
    );
    assert_eq!(kv.get::<i32>("a").await.unwrap(), Some(2));
    assert_eq!(kv.get::<String>("existing").await.unwrap(), None);

    // an input error anywhere in the builder fails the commit before anything is written
    let err = kv
        .transaction()
        .set("b", &1)
        .set("bad/key", &2)
        .commit()
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::KeyInvalidChar { .. }), "{err}");
    assert_eq!(kv.get::<i32>("b").await.unwrap(), None);
}

async fn condition_kinds(ctx: &Ctx) {
    let kv = kv(ctx);
    // absent
    kv.transaction()
        .check("k", Condition::Absent)
        .set("k", &1)
        .commit()
        .await
        .unwrap();
    let err = kv
        .transaction()
        .check("k", Condition::Absent)
        .set("k", &2)
        .commit()
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "transaction condition failed for key \"k\": expected the key to be absent, but the key exists at version 1"
    );
    // present
    kv.transaction()
        .check("k", Condition::Present)
        .set("k", &2)
        .commit()
        .await
        .unwrap();
    let err = kv
        .transaction()
        .check("nope", Condition::Present)
        .set("k", &9)
        .commit()
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::ConditionFailed { actual: None, .. }),
        "{err}"
    );
    // version equals
    kv.transaction()
        .check("k", Condition::VersionEquals(2))
        .set("k", &3)
        .commit()
        .await
        .unwrap();
    let err = kv
        .transaction()
        .check("k", Condition::VersionEquals(2))
        .set("k", &4)
        .commit()
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "transaction condition failed for key \"k\": expected the key to be at version 2, but the key exists at version 3"
    );
    let err = kv
        .transaction()
        .check("nope", Condition::VersionEquals(1))
        .commit()
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::ConditionFailed { actual: None, .. }),
        "{err}"
    );
    assert_eq!(
        kv.get_entry::<i32>("k")
            .await
            .unwrap()
            .map(|e| (e.value, e.version)),
        Some((3, 3))
    );
    // the first failing condition is the one named; nothing is written
    let err = kv
        .transaction()
        .check("k", Condition::Present)
        .check("x", Condition::Present)
        .check("k", Condition::Absent)
        .set("k", &100)
        .commit()
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::ConditionFailed { ref key, .. } if key == "x"),
        "{err}"
    );
    assert_eq!(kv.get::<i32>("k").await.unwrap(), Some(3));
    // conditions only, no writes: a consistent check
    kv.transaction()
        .check("k", Condition::VersionEquals(3))
        .check("nope", Condition::Absent)
        .commit()
        .await
        .unwrap();
}

/// Two store instances race transactions with an "absent" condition on the same key, many
/// times: exactly one wins each round and its value is the one stored.
async fn racing_absent_conditions(ctx: &Ctx) {
    let other = ctx.open(Keyring::ephemeral().unwrap()).await;
    let s = site("site-race");
    let a = ctx.store.kv(&s, &app("dispatch"));
    let b = other.kv(&s, &app("dispatch"));
    for round in 0..60 {
        let key = format!("race:{round:03}");
        let claim = |kv: Kv, who: &'static str, key: String| async move {
            kv.transaction()
                .check(&key, Condition::Absent)
                .set(&key, &who)
                .set(&format!("{key}:by:{who}"), &true)
                .commit()
                .await
        };
        let (ra, rb) = tokio::join!(
            tokio::spawn(claim(a.clone(), "a", key.clone())),
            tokio::spawn(claim(b.clone(), "b", key.clone()))
        );
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        let winner = match (&ra, &rb) {
            (
                Ok(_),
                Err(StoreError::ConditionFailed {
                    actual: Some(1), ..
                }),
            ) => "a",
            (
                Err(StoreError::ConditionFailed {
                    actual: Some(1), ..
                }),
                Ok(_),
            ) => "b",
            other => panic!("round {round}: expected exactly one winner, got {other:?}"),
        };
        assert_eq!(
            a.get::<String>(&key).await.unwrap().as_deref(),
            Some(winner)
        );
        let loser = if winner == "a" { "b" } else { "a" };
        assert_eq!(
            a.get::<bool>(&format!("{key}:by:{loser}")).await.unwrap(),
            None,
            "loser wrote nothing"
        );
    }
}

/// Compare-and-swap increments from two instances lose no update.
async fn no_lost_updates(ctx: &Ctx) {
    let other = ctx.open(Keyring::ephemeral().unwrap()).await;
    let s = site("site-race");
    let kvs = [
        ctx.store.kv(&s, &app("dispatch")),
        other.kv(&s, &app("dispatch")),
    ];
    kvs[0].set("counter", &0u64).await.unwrap();
    let retries = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut tasks = Vec::new();
    for worker in 0..4 {
        let kv = kvs[worker % 2].clone();
        let retries = Arc::clone(&retries);
        tasks.push(tokio::spawn(async move {
            for _ in 0..15 {
                loop {
                    let e = kv.get_entry::<u64>("counter").await.unwrap().unwrap();
                    let r = kv
                        .transaction()
                        .check("counter", Condition::VersionEquals(e.version))
                        .set("counter", &(e.value + 1))
                        .commit()
                        .await;
                    match r {
                        Ok(_) => break,
                        Err(StoreError::ConditionFailed { .. }) => {
                            retries.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                        Err(e) => panic!("{e}"),
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let e = kvs[1].get_entry::<u64>("counter").await.unwrap().unwrap();
    assert_eq!((e.value, e.version), (60, 61));
}

conformance!(
    all_or_nothing,
    condition_kinds,
    racing_absent_conditions,
    no_lost_updates
);
