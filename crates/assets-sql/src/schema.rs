//! The discovered Assets metadata as plain types: schemas, object types (with their
//! parent) and attribute definitions, independent of the HTTP client.

use serde::{Deserialize, Serialize};

/// Everything an export needs to know about a workspace's structure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Metadata {
    /// The Assets workspace id.
    pub workspace_id: String,
    /// Object schemas.
    pub schemas: Vec<Schema>,
    /// Object types of every schema.
    pub types: Vec<ObjectType>,
}

/// An object schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schema {
    /// Schema id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Key (`ITA`).
    pub key: String,
}

/// An object type with its effective attributes (inherited ones included).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectType {
    /// Type id.
    pub id: String,
    /// Owning schema id.
    pub schema_id: String,
    /// Name.
    pub name: String,
    /// Parent type id.
    pub parent_id: Option<String>,
    /// Attribute definitions, in the API's order.
    pub attributes: Vec<Attribute>,
}

/// An attribute definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attribute {
    /// Attribute id.
    pub id: String,
    /// Name.
    pub name: String,
    /// What it holds.
    pub kind: AttrKind,
    /// Holds several values (maximum cardinality other than 1).
    pub multi: bool,
}

/// What an attribute holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AttrKind {
    /// Type 0 with its default type.
    Default(DefaultType),
    /// Type 1: references to objects of this type (when known).
    Reference {
        /// Referenced object type id.
        target_type_id: Option<String>,
    },
    /// Type 2: Jira users (account ids).
    User,
    /// Type 4: groups (names).
    Group,
    /// Type 7: a status (its name).
    Status,
    /// Any other type number (kept as text).
    Other(i64),
}

/// Default (type 0) attribute types by their API id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DefaultType {
    /// 0
    Text,
    /// 1
    Integer,
    /// 2
    Boolean,
    /// 3
    Double,
    /// 4
    Date,
    /// 5
    Time,
    /// 6
    DateTime,
    /// 7
    Url,
    /// 8
    Email,
    /// 9
    Textarea,
    /// 10
    Select,
    /// 11
    IpAddress,
    /// Any other id (kept as text).
    Unknown,
}

impl DefaultType {
    /// From the API's `defaultType.id`.
    pub fn from_id(id: i64) -> Self {
        match id {
            0 => Self::Text,
            1 => Self::Integer,
            2 => Self::Boolean,
            3 => Self::Double,
            4 => Self::Date,
            5 => Self::Time,
            6 => Self::DateTime,
            7 => Self::Url,
            8 => Self::Email,
            9 => Self::Textarea,
            10 => Self::Select,
            11 => Self::IpAddress,
            _ => Self::Unknown,
        }
    }
}

impl AttrKind {
    /// A short name for the catalog (`text`, `integer`, `reference`, `user`…).
    pub fn catalog_name(&self) -> &'static str {
        match self {
            AttrKind::Default(t) => match t {
                DefaultType::Text => "text",
                DefaultType::Integer => "integer",
                DefaultType::Boolean => "boolean",
                DefaultType::Double => "double",
                DefaultType::Date => "date",
                DefaultType::Time => "time",
                DefaultType::DateTime => "datetime",
                DefaultType::Url => "url",
                DefaultType::Email => "email",
                DefaultType::Textarea => "textarea",
                DefaultType::Select => "select",
                DefaultType::IpAddress => "ip_address",
                DefaultType::Unknown => "unknown",
            },
            AttrKind::Reference { .. } => "reference",
            AttrKind::User => "user",
            AttrKind::Group => "group",
            AttrKind::Status => "status",
            AttrKind::Other(_) => "other",
        }
    }
}

impl Metadata {
    /// The type with this id.
    pub fn object_type(&self, id: &str) -> Option<&ObjectType> {
        self.types.iter().find(|t| t.id == id)
    }
    /// The schema with this id.
    pub fn schema(&self, id: &str) -> Option<&Schema> {
        self.schemas.iter().find(|s| s.id == id)
    }

    /// Adds the attributes of each type's ancestors that the API did not list on the type
    /// itself (ancestors' attributes first, as Assets orders them). Cycles are cut.
    pub fn merge_inherited(&mut self) {
        let snapshot = self.types.clone();
        for t in &mut self.types {
            let mut chain = Vec::new();
            let mut next = t.parent_id.clone();
            while let Some(pid) = next {
                if chain.contains(&pid) || pid == t.id || chain.len() > 64 {
                    break;
                }
                next = snapshot
                    .iter()
                    .find(|p| p.id == pid)
                    .and_then(|p| p.parent_id.clone());
                chain.push(pid);
            }
            let mut inherited: Vec<Attribute> = Vec::new();
            for pid in chain.iter().rev() {
                if let Some(p) = snapshot.iter().find(|p| &p.id == pid) {
                    for a in &p.attributes {
                        let known = t.attributes.iter().any(|x| x.id == a.id)
                            || inherited.iter().any(|x| x.id == a.id);
                        if !known {
                            inherited.push(a.clone());
                        }
                    }
                }
            }
            if !inherited.is_empty() {
                inherited.append(&mut t.attributes);
                t.attributes = inherited;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(id: &str) -> Attribute {
        Attribute {
            id: id.into(),
            name: format!("a{id}"),
            kind: AttrKind::Default(DefaultType::Text),
            multi: false,
        }
    }

    #[test]
    fn inherited_attributes_are_added_once_parent_first() {
        let mut m = Metadata {
            workspace_id: "w".into(),
            schemas: vec![],
            types: vec![
                ObjectType {
                    id: "1".into(),
                    schema_id: "s".into(),
                    name: "Hardware".into(),
                    parent_id: None,
                    attributes: vec![attr("10"), attr("11")],
                },
                ObjectType {
                    id: "2".into(),
                    schema_id: "s".into(),
                    name: "Laptop".into(),
                    parent_id: Some("1".into()),
                    attributes: vec![attr("11"), attr("20")],
                },
                ObjectType {
                    id: "3".into(),
                    schema_id: "s".into(),
                    name: "Loop".into(),
                    parent_id: Some("3".into()),
                    attributes: vec![attr("30")],
                },
            ],
        };
        m.merge_inherited();
        let ids = |i: usize| -> Vec<String> {
            m.types[i].attributes.iter().map(|a| a.id.clone()).collect()
        };
        assert_eq!(ids(1), ["10", "11", "20"]);
        assert_eq!(ids(0), ["10", "11"]);
        assert_eq!(ids(2), ["30"]);
    }
}
