//! Conformance: every Forge limit is a typed error whose message states the limit, checked
//! before the database is touched.

use std::time::Duration;

use platform::store::{Condition, Kv, MAX_KEY_LEN, MAX_VALUE_BYTES, StoreError};
use secrecy::SecretString;

use crate::harness::{Ctx, app, site};

fn kv(ctx: &Ctx) -> Kv {
    ctx.store.kv(&site("limits"), &app("platform"))
}

async fn key_limits(ctx: &Ctx) {
    let kv = kv(ctx);
    let longest = "k".repeat(MAX_KEY_LEN);
    kv.set(&longest, &1).await.unwrap();
    assert_eq!(kv.get::<i32>(&longest).await.unwrap(), Some(1));

    let too_long = "k".repeat(501);
    let err = kv.set(&too_long, &1).await.unwrap_err();
    assert!(
        err.to_string()
            .ends_with("is 501 characters; the limit is 500"),
        "{err}"
    );
    assert!(matches!(
        err,
        StoreError::KeyTooLong {
            len: 501,
            max: 500,
            ..
        }
    ));
    assert!(
        err.to_string().len() < 200,
        "long keys are shortened in messages: {err}"
    );

    for (key, want) in [
        ("", "key is empty; a key is 1 to 500 characters"),
        ("   ", "is only spaces"),
        ("a/b", "contains '/' at position 1"),
        ("ümlaut", "contains 'ü' at position 0"),
        ("tab\tkey", "contains '\\t' at position 3"),
    ] {
        for err in [
            kv.get::<i32>(key).await.unwrap_err(),
            kv.set(key, &1).await.unwrap_err(),
            kv.delete(key).await.unwrap_err(),
            kv.get_secret(key).await.unwrap_err(),
            kv.set_secret(key, &SecretString::from("x"))
                .await
                .unwrap_err(),
            kv.delete_secret(key).await.unwrap_err(),
            kv.transaction()
                .check(key, Condition::Absent)
                .commit()
                .await
                .unwrap_err(),
        ] {
            assert!(err.is_invalid_input(), "{err}");
            assert!(err.to_string().contains(want), "{key:?}: {err}");
        }
    }
    // every allowed character works
    for key in ["A-Z_a.z:0 9#", " leading", "trailing ", "#", "-", "."] {
        kv.set(key, &key).await.unwrap();
        assert_eq!(kv.get::<String>(key).await.unwrap().as_deref(), Some(key));
    }
}

async fn value_limit(ctx: &Ctx) {
    let kv = kv(ctx);
    // a JSON string of n characters serializes to n + 2 bytes
    let biggest = "x".repeat(MAX_VALUE_BYTES - 2);
    assert_eq!(kv.set("big", &biggest).await.unwrap(), 1);
    assert_eq!(
        kv.get::<String>("big").await.unwrap().map(|s| s.len()),
        Some(MAX_VALUE_BYTES - 2)
    );
    let too_big = "x".repeat(MAX_VALUE_BYTES - 1);
    let err = kv.set("big", &too_big).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "value for key \"big\" is 245761 bytes of JSON; the limit is 245760 bytes"
    );
    let err = kv
        .transaction()
        .set("big", &too_big)
        .commit()
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::ValueTooLarge { size: 245_761, .. }),
        "{err}"
    );
    assert!(matches!(
        kv.set_many(&[("big", &too_big)]).await,
        Err(StoreError::ValueTooLarge { .. })
    ));
    assert_eq!(
        kv.get_entry::<String>("big")
            .await
            .unwrap()
            .unwrap()
            .version,
        1,
        "nothing written"
    );

    // multi-byte characters count as bytes
    let euros = "€".repeat(MAX_VALUE_BYTES / 3);
    assert!(matches!(
        kv.set("euros", &euros).await,
        Err(StoreError::ValueTooLarge { .. })
    ));
    let err = kv
        .set_secret("s", &SecretString::from("y".repeat(MAX_VALUE_BYTES + 1)))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("245761 bytes; the limit is 245760 bytes"),
        "{err}"
    );

    // values that cannot be JSON are a typed error, not a panic
    let err = kv.set("nan", &f64::NAN).await;
    assert!(err.is_ok() || matches!(err, Err(StoreError::Serialize { .. })));
    let mut map = std::collections::HashMap::new();
    map.insert((1, 2), "tuple keys cannot be JSON object keys");
    assert!(matches!(
        kv.set("map", &map).await,
        Err(StoreError::Serialize { .. })
    ));
}

async fn query_and_transaction_limits(ctx: &Ctx) {
    let kv = kv(ctx);
    for start in (0..105).step_by(20) {
        let items: Vec<(String, i32)> = (start..(start + 20).min(105))
            .map(|j| (format!("q:{j:03}"), j))
            .collect();
        kv.set_many(&items).await.unwrap();
    }
    assert_eq!(
        kv.query()
            .begins_with("q:")
            .fetch()
            .await
            .unwrap()
            .entries
            .len(),
        20,
        "default is 20"
    );
    assert_eq!(
        kv.query()
            .begins_with("q:")
            .limit(100)
            .fetch()
            .await
            .unwrap()
            .entries
            .len(),
        100
    );
    assert_eq!(
        kv.query()
            .begins_with("q:")
            .limit(1)
            .fetch()
            .await
            .unwrap()
            .entries
            .len(),
        1
    );
    for bad in [0, 101, u32::MAX] {
        let err = kv.query().limit(bad).fetch().await.unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("query limit {bad} is out of range; the limit is 1 to 100")
        );
    }
    let err = kv.query().begins_with("q/").fetch().await.unwrap_err();
    assert!(matches!(err, StoreError::InvalidPrefix { .. }), "{err}");
    assert!(err.to_string().contains("'/'"), "{err}");

    let mut tx = kv.transaction();
    for i in 0..5 {
        tx = tx
            .check(&format!("q:{i:03}"), Condition::Present)
            .set(&format!("t:{i}"), &i);
    }
    assert_eq!(tx.len(), 10);
    assert_eq!(tx.commit().await.unwrap().len(), 5);
    let mut tx = kv.transaction().delete("t:0");
    for i in 0..10 {
        tx = tx.set(&format!("u:{i}"), &i);
    }
    let err = tx.commit().await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "transaction has 11 operations and conditions; the limit is 10"
    );
    assert_eq!(
        kv.get::<i32>("t:0").await.unwrap(),
        Some(0),
        "nothing written"
    );
    assert_eq!(kv.get::<i32>("u:0").await.unwrap(), None, "nothing written");
    assert!(kv.transaction().commit().await.unwrap().is_empty());
}

/// Limits are checked before the database: with the pools closed, bad input still gets
/// its own error, not a database error.
async fn validation_before_database(ctx: &Ctx) {
    let kv = kv(ctx);
    ctx.store.close().await;
    let long = "k".repeat(501);
    assert!(matches!(
        kv.get::<i32>(&long).await,
        Err(StoreError::KeyTooLong { .. })
    ));
    assert!(matches!(
        kv.set("k", &"x".repeat(MAX_VALUE_BYTES)).await,
        Err(StoreError::ValueTooLarge { .. })
    ));
    assert!(matches!(
        kv.query().limit(0).fetch().await,
        Err(StoreError::QueryLimit { .. })
    ));
    assert!(matches!(
        kv.query().cursor("bogus").fetch().await,
        Err(StoreError::InvalidCursor { .. })
    ));
    assert!(matches!(
        kv.set_with_ttl("k", &1, Duration::from_secs(400 * 86_400))
            .await,
        Err(StoreError::TtlOutOfRange { .. })
    ));
    let keys: Vec<String> = (0..21).map(|i| i.to_string()).collect();
    assert!(matches!(
        kv.delete_many(&keys).await,
        Err(StoreError::BatchTooLarge { .. })
    ));
    // and a valid call reports the database problem as such
    assert!(matches!(
        kv.get::<i32>("k").await,
        Err(StoreError::Database { .. })
    ));
}

conformance!(
    key_limits,
    value_limit,
    query_and_transaction_limits,
    validation_before_database
);
