//! REST routes, relative to `/jsm/assets/workspace/{workspaceId}/v1`.
//!
//! Paging for `/object/aql` and `/objectschema/list`: `startAt` (default 0, negatives read
//! as 0) and `maxResults` (default 25, clamped to `1..=1000`; the response echoes the
//! value used). Results are ordered by object id unless the query has `order by` (ties by
//! id), so pages over unchanged data never lose or repeat an object.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::aql::{Evaluator, SearchContext, parse};
use super::json::Render;
use super::model::{AssetObject, AssetsWorkspace, ObjectSchema, ObjectType};
use super::time::now_ms;
use crate::principal::{AuthMethod, AuthedUser};
use crate::server::routes::RouteTable;

/// Largest page `/object/aql` returns.
pub const MAX_PAGE: i64 = 1000;

/// Shared state of the Assets routes: the workspace and the site it belongs to.
#[derive(Clone, Debug)]
pub struct AssetsState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    ws: AssetsWorkspace,
    cloud_id: String,
    site_url: String,
    connected: std::sync::OnceLock<Arc<dyn ConnectedTickets>>,
}

/// The Jira side of `/objectconnectedtickets/{objectId}/tickets`: the issues whose Assets
/// field links an object, as a given user may see them.
pub trait ConnectedTickets: Send + Sync + std::fmt::Debug {
    /// `(issue key, Ticket JSON)` for every issue `account_id` may browse that links
    /// object `object_id` of workspace `workspace_id`, in key order.
    fn tickets(&self, account_id: &str, workspace_id: &str, object_id: u64)
    -> Vec<(String, Value)>;
}

impl AssetsState {
    /// State for `ws`, served to callers authenticated against site `cloud_id`; `site_url`
    /// (e.g. `https://acme.atlassian.net`, no trailing slash) prefixes links and icons.
    pub fn new(
        ws: AssetsWorkspace,
        cloud_id: impl Into<String>,
        site_url: impl Into<String>,
    ) -> Self {
        AssetsState {
            inner: Arc::new(Inner {
                ws,
                cloud_id: cloud_id.into(),
                site_url: site_url.into().trim_end_matches('/').to_owned(),
                connected: std::sync::OnceLock::new(),
            }),
        }
    }

    /// Connects the Jira side once the Jira model exists (a second call is ignored).
    pub fn connect_tickets(&self, source: Arc<dyn ConnectedTickets>) {
        let _ = self.inner.connected.set(source);
    }
    /// The workspace.
    pub fn workspace(&self) -> &AssetsWorkspace {
        &self.inner.ws
    }
}

/// The Assets router with its state applied.
pub fn router(state: AssetsState) -> Router {
    table().into_router().with_state(state)
}

/// The Assets routes, relative to `/jsm/assets/workspace/{workspaceId}/v1`.
pub(crate) fn table() -> RouteTable<AssetsState> {
    RouteTable::new()
        .get("/objectschema/list", schema_list)
        .get("/objectschema/{id}", schema_one)
        .get("/objectschema/{id}/attributes", schema_attributes)
        .get("/objectschema/{id}/objecttypes", schema_types)
        .get("/objectschema/{id}/objecttypes/flat", schema_types)
        .get("/objecttype/{id}", type_one)
        .get("/objecttype/{id}/attributes", type_attributes)
        .get("/object/{id}", object_one)
        .get("/object/{id}/attributes", object_attributes)
        .post("/object/aql", aql)
        .post("/object/aql/totalcount", aql_count)
        .get("/config/statustype", statuses)
        .get("/objectconnectedtickets/{id}/tickets", tickets)
}

/// An error in the Assets error shape `{"errorMessages":[…],"errors":{}}`.
#[derive(Debug)]
pub(crate) struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.0,
            Json(json!({"errorMessages": [self.1], "errors": {}})),
        )
            .into_response()
    }
}

type Res = Result<Json<Value>, ApiError>;
/// A response rendered from a typed view.
type Out = Result<Response, ApiError>;
type Params = Path<HashMap<String, String>>;
type Caller = Option<Extension<AuthedUser>>;

fn not_found(what: &str) -> ApiError {
    ApiError(StatusCode::NOT_FOUND, format!("{what} not found"))
}

/// Authentication, scope, site and workspace checks shared by every route.
fn gate<'a>(
    st: &'a AssetsState,
    caller: Caller,
    p: &Params,
    scope: &str,
) -> Result<(&'a AssetsWorkspace, AuthedUser), ApiError> {
    let Some(Extension(user)) = caller else {
        return Err(ApiError(
            StatusCode::UNAUTHORIZED,
            "Client must be authenticated to access this resource.".into(),
        ));
    };
    if let AuthMethod::OAuth { scopes } = &user.via
        && !scopes.iter().any(|s| s == scope)
    {
        return Err(ApiError(
            StatusCode::UNAUTHORIZED,
            format!("Unauthorized; scope does not match (needs {scope})"),
        ));
    }
    let ws = &st.inner.ws;
    let wrong_ws = p.get("workspaceId").is_some_and(|w| *w != ws.workspace_id);
    if user.cloud_id != st.inner.cloud_id || wrong_ws {
        return Err(not_found("Workspace"));
    }
    Ok((ws, user))
}

fn render(st: &AssetsState) -> Render<'_> {
    Render {
        ws: &st.inner.ws,
        site_url: &st.inner.site_url,
    }
}

fn id_param(p: &Params, what: &str) -> Result<u32, ApiError> {
    p.get("id")
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| not_found(what))
}

fn readable_schema(ws: &AssetsWorkspace, user: &AuthedUser, id: u32) -> Result<(), ApiError> {
    if ws.can_read(id, &user.account_id) {
        Ok(())
    } else {
        Err(not_found("Object schema"))
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct PageQ {
    start_at: Option<i64>,
    max_results: Option<i64>,
    #[serde(default, deserialize_with = "java_bool")]
    include_attributes: Option<bool>,
    query: Option<String>,
    object_schema_id: Option<String>,
    #[serde(default, deserialize_with = "java_bool")]
    exclude_parent_attributes: Option<bool>,
    #[serde(default, deserialize_with = "java_bool")]
    order_by_name: Option<bool>,
}

/// A boolean query parameter as the Java services read it: `true`/`false` in any case
/// (Python's `requests` sends `True`/`False`); anything else is refused.
fn java_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    let raw = String::deserialize(d)?;
    match raw.to_ascii_lowercase().as_str() {
        "true" => Ok(Some(true)),
        "false" => Ok(Some(false)),
        _ => Err(serde::de::Error::custom(format!(
            "provided string was not `true` or `false`: {raw}"
        ))),
    }
}

fn page_q(q: Result<Query<PageQ>, QueryRejection>) -> Result<PageQ, ApiError> {
    q.map(|Query(q)| q)
        .map_err(|e| ApiError(StatusCode::BAD_REQUEST, e.body_text()))
}

fn window(q: &PageQ) -> (usize, usize) {
    let start = q.start_at.unwrap_or(0).max(0) as usize;
    let max = q.max_results.unwrap_or(25).clamp(1, MAX_PAGE) as usize;
    (start, max)
}

async fn schema_list(
    State(st): State<AssetsState>,
    c: Caller,
    p: Params,
    q: Result<Query<PageQ>, QueryRejection>,
) -> Res {
    let (ws, user) = gate(&st, c, &p, "read:cmdb-schema:jira")?;
    let q = page_q(q)?;
    let (start, max) = window(&q);
    let all: Vec<Value> = ws
        .schemas
        .iter()
        .filter(|s| ws.can_read(s.id, &user.account_id))
        .map(|s| render(&st).schema(s))
        .collect();
    let total = all.len();
    let values: Vec<Value> = all.into_iter().skip(start).take(max).collect();
    let last = start.saturating_add(values.len()) >= total;
    Ok(Json(
        json!({"startAt": start, "maxResults": max, "total": total, "values": values, "isLast": last, "last": last}),
    ))
}

async fn schema_one(State(st): State<AssetsState>, c: Caller, p: Params) -> Res {
    let (ws, user) = gate(&st, c, &p, "read:cmdb-schema:jira")?;
    let s = find_schema(ws, &user, &p)?;
    Ok(Json(render(&st).schema(s)))
}

async fn schema_attributes(
    State(st): State<AssetsState>,
    c: Caller,
    p: Params,
    q: Result<Query<PageQ>, QueryRejection>,
) -> Res {
    let (ws, user) = gate(&st, c, &p, "read:cmdb-attribute:jira")?;
    let q = page_q(q)?;
    let id = find_schema(ws, &user, &p)?.id;
    let needle = q.query.unwrap_or_default().to_lowercase();
    let out: Vec<Value> = ws
        .attributes
        .iter()
        .filter(|a| {
            ws.object_type(a.object_type_id)
                .is_some_and(|t| t.schema_id == id)
        })
        .filter(|a| needle.is_empty() || a.name.to_lowercase().contains(&needle))
        .map(|a| render(&st).attribute(a))
        .collect();
    Ok(Json(Value::Array(out)))
}

async fn schema_types(State(st): State<AssetsState>, c: Caller, p: Params) -> Out {
    let (ws, user) = gate(&st, c, &p, "read:cmdb-type:jira")?;
    let id = find_schema(ws, &user, &p)?.id;
    let r = render(&st);
    let out: Vec<_> = ws
        .types
        .iter()
        .filter(|t| t.schema_id == id)
        .map(|t| r.object_type(t))
        .collect();
    Ok(Json(out).into_response())
}

async fn type_one(State(st): State<AssetsState>, c: Caller, p: Params) -> Out {
    let (ws, user) = gate(&st, c, &p, "read:cmdb-type:jira")?;
    let t = find_type(ws, &user, &p)?;
    Ok(Json(render(&st).object_type(t)).into_response())
}

async fn type_attributes(
    State(st): State<AssetsState>,
    c: Caller,
    p: Params,
    q: Result<Query<PageQ>, QueryRejection>,
) -> Res {
    let (ws, user) = gate(&st, c, &p, "read:cmdb-attribute:jira")?;
    let q = page_q(q)?;
    let t = find_type(ws, &user, &p)?;
    let needle = q.query.unwrap_or_default().to_lowercase();
    let own_only = q.exclude_parent_attributes.unwrap_or(false);
    let mut attrs: Vec<_> = ws
        .effective_attributes(t.id)
        .iter()
        .filter_map(|id| ws.attribute(*id))
        .filter(|a| !own_only || a.object_type_id == t.id)
        .filter(|a| needle.is_empty() || a.name.to_lowercase().contains(&needle))
        .collect();
    if q.order_by_name.unwrap_or(false) {
        attrs.sort_by(|a, b| {
            a.name
                .to_lowercase()
                .cmp(&b.name.to_lowercase())
                .then(a.id.cmp(&b.id))
        });
    }
    Ok(Json(Value::Array(
        attrs
            .into_iter()
            .map(|a| render(&st).attribute(a))
            .collect(),
    )))
}

/// The object schema named by the `id` path parameter, if the caller may read it.
fn find_schema<'a>(
    ws: &'a AssetsWorkspace,
    user: &AuthedUser,
    p: &Params,
) -> Result<&'a ObjectSchema, ApiError> {
    let id = id_param(p, "Object schema")?;
    let s = ws.schema(id).ok_or_else(|| not_found("Object schema"))?;
    readable_schema(ws, user, id)?;
    Ok(s)
}

/// The object type named by the `id` path parameter, if the caller may read its schema.
fn find_type<'a>(
    ws: &'a AssetsWorkspace,
    user: &AuthedUser,
    p: &Params,
) -> Result<&'a ObjectType, ApiError> {
    let t = ws
        .object_type(id_param(p, "Object type")?)
        .ok_or_else(|| not_found("Object type"))?;
    readable_schema(ws, user, t.schema_id).map_err(|_| not_found("Object type"))?;
    Ok(t)
}

fn find_object<'a>(
    ws: &'a AssetsWorkspace,
    user: &AuthedUser,
    p: &Params,
) -> Result<&'a AssetObject, ApiError> {
    let o = ws
        .object(id_param(p, "Object")?)
        .ok_or_else(|| not_found("Object"))?;
    let schema = ws.object_type(o.type_id).map_or(0, |t| t.schema_id);
    readable_schema(ws, user, schema).map_err(|_| not_found("Object"))?;
    Ok(o)
}

async fn object_one(State(st): State<AssetsState>, c: Caller, p: Params) -> Out {
    let (ws, user) = gate(&st, c, &p, "read:cmdb-object:jira")?;
    let o = find_object(ws, &user, &p)?;
    Ok(Json(render(&st).object(o, true)).into_response())
}

async fn object_attributes(State(st): State<AssetsState>, c: Caller, p: Params) -> Out {
    let (ws, user) = gate(&st, c, &p, "read:cmdb-object:jira")?;
    let o = find_object(ws, &user, &p)?;
    Ok(Json(render(&st).object_attributes(o)).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AqlBody {
    ql_query: String,
}

fn run_aql<'a>(
    ws: &'a AssetsWorkspace,
    user: &AuthedUser,
    body: Result<Json<AqlBody>, JsonRejection>,
) -> Result<Vec<&'a AssetObject>, ApiError> {
    let Json(body) = body.map_err(|e| ApiError(StatusCode::BAD_REQUEST, e.body_text()))?;
    let bad = |e: super::aql::AqlError| ApiError(StatusCode::BAD_REQUEST, e.0);
    let query = parse(&body.ql_query).map_err(bad)?;
    let ctx = SearchContext {
        account_id: user.account_id.clone(),
        now_ms: now_ms(),
    };
    let readable: BTreeSet<u32> = ws
        .schemas
        .iter()
        .filter(|s| ws.can_read(s.id, &user.account_id))
        .map(|s| s.id)
        .collect();
    let readable_types: BTreeSet<u32> = ws
        .types
        .iter()
        .filter(|t| readable.contains(&t.schema_id))
        .map(|t| t.id)
        .collect();
    Evaluator::new(ws, ctx)
        .search(&query, |o| readable_types.contains(&o.type_id))
        .map_err(bad)
}

async fn aql(
    State(st): State<AssetsState>,
    c: Caller,
    p: Params,
    q: Result<Query<PageQ>, QueryRejection>,
    body: Result<Json<AqlBody>, JsonRejection>,
) -> Out {
    let (ws, user) = gate(&st, c, &p, "read:cmdb-object:jira")?;
    let q = page_q(q)?;
    let hits = run_aql(ws, &user, body)?;
    let (start, max) = window(&q);
    let with_attrs = q.include_attributes.unwrap_or(true);
    let page: &[&AssetObject] = hits.get(start..).unwrap_or_default();
    let page = page.get(..max).unwrap_or(page);
    let r = render(&st);
    let mut type_attrs: BTreeSet<u32> = BTreeSet::new();
    if with_attrs {
        for o in page {
            type_attrs.extend(ws.effective_attributes(o.type_id));
        }
    }
    let last = start.saturating_add(page.len()) >= hits.len();
    let out = AqlPage {
        is_last: last,
        last,
        max_results: max,
        object_type_attributes: type_attrs
            .iter()
            .filter_map(|id| ws.attribute(*id))
            .map(|a| r.attribute(a))
            .collect(),
        start_at: start,
        total: hits.len(),
        values: PageObjects {
            r,
            page,
            with_attrs,
        },
    };
    // A page of 1,000 objects with attributes is about 5.5 MB: size the buffer once.
    let per_object = if with_attrs { 6_000 } else { 1_600 };
    let mut buf = Vec::with_capacity(page.len().saturating_mul(per_object).saturating_add(4_096));
    serde_json::to_writer(&mut buf, &out).map_err(|e| {
        ApiError(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("rendering failed: {e}"),
        )
    })?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        buf,
    )
        .into_response())
}

/// An `/object/aql` response; fields in key order (see [`super::json`]).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AqlPage<'a> {
    is_last: bool,
    last: bool,
    max_results: usize,
    object_type_attributes: Vec<Value>,
    start_at: usize,
    total: usize,
    values: PageObjects<'a>,
}

/// The objects of one page, rendered as they are written.
struct PageObjects<'a> {
    r: Render<'a>,
    page: &'a [&'a AssetObject],
    with_attrs: bool,
}

impl Serialize for PageObjects<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.page.iter().map(|o| self.r.object(o, self.with_attrs)))
    }
}

async fn aql_count(
    State(st): State<AssetsState>,
    c: Caller,
    p: Params,
    body: Result<Json<AqlBody>, JsonRejection>,
) -> Res {
    let (ws, user) = gate(&st, c, &p, "read:cmdb-object:jira")?;
    let hits = run_aql(ws, &user, body)?;
    Ok(Json(json!({"totalCount": hits.len()})))
}

async fn statuses(
    State(st): State<AssetsState>,
    c: Caller,
    p: Params,
    q: Result<Query<PageQ>, QueryRejection>,
) -> Out {
    let (ws, _) = gate(&st, c, &p, "read:cmdb-config:jira")?;
    let q = page_q(q)?;
    let want: Option<u32> = q.object_schema_id.and_then(|s| s.parse().ok());
    let r = render(&st);
    let out: Vec<_> = ws
        .statuses
        .iter()
        .filter(|s| s.schema_id.is_none() || want.is_none() || s.schema_id == want)
        .map(|s| r.status(s))
        .collect();
    Ok(Json(out).into_response())
}

/// Thin stub: no Jira issues are known to the Assets side, so the list is empty.
async fn tickets(State(st): State<AssetsState>, c: Caller, p: Params) -> Res {
    let (ws, user) = gate(&st, c, &p, "read:cmdb-object:jira")?;
    let o = find_object(ws, &user, &p)?;
    let found = st
        .inner
        .connected
        .get()
        .map(|c| c.tickets(&user.account_id, &ws.workspace_id, u64::from(o.id)))
        .unwrap_or_default();
    // A query that finds the same issues, built like every JQL in the workspace: through
    // the escaping builder. No connected issue: a query that matches none.
    use atlassian::jql::Field;
    let keys: Vec<String> = found.iter().map(|(k, _)| k.clone()).collect();
    let query = match Field::Key.is_in(keys) {
        Ok(clause) => atlassian::jql::Query::from(clause).to_jql(),
        Err(_) => atlassian::jql::Query::from(Field::Key.is_empty()).to_jql(),
    };
    let tickets: Vec<Value> = found.into_iter().map(|(_, t)| t).collect();
    Ok(Json(
        json!({"tickets": tickets, "allTicketsQuery": query.as_str()}),
    ))
}
