//! Conformance: master-key rotation re-encrypts every secret without downtime for readers
//! that still hold the old keyring, never clobbers a concurrent writer, and pruning drops
//! only keys nothing uses.

use std::time::Duration;

use platform::store::{Keyring, StoreError};
use secrecy::{ExposeSecret, SecretString};

use crate::harness::{Ctx, app, site};

fn secret(s: impl Into<String>) -> SecretString {
    SecretString::from(s.into())
}

fn site_for(i: usize) -> &'static str {
    if i.is_multiple_of(2) {
        "rot-even"
    } else {
        "rot-odd"
    }
}

async fn rotation_with_stale_instances(ctx: &Ctx) {
    let kf = ctx.key_file();
    let a = ctx.open(Keyring::generate_file(&kf).unwrap()).await;
    let old_id = a.keyring().current_key_id();
    // another running instance, which loaded the key file before the rotation
    let stale = ctx.open(Keyring::from_file(&kf).unwrap()).await;
    let td = app("techdesk");
    for i in 0..130 {
        let kv = a.kv(&site(site_for(i)), &td);
        kv.set_secret(&format!("s:{i:03}"), &secret(format!("value {i}")))
            .await
            .unwrap();
    }
    a.kv(&site("rot-even"), &td)
        .set("not-a-secret", &1)
        .await
        .unwrap();
    let late_writer = ctx.open(Keyring::from_file(&kf).unwrap()).await;

    let report = a.rotate_key(&kf).await.unwrap();
    assert_eq!(report.re_encrypted, 130);
    assert_eq!(report.changed_concurrently, 0);
    assert!(report.undecryptable.is_empty());
    let new_id = report.new_key_id.clone();
    assert_ne!(new_id, old_id);
    assert_eq!(a.keyring().current_key_id(), new_id);

    // the file keeps the old key, has the new one last, and is still 0600
    let file = Keyring::from_file(&kf).unwrap();
    assert_eq!(file.key_ids(), vec![old_id.clone(), new_id.clone()]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&kf).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let backend = ctx.backend().await;
    assert_eq!(
        backend.secret_key_ids().await.unwrap(),
        vec![new_id.clone()]
    );

    // the stale instance reads re-encrypted secrets: an unknown key id makes it reload
    assert_eq!(stale.keyring().key_ids(), vec![old_id.clone()]);
    for i in [0, 77, 129] {
        let kv = stale.kv(&site(site_for(i)), &td);
        let got = kv.get_secret(&format!("s:{i:03}")).await.unwrap().unwrap();
        assert_eq!(got.expose_secret(), format!("value {i}"));
    }
    assert_eq!(stale.keyring().current_key_id(), new_id);

    // an instance that has not looked at the file yet may still write under the old key;
    // everyone can read that, and pruning keeps the old key while it is used
    let late_kv = late_writer.kv(&site("rot-even"), &td);
    late_kv
        .set_secret("late", &secret("written late"))
        .await
        .unwrap();
    let late_row = backend
        .get_secret(&site("rot-even"), &td, "late")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        a.kv(&site("rot-even"), &td)
            .get_secret("late")
            .await
            .unwrap()
            .unwrap()
            .expose_secret(),
        "written late"
    );
    let removed = a.prune_keys(&kf).await.unwrap();
    if late_row.key_id == old_id {
        assert!(removed.is_empty(), "the old key is still used: {removed:?}");
        // a second rotation moves the straggler, then the old key can go
        let again = a.rotate_key(&kf).await.unwrap();
        assert_eq!(again.re_encrypted, 131);
        let removed = a.prune_keys(&kf).await.unwrap();
        assert_eq!(removed, vec![old_id.clone(), new_id.clone()]);
    } else {
        assert_eq!(removed, vec![old_id.clone()]);
    }
    assert_eq!(Keyring::from_file(&kf).unwrap().key_ids().len(), 1);
    let current = Keyring::from_file(&kf).unwrap().current_key_id();

    // the writer's key follows the file's current key (checked at most once a second)
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    late_kv.set_secret("later", &secret("x")).await.unwrap();
    let row = backend
        .get_secret(&site("rot-even"), &td, "later")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.key_id, current);

    // everything is still readable by every instance
    for store in [&a, &stale, &late_writer] {
        for i in [1, 64, 128] {
            let got = store
                .kv(&site(site_for(i)), &td)
                .get_secret(&format!("s:{i:03}"))
                .await
                .unwrap();
            assert_eq!(got.unwrap().expose_secret(), format!("value {i}"));
        }
    }
    assert_eq!(
        a.kv(&site("rot-even"), &td)
            .get::<i32>("not-a-secret")
            .await
            .unwrap(),
        Some(1)
    );
}

async fn swap_never_clobbers(ctx: &Ctx) {
    let backend = ctx.backend().await;
    let (s, td) = (site("cas"), app("techdesk"));
    let kv = ctx.store.kv(&s, &td);
    kv.set_secret("k", &secret("one")).await.unwrap();
    let stale_row = backend.get_secret(&s, &td, "k").await.unwrap().unwrap();
    kv.set_secret("k", &secret("two")).await.unwrap();
    // a rotation holding the old ciphertext must not overwrite the newer value
    assert!(
        !backend
            .swap_secret(&stale_row, "other", b"junk", 0)
            .await
            .unwrap()
    );
    assert_eq!(
        kv.get_secret("k").await.unwrap().unwrap().expose_secret(),
        "two"
    );
    let fresh = backend.get_secret(&s, &td, "k").await.unwrap().unwrap();
    assert!(
        backend
            .swap_secret(&fresh, &fresh.key_id, &fresh.ciphertext, 1)
            .await
            .unwrap()
    );
    assert_eq!(
        kv.get_secret("k").await.unwrap().unwrap().expose_secret(),
        "two"
    );
}

async fn rotation_needs_the_store_key_file(ctx: &Ctx) {
    let kf = ctx.key_file();
    Keyring::generate_file(&kf).unwrap();
    // ctx.store uses an in-memory key: rotating a file it does not follow is refused
    let err = ctx.store.rotate_key(&kf).await.unwrap_err();
    assert!(
        matches!(err, StoreError::RotationKeyFileMismatch { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("an in-memory key"), "{err}");
    assert!(matches!(
        ctx.store.prune_keys(&kf).await,
        Err(StoreError::RotationKeyFileMismatch { .. })
    ));
    assert_eq!(
        Keyring::from_file(&kf).unwrap().key_ids().len(),
        1,
        "file untouched"
    );
    // a key file others can read is refused with a clear message
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let a = ctx.open(Keyring::from_file(&kf).unwrap()).await;
        std::fs::set_permissions(&kf, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = a.rotate_key(&kf).await.unwrap_err();
        assert!(
            err.to_string()
                .contains("accessible by group or others (mode 0644)"),
            "{err}"
        );
    }
}

conformance!(
    rotation_with_stale_instances,
    swap_never_clobbers,
    rotation_needs_the_store_key_file
);
