//! The in-memory Assets workspace: schemas, object types, attributes, statuses, objects.
//! Ids are small integers internally and strings on the wire, as in the real API.

use std::collections::{BTreeSet, HashMap};

use super::{ObjectRef, SeedPerson};

/// An object schema.
#[derive(Clone, Debug, PartialEq)]
pub struct ObjectSchema {
    /// Id.
    pub id: u32,
    /// Name.
    pub name: String,
    /// Key used in object keys (`ITA-12`).
    pub key: String,
    /// Description.
    pub description: String,
    /// Created/updated (Unix ms).
    pub created: i64,
    /// Last update (Unix ms).
    pub updated: i64,
    /// Who may read: `None` = every user of the site (viewer role given to all users).
    pub viewers: Option<BTreeSet<String>>,
}

/// An object type.
#[derive(Clone, Debug, PartialEq)]
pub struct ObjectType {
    /// Id.
    pub id: u32,
    /// Owning schema.
    pub schema_id: u32,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Parent type, if any.
    pub parent: Option<u32>,
    /// Children inherit this type's attributes.
    pub inherited: bool,
    /// No objects of exactly this type.
    pub abstract_type: bool,
    /// Position among siblings.
    pub position: u32,
    /// Icon id and name.
    pub icon: (u32, String),
    /// Created (Unix ms).
    pub created: i64,
    /// Updated (Unix ms).
    pub updated: i64,
}

/// The default (type 0) attribute kinds with their API ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
}

impl DefaultType {
    /// Every default type, in id order.
    pub const ALL: [DefaultType; 12] = [
        Self::Text,
        Self::Integer,
        Self::Boolean,
        Self::Double,
        Self::Date,
        Self::Time,
        Self::DateTime,
        Self::Url,
        Self::Email,
        Self::Textarea,
        Self::Select,
        Self::IpAddress,
    ];
    /// The API id.
    pub fn id(self) -> i64 {
        self as i64
    }
    /// The API name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Text => "Text",
            Self::Integer => "Integer",
            Self::Boolean => "Boolean",
            Self::Double => "Double",
            Self::Date => "Date",
            Self::Time => "Time",
            Self::DateTime => "DateTime",
            Self::Url => "URL",
            Self::Email => "Email",
            Self::Textarea => "Textarea",
            Self::Select => "Select",
            Self::IpAddress => "IP Address",
        }
    }
}

/// A reference type (the "kind" of a reference: Depends on, Located in…).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReferenceType {
    /// Id.
    pub id: u32,
    /// Name.
    pub name: String,
    /// Hex colour.
    pub color: String,
}

/// What an attribute holds.
#[derive(Clone, Debug, PartialEq)]
pub enum AttrKind {
    /// Type 0 with its default type; `options` only for selects.
    Default(DefaultType),
    /// Type 1: references to objects of `target` type.
    Reference {
        /// Referenced object type id.
        target: u32,
        /// The reference type.
        reference_type: ReferenceType,
    },
    /// Type 2: Jira users.
    User,
    /// Type 4: groups.
    Group,
    /// Type 7: a status from `/config/statustype`.
    Status,
}

impl AttrKind {
    /// The API `type` number.
    pub fn type_id(&self) -> i64 {
        match self {
            AttrKind::Default(_) => 0,
            AttrKind::Reference { .. } => 1,
            AttrKind::User => 2,
            AttrKind::Group => 4,
            AttrKind::Status => 7,
        }
    }
}

/// An object type attribute definition.
#[derive(Clone, Debug, PartialEq)]
pub struct AttributeDef {
    /// Id.
    pub id: u32,
    /// The type that defines it (children may inherit it).
    pub object_type_id: u32,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Kind.
    pub kind: AttrKind,
    /// This attribute is the label (Name).
    pub label: bool,
    /// A system attribute (Key, Created, Updated).
    pub system: bool,
    /// Values must be unique.
    pub unique: bool,
    /// Hidden in the UI.
    pub hidden: bool,
    /// Minimum number of values.
    pub min_cardinality: i64,
    /// Maximum number of values (`-1` = unlimited).
    pub max_cardinality: i64,
    /// Select options.
    pub options: Vec<String>,
    /// Position within the type.
    pub position: u32,
}

/// Status categories (`Status.category`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusCategory {
    /// 0, red.
    Inactive,
    /// 1, green.
    Active,
    /// 2, yellow.
    Pending,
}

/// A status type.
#[derive(Clone, Debug, PartialEq)]
pub struct StatusType {
    /// Id.
    pub id: u32,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Category.
    pub category: StatusCategory,
    /// Schema-specific status (`None` = global).
    pub schema_id: Option<u32>,
}

/// One attribute value.
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    /// Text, textarea, URL, email, select, IP address.
    Text(String),
    /// Integer.
    Int(i64),
    /// Boolean.
    Bool(bool),
    /// Double.
    Double(f64),
    /// Date as days since 1970-01-01.
    Date(i64),
    /// Time as seconds since midnight.
    Time(u32),
    /// Date-time as Unix ms.
    DateTime(i64),
    /// Referenced object id.
    Ref(u32),
    /// Index into [`AssetsWorkspace::people`].
    User(u32),
    /// Index into [`AssetsWorkspace::groups`].
    Group(u32),
    /// Status type id.
    Status(u32),
}

/// An object.
#[derive(Clone, Debug, PartialEq)]
pub struct AssetObject {
    /// Id (objects are stored in id order).
    pub id: u32,
    /// Object type id.
    pub type_id: u32,
    /// Number in the schema's key sequence.
    pub key_num: u32,
    /// Label (copy of the label attribute's value).
    pub label: String,
    /// Created (Unix ms).
    pub created: i64,
    /// Updated (Unix ms).
    pub updated: i64,
    /// Non-system attribute values by attribute id (ascending).
    pub values: Vec<(u32, Vec<Val>)>,
}

/// The whole workspace with lookup indexes.
#[derive(Clone, Debug, PartialEq)]
pub struct AssetsWorkspace {
    /// The `workspaceId`.
    pub workspace_id: String,
    /// Schemas by id order.
    pub schemas: Vec<ObjectSchema>,
    /// Object types by id order.
    pub types: Vec<ObjectType>,
    /// Attributes by id order.
    pub attributes: Vec<AttributeDef>,
    /// Statuses by id order.
    pub statuses: Vec<StatusType>,
    /// Objects by id order.
    pub objects: Vec<AssetObject>,
    /// Users that user attributes point at.
    pub people: Vec<SeedPerson>,
    /// Group names.
    pub groups: Vec<String>,
    /// Per type: effective attribute ids (inherited first, then own), by type index.
    effective: Vec<Vec<u32>>,
    /// Per type: object count (exact type), by type index.
    type_counts: Vec<u64>,
}

impl AssetsWorkspace {
    /// Builds a workspace and its indexes; all id lists must be sorted and dense from 1.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        workspace_id: String,
        schemas: Vec<ObjectSchema>,
        types: Vec<ObjectType>,
        attributes: Vec<AttributeDef>,
        statuses: Vec<StatusType>,
        objects: Vec<AssetObject>,
        people: Vec<SeedPerson>,
        groups: Vec<String>,
    ) -> Self {
        let mut ws = AssetsWorkspace {
            workspace_id,
            schemas,
            types,
            attributes,
            statuses,
            objects,
            people,
            groups,
            effective: Vec::new(),
            type_counts: Vec::new(),
        };
        ws.reindex();
        ws
    }

    fn reindex(&mut self) {
        let mut own: HashMap<u32, Vec<u32>> = HashMap::new();
        for a in &self.attributes {
            own.entry(a.object_type_id).or_default().push(a.id);
        }
        self.effective = self
            .types
            .iter()
            .map(|t| {
                let mut chain = vec![t.id];
                let mut cur = t.parent.and_then(|p| self.object_type(p));
                while let Some(p) = cur {
                    if !p.inherited || chain.contains(&p.id) {
                        break;
                    }
                    chain.push(p.id);
                    cur = p.parent.and_then(|pp| self.object_type(pp));
                }
                chain
                    .iter()
                    .rev()
                    .flat_map(|id| own.get(id).cloned().unwrap_or_default())
                    .collect()
            })
            .collect();
        self.type_counts = vec![0; self.types.len()];
        for o in &self.objects {
            if let Some(i) = self.types.iter().position(|t| t.id == o.type_id)
                && let Some(c) = self.type_counts.get_mut(i)
            {
                *c += 1;
            }
        }
    }

    /// Restricts a schema's read access to `accounts` (`None`: every site user).
    pub fn set_schema_viewers(&mut self, schema_id: u32, accounts: Option<Vec<String>>) {
        if let Some(s) = self.schemas.iter_mut().find(|s| s.id == schema_id) {
            s.viewers = accounts.map(|a| a.into_iter().collect());
        }
    }

    /// A schema by id.
    pub fn schema(&self, id: u32) -> Option<&ObjectSchema> {
        self.schemas.iter().find(|s| s.id == id)
    }
    /// An object type by id.
    pub fn object_type(&self, id: u32) -> Option<&ObjectType> {
        let i = self.types.binary_search_by_key(&id, |t| t.id).ok()?;
        self.types.get(i)
    }
    /// An attribute by id.
    pub fn attribute(&self, id: u32) -> Option<&AttributeDef> {
        let i = self.attributes.binary_search_by_key(&id, |a| a.id).ok()?;
        self.attributes.get(i)
    }
    /// A status by id.
    pub fn status(&self, id: u32) -> Option<&StatusType> {
        self.statuses.iter().find(|s| s.id == id)
    }
    /// An object by id.
    pub fn object(&self, id: u32) -> Option<&AssetObject> {
        let i = self.objects.binary_search_by_key(&id, |o| o.id).ok()?;
        self.objects.get(i)
    }
    /// Attribute ids that apply to objects of type `type_id` (inherited ones first).
    pub fn effective_attributes(&self, type_id: u32) -> &[u32] {
        self.types
            .binary_search_by_key(&type_id, |t| t.id)
            .ok()
            .and_then(|i| self.effective.get(i))
            .map_or(&[], Vec::as_slice)
    }
    /// Number of objects of exactly this type.
    pub fn type_object_count(&self, type_id: u32) -> u64 {
        self.types
            .binary_search_by_key(&type_id, |t| t.id)
            .ok()
            .and_then(|i| self.type_counts.get(i))
            .copied()
            .unwrap_or(0)
    }
    /// Number of objects in a schema.
    pub fn schema_object_count(&self, schema_id: u32) -> u64 {
        self.types
            .iter()
            .filter(|t| t.schema_id == schema_id)
            .map(|t| self.type_object_count(t.id))
            .sum()
    }
    /// The schema an object belongs to.
    pub fn object_schema(&self, o: &AssetObject) -> Option<&ObjectSchema> {
        self.object_type(o.type_id)
            .and_then(|t| self.schema(t.schema_id))
    }
    /// `SCHEMAKEY-123`.
    pub fn object_key(&self, o: &AssetObject) -> String {
        let key = self.object_schema(o).map_or("OBJ", |s| s.key.as_str());
        format!("{key}-{}", o.key_num)
    }
    /// Values of attribute `attr_id` on object `o` (empty if none).
    pub fn values<'a>(&self, o: &'a AssetObject, attr_id: u32) -> &'a [Val] {
        o.values
            .binary_search_by_key(&attr_id, |(id, _)| *id)
            .ok()
            .and_then(|i| o.values.get(i))
            .map_or(&[], |(_, v)| v.as_slice())
    }
    /// Whether `account_id` may read schema `schema_id`.
    pub fn can_read(&self, schema_id: u32, account_id: &str) -> bool {
        self.schema(schema_id).is_some_and(|s| match &s.viewers {
            None => true,
            Some(set) => set.contains(account_id),
        })
    }

    /// Objects the core may link Jira tickets to (every object of a non-abstract type).
    pub fn linkable_objects(&self) -> Vec<ObjectRef> {
        self.objects
            .iter()
            .map(|o| ObjectRef {
                workspace_id: self.workspace_id.clone(),
                id: o.id.to_string(),
                object_key: self.object_key(o),
                label: o.label.clone(),
                object_type_id: o.type_id.to_string(),
            })
            .collect()
    }
}
