//! Client → simulator contract tests: every operation of `atlassian::client`, in both base
//! shapes (basic auth at the site root, OAuth bearer through `/ex/jira/{cloudId}`), with every
//! request and response checked against `shared/specs` by a [`ContractRecorder`].

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use atlassian::adf::Doc;
use atlassian::aql::{Attribute, Query as AqlQuery};
use atlassian::client::{
    AssignableScope, AtlassianClient, GroupRef, IssueUpdate, MemoryTokenStore, NewRequest,
    NewWorklog, OAuthApp, PermissionCheck, PermissionScope, ProjectPermissionQuery, SearchRequest,
    TokenSource,
};
use atlassian::jql::Field;
use atlassian_sim::contract::ContractRecorder;
use atlassian_sim::{SimConfig, SimHandle};
use futures_util::TryStreamExt;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value, json};
use url::Url;

use crate::core::{client, now, user};

/// `shared/specs` next to the workspace; a missing folder fails the test, never skips it.
pub fn specs_dir() -> PathBuf {
    let dir = atlassian_sim::testkit::shared_dir().join("specs");
    assert!(
        dir.join("jira-platform-v3.subset.openapi.json").is_file(),
        "the OpenAPI documents are missing: expected {} (shared/specs next to the workspace); \
         contract tests cannot run without them",
        dir.display()
    );
    dir
}

/// A recorder over the four documents of `shared/specs`.
pub fn recorder() -> ContractRecorder {
    ContractRecorder::atlassian(specs_dir()).unwrap_or_else(|e| panic!("loading specs: {e}"))
}

/// A simulator (fixed clock, seed 7) whose every exchange goes through `recorder`.
pub async fn recorded_sim(recorder: &ContractRecorder) -> SimHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let cfg = SimConfig {
        seed: 7,
        now: Some(now()),
        contract: Some(recorder.clone()),
        ..SimConfig::default()
    };
    atlassian_sim::start(listener, cfg).await.expect("start")
}

/// Fails with every recorded violation, one per line.
pub fn assert_no_violations(recorder: &ContractRecorder) {
    assert!(recorder.violations().is_empty(), "{}", recorder.report());
}

const REDIRECT: &str = "http://127.0.0.1:9/callback";
const SCOPES: &[&str] = &[
    "read:jira-work",
    "write:jira-work",
    "read:jira-user",
    "manage:jira-configuration",
    "read:servicedesk-request",
    "write:servicedesk-request",
    "read:cmdb-object:jira",
    "read:cmdb-schema:jira",
    "read:cmdb-type:jira",
    "read:cmdb-attribute:jira",
    "offline_access",
];

fn basic_client(h: &SimHandle, role: &str) -> AtlassianClient {
    let u = user(h, role);
    let site = Url::parse(&h.base_url).expect("url");
    let assets = Url::parse(&format!("{}/jsm/assets", h.base_url)).expect("url");
    AtlassianClient::basic(site, u.email, SecretString::from(u.api_token))
        .expect("builder")
        .assets_root(assets)
        .page_size(5)
        .build()
        .expect("client")
}

/// Signs in as `role` through the simulator's own 3LO flow; checks the OAuth responses
/// against Atlassian's documented fields by hand (there is no OpenAPI document for them).
async fn oauth_client(h: &SimHandle, role: &str) -> AtlassianClient {
    let u = user(h, role);
    let root = Url::parse(&h.base_url).expect("url");
    let app = OAuthApp::new(
        "jsmkit-demo",
        SecretString::from("jsmkit-demo-secret"),
        Url::parse(REDIRECT).expect("url"),
    )
    .expect("app")
    .with_auth_base(root.clone())
    .with_api_root(root.clone());
    let consent = app.authorize_url(SCOPES, "st-1");
    let mut form: Vec<(String, String)> = consent.query_pairs().into_owned().collect();
    form.push(("account_id".into(), u.account_id.clone()));
    let r = client()
        .post(format!("{}/authorize", h.base_url))
        .form(&form)
        .send()
        .await
        .expect("authorize");
    assert!(r.status().is_redirection(), "authorize: {}", r.status());
    let loc = Url::parse(r.headers()["location"].to_str().expect("location")).expect("url");
    let code = loc
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("code");
    // Raw token response: Atlassian documents access_token, expires_in, scope, token_type
    // ("Bearer") and, with offline_access, refresh_token.
    let raw: Value = client()
        .post(format!("{}/oauth/token", h.base_url))
        .json(
            &json!({"grant_type": "authorization_code", "client_id": "jsmkit-demo",
            "client_secret": "jsmkit-demo-secret", "code": code, "redirect_uri": REDIRECT}),
        )
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    for (k, kind) in [
        ("access_token", "string"),
        ("refresh_token", "string"),
        ("scope", "string"),
        ("token_type", "string"),
        ("expires_in", "number"),
    ] {
        let ok = match kind {
            "string" => raw[k].is_string(),
            _ => raw[k].is_u64(),
        };
        assert!(ok, "token response field {k} must be a {kind}: {raw}");
    }
    assert_eq!(raw["token_type"], "Bearer", "{raw}");
    let tokens = app
        .refresh(&SecretString::from(
            raw["refresh_token"].as_str().expect("refresh").to_owned(),
        ))
        .await
        .expect("refresh");
    let resources = app
        .accessible_resources(&tokens.access_token)
        .await
        .expect("accessible resources");
    let site = resources
        .iter()
        .find(|r| r.id == h.cloud_id)
        .expect("the site is accessible");
    assert!(site.url.is_some() && site.name.is_some() && !site.scopes.is_empty());
    let profile = app.me(&tokens.access_token).await.expect("me");
    assert_eq!(profile.account_id, u.account_id);
    assert!(!tokens.access_token.expose_secret().is_empty());
    let store = Arc::new(MemoryTokenStore::new(Some(tokens)));
    let source = TokenSource::new(app, store);
    AtlassianClient::oauth(&root, &h.cloud_id, source)
        .expect("builder")
        .page_size(5)
        .build()
        .expect("client")
}

fn doc(text: &str) -> Doc {
    serde_json::from_value(json!({"type": "doc", "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}]}))
    .expect("adf")
}

/// Calls every operation the client offers with realistic arguments.
async fn exercise(c: &AtlassianClient, agent_account: &str, tag: &str) {
    let jql = Field::named("project").eq("FS").to_jql();
    let mut search = SearchRequest::new(jql.clone()).fields(["summary", "status", "assignee"]);
    search.page_size = 7;
    let issues: Vec<_> = c.search(search).try_collect().await.expect("search");
    assert!(
        issues.len() > 14,
        "search spans several pages: {}",
        issues.len()
    );
    let count = c.approximate_count(&jql).await.expect("count");
    assert!(count > 0);
    let key = issues[0].key.clone();
    let issue = c
        .issue(&key, &["summary", "status"], Some("renderedFields"))
        .await
        .expect("issue");
    assert_eq!(issue.key, key);
    let mut update = IssueUpdate::default();
    update
        .fields
        .insert("summary".into(), json!(format!("Contract check {tag}")));
    c.edit_issue(&key, &update).await.expect("edit");
    let keys: Vec<&str> = issues.iter().take(3).map(|i| i.key.as_str()).collect();
    let bulk = c.bulk_fetch(&keys, &["summary"]).await.expect("bulkfetch");
    assert_eq!(bulk.issues.len(), 3);
    let _: Vec<_> = c.changelog(&key).try_collect().await.expect("changelog");
    let owned: Vec<String> = keys.iter().map(|k| (*k).to_string()).collect();
    let _: Vec<_> = c
        .changelog_bulk(owned, vec!["status".into()])
        .try_collect()
        .await
        .expect("changelog bulkfetch");
    c.assign(&key, Some(agent_account)).await.expect("assign");
    c.assign(&key, None).await.expect("unassign");
    let transitions = c.transitions(&key).await.expect("transitions");
    let t = transitions.first().expect("a transition");
    c.do_transition(&key, &t.id, Map::new())
        .await
        .expect("transition");
    c.add_comment(&key, &doc(&format!("Note {tag}")))
        .await
        .expect("comment");
    let _: Vec<_> = c.comments(&key).try_collect().await.expect("comments");
    let wl = NewWorklog {
        time_spent_seconds: 1800,
        started: now(),
        comment: Some(doc("On site")),
    };
    c.add_worklog(&key, &wl).await.expect("worklog");
    let _: Vec<_> = c.worklogs(&key).try_collect().await.expect("worklogs");
    let me = c.myself().await.expect("myself");
    assert!(!me.account_id.is_empty());
    let _: Vec<_> = c.user_search("a").try_collect().await.expect("users");
    let _: Vec<_> = c
        .assignable_users(AssignableScope::Project("FS".into()), None)
        .try_collect()
        .await
        .expect("assignable by project");
    let _: Vec<_> = c
        .assignable_users(AssignableScope::Issue(key.clone()), Some("a"))
        .try_collect()
        .await
        .expect("assignable by issue");
    let members: Vec<_> = c
        .group_members(GroupRef::Name("technicians".into()), false)
        .try_collect()
        .await
        .expect("group members");
    assert!(members.len() > 5, "group members span pages");
    let profile = c
        .user_property(&members[0].account_id, "jsmkit.profile")
        .await
        .expect("user property");
    assert!(profile.is_some(), "technicians have a profile");
    let none = c
        .user_property(&members[0].account_id, "no.such.property")
        .await
        .expect("missing property");
    assert!(none.is_none());
    let projects: Vec<_> = c.projects(None).try_collect().await.expect("projects");
    let fs = projects.iter().find(|p| p.key == "FS").expect("FS");
    c.project("FS").await.expect("project");
    c.project_statuses("FS").await.expect("project statuses");
    let _: Vec<_> = c
        .statuses(Some(&fs.id))
        .try_collect()
        .await
        .expect("statuses");
    c.fields().await.expect("fields");
    c.my_permissions(PermissionScope::Global, &["ADMINISTER"])
        .await
        .expect("global permissions");
    c.my_permissions(
        PermissionScope::Project("FS".into()),
        &["BROWSE_PROJECTS", "EDIT_ISSUES"],
    )
    .await
    .expect("project permissions");
    c.my_permissions(PermissionScope::Issue(key.clone()), &["ASSIGN_ISSUES"])
        .await
        .expect("issue permissions");
    let check = PermissionCheck {
        account_id: Some(agent_account.to_string()),
        global_permissions: vec!["ADMINISTER".into()],
        project_permissions: vec![ProjectPermissionQuery {
            permissions: vec!["EDIT_ISSUES".into()],
            projects: vec![fs.id.parse().expect("numeric project id")],
            issues: vec![issue.id.parse().expect("numeric issue id")],
        }],
    };
    c.check_permissions(&check)
        .await
        .expect("permissions check");
    jsm(c, agent_account, tag).await;
    roles(c).await;
    assets(c).await;
}

async fn jsm(c: &AtlassianClient, agent_account: &str, tag: &str) {
    let desks: Vec<_> = c.service_desks().try_collect().await.expect("desks");
    let desk = desks
        .iter()
        .find(|d| d.project_key.as_deref() == Some("FS"))
        .unwrap_or(&desks[0]);
    let types: Vec<_> = c
        .request_types(&desk.id)
        .try_collect()
        .await
        .expect("request types");
    let rt = types.first().expect("a request type");
    let fields = c
        .request_type_fields(&desk.id, &rt.id)
        .await
        .expect("request type fields");
    let mut values = Map::new();
    for f in &fields.request_type_fields {
        let v = match f.field_id.as_str() {
            "summary" => json!(format!("Boiler pressure low {tag}")),
            "description" => json!("Pressure gauge shows 0.4 bar."),
            _ if f.required => f
                .valid_values
                .first()
                .and_then(|v| v.get("value"))
                .map_or_else(|| json!("n/a"), |v| json!({ "id": v })),
            _ => continue,
        };
        values.insert(f.field_id.clone(), v);
    }
    let created = c
        .create_request(&NewRequest {
            service_desk_id: desk.id.clone(),
            request_type_id: rt.id.clone(),
            request_field_values: values,
            raise_on_behalf_of: None,
        })
        .await
        .expect("create request");
    let key = created.issue_key;
    c.add_request_comment(&key, "We are on our way.", true)
        .await
        .expect("public comment");
    c.add_request_comment(&key, "Parts ordered.", false)
        .await
        .expect("internal comment");
    let all: Vec<_> = c
        .request_comments(&key, false)
        .try_collect()
        .await
        .expect("comments");
    let public: Vec<_> = c
        .request_comments(&key, true)
        .try_collect()
        .await
        .expect("public comments");
    assert!(all.len() > public.len(), "internal comments are filtered");
    let slas = c.request_sla(&key).await.expect("request SLAs");
    assert_eq!(slas.len(), 2, "{slas:?}");
    assert!(
        slas.iter()
            .any(|s| s.name == "Time to resolution" && s.ongoing_cycle.is_some()),
        "{slas:?}"
    );
    let after = c
        .add_participants(&key, &[agent_account])
        .await
        .expect("add participants");
    assert!(after.iter().any(|u| u.account_id == agent_account));
    let listed: Vec<_> = c
        .request_participants(&key)
        .try_collect()
        .await
        .expect("participants");
    assert_eq!(listed.len(), after.len());
}

async fn roles(c: &AtlassianClient) {
    let roles = c.project_roles("FS").await.expect("project roles");
    let (_, id) = roles
        .iter()
        .find(|(name, _)| name == "Technicians")
        .expect("a Technicians role");
    let role = c.project_role("FS", *id).await.expect("project role");
    assert_eq!(role.name, "Technicians");
    assert!(
        role.actors.iter().any(|a| a
            .actor_group
            .as_ref()
            .is_some_and(|g| g.name.as_deref() == Some("technicians"))),
        "{role:?}"
    );
}

async fn assets(c: &AtlassianClient) {
    let ws = c.discover_assets_workspace().await.expect("workspace");
    assert!(!ws.is_empty());
    let a = c.assets().await.expect("assets");
    let schemas: Vec<_> = a.object_schemas().try_collect().await.expect("schemas");
    let schema = schemas.first().expect("a schema");
    let types = a.object_types(&schema.id).await.expect("types");
    let ty = types.first().expect("a type");
    a.object_type_attributes(&ty.id).await.expect("attributes");
    // Objects 1..=23 of every schema: several pages of 5 without walking the whole site.
    let query = AqlQuery::filter(Attribute::ObjectId.le(23)).to_aql();
    let objects: Vec<_> = a.aql(&query, true).try_collect().await.expect("aql");
    assert!(objects.len() > 10, "the AQL stream spans pages");
    let total = a.aql_count(&query).await.expect("total count");
    assert_eq!(total, objects.len() as u64);
    a.object(&objects[0].id).await.expect("object");
}

fn client_operations() -> BTreeSet<(String, String)> {
    atlassian::client::operations()
        .into_iter()
        .map(|o| (o.method.to_string(), o.path.to_string()))
        .collect()
}

#[tokio::test]
async fn every_client_operation_matches_the_contract_in_both_shapes() {
    let rec = recorder();
    let h = recorded_sim(&rec).await;
    let agent = user(&h, "technician").account_id;
    exercise(&basic_client(&h, "admin"), &agent, "basic").await;
    let basic_seen = rec.operations_seen();
    exercise(&oauth_client(&h, "admin").await, &agent, "oauth").await;
    assert_no_violations(&rec);
    let ops = client_operations();
    assert_eq!(ops.len(), atlassian::client::operations().len(), "unique");
    let seen = rec.operations_seen();
    let missing: Vec<_> = ops.difference(&seen).collect();
    assert!(
        missing.is_empty(),
        "client operations never called: {missing:?}"
    );
    let missing_basic: Vec<_> = ops.difference(&basic_seen).collect();
    assert!(
        missing_basic.is_empty(),
        "not called with basic auth: {missing_basic:?}"
    );
    let gateway: BTreeSet<_> = rec
        .exchanges()
        .into_iter()
        .filter(|e| e.path.starts_with("/ex/jira/"))
        .filter_map(|e| Some((e.method, e.template?)))
        .collect();
    let missing_gw: Vec<_> = ops.difference(&gateway).collect();
    assert!(
        missing_gw.is_empty(),
        "not called through the gateway: {missing_gw:?}"
    );
    h.shutdown().await;
}
