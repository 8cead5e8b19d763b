//! Wire rendering of the model, following the schemas of `jsm-assets.openapi.json`
//! (`ObjectSchema`, `ObjectType`, `ObjectTypeAttribute`, `Object`, `ObjectAttribute`,
//! `ObjectAttributeValue`, `Status`). Ids are strings; `parentObjectTypeId` is an integer.

use serde_json::{Value, json};

use super::aql::eval_fmt_num;
use super::model::{
    AssetObject, AssetsWorkspace, AttrKind, AttributeDef, ObjectSchema, ObjectType, StatusCategory,
    StatusType, Val,
};
use super::time::{fmt_date, fmt_datetime, fmt_time};

/// Renders with the site URL used for links and icons.
pub(crate) struct Render<'a> {
    pub(crate) ws: &'a AssetsWorkspace,
    pub(crate) site_url: &'a str,
}

impl Render<'_> {
    fn gid(&self, id: impl std::fmt::Display) -> String {
        format!("{}:{id}", self.ws.workspace_id)
    }

    pub(crate) fn schema(&self, s: &ObjectSchema) -> Value {
        json!({
            "workspaceId": self.ws.workspace_id,
            "globalId": self.gid(s.id),
            "id": s.id.to_string(),
            "name": s.name,
            "objectSchemaKey": s.key,
            "description": s.description,
            "status": "Ok",
            "created": fmt_datetime(s.created),
            "updated": fmt_datetime(s.updated),
            "objectCount": self.ws.schema_object_count(s.id),
            "objectTypeCount": self.ws.types.iter().filter(|t| t.schema_id == s.id).count(),
            "canManage": false,
        })
    }

    pub(crate) fn object_type(&self, t: &ObjectType) -> Value {
        let parent_inherited = t
            .parent
            .and_then(|p| self.ws.object_type(p))
            .is_some_and(|p| p.inherited);
        let mut v = json!({
            "workspaceId": self.ws.workspace_id,
            "globalId": self.gid(t.id),
            "id": t.id.to_string(),
            "name": t.name,
            "description": t.description,
            "icon": {
                "id": t.icon.0.to_string(),
                "name": t.icon.1,
                "url16": format!("{}/rest/assets/1.0/objecttype/{}/icon.png?size=16", self.site_url, t.id),
                "url48": format!("{}/rest/assets/1.0/objecttype/{}/icon.png?size=48", self.site_url, t.id),
            },
            "position": t.position,
            "created": fmt_datetime(t.created),
            "updated": fmt_datetime(t.updated),
            "objectCount": self.ws.type_object_count(t.id),
            "objectSchemaId": t.schema_id.to_string(),
            "inherited": t.inherited,
            "abstractObjectType": t.abstract_type,
            "parentObjectTypeInherited": parent_inherited,
        });
        if let (Some(p), Some(map)) = (t.parent, v.as_object_mut()) {
            map.insert("parentObjectTypeId".into(), json!(p));
        }
        v
    }

    pub(crate) fn attribute(&self, a: &AttributeDef) -> Value {
        let owner = self.ws.object_type(a.object_type_id);
        let sortable = !matches!(a.kind, AttrKind::Default(super::DefaultType::Textarea));
        let summable = matches!(
            a.kind,
            AttrKind::Default(super::DefaultType::Integer | super::DefaultType::Double)
        );
        let mut v = json!({
            "workspaceId": self.ws.workspace_id,
            "globalId": self.gid(a.id),
            "id": a.id.to_string(),
            "name": a.name,
            "label": a.label,
            "type": a.kind.type_id(),
            "description": a.description,
            "editable": !a.system,
            "system": a.system,
            "sortable": sortable,
            "summable": summable,
            "indexed": true,
            "minimumCardinality": a.min_cardinality,
            "maximumCardinality": a.max_cardinality,
            "suffix": "",
            "removable": !a.system && !a.label,
            "hidden": a.hidden,
            "includeChildObjectTypes": false,
            "uniqueAttribute": a.unique,
            "options": a.options.join(","),
            "position": a.position,
        });
        let Some(map) = v.as_object_mut() else {
            return v;
        };
        if let Some(t) = owner {
            map.insert("objectType".into(), self.object_type(t));
        }
        match &a.kind {
            AttrKind::Default(t) => {
                map.insert(
                    "defaultType".into(),
                    json!({"id": t.id(), "name": t.name()}),
                );
            }
            AttrKind::Reference {
                target,
                reference_type,
            } => {
                map.insert("referenceObjectTypeId".into(), json!(target.to_string()));
                if let Some(t) = self.ws.object_type(*target) {
                    map.insert("referenceObjectType".into(), self.object_type(t));
                }
                map.insert(
                    "referenceType".into(),
                    json!({
                        "workspaceId": self.ws.workspace_id,
                        "globalId": self.gid(format!("rt{}", reference_type.id)),
                        "id": reference_type.id.to_string(),
                        "name": reference_type.name,
                        "description": "",
                        "color": reference_type.color,
                        "url16": "",
                        "removable": false,
                    }),
                );
            }
            AttrKind::Status => {
                let ids: Vec<String> = self.ws.statuses.iter().map(|s| s.id.to_string()).collect();
                map.insert("typeValueMulti".into(), json!(ids));
            }
            AttrKind::User | AttrKind::Group => {
                map.insert("typeValueMulti".into(), json!([]));
            }
        }
        v
    }

    pub(crate) fn status(&self, s: &StatusType) -> Value {
        let category = match s.category {
            StatusCategory::Inactive => 0,
            StatusCategory::Active => 1,
            StatusCategory::Pending => 2,
        };
        let mut v = json!({
            "id": s.id.to_string(),
            "name": s.name,
            "description": s.description,
            "category": category,
        });
        if let (Some(sid), Some(map)) = (s.schema_id, v.as_object_mut()) {
            map.insert("objectSchemaId".into(), json!(sid.to_string()));
        }
        v
    }

    /// An `Object`; attributes only when `with_attributes`.
    pub(crate) fn object(&self, o: &AssetObject, with_attributes: bool) -> Value {
        let ty = self.ws.object_type(o.type_id);
        let id = o.id.to_string();
        let url = |size: u32| {
            format!(
                "{}/rest/assets/1.0/object/{id}/avatar.png?size={size}",
                self.site_url
            )
        };
        let mut v = json!({
            "workspaceId": self.ws.workspace_id,
            "globalId": self.gid(o.id),
            "id": id,
            "label": o.label,
            "objectKey": self.ws.object_key(o),
            "avatar": {
                "workspaceId": self.ws.workspace_id,
                "globalId": self.gid(format!("avatar{}", o.id)),
                "url16": url(16), "url48": url(48), "url72": url(72),
                "url144": url(144), "url288": url(288),
                "objectId": id,
            },
            "objectType": ty.map(|t| self.object_type(t)).unwrap_or(Value::Null),
            "created": fmt_datetime(o.created),
            "updated": fmt_datetime(o.updated),
            "hasAvatar": false,
            "timestamp": o.updated,
            "_links": {"self": format!("{}/jira/servicemanagement/assets/object/{id}", self.site_url)},
        });
        if with_attributes && let Some(map) = v.as_object_mut() {
            map.insert("attributes".into(), Value::Array(self.object_attributes(o)));
        }
        v
    }

    /// The `ObjectAttribute` list of an object (system attributes included).
    pub(crate) fn object_attributes(&self, o: &AssetObject) -> Vec<Value> {
        self.ws
            .effective_attributes(o.type_id)
            .iter()
            .filter_map(|id| self.ws.attribute(*id))
            .filter_map(|a| {
                let values: Vec<Value> = if a.system {
                    let (value, display) = match a.name.as_str() {
                        "Key" => (self.ws.object_key(o), self.ws.object_key(o)),
                        "Created" => (fmt_datetime(o.created), fmt_datetime(o.created)),
                        _ => (fmt_datetime(o.updated), fmt_datetime(o.updated)),
                    };
                    vec![json!({"value": value, "displayValue": display, "searchValue": value})]
                } else {
                    self.ws
                        .values(o, a.id)
                        .iter()
                        .map(|v| self.value(v))
                        .collect()
                };
                (!values.is_empty()).then(|| {
                    json!({
                        "workspaceId": self.ws.workspace_id,
                        "globalId": self.gid(format!("{}-{}", o.id, a.id)),
                        "id": (u64::from(o.id) * 10_000 + u64::from(a.id)).to_string(),
                        "objectTypeAttributeId": a.id.to_string(),
                        "objectAttributeValues": values,
                    })
                })
            })
            .collect()
    }

    fn value(&self, v: &Val) -> Value {
        let plain = |s: String| json!({"value": s, "displayValue": s, "searchValue": s});
        match v {
            Val::Text(s) => plain(s.clone()),
            Val::Int(i) => plain(i.to_string()),
            Val::Bool(b) => plain(b.to_string()),
            Val::Double(d) => plain(eval_fmt_num(*d)),
            Val::Date(d) => plain(fmt_date(*d)),
            Val::Time(t) => plain(fmt_time(*t)),
            Val::DateTime(ms) => plain(fmt_datetime(*ms)),
            Val::Ref(id) => match self.ws.object(*id) {
                Some(r) => json!({
                    "displayValue": r.label,
                    "searchValue": self.ws.object_key(r),
                    "referencedObject": self.object(r, false),
                }),
                None => json!({"displayValue": ""}),
            },
            Val::User(i) => match self.ws.people.get(*i as usize) {
                Some(p) => json!({
                    "value": p.account_id,
                    "displayValue": p.display_name,
                    "searchValue": p.account_id,
                    "user": {
                        "avatarUrl": format!("{}/secure/useravatar?accountId={}", self.site_url, p.account_id),
                        "displayName": p.display_name,
                        "name": p.display_name,
                        "key": p.account_id,
                        "emailAddress": p.email,
                        "html": p.display_name,
                        "renderedLink": "",
                        "isDeleted": false,
                        "self": format!("{}/rest/api/3/user?accountId={}", self.site_url, p.account_id),
                    },
                }),
                None => json!({"displayValue": ""}),
            },
            Val::Group(i) => {
                let name = self.ws.groups.get(*i as usize).cloned().unwrap_or_default();
                json!({
                    "value": name,
                    "displayValue": name,
                    "searchValue": name,
                    "group": {"avatarUrl": format!("{}/images/icons/avatar_group.png", self.site_url), "name": name},
                })
            }
            Val::Status(id) => match self.ws.status(*id) {
                Some(s) => json!({
                    "value": s.id.to_string(),
                    "displayValue": s.name,
                    "searchValue": s.id.to_string(),
                    "status": self.status(s),
                }),
                None => json!({"displayValue": ""}),
            },
        }
    }
}
