//! The pull endpoint: `GET /api/assets-sql/v1/exports/{id}/sql?dialect=…` (a SQL script) and
//! `…/json` (JSON lines), authenticated by API keys scoped to the export, generated on
//! request and streamed (memory stays flat whatever the size), with an `ETag` so an
//! unchanged export answers `304`, and a per-key rate limit (`429` + `Retry-After`).
//!
//! The `ETag` comes from a fingerprint of the export's objects in Assets: their count and
//! whether any changed since the last check (two count requests), plus the export's settings
//! and the dialect. A change bumps an epoch kept in the store.

use atlassian::aql::{Attribute, Clause, Value as AqlValue};
use atlassian::client::AssetsClient;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use platform::apikeys::{ApiKeyError, scope_grants};
use platform::permissions::Principal;
use platform::store::{Kv, SiteId};
use platform::web::ApiError;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::AssetsSqlState;
use super::defs::{Defs, ExportDef, valid_id};
use crate::dialect::Dialect;
use crate::export::{ExportOptions, ExportState, Output, equality_filter, export};
use crate::model::Plan;
use crate::sink::{Counts, RunInfo, Sink};
use crate::value::{ObjectRow, Value};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct SqlQuery {
    dialect: String,
}

/// The machine principal of the request's API key, checked for this export's scope and
/// the rate limit.
async fn authorize(
    st: &AssetsSqlState,
    headers: &HeaderMap,
    export_id: &str,
) -> Result<SiteId, Response> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let unauthorized = |msg: &str| {
        let mut r = ApiError::Unauthorized(msg.into()).into_response();
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"jsmkit\""),
        );
        r
    };
    let Some(token) = token else {
        return Err(unauthorized(
            "send an API key as Authorization: Bearer jsmk.…",
        ));
    };
    let principal = match st.keys.authenticate(token).await {
        Ok(p) => p,
        Err(ApiKeyError::Invalid) => {
            return Err(unauthorized("the API key is not valid or was revoked"));
        }
        Err(e) => return Err(ApiError::internal(e).into_response()),
    };
    let Principal::ApiKey { site, id, scopes } = principal else {
        return Err(unauthorized("an API key is required"));
    };
    if let Err(wait) = st
        .limiter
        .check(&id, jiff::Timestamp::now().as_millisecond())
    {
        return Err(ApiError::RateLimited {
            retry_after: wait.max(std::time::Duration::from_secs(1)),
        }
        .into_response());
    }
    if !scope_grants(&scopes, &format!("assets-sql:export:{export_id}")) {
        return Err(
            ApiError::Forbidden("this API key is not scoped to that export".into()).into_response(),
        );
    }
    Ok(site)
}

#[derive(Default, Serialize, Deserialize)]
struct Fingerprint {
    total: u64,
    epoch: u64,
    checked_ms: i64,
}

/// The objects an export covers, as one AQL clause.
fn scope(def: &ExportDef) -> crate::error::Result<Clause> {
    let ids = |set: &std::collections::BTreeSet<String>| -> Vec<AqlValue> {
        set.iter()
            .filter_map(|s| s.parse::<i64>().ok())
            .map(AqlValue::from)
            .collect()
    };
    let mut clauses = Vec::new();
    if let Some(t) = &def.selection.types {
        clauses.push(Attribute::ObjectTypeId.is_in(ids(t))?);
    } else if let Some(s) = &def.selection.schemas {
        clauses.push(Attribute::ObjectSchemaId.is_in(ids(s))?);
    }
    if let Some(f) = equality_filter(&def.filters)? {
        clauses.push(f);
    }
    Ok(Clause::all(clauses).unwrap_or_else(|| Attribute::ObjectId.gt(0)))
}

/// The `ETag` of an export for `dialect` now (two count requests to Assets).
async fn etag(
    kv: &Kv,
    assets: &AssetsClient,
    def: &ExportDef,
    dialect: &str,
) -> crate::error::Result<String> {
    let key = format!("fingerprint:{}", def.id);
    let old: Option<Fingerprint> = kv
        .get(&key)
        .await
        .map_err(|e| crate::Error::Invalid(e.to_string()))?;
    let scope = scope(def)?;
    let total = assets
        .aql_count(&atlassian::aql::Query::filter(scope.clone()).to_aql())
        .await?;
    let now = jiff::Timestamp::now();
    let fp = match old {
        Some(o) => {
            let since = jiff::Timestamp::from_millisecond(o.checked_ms - 60_000).unwrap_or(now);
            let text = since
                .to_zoned_datetime(jiff::tz::TimeZone::UTC)
                .strftime("%Y-%m-%d %H:%M")
                .to_string();
            let changed = assets
                .aql_count(
                    &atlassian::aql::Query::filter(
                        scope.and(Attribute::Updated.ge(AqlValue::string(text)?)),
                    )
                    .to_aql(),
                )
                .await?;
            let same = changed == 0 && o.total == total;
            Fingerprint {
                total,
                epoch: if same { o.epoch } else { o.epoch + 1 },
                checked_ms: now.as_millisecond(),
            }
        }
        None => Fingerprint {
            total,
            epoch: 1,
            checked_ms: now.as_millisecond(),
        },
    };
    kv.set(&key, &fp)
        .await
        .map_err(|e| crate::Error::Invalid(e.to_string()))?;
    let settings = serde_json::to_string(def).unwrap_or_default();
    let digest =
        Sha256::digest(format!("{settings}|{dialect}|{}|{}", fp.epoch, fp.total).as_bytes());
    Ok(format!("\"{}\"", hex::encode(&digest[..16])))
}

fn matches(headers: &HeaderMap, tag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"))
}

async fn load(
    st: &AssetsSqlState,
    site: &SiteId,
    id: &str,
) -> Result<(ExportDef, AssetsClient), Response> {
    let found = Defs::new(&st.store, site)
        .get(id)
        .await
        .map_err(|e| ApiError::internal(e).into_response())?;
    let Some((def, _)) = found else {
        return Err(ApiError::NotFound("no such export".into()).into_response());
    };
    if !def.pull {
        return Err(ApiError::NotFound("this export has no pull endpoint".into()).into_response());
    }
    let client = st.auth.service_client(site).await.map_err(|e| {
        ApiError::Conflict(format!("the export cannot reach Assets: {e}")).into_response()
    })?;
    let assets = client
        .assets()
        .await
        .map_err(|e| ApiError::BadRequest(format!("Assets did not answer: {e}")).into_response())?;
    Ok((def, assets))
}

/// Streams what `write` produces into the response body.
fn stream_body<F, Fut>(write: F) -> Body
where
    F: FnOnce(tokio::io::DuplexStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (reader, writer) = tokio::io::duplex(64 * 1024);
    tokio::spawn(write(writer));
    Body::from_stream(tokio_util::io::ReaderStream::new(reader))
}

/// `GET /api/assets-sql/v1/exports/{id}/sql?dialect=postgres|mysql|sqlite|mssql`.
pub(crate) async fn sql(
    State(st): State<AssetsSqlState>,
    Path(id): Path<String>,
    Query(q): Query<SqlQuery>,
    headers: HeaderMap,
) -> Response {
    if !valid_id(&id) {
        return ApiError::NotFound("no such export".into()).into_response();
    }
    let site = match authorize(&st, &headers, &id).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let dialect: Dialect = match q.dialect.parse() {
        Ok(d) => d,
        Err(e) => {
            return ApiError::Validation {
                fields: platform::web::FieldErrors::new().with("dialect", e.to_string()),
            }
            .into_response();
        }
    };
    let (def, assets) = match load(&st, &site, &id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if !def.dialects.contains(&dialect) {
        return ApiError::Validation {
            fields: platform::web::FieldErrors::new().with(
                "dialect",
                format!("this export offers {}", def.dialect_names().join(", ")),
            ),
        }
        .into_response();
    }
    let kv = Defs::new(&st.store, &site).kv().clone();
    let tag = match etag(&kv, &assets, &def, dialect.name()).await {
        Ok(t) => t,
        Err(e) => {
            return ApiError::BadRequest(format!("Assets did not answer: {e}")).into_response();
        }
    };
    if matches(&headers, &tag) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, tag)]).into_response();
    }
    let filter = match equality_filter(&def.filters) {
        Ok(f) => f,
        Err(e) => return ApiError::BadRequest(e.to_string()).into_response(),
    };
    let selection = def.selection.clone();
    let export_id = def.id.clone();
    let body = stream_body(move |w| async move {
        let mut state = ExportState::default();
        let opts = ExportOptions {
            selection,
            filter,
            incremental: false,
            progress: None,
        };
        if let Err(e) = export(
            &assets,
            Output::Script(dialect, Box::new(w)),
            opts,
            &mut state,
        )
        .await
        {
            tracing::warn!(export = %export_id, error = %e, "pull export failed mid-stream; the script ends without COMMIT");
        }
    });
    (
        [
            (
                header::CONTENT_TYPE,
                "application/sql; charset=utf-8".to_string(),
            ),
            (header::ETAG, tag),
            (header::CACHE_CONTROL, "private, no-cache".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{id}.{}.sql\"", dialect.name()),
            ),
        ],
        body,
    )
        .into_response()
}

/// Writes a run as JSON lines: one `{"table":…,"columns":[…]}` per table, then one
/// `{"table":…,"row":{…}}` per row, then `{"end":{…}}`.
struct JsonLines<W> {
    out: W,
}

fn json_of(v: &Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Text(s) => serde_json::Value::String(s.clone()),
        Value::Int(i) => serde_json::json!(i),
        Value::Bool(b) => serde_json::json!(b),
        Value::Double(d) => serde_json::json!(d),
        Value::Date(d) => serde_json::Value::String(d.to_string()),
        Value::Time(t) => serde_json::Value::String(t.to_string()),
        Value::DateTime(t) => serde_json::Value::String(t.to_string()),
    }
}

impl<W: tokio::io::AsyncWrite + Unpin + Send> JsonLines<W> {
    async fn line(&mut self, v: &serde_json::Value) -> crate::error::Result<()> {
        let mut s = serde_json::to_vec(v).map_err(|e| crate::Error::Invalid(e.to_string()))?;
        s.push(b'\n');
        self.out.write_all(&s).await?;
        Ok(())
    }
}

impl<W: tokio::io::AsyncWrite + Unpin + Send> Sink for JsonLines<W> {
    async fn begin(&mut self, plan: &Plan, run: &RunInfo) -> crate::error::Result<()> {
        self.line(&serde_json::json!({"run": run.run_id, "started": run.started.to_string()}))
            .await?;
        for t in &plan.types {
            self.line(&serde_json::json!({
                "table": t.def.name, "object_type": t.type_name, "object_type_id": t.type_id,
                "columns": t.def.column_names(),
                "links": t.links.iter().map(|l| l.def.name.clone()).collect::<Vec<_>>(),
            }))
            .await?;
        }
        Ok(())
    }

    async fn seen(
        &mut self,
        _t: &crate::model::TypeTable,
        _ids: &[String],
    ) -> crate::error::Result<()> {
        Ok(())
    }

    async fn rows(
        &mut self,
        t: &crate::model::TypeTable,
        rows: &[ObjectRow],
    ) -> crate::error::Result<()> {
        let names = t.def.column_names();
        for r in rows {
            let mut row = serde_json::Map::new();
            for (n, v) in names.iter().zip(&r.values) {
                row.insert((*n).to_string(), json_of(v));
            }
            for (l, vs) in t.links.iter().zip(&r.links) {
                row.insert(
                    l.def.name.clone(),
                    serde_json::Value::Array(vs.iter().map(json_of).collect()),
                );
            }
            self.line(&serde_json::json!({"table": t.def.name, "row": row}))
                .await?;
        }
        Ok(())
    }

    async fn finish(
        &mut self,
        _p: &Plan,
        _r: &RunInfo,
        counts: Counts,
    ) -> crate::error::Result<()> {
        self.line(&serde_json::json!({"end": {"objects": counts.objects, "rows": counts.rows}}))
            .await?;
        self.out.flush().await?;
        Ok(())
    }

    async fn abort(&mut self) -> crate::error::Result<()> {
        let _ = self
            .line(&serde_json::json!({"error": "the export failed; this output is incomplete"}))
            .await;
        Ok(())
    }
}

/// `GET /api/assets-sql/v1/exports/{id}/json`: the same rows as JSON lines.
pub(crate) async fn json(
    State(st): State<AssetsSqlState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !valid_id(&id) {
        return ApiError::NotFound("no such export".into()).into_response();
    }
    let site = match authorize(&st, &headers, &id).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let (def, assets) = match load(&st, &site, &id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let kv = Defs::new(&st.store, &site).kv().clone();
    let tag = match etag(&kv, &assets, &def, "json").await {
        Ok(t) => t,
        Err(e) => {
            return ApiError::BadRequest(format!("Assets did not answer: {e}")).into_response();
        }
    };
    if matches(&headers, &tag) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, tag)]).into_response();
    }
    let filter = match equality_filter(&def.filters) {
        Ok(f) => f,
        Err(e) => return ApiError::BadRequest(e.to_string()).into_response(),
    };
    let body = stream_body(move |w| async move {
        let mut requests = crate::fetch::Requests {
            count: 0,
            page_size: crate::export::PAGE_SIZE,
        };
        let result = async {
            let meta = crate::fetch::metadata(&assets, &def.selection, &mut requests).await?;
            let mut names = crate::ident::NameMap::default();
            let p = crate::model::plan(&meta, &def.selection, &mut names, filter.is_none());
            let mut sink = JsonLines { out: w };
            let opts = crate::run::RunOptions {
                filter,
                since: None,
                page_size: Some(crate::export::PAGE_SIZE),
                progress: None,
            };
            crate::run::run(&assets, &p, &mut sink, &opts).await
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "pull JSON export failed mid-stream");
        }
    });
    (
        [
            (header::CONTENT_TYPE, "application/x-ndjson".to_string()),
            (header::ETAG, tag),
            (header::CACHE_CONTROL, "private, no-cache".to_string()),
        ],
        body,
    )
        .into_response()
}
