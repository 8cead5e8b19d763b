//! Wire rendering of the model, following the schemas of `jsm-assets.openapi.json`
//! (`ObjectSchema`, `ObjectType`, `ObjectTypeAttribute`, `Object`, `ObjectAttribute`,
//! `ObjectAttributeValue`, `Status`). Ids are strings; `parentObjectTypeId` is an integer.
//!
//! Objects, their attributes and object types are the bulk of every AQL page, so they are
//! typed views borrowing from the workspace and written straight to the response: no
//! `serde_json::Value` tree and no intermediate strings. Fields are declared in key
//! order, the order `serde_json::Value` maps write, so the bytes match the earlier
//! `json!` rendering.

use std::fmt::{self, Display};

use serde::{Serialize, Serializer};
use serde_json::{Value, json};

use super::aql::NumText;
use super::model::{
    AssetObject, AssetsWorkspace, AttrKind, AttributeDef, ObjectSchema, ObjectType, StatusCategory,
    StatusType, Val,
};
use super::time::{DateText, DateTimeText, TimeText, fmt_datetime};

/// Renders with the site URL used for links and icons.
#[derive(Clone, Copy)]
pub(crate) struct Render<'a> {
    pub(crate) ws: &'a AssetsWorkspace,
    pub(crate) site_url: &'a String,
}

/// Text assembled from parts while it is written: no intermediate `String`.
pub(crate) struct Cat<'a, const N: usize>([&'a dyn Display; N]);

impl<const N: usize> Display for Cat<'_, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|part| part.fmt(f))
    }
}

impl<const N: usize> Serialize for Cat<'_, N> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A scalar shown as a JSON string (ids, attribute values).
#[derive(Clone, Copy)]
pub(crate) enum Text<'a> {
    Str(&'a str),
    Int(i64),
    Id(u32),
    Bool(bool),
    Num(f64),
    Date(i64),
    Time(u32),
    DateTime(i64),
    /// An object key: schema key and number.
    Key(&'a str, u32),
}

impl Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Text::Str(s) => f.write_str(s),
            Text::Int(i) => Display::fmt(&i, f),
            Text::Id(i) => Display::fmt(&i, f),
            Text::Bool(b) => Display::fmt(&b, f),
            Text::Num(n) => NumText(n).fmt(f),
            Text::Date(d) => DateText(d).fmt(f),
            Text::Time(t) => TimeText(t).fmt(f),
            Text::DateTime(ms) => DateTimeText(ms).fmt(f),
            Text::Key(key, n) => write!(f, "{key}-{n}"),
        }
    }
}

impl Serialize for Text<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            Text::Str(v) => s.serialize_str(v),
            _ => s.collect_str(self),
        }
    }
}

/// `ObjectType`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ObjectTypeOut<'a> {
    abstract_object_type: bool,
    created: Text<'a>,
    description: &'a str,
    global_id: Cat<'a, 3>,
    icon: IconOut<'a>,
    id: Text<'a>,
    inherited: bool,
    name: &'a str,
    object_count: u64,
    object_schema_id: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_object_type_id: Option<u32>,
    parent_object_type_inherited: bool,
    position: u32,
    updated: Text<'a>,
    workspace_id: &'a str,
}

#[derive(Serialize)]
struct IconOut<'a> {
    id: Text<'a>,
    name: &'a str,
    url16: Cat<'a, 4>,
    url48: Cat<'a, 4>,
}

/// `Status`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StatusOut<'a> {
    category: u8,
    description: &'a str,
    id: Text<'a>,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    object_schema_id: Option<Text<'a>>,
}

/// `Object`; attributes only when asked for.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ObjectOut<'a> {
    #[serde(rename = "_links")]
    links: LinksOut<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    attributes: Option<AttributesOut<'a>>,
    avatar: AvatarOut<'a>,
    created: Text<'a>,
    global_id: Cat<'a, 3>,
    has_avatar: bool,
    id: Text<'a>,
    label: &'a str,
    object_key: Text<'a>,
    object_type: Option<ObjectTypeOut<'a>>,
    timestamp: i64,
    updated: Text<'a>,
    workspace_id: &'a str,
}

#[derive(Serialize)]
struct LinksOut<'a> {
    #[serde(rename = "self")]
    self_link: Cat<'a, 3>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AvatarOut<'a> {
    global_id: Cat<'a, 4>,
    object_id: Text<'a>,
    url144: Cat<'a, 5>,
    url16: Cat<'a, 5>,
    url288: Cat<'a, 5>,
    url48: Cat<'a, 5>,
    url72: Cat<'a, 5>,
    workspace_id: &'a str,
}

/// The `ObjectAttribute` list of an object, rendered as it is written.
pub(crate) struct AttributesOut<'a> {
    r: Render<'a>,
    o: &'a AssetObject,
}

impl Serialize for AttributesOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (r, o) = (self.r, self.o);
        s.collect_seq(
            r.ws.effective_attributes(o.type_id)
                .iter()
                .filter_map(|id| r.ws.attribute(*id))
                .filter_map(|a| r.object_attribute(o, a)),
        )
    }
}

/// `ObjectAttribute`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AttributeOut<'a> {
    global_id: Cat<'a, 5>,
    id: Text<'a>,
    object_attribute_values: ValuesOut<'a>,
    object_type_attribute_id: Text<'a>,
    workspace_id: &'a str,
}

/// The values of one attribute: a system attribute's single text, or stored values.
enum ValuesOut<'a> {
    System(Text<'a>),
    Stored(Render<'a>, &'a [Val]),
}

impl Serialize for ValuesOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ValuesOut::System(t) => s.collect_seq([ValueOut::plain(*t)]),
            ValuesOut::Stored(r, vals) => s.collect_seq(vals.iter().map(|v| r.value(v))),
        }
    }
}

/// `ObjectAttributeValue`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ValueOut<'a> {
    display_value: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<GroupOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    referenced_object: Option<Box<ObjectOut<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    search_value: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<StatusOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<UserOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<Text<'a>>,
}

impl<'a> ValueOut<'a> {
    fn empty() -> Self {
        ValueOut {
            display_value: Text::Str(""),
            group: None,
            referenced_object: None,
            search_value: None,
            status: None,
            user: None,
            value: None,
        }
    }

    /// The same text as value, display value and search value.
    fn plain(t: Text<'a>) -> Self {
        ValueOut {
            display_value: t,
            search_value: Some(t),
            value: Some(t),
            ..ValueOut::empty()
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserOut<'a> {
    avatar_url: Cat<'a, 3>,
    display_name: &'a str,
    email_address: &'a str,
    html: &'a str,
    is_deleted: bool,
    key: &'a str,
    name: &'a str,
    rendered_link: &'a str,
    #[serde(rename = "self")]
    self_link: Cat<'a, 3>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GroupOut<'a> {
    avatar_url: Cat<'a, 2>,
    name: &'a str,
}

impl<'a> Render<'a> {
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

    /// An `ObjectType`.
    pub(crate) fn object_type(&self, t: &'a ObjectType) -> ObjectTypeOut<'a> {
        let ws = self.ws;
        let parent_inherited = t
            .parent
            .and_then(|p| ws.object_type(p))
            .is_some_and(|p| p.inherited);
        let icon_url = |size: &'a dyn Display| {
            Cat([self.site_url, &"/rest/assets/1.0/objecttype/", &t.id, size])
        };
        ObjectTypeOut {
            abstract_object_type: t.abstract_type,
            created: Text::DateTime(t.created),
            description: &t.description,
            global_id: Cat([&ws.workspace_id, &":", &t.id]),
            icon: IconOut {
                id: Text::Id(t.icon.0),
                name: &t.icon.1,
                url16: icon_url(&"/icon.png?size=16"),
                url48: icon_url(&"/icon.png?size=48"),
            },
            id: Text::Id(t.id),
            inherited: t.inherited,
            name: &t.name,
            object_count: ws.type_object_count(t.id),
            object_schema_id: Text::Id(t.schema_id),
            parent_object_type_id: t.parent,
            parent_object_type_inherited: parent_inherited,
            position: t.position,
            updated: Text::DateTime(t.updated),
            workspace_id: &ws.workspace_id,
        }
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
            map.insert("objectType".into(), json!(self.object_type(t)));
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
                    map.insert("referenceObjectType".into(), json!(self.object_type(t)));
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

    /// A `Status`.
    pub(crate) fn status(&self, s: &'a StatusType) -> StatusOut<'a> {
        StatusOut {
            category: match s.category {
                StatusCategory::Inactive => 0,
                StatusCategory::Active => 1,
                StatusCategory::Pending => 2,
            },
            description: &s.description,
            id: Text::Id(s.id),
            name: &s.name,
            object_schema_id: s.schema_id.map(Text::Id),
        }
    }

    /// An object's key (`ITA-12`).
    fn key(&self, o: &AssetObject) -> Text<'a> {
        let key = self.ws.object_schema(o).map_or("OBJ", |s| s.key.as_str());
        Text::Key(key, o.key_num)
    }

    /// An `Object`; attributes only when `with_attributes`.
    pub(crate) fn object(&self, o: &'a AssetObject, with_attributes: bool) -> ObjectOut<'a> {
        let ws = self.ws;
        let avatar = |size: &'a dyn Display| {
            Cat([
                self.site_url,
                &"/rest/assets/1.0/object/",
                &o.id,
                &"/avatar.png?size=",
                size,
            ])
        };
        ObjectOut {
            links: LinksOut {
                self_link: Cat([
                    self.site_url,
                    &"/jira/servicemanagement/assets/object/",
                    &o.id,
                ]),
            },
            attributes: with_attributes.then_some(AttributesOut { r: *self, o }),
            avatar: AvatarOut {
                global_id: Cat([&ws.workspace_id, &":", &"avatar", &o.id]),
                object_id: Text::Id(o.id),
                url144: avatar(&144),
                url16: avatar(&16),
                url288: avatar(&288),
                url48: avatar(&48),
                url72: avatar(&72),
                workspace_id: &ws.workspace_id,
            },
            created: Text::DateTime(o.created),
            global_id: Cat([&ws.workspace_id, &":", &o.id]),
            has_avatar: false,
            id: Text::Id(o.id),
            label: &o.label,
            object_key: self.key(o),
            object_type: ws.object_type(o.type_id).map(|t| self.object_type(t)),
            timestamp: o.updated,
            updated: Text::DateTime(o.updated),
            workspace_id: &ws.workspace_id,
        }
    }

    /// The `ObjectAttribute` list of an object (system attributes included).
    pub(crate) fn object_attributes(&self, o: &'a AssetObject) -> AttributesOut<'a> {
        AttributesOut { r: *self, o }
    }

    /// One `ObjectAttribute`; `None` when the object has no value for it.
    fn object_attribute(
        &self,
        o: &'a AssetObject,
        a: &'a AttributeDef,
    ) -> Option<AttributeOut<'a>> {
        let values = if a.system {
            ValuesOut::System(match a.name.as_str() {
                "Key" => self.key(o),
                "Created" => Text::DateTime(o.created),
                _ => Text::DateTime(o.updated),
            })
        } else {
            let vals = self.ws.values(o, a.id);
            if vals.is_empty() {
                return None;
            }
            ValuesOut::Stored(*self, vals)
        };
        Some(AttributeOut {
            global_id: Cat([&self.ws.workspace_id, &":", &o.id, &"-", &a.id]),
            id: Text::Int(i64::from(o.id) * 10_000 + i64::from(a.id)),
            object_attribute_values: values,
            object_type_attribute_id: Text::Id(a.id),
            workspace_id: &self.ws.workspace_id,
        })
    }

    fn value(&self, v: &'a Val) -> ValueOut<'a> {
        let ws = self.ws;
        match v {
            Val::Text(s) => ValueOut::plain(Text::Str(s)),
            Val::Int(i) => ValueOut::plain(Text::Int(*i)),
            Val::Bool(b) => ValueOut::plain(Text::Bool(*b)),
            Val::Double(d) => ValueOut::plain(Text::Num(*d)),
            Val::Date(d) => ValueOut::plain(Text::Date(*d)),
            Val::Time(t) => ValueOut::plain(Text::Time(*t)),
            Val::DateTime(ms) => ValueOut::plain(Text::DateTime(*ms)),
            Val::Ref(id) => match ws.object(*id) {
                Some(r) => ValueOut {
                    display_value: Text::Str(&r.label),
                    search_value: Some(self.key(r)),
                    referenced_object: Some(Box::new(self.object(r, false))),
                    ..ValueOut::empty()
                },
                None => ValueOut::empty(),
            },
            Val::User(i) => match ws.people.get(*i as usize) {
                Some(p) => ValueOut {
                    display_value: Text::Str(&p.display_name),
                    search_value: Some(Text::Str(&p.account_id)),
                    value: Some(Text::Str(&p.account_id)),
                    user: Some(UserOut {
                        avatar_url: Cat([
                            self.site_url,
                            &"/secure/useravatar?accountId=",
                            &p.account_id,
                        ]),
                        display_name: &p.display_name,
                        email_address: &p.email,
                        html: &p.display_name,
                        is_deleted: false,
                        key: &p.account_id,
                        name: &p.display_name,
                        rendered_link: "",
                        self_link: Cat([
                            self.site_url,
                            &"/rest/api/3/user?accountId=",
                            &p.account_id,
                        ]),
                    }),
                    ..ValueOut::empty()
                },
                None => ValueOut::empty(),
            },
            Val::Group(i) => {
                let name = ws.groups.get(*i as usize).map_or("", String::as_str);
                ValueOut {
                    display_value: Text::Str(name),
                    search_value: Some(Text::Str(name)),
                    value: Some(Text::Str(name)),
                    group: Some(GroupOut {
                        avatar_url: Cat([self.site_url, &"/images/icons/avatar_group.png"]),
                        name,
                    }),
                    ..ValueOut::empty()
                }
            }
            Val::Status(id) => match ws.status(*id) {
                Some(s) => ValueOut {
                    display_value: Text::Str(&s.name),
                    search_value: Some(Text::Id(s.id)),
                    value: Some(Text::Id(s.id)),
                    status: Some(self.status(s)),
                    ..ValueOut::empty()
                },
                None => ValueOut::empty(),
            },
        }
    }
}
