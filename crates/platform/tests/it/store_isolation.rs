//! Conformance: no API lets one site (or app) read, list, change or purge another's data.

use platform::store::{Condition, StoreError};
use secrecy::{ExposeSecret, SecretString};

use crate::harness::{Ctx, app, site};

async fn sites_are_isolated(ctx: &Ctx) {
    let (a, b) = (site("tenant-a"), site("tenant-b"));
    let td = app("techdesk");
    let kv_a = ctx.store.kv(&a, &td);
    let kv_b = ctx.store.kv(&b, &td);
    kv_a.set("shared:1", &"a's data").await.unwrap();
    kv_a.set_many(&[("shared:2", "a2"), ("shared:3", "a3")])
        .await
        .unwrap();
    kv_a.set_secret("token", &SecretString::from("a's secret"))
        .await
        .unwrap();

    // reads
    assert_eq!(kv_b.get::<String>("shared:1").await.unwrap(), None);
    assert!(
        kv_b.get_entry::<String>("shared:1")
            .await
            .unwrap()
            .is_none()
    );
    let many = kv_b
        .get_many::<String, _>(&["shared:1", "shared:2", "shared:3"])
        .await
        .unwrap();
    assert!(many.iter().all(Option::is_none));
    assert!(kv_b.query().fetch().await.unwrap().entries.is_empty());
    assert!(
        kv_b.query()
            .begins_with("shared:")
            .limit(100)
            .fetch()
            .await
            .unwrap()
            .entries
            .is_empty()
    );
    assert!(kv_b.get_secret("token").await.unwrap().is_none());
    // transactions see b's (empty) data only, and write only to b
    let err = kv_b
        .transaction()
        .check("shared:1", Condition::Present)
        .commit()
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        StoreError::ConditionFailed { actual: None, .. }
    ));
    kv_b.transaction()
        .check("shared:1", Condition::Absent)
        .set("shared:1", &"b's data")
        .commit()
        .await
        .unwrap();
    assert_eq!(
        kv_a.get::<String>("shared:1").await.unwrap().as_deref(),
        Some("a's data")
    );
    assert_eq!(
        kv_a.get_entry::<String>("shared:1")
            .await
            .unwrap()
            .unwrap()
            .version,
        1
    );
    // deletes
    assert!(!kv_b.delete("shared:2").await.unwrap());
    assert_eq!(kv_b.delete_many(&["shared:3"]).await.unwrap(), vec![false]);
    assert!(!kv_b.delete_secret("token").await.unwrap());
    assert_eq!(
        kv_a.get::<String>("shared:2").await.unwrap().as_deref(),
        Some("a2")
    );
    assert_eq!(
        kv_a.get::<String>("shared:3").await.unwrap().as_deref(),
        Some("a3")
    );
    assert_eq!(
        kv_a.get_secret("token")
            .await
            .unwrap()
            .unwrap()
            .expose_secret(),
        "a's secret"
    );

    // apps on the same site are isolated the same way
    let kv_a_other = ctx.store.kv(&a, &app("assets-sql"));
    assert_eq!(kv_a_other.get::<String>("shared:1").await.unwrap(), None);
    assert!(kv_a_other.query().fetch().await.unwrap().entries.is_empty());
    assert!(kv_a_other.get_secret("token").await.unwrap().is_none());

    // summaries and purges are per site
    let sum_b = ctx.store.site_summary(&b).await.unwrap();
    assert_eq!((sum_b.total_entries(), sum_b.total_secrets()), (1, 0));
    let purged = ctx.store.purge_site(&b).await.unwrap();
    assert_eq!((purged.total_entries(), purged.total_secrets()), (1, 0));
    assert_eq!(kv_a.query().fetch().await.unwrap().entries.len(), 3);
    assert_eq!(
        kv_a.get_secret("token")
            .await
            .unwrap()
            .unwrap()
            .expose_secret(),
        "a's secret"
    );
    let sites: Vec<String> = ctx
        .store
        .list_sites()
        .await
        .unwrap()
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(sites, vec!["tenant-a"]);

    // a site id that is a prefix of another is not confused with it
    let prefix_site = ctx.store.kv(&site("tenant"), &td);
    assert!(
        prefix_site
            .query()
            .fetch()
            .await
            .unwrap()
            .entries
            .is_empty()
    );
    assert_eq!(
        ctx.store
            .purge_site(&site("tenant"))
            .await
            .unwrap()
            .total_entries(),
        0
    );
    assert_eq!(kv_a.query().fetch().await.unwrap().entries.len(), 3);
}

conformance!(sites_are_isolated);
