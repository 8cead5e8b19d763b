//! Conformance: secrets round-trip, stay out of queries and entries, and a ciphertext moved
//! to another key or site in SQL fails to decrypt with a typed error.

use platform::store::{Keyring, StoreError};
use secrecy::{ExposeSecret, SecretString};

use crate::harness::{Ctx, app, site};

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_string())
}

async fn round_trip(ctx: &Ctx) {
    let kv = ctx.store.kv(&site("site-s"), &app("techdesk"));
    assert!(kv.get_secret("jira:token").await.unwrap().is_none());
    kv.set_secret("jira:token", &secret("t0p-s3cret ✓"))
        .await
        .unwrap();
    let got = kv.get_secret("jira:token").await.unwrap().unwrap();
    assert_eq!(got.expose_secret(), "t0p-s3cret ✓");
    assert!(
        !format!("{got:?}").contains("t0p"),
        "SecretString redacts its Debug"
    );
    kv.set_secret("jira:token", &secret("rotated"))
        .await
        .unwrap();
    assert_eq!(
        kv.get_secret("jira:token")
            .await
            .unwrap()
            .unwrap()
            .expose_secret(),
        "rotated"
    );
    kv.set_secret("empty", &secret("")).await.unwrap();
    assert_eq!(
        kv.get_secret("empty")
            .await
            .unwrap()
            .unwrap()
            .expose_secret(),
        ""
    );

    // secrets and entries are separate namespaces
    assert_eq!(kv.get_json("jira:token").await.unwrap(), None);
    kv.set("jira:token", &"not the secret").await.unwrap();
    assert_eq!(
        kv.get_secret("jira:token")
            .await
            .unwrap()
            .unwrap()
            .expose_secret(),
        "rotated"
    );

    // never listed by queries
    kv.set_secret("jira:other", &secret("x")).await.unwrap();
    let page = kv.query().begins_with("jira:").fetch().await.unwrap();
    let keys: Vec<&str> = page.entries.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, vec!["jira:token"]);
    for e in &page.entries {
        assert!(!e.value.to_string().contains("rotated"));
    }

    assert!(kv.delete_secret("jira:token").await.unwrap());
    assert!(!kv.delete_secret("jira:token").await.unwrap());
    assert!(kv.get_secret("jira:token").await.unwrap().is_none());
    assert_eq!(
        kv.get::<String>("jira:token").await.unwrap().as_deref(),
        Some("not the secret")
    );
}

async fn ciphertext_swap_fails(ctx: &Ctx) {
    let s1 = site("site-one");
    let s2 = site("site-two");
    let one = ctx.store.kv(&s1, &app("techdesk"));
    let two = ctx.store.kv(&s2, &app("techdesk"));
    one.set_secret("api:key", &secret("site one's key"))
        .await
        .unwrap();
    two.set_secret("api:key", &secret("site two's key"))
        .await
        .unwrap();

    // same key, other site; other key, same site; other app
    for to in [
        ("site-two", "techdesk", "api:key"),
        ("site-one", "techdesk", "api:copy"),
        ("site-one", "dispatch", "api:key"),
    ] {
        ctx.copy_secret_row(("site-one", "techdesk", "api:key"), to)
            .await;
        let kv = ctx.store.kv(&site(to.0), &app(to.1));
        let err = kv.get_secret(to.2).await.unwrap_err();
        assert!(
            matches!(err, StoreError::SecretUndecryptable { ref key } if key == to.2),
            "{err}"
        );
        assert!(!err.to_string().contains("site one's key"), "{err}");
    }
    assert_eq!(
        one.get_secret("api:key")
            .await
            .unwrap()
            .unwrap()
            .expose_secret(),
        "site one's key"
    );
    // the damaged row can be overwritten and then read again
    two.set_secret("api:key", &secret("fresh")).await.unwrap();
    assert_eq!(
        two.get_secret("api:key")
            .await
            .unwrap()
            .unwrap()
            .expose_secret(),
        "fresh"
    );
}

async fn other_keyring_cannot_read(ctx: &Ctx) {
    let kv = ctx.store.kv(&site("site-k"), &app("techdesk"));
    kv.set_secret("k", &secret("value")).await.unwrap();
    let stranger = ctx.open(Keyring::ephemeral().unwrap()).await;
    // same key id ("ephemeral"), different key: authentication fails
    let err = stranger
        .kv(&site("site-k"), &app("techdesk"))
        .get_secret("k")
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::SecretUndecryptable { .. }),
        "{err}"
    );
    let env =
        Keyring::from_base64(&secret("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")).unwrap();
    let other = ctx.open(env).await;
    let err = other
        .kv(&site("site-k"), &app("techdesk"))
        .get_secret("k")
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "secret \"k\" is encrypted under key id \"ephemeral\", which the keyring does not hold"
    );
}

conformance!(round_trip, ciphertext_swap_fails, other_keyring_cannot_read);
