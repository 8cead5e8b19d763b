//! The service credential's client: built from the credential an admin stored and the site
//! URL remembered at sign-in; never from a user's session.

use platform::identity::{ServiceClientError, site_info};
use platform::permissions::platform_ns;
use platform::settings::{
    CREDENTIAL_META_KEY, CREDENTIAL_SECRET_KEY, CredentialKind, CredentialMeta,
};
use platform::store::SiteId;
use secrecy::SecretString;

use crate::identity::{Browser, sign_in, start};

#[tokio::test]
async fn api_token_credential_reaches_jira_as_its_account() {
    let env = start(false).await;
    let site = SiteId::new(&env.sim.cloud_id).unwrap();
    let store = env.auth.store().clone();
    assert!(matches!(
        env.auth.service_client(&site).await,
        Err(ServiceClientError::NotConfigured)
    ));
    let admin = env
        .sim
        .users_summary()
        .into_iter()
        .find(|u| u.role == "admin")
        .unwrap();
    let kv = store.kv(&site, &platform_ns());
    kv.set(
        CREDENTIAL_META_KEY,
        &CredentialMeta {
            kind: CredentialKind::ApiToken,
            email: admin.email.clone(),
            set_at_ms: 0,
            set_by: "test".into(),
        },
    )
    .await
    .unwrap();
    kv.set_secret(
        CREDENTIAL_SECRET_KEY,
        &SecretString::from(admin.api_token.clone()),
    )
    .await
    .unwrap();
    // Nobody signed in yet: the site's URL is unknown.
    assert!(matches!(
        env.auth.service_client(&site).await,
        Err(ServiceClientError::NoSiteUrl)
    ));
    let mut b = Browser::new(&env);
    let resp = sign_in(&env, &mut b, None).await;
    assert_eq!(resp.status(), 303);
    let info = site_info(&store, &site).await.unwrap().unwrap();
    assert_eq!(
        info.url.trim_end_matches('/'),
        env.sim.base_url.trim_end_matches('/')
    );
    let client = env.auth.service_client(&site).await.unwrap();
    let me = client.myself().await.unwrap();
    assert_eq!(
        me.account_id, admin.account_id,
        "the credential's account, not the user's"
    );
}
