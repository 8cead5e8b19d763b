//! JSM Assets REST (`…/jsm/assets/workspace/{workspaceId}/v1`): schemas,
//! object types, attributes, AQL search and objects.

use serde::Deserialize;
use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
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

/// An object. Only what readers use is kept; everything else in the (large) response is
/// skipped while parsing. Unexpected shapes of the nested parts (an attribute that is not
/// an object, a value list that is not a list) read as absent rather than failing the page.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetObject {
    /// Object id.
    pub id: String,
    /// Label.
    pub label: Option<String>,
    /// Key such as `ITSM-12`.
    pub object_key: Option<String>,
    /// Its type (id and name).
    #[serde(default, deserialize_with = "lenient_map")]
    pub object_type: Option<ObjectTypeRef>,
    /// Created (ISO text).
    pub created: Option<String>,
    /// Updated (ISO text).
    pub updated: Option<String>,
    /// Attribute values (with `includeAttributes`).
    #[serde(default, deserialize_with = "lenient_list")]
    pub attributes: Vec<ObjectAttribute>,
}

/// The type of an object, as embedded in it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectTypeRef {
    /// Type id.
    #[serde(default, deserialize_with = "present")]
    pub id: Option<Scalar>,
    /// Type name.
    #[serde(default, deserialize_with = "present")]
    pub name: Option<Scalar>,
}

/// One attribute of an object (`ObjectAttribute`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectAttribute {
    /// The object type attribute it belongs to.
    #[serde(default, deserialize_with = "present")]
    pub object_type_attribute_id: Option<Scalar>,
    /// Its values.
    #[serde(default, deserialize_with = "lenient_list")]
    pub object_attribute_values: Vec<AttributeValue>,
}

/// One value of an attribute (`ObjectAttributeValue`); which parts are set depends on the
/// attribute kind. A field the response has as `null` is `Some(Scalar::Other)`, a field it
/// lacks is `None`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttributeValue {
    /// The stored value (default kinds; account id, group name, status id).
    #[serde(default, deserialize_with = "present")]
    pub value: Option<Scalar>,
    /// The value as shown.
    #[serde(default, deserialize_with = "present")]
    pub display_value: Option<Scalar>,
    /// The value as searched.
    #[serde(default, deserialize_with = "present")]
    pub search_value: Option<Scalar>,
    /// The referenced object (references).
    #[serde(default, deserialize_with = "lenient_map")]
    pub referenced_object: Option<ReferencedObject>,
    /// The referenced object's id, where a server gives it flat.
    #[serde(default, deserialize_with = "present")]
    pub referenced_object_id: Option<Scalar>,
    /// The user (user attributes).
    #[serde(default, deserialize_with = "lenient_map")]
    pub user: Option<AttributeUser>,
    /// The group (group attributes).
    #[serde(default, deserialize_with = "lenient_map")]
    pub group: Option<AttributeGroup>,
    /// The status (status attributes).
    #[serde(default, deserialize_with = "lenient_map")]
    pub status: Option<AttributeStatus>,
}

/// The object a reference value points at.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReferencedObject {
    /// Object id.
    #[serde(default, deserialize_with = "present")]
    pub id: Option<Scalar>,
    /// Object key.
    #[serde(default, deserialize_with = "present")]
    pub object_key: Option<Scalar>,
    /// Label.
    #[serde(default, deserialize_with = "present")]
    pub label: Option<Scalar>,
}

/// The user of a user value.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttributeUser {
    /// Account id.
    #[serde(default, deserialize_with = "present")]
    pub account_id: Option<Scalar>,
    /// Key (the account id on Cloud).
    #[serde(default, deserialize_with = "present")]
    pub key: Option<Scalar>,
    /// Display name.
    #[serde(default, deserialize_with = "present")]
    pub display_name: Option<Scalar>,
}

/// The group of a group value.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct AttributeGroup {
    /// Group name.
    #[serde(default, deserialize_with = "present")]
    pub name: Option<Scalar>,
}

/// The status of a status value.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct AttributeStatus {
    /// Status id.
    #[serde(default, deserialize_with = "present")]
    pub id: Option<Scalar>,
    /// Status name.
    #[serde(default, deserialize_with = "present")]
    pub name: Option<Scalar>,
}

/// A JSON value where text is expected: strings, numbers (as their JSON text) and
/// booleans are kept; `null`, arrays and objects are [`Scalar::Other`].
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// A string.
    Text(String),
    /// A number, as serde_json writes it.
    Number(String),
    /// A boolean.
    Bool(bool),
    /// `null`, an array or an object.
    Other,
}

impl Scalar {
    /// The text of a string or a number (not of a boolean).
    pub fn text_or_number(&self) -> Option<&str> {
        match self {
            Scalar::Text(s) | Scalar::Number(s) => Some(s),
            Scalar::Bool(_) | Scalar::Other => None,
        }
    }

    /// The text of a string, number or boolean.
    pub fn to_text(&self) -> Option<std::borrow::Cow<'_, str>> {
        match self {
            Scalar::Text(s) | Scalar::Number(s) => Some(std::borrow::Cow::Borrowed(s)),
            Scalar::Bool(b) => Some(std::borrow::Cow::Borrowed(if *b {
                "true"
            } else {
                "false"
            })),
            Scalar::Other => None,
        }
    }

    /// The string, if it is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Scalar::Text(s) => Some(s),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Scalar, E> {
                Ok(Scalar::Text(v.to_owned()))
            }
            fn visit_string<E: serde::de::Error>(
                self,
                v: String,
            ) -> std::result::Result<Scalar, E> {
                Ok(Scalar::Text(v))
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> std::result::Result<Scalar, E> {
                Ok(Scalar::Bool(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<Scalar, E> {
                Ok(Scalar::Number(serde_json::Number::from(v).to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<Scalar, E> {
                Ok(Scalar::Number(serde_json::Number::from(v).to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> std::result::Result<Scalar, E> {
                Ok(serde_json::Number::from_f64(v)
                    .map_or(Scalar::Other, |n| Scalar::Number(n.to_string())))
            }
            fn visit_unit<E: serde::de::Error>(self) -> std::result::Result<Scalar, E> {
                Ok(Scalar::Other)
            }
            fn visit_none<E: serde::de::Error>(self) -> std::result::Result<Scalar, E> {
                Ok(Scalar::Other)
            }
            fn visit_some<D: serde::Deserializer<'de>>(
                self,
                d: D,
            ) -> std::result::Result<Scalar, D::Error> {
                Scalar::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> std::result::Result<Scalar, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut a: A,
            ) -> std::result::Result<Scalar, A::Error> {
                while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
        }
        d.deserialize_any(V)
    }
}

/// A field that is present: `null` included (`Some(Scalar::Other)`); absent fields take
/// the `default` (`None`).
fn present<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Scalar>, D::Error> {
    Scalar::deserialize(d).map(Some)
}

/// An object read as `T`; anything else (`null`, a string, a list…) as `None`.
fn lenient_map<'de, D, T>(d: D) -> std::result::Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    d.deserialize_any(LenientMap(std::marker::PhantomData))
}

struct LenientMap<T>(std::marker::PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for LenientMap<T> {
    type Value = Option<T>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, a: A) -> std::result::Result<Option<T>, A::Error> {
        T::deserialize(serde::de::value::MapAccessDeserializer::new(a)).map(Some)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> std::result::Result<Option<T>, A::Error> {
        while a.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_bool<E: serde::de::Error>(self, _: bool) -> std::result::Result<Option<T>, E> {
        Ok(None)
    }
    fn visit_i64<E: serde::de::Error>(self, _: i64) -> std::result::Result<Option<T>, E> {
        Ok(None)
    }
    fn visit_u64<E: serde::de::Error>(self, _: u64) -> std::result::Result<Option<T>, E> {
        Ok(None)
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> std::result::Result<Option<T>, E> {
        Ok(None)
    }
    fn visit_str<E: serde::de::Error>(self, _: &str) -> std::result::Result<Option<T>, E> {
        Ok(None)
    }
    fn visit_unit<E: serde::de::Error>(self) -> std::result::Result<Option<T>, E> {
        Ok(None)
    }
    fn visit_none<E: serde::de::Error>(self) -> std::result::Result<Option<T>, E> {
        Ok(None)
    }
}

/// A list of objects read as `T`s (an element that is not an object reads as
/// `T::default()`); anything but a list as an empty list.
fn lenient_list<'de, D, T>(d: D) -> std::result::Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    struct Item<T>(T);
    impl<'de, T: Deserialize<'de> + Default> Deserialize<'de> for Item<T> {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
            Ok(Item(lenient_map(d)?.unwrap_or_default()))
        }
    }
    struct V<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de> + Default> Visitor<'de> for V<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> std::result::Result<Vec<T>, A::Error> {
            let mut out = Vec::with_capacity(a.size_hint().unwrap_or(0).min(1024));
            while let Some(Item(t)) = a.next_element::<Item<T>>()? {
                out.push(t);
            }
            Ok(out)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> std::result::Result<Vec<T>, A::Error> {
            while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(Vec::new())
        }
        fn visit_bool<E: serde::de::Error>(self, _: bool) -> std::result::Result<Vec<T>, E> {
            Ok(Vec::new())
        }
        fn visit_i64<E: serde::de::Error>(self, _: i64) -> std::result::Result<Vec<T>, E> {
            Ok(Vec::new())
        }
        fn visit_u64<E: serde::de::Error>(self, _: u64) -> std::result::Result<Vec<T>, E> {
            Ok(Vec::new())
        }
        fn visit_f64<E: serde::de::Error>(self, _: f64) -> std::result::Result<Vec<T>, E> {
            Ok(Vec::new())
        }
        fn visit_str<E: serde::de::Error>(self, _: &str) -> std::result::Result<Vec<T>, E> {
            Ok(Vec::new())
        }
        fn visit_unit<E: serde::de::Error>(self) -> std::result::Result<Vec<T>, E> {
            Ok(Vec::new())
        }
        fn visit_none<E: serde::de::Error>(self) -> std::result::Result<Vec<T>, E> {
            Ok(Vec::new())
        }
    }
    d.deserialize_any(V(std::marker::PhantomData))
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn objects_keep_what_readers_use_and_tolerate_odd_shapes() {
        let o: AssetObject = serde_json::from_value(json!({
            "id": "5", "label": "Pump", "objectKey": "IT-5",
            "objectType": {"id": 3, "name": "Pump", "icon": {"id": "1"}},
            "avatar": {"url16": "x"},
            "attributes": [
                {"objectTypeAttributeId": "1", "objectAttributeValues": [
                    {"value": "IT-5", "displayValue": "IT-5", "searchValue": "IT-5"},
                    {"value": 2.5, "displayValue": null},
                    {"value": true, "displayValue": ["x"]},
                    "not an object",
                    {"displayValue": "Site A", "referencedObject": {
                        "id": "17", "objectKey": "IT-17", "label": "Site A",
                        "objectType": {"id": "9"}, "avatar": {}
                    }},
                    {"value": "acc", "user": {"key": "acc", "displayName": "Ann", "avatarUrl": "u"}},
                    {"value": "g", "group": {"name": "g"}},
                    {"value": "1", "status": {"id": "1", "name": "Active", "category": 1}},
                    {"referencedObject": "17", "user": 4}
                ]},
                {"objectTypeAttributeId": 2, "objectAttributeValues": "none"},
                7
            ]
        }))
        .unwrap();
        let t = o.object_type.clone().unwrap_or_default();
        assert_eq!(t.id, Some(Scalar::Number("3".into())));
        assert_eq!(t.name.as_ref().and_then(Scalar::as_str), Some("Pump"));
        assert_eq!(o.attributes.len(), 3);
        let vals = &o.attributes[0].object_attribute_values;
        assert_eq!(vals.len(), 9);
        assert_eq!(vals[0].search_value, Some(Scalar::Text("IT-5".into())));
        assert_eq!(vals[1].value, Some(Scalar::Number("2.5".into())));
        // Present but null: kept apart from absent.
        assert_eq!(vals[1].display_value, Some(Scalar::Other));
        assert_eq!(vals[1].search_value, None);
        assert_eq!(vals[2].value, Some(Scalar::Bool(true)));
        assert_eq!(vals[2].display_value, Some(Scalar::Other));
        assert_eq!(vals[3], AttributeValue::default());
        let r = vals[4].referenced_object.clone().unwrap_or_default();
        assert_eq!(r.id, Some(Scalar::Text("17".into())));
        assert_eq!(r.object_key, Some(Scalar::Text("IT-17".into())));
        assert_eq!(r.label, Some(Scalar::Text("Site A".into())));
        let u = vals[5].user.clone().unwrap_or_default();
        assert_eq!(u.key, Some(Scalar::Text("acc".into())));
        assert_eq!(u.display_name, Some(Scalar::Text("Ann".into())));
        assert_eq!(
            vals[6].group.as_ref().and_then(|g| g.name.clone()),
            Some(Scalar::Text("g".into()))
        );
        let s = vals[7].status.clone().unwrap_or_default();
        assert_eq!(s.name, Some(Scalar::Text("Active".into())));
        assert_eq!(s.id, Some(Scalar::Text("1".into())));
        assert_eq!(vals[8].referenced_object, None);
        assert_eq!(vals[8].user, None);
        assert_eq!(
            o.attributes[1].object_type_attribute_id,
            Some(Scalar::Number("2".into()))
        );
        assert!(o.attributes[1].object_attribute_values.is_empty());
        assert_eq!(o.attributes[2], ObjectAttribute::default());
    }
}
