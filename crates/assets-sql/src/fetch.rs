//! From the Assets client to plain metadata and object streams. AQL is built only with
//! `atlassian::aql`.

use atlassian::aql::{Attribute, Clause, Value as AqlValue};
use atlassian::client::{AssetsClient, ObjectTypeAttribute};
use futures_util::TryStreamExt;
use serde_json::Value as Json;

use crate::error::Result;
use crate::model::Selection;
use crate::schema::{AttrKind, Attribute as Attr, DefaultType, Metadata, ObjectType, Schema};

/// Counts API requests the export makes (paged streams: one per page).
#[derive(Debug, Default, Clone, Copy)]
pub struct Requests {
    /// Requests so far.
    pub count: u64,
    /// Page size used to estimate the pages of streams.
    pub page_size: u64,
}

impl Requests {
    /// Adds the requests of a stream that yielded `items`.
    pub fn stream(&mut self, items: u64) {
        let page = self.page_size.max(1);
        self.count += (items / page) + 1;
    }
}

fn attr_kind(a: &ObjectTypeAttribute) -> AttrKind {
    let id_of = |v: &Option<Json>| -> Option<String> {
        match v.as_ref()?.get("id")? {
            Json::String(s) => Some(s.clone()),
            Json::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    match a.kind.unwrap_or(0) {
        0 => AttrKind::Default(DefaultType::from_id(
            a.default_type
                .as_ref()
                .and_then(|d| d.get("id"))
                .and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok()))
                .unwrap_or(0),
        )),
        1 => AttrKind::Reference {
            target_type_id: id_of(&a.reference_object_type),
        },
        2 => AttrKind::User,
        4 => AttrKind::Group,
        7 => AttrKind::Status,
        n => AttrKind::Other(n),
    }
}

/// Discovers the schemas, object types and attributes `selection` covers.
#[tracing::instrument(skip_all)]
pub async fn metadata(
    assets: &AssetsClient,
    selection: &Selection,
    requests: &mut Requests,
) -> Result<Metadata> {
    let workspace_id = workspace_from_base(assets.base().as_str()).unwrap_or_default();
    let schemas: Vec<_> = assets.object_schemas().try_collect().await?;
    requests.stream(schemas.len() as u64);
    let mut meta = Metadata {
        workspace_id,
        ..Metadata::default()
    };
    for s in schemas {
        if selection
            .schemas
            .as_ref()
            .is_some_and(|set| !set.contains(&s.id))
        {
            continue;
        }
        let types = assets.object_types(&s.id).await?;
        requests.count += 1;
        for t in types {
            if selection
                .types
                .as_ref()
                .is_some_and(|set| !set.contains(&t.id))
            {
                continue;
            }
            let attrs = assets.object_type_attributes(&t.id).await?;
            requests.count += 1;
            meta.types.push(ObjectType {
                id: t.id.clone(),
                schema_id: t.object_schema_id.clone().unwrap_or_else(|| s.id.clone()),
                name: t.name.clone().unwrap_or_default(),
                parent_id: t.parent_object_type_id.clone(),
                attributes: attrs
                    .iter()
                    .map(|a| Attr {
                        id: a.id.clone(),
                        name: a.name.clone().unwrap_or_default(),
                        kind: attr_kind(a),
                        multi: a.maximum_cardinality.is_some_and(|m| m != 1),
                    })
                    .collect(),
            });
        }
        meta.schemas.push(Schema {
            id: s.id,
            name: s.name.unwrap_or_default(),
            key: s.object_schema_key.unwrap_or_default(),
        });
    }
    meta.merge_inherited();
    Ok(meta)
}

/// The workspace id in an Assets base URL (`…/workspace/{id}/v1`).
pub fn workspace_from_base(base: &str) -> Option<String> {
    let mut parts = base.trim_end_matches('/').rsplit('/');
    let _v1 = parts.next()?;
    let id = parts.next()?;
    (parts.next()? == "workspace").then(|| id.to_owned())
}

/// `objectTypeId = id`, and the filter, and `Updated >= since` (minute precision, the
/// finest AQL date literal; over-fetching by less than a minute is harmless).
pub fn type_query(
    type_id: &str,
    filter: Option<&Clause>,
    since: Option<jiff::Timestamp>,
) -> Result<Clause> {
    let id_clause = match type_id.parse::<i64>() {
        Ok(n) => Attribute::ObjectTypeId.eq(n),
        Err(_) => Attribute::ObjectTypeId.eq(AqlValue::string(type_id)?),
    };
    let mut clauses = vec![id_clause];
    if let Some(f) = filter {
        clauses.push(f.clone());
    }
    if let Some(ts) = since {
        let text = ts
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .strftime("%Y-%m-%d %H:%M")
            .to_string();
        clauses.push(Attribute::Updated.ge(AqlValue::string(text)?));
    }
    Ok(Clause::all(clauses).unwrap_or_else(|| Attribute::ObjectTypeId.eq(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries() {
        let q = type_query("5", None, None).map(|c| c.to_aql().into_string());
        assert_eq!(q.ok().as_deref(), Some("objectTypeId = 5"));
        let ts: jiff::Timestamp = "2024-03-04T05:06:59Z".parse().unwrap_or_default();
        let f = Attribute::named("Name")
            .map(|a| a.eq(AqlValue::string("x\"y").unwrap_or(AqlValue::Number(0))));
        let q = type_query("5", f.ok().as_ref(), Some(ts)).map(|c| c.to_aql().into_string());
        assert_eq!(
            q.ok().as_deref(),
            Some(r#"objectTypeId = 5 AND "Name" = "x\"y" AND Updated >= "2024-03-04 05:06""#)
        );
    }

    #[test]
    fn workspace_ids() {
        assert_eq!(
            workspace_from_base("http://h/jsm/assets/workspace/abc-1/v1").as_deref(),
            Some("abc-1")
        );
        assert_eq!(workspace_from_base("http://h/x").as_deref(), None);
    }
}
