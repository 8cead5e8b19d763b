//! JSM Assets REST (`…/jsm/assets/workspace/{workspaceId}/v1`): schemas,
//! object types, attributes, AQL search and objects.

use serde::Deserialize;
use serde_json::Value;
use url::Url;

use super::auth::join;
use super::error::{Error, Result};
use super::http::{AtlassianClient, Call, Op};
use super::paging::{self, Paged};
use crate::aql::Aql;

static SCHEMAS: Op = Op::get("assets.object_schemas", "/objectschema/list");
static TYPES_FLAT: Op = Op::get(
    "assets.object_types_flat",
    "/objectschema/{id}/objecttypes/flat",
);
static TYPE_ATTRIBUTES: Op = Op::get(
    "assets.object_type_attributes",
    "/objecttype/{id}/attributes",
);
static AQL: Op = Op::post_read("assets.aql", "/object/aql");
static AQL_COUNT: Op = Op::post_read("assets.aql_count", "/object/aql/totalcount");
static OBJECT: Op = Op::get("assets.object", "/object/{id}");

/// Every operation of this module (see [`super::operations`]).
pub(crate) static OPS: &[&Op] = &[
    &SCHEMAS,
    &TYPES_FLAT,
    &TYPE_ATTRIBUTES,
    &AQL,
    &AQL_COUNT,
    &OBJECT,
];

/// Default page size (`maxResults`) of the Assets streams ([`AssetsClient::aql`],
/// [`AssetsClient::object_schemas`]); see [`super::ClientBuilder::page_size`].
pub const ASSETS_PAGE_SIZE: u64 = 100;
const PAGE: u64 = ASSETS_PAGE_SIZE;

/// Assets API of one workspace; from [`AtlassianClient::assets`].
#[derive(Debug, Clone)]
pub struct AssetsClient {
    client: AtlassianClient,
    base: Url,
}

/// An object schema.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectSchema {
    /// Schema id.
    pub id: String,
    /// Name.
    pub name: Option<String>,
    /// Short key.
    pub object_schema_key: Option<String>,
    /// Description.
    pub description: Option<String>,
}

/// An object type.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectType {
    /// Type id.
    pub id: String,
    /// Name.
    pub name: Option<String>,
    /// Parent type id. The published schema types it as an integer while every other id
    /// is a string, so both forms are accepted.
    #[serde(default, deserialize_with = "id_text")]
    pub parent_object_type_id: Option<String>,
    /// Schema id.
    pub object_schema_id: Option<String>,
    /// Objects of this type (with `includeObjectCounts`).
    pub object_count: Option<u64>,
}

/// An optional id given as a JSON string or integer, kept as text.
fn id_text<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Text(String),
        Number(i64),
    }
    Ok(Option::<Id>::deserialize(d)?.map(|id| match id {
        Id::Text(s) => s,
        Id::Number(n) => n.to_string(),
    }))
}

/// An attribute definition of an object type.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectTypeAttribute {
    /// Attribute id.
    pub id: String,
    /// Name.
    pub name: Option<String>,
    /// Kind: 0 default, 1 object reference, 2 user, 4 group, 7 status…
    #[serde(rename = "type")]
    pub kind: Option<i64>,
    /// Default type (`{id, name}`) for kind 0, raw.
    pub default_type: Option<Value>,
    /// Referenced object type for kind 1, raw.
    pub reference_object_type: Option<Value>,
    /// Whether it holds several values.
    pub maximum_cardinality: Option<i64>,
}

/// An object; attributes stay raw (their shape depends on the attribute kind).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetObject {
    /// Object id.
    pub id: String,
    /// Label.
    pub label: Option<String>,
    /// Key such as `ITSM-12`.
    pub object_key: Option<String>,
    /// Its type, raw.
    pub object_type: Option<Value>,
    /// Created (ISO text).
    pub created: Option<String>,
    /// Updated (ISO text).
    pub updated: Option<String>,
    /// Attribute values (with `includeAttributes`), raw.
    #[serde(default)]
    pub attributes: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TotalCount {
    total_count: u64,
}

impl AtlassianClient {
    /// The Assets API of this site, discovering the workspace id once.
    pub async fn assets(&self) -> Result<AssetsClient> {
        let id = self
            .inner
            .workspace
            .get_or_try_init(|| self.discover_assets_workspace())
            .await?
            .clone();
        if id.is_empty() || id.contains(['/', '?', '#', '%']) || id.starts_with('.') {
            return Err(Error::Decode {
                op: "assets.workspace",
                reason: "invalid workspace id".into(),
            });
        }
        let base = join(&self.inner.assets_root, &format!("workspace/{id}/v1"));
        Ok(AssetsClient {
            client: self.clone(),
            base,
        })
    }
}

impl AssetsClient {
    /// The workspace base URL.
    pub fn base(&self) -> &Url {
        &self.base
    }

    fn call(&self, op: &'static Op) -> Call {
        Call::new(op).base(self.base.clone())
    }

    /// All object schemas (offset pages).
    pub fn object_schemas(&self) -> Paged<ObjectSchema> {
        let this = self.clone();
        let page = self.client.page_size(PAGE);
        paging::offset(&self.client, move |start| {
            this.call(&SCHEMAS)
                .query("startAt", start)
                .query("maxResults", page)
        })
    }

    /// Every object type of a schema.
    pub async fn object_types(&self, schema_id: &str) -> Result<Vec<ObjectType>> {
        let call = self
            .call(&TYPES_FLAT)
            .arg(schema_id)
            .query("includeObjectCounts", true);
        self.client.json(call).await
    }

    /// Attribute definitions of an object type.
    pub async fn object_type_attributes(&self, type_id: &str) -> Result<Vec<ObjectTypeAttribute>> {
        self.client
            .json(self.call(&TYPE_ATTRIBUTES).arg(type_id))
            .await
    }

    /// Objects matching an AQL query (offset pages, `isLast`).
    pub fn aql(&self, query: &Aql, include_attributes: bool) -> Paged<AssetObject> {
        let this = self.clone();
        let body = serde_json::json!({ "qlQuery": query });
        let page = self.client.page_size(PAGE);
        paging::offset(&self.client, move |start| {
            this.call(&AQL)
                .query("startAt", start)
                .query("maxResults", page)
                .query("includeAttributes", include_attributes)
                .json(body.clone())
        })
    }

    /// Number of objects matching an AQL query.
    pub async fn aql_count(&self, query: &Aql) -> Result<u64> {
        let call = self
            .call(&AQL_COUNT)
            .json(serde_json::json!({ "qlQuery": query }));
        Ok(self.client.json::<TotalCount>(call).await?.total_count)
    }

    /// One object by id.
    pub async fn object(&self, id: &str) -> Result<AssetObject> {
        self.client.json(self.call(&OBJECT).arg(id)).await
    }
}
