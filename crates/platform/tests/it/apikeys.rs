//! `platform::apikeys` on both store backends: issue once, stored hashed, authenticate,
//! revoke, last use, scopes, isolation between sites and apps.

use std::collections::BTreeSet;
use std::time::Duration;

use platform::apikeys::{ApiKeyError, ApiKeys, NewKey, reveal, scope_grants};
use platform::permissions::Principal;
use secrecy::ExposeSecret;

use crate::harness::{Ctx, app, site};

conformance!(
    issued_key_authenticates_as_its_machine_principal,
    only_the_hash_is_stored,
    revoked_and_forged_keys_are_refused,
    last_use_is_recorded_at_most_once_a_minute,
    fields_are_validated_by_name,
    keys_do_not_cross_sites_or_apps,
);

fn new_key(name: &str, scopes: &[&str]) -> NewKey {
    NewKey {
        name: name.to_string(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        created_by: "acc-admin".into(),
    }
}

async fn issued_key_authenticates_as_its_machine_principal(ctx: &Ctx) {
    let keys = ApiKeys::new(ctx.store.clone(), app("assets-sql"));
    let s = site("site-a");
    let issued = keys
        .issue(&s, new_key("BI warehouse", &["assets-sql:export:*"]))
        .await
        .unwrap();
    let text = reveal(&issued).to_string();
    assert!(text.starts_with("jsmk.site-a."), "{text}");
    assert!(
        !format!("{issued:?}").contains(&text),
        "Debug hides the key"
    );
    let p = keys.authenticate(&text).await.unwrap();
    let Principal::ApiKey { site, id, scopes } = p else {
        panic!("not a machine principal");
    };
    assert_eq!(site, s);
    assert_eq!(id, issued.meta.id);
    assert!(scope_grants(&scopes, "assets-sql:export:exp-1"));
    let listed = keys.list(&s).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, "BI warehouse");
    assert!(listed[0].active());
}

async fn only_the_hash_is_stored(ctx: &Ctx) {
    let keys = ApiKeys::new(ctx.store.clone(), app("assets-sql"));
    let s = site("site-a");
    let issued = keys
        .issue(&s, new_key("k", &["assets-sql:export"]))
        .await
        .unwrap();
    let text = issued.key.expose_secret().to_string();
    let secret = text.rsplit('.').next().unwrap().to_string();
    let raw = ctx
        .store
        .kv(&s, &app("assets-sql"))
        .get_json(&format!("apikey:{}", issued.meta.id))
        .await
        .unwrap()
        .unwrap()
        .to_string();
    assert!(!raw.contains(&secret), "the secret is not stored: {raw}");
    assert!(raw.contains("\"hash\""));
}

async fn revoked_and_forged_keys_are_refused(ctx: &Ctx) {
    let keys = ApiKeys::new(ctx.store.clone(), app("assets-sql"));
    let s = site("site-a");
    let issued = keys
        .issue(&s, new_key("k", &["assets-sql:export"]))
        .await
        .unwrap();
    let text = reveal(&issued).to_string();
    // Same site and id, another secret of the right shape.
    let mut forged = text.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    assert!(matches!(
        keys.authenticate(&forged).await,
        Err(ApiKeyError::Invalid)
    ));
    for junk in [
        "",
        "Bearer x",
        "jsmk.....",
        "jsmk.site-a.zzzzzzzzzzzz.x",
        &"x".repeat(10_000),
    ] {
        assert!(matches!(
            keys.authenticate(junk).await,
            Err(ApiKeyError::Invalid)
        ));
    }
    assert!(keys.revoke(&s, &issued.meta.id).await.unwrap());
    assert!(!keys.revoke(&s, &issued.meta.id).await.unwrap(), "once");
    assert!(matches!(
        keys.authenticate(&text).await,
        Err(ApiKeyError::Invalid)
    ));
    let meta = keys.get(&s, &issued.meta.id).await.unwrap().unwrap();
    assert!(!meta.active());
    assert!(keys.delete_revoked(&s, &issued.meta.id).await.unwrap());
    assert!(keys.list(&s).await.unwrap().is_empty());
}

async fn last_use_is_recorded_at_most_once_a_minute(ctx: &Ctx) {
    let keys = ApiKeys::new(ctx.store.clone(), app("assets-sql"));
    let s = site("site-a");
    let issued = keys
        .issue(&s, new_key("k", &["assets-sql:export"]))
        .await
        .unwrap();
    let text = reveal(&issued).to_string();
    assert_eq!(issued.meta.last_used_at_ms, None);
    keys.authenticate(&text).await.unwrap();
    let first = keys
        .get(&s, &issued.meta.id)
        .await
        .unwrap()
        .unwrap()
        .last_used_at_ms
        .unwrap();
    ctx.clock.advance(Duration::from_secs(30));
    keys.authenticate(&text).await.unwrap();
    let same = keys.get(&s, &issued.meta.id).await.unwrap().unwrap();
    assert_eq!(same.last_used_at_ms, Some(first));
    ctx.clock.advance(Duration::from_secs(31));
    keys.authenticate(&text).await.unwrap();
    let later = keys.get(&s, &issued.meta.id).await.unwrap().unwrap();
    assert_eq!(later.last_used_at_ms, Some(first + 61_000));
}

async fn fields_are_validated_by_name(ctx: &Ctx) {
    let keys = ApiKeys::new(ctx.store.clone(), app("assets-sql"));
    let s = site("site-a");
    let field_of = |r: Result<_, ApiKeyError>| match r {
        Err(ApiKeyError::Field { field, .. }) => field,
        other => panic!("expected a field error, got {other:?}"),
    };
    assert_eq!(
        field_of(keys.issue(&s, new_key("  ", &["a:b"])).await),
        "name"
    );
    assert_eq!(
        field_of(keys.issue(&s, new_key(&"n".repeat(81), &["a:b"])).await),
        "name"
    );
    assert_eq!(field_of(keys.issue(&s, new_key("ok", &[])).await), "scopes");
    assert_eq!(
        field_of(keys.issue(&s, new_key("ok", &["'; DROP TABLE x"])).await),
        "scopes"
    );
    assert!(
        keys.list(&s).await.unwrap().is_empty(),
        "nothing was stored"
    );
}

async fn keys_do_not_cross_sites_or_apps(ctx: &Ctx) {
    let a = ApiKeys::new(ctx.store.clone(), app("assets-sql"));
    let other_app = ApiKeys::new(ctx.store.clone(), app("dispatch"));
    let issued = a
        .issue(&site("site-a"), new_key("k", &["assets-sql:export"]))
        .await
        .unwrap();
    let text = reveal(&issued).to_string();
    assert!(matches!(
        other_app.authenticate(&text).await,
        Err(ApiKeyError::Invalid)
    ));
    // The same id under another site's name is not a key of that site.
    let moved = text.replacen("jsmk.site-a.", "jsmk.site-b.", 1);
    assert!(matches!(
        a.authenticate(&moved).await,
        Err(ApiKeyError::Invalid)
    ));
    assert!(a.list(&site("site-b")).await.unwrap().is_empty());
    let scopes: BTreeSet<String> = issued.meta.scopes.clone();
    assert!(!scope_grants(&scopes, "dispatch:board"));
}
