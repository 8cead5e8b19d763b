//! The relational plan: one table per exported object type (common columns plus one
//! column per single-valued attribute), one link table per multi-valued attribute, the
//! export's own tables (catalog, runs, seen), all as plain [`TableDef`]s.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::ident::NameMap;
use crate::schema::{AttrKind, DefaultType, Metadata};

/// What to export: `None` = everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Selection {
    /// Schema ids.
    #[serde(default)]
    pub schemas: Option<BTreeSet<String>>,
    /// Object type ids.
    #[serde(default)]
    pub types: Option<BTreeSet<String>>,
    /// Attribute ids (the common columns are always exported).
    #[serde(default)]
    pub attributes: Option<BTreeSet<String>>,
}

/// Portable column types; each dialect maps them (see [`crate::dialect`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ColumnType {
    /// Object ids, keys and other short text used in keys.
    Id,
    /// Text.
    Text,
    /// Long text (textarea).
    LongText,
    /// 64-bit integer.
    Integer,
    /// Boolean.
    Boolean,
    /// Double precision.
    Double,
    /// Calendar date.
    Date,
    /// Time of day.
    Time,
    /// Instant (UTC; with zone where the dialect has one).
    DateTime,
}

impl ColumnType {
    /// The column type of an attribute kind.
    pub fn of(kind: &AttrKind) -> Self {
        match kind {
            AttrKind::Default(t) => match t {
                DefaultType::Integer => Self::Integer,
                DefaultType::Boolean => Self::Boolean,
                DefaultType::Double => Self::Double,
                DefaultType::Date => Self::Date,
                DefaultType::Time => Self::Time,
                DefaultType::DateTime => Self::DateTime,
                DefaultType::Textarea => Self::LongText,
                _ => Self::Text,
            },
            AttrKind::Reference { .. } => Self::Id,
            _ => Self::Text,
        }
    }
}

/// A column definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnDef {
    /// Name.
    pub name: String,
    /// Type.
    pub ty: ColumnType,
    /// `NOT NULL`.
    pub not_null: bool,
}

/// A foreign key from one column to `object_id` of another table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignKey {
    /// The referencing column.
    pub column: String,
    /// The referenced table (its `object_id`).
    pub table: String,
}

/// A table definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableDef {
    /// Name.
    pub name: String,
    /// Columns in order.
    pub columns: Vec<ColumnDef>,
    /// Primary key columns (may be empty).
    pub primary_key: Vec<String>,
    /// Foreign keys.
    pub foreign_keys: Vec<ForeignKey>,
    /// Secondary indexes (column lists).
    pub indexes: Vec<Vec<String>>,
}

impl TableDef {
    /// Column names in order.
    pub fn column_names(&self) -> Vec<&str> {
        self.columns.iter().map(|c| c.name.as_str()).collect()
    }
}

/// Where a column of an object table takes its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Source {
    /// Object id.
    ObjectId,
    /// Object key.
    ObjectKey,
    /// Label.
    Label,
    /// Object type id.
    TypeId,
    /// Object type name.
    TypeName,
    /// Created.
    Created,
    /// Updated.
    Updated,
    /// Workspace id.
    Workspace,
    /// An attribute.
    Attribute(AttrRef),
}

/// The attribute behind a column or link table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttrRef {
    /// Attribute id.
    pub id: String,
    /// Name in Assets.
    pub name: String,
    /// Kind.
    pub kind: AttrKind,
}

/// The table of one object type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TypeTable {
    /// Object type id.
    pub type_id: String,
    /// Object type name.
    pub type_name: String,
    /// Schema id.
    pub schema_id: String,
    /// Schema name.
    pub schema_name: String,
    /// The table (columns aligned with `sources`).
    pub def: TableDef,
    /// Value source of each column.
    pub sources: Vec<Source>,
    /// Link tables of multi-valued attributes.
    pub links: Vec<LinkTable>,
}

/// The link table of a multi-valued attribute: `object_id`, `position`, `value`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkTable {
    /// The attribute.
    pub attr: AttrRef,
    /// The table.
    pub def: TableDef,
}

/// The whole relational plan of an export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Workspace id.
    pub workspace_id: String,
    /// Object tables in metadata order.
    pub types: Vec<TypeTable>,
}

/// Catalog table name.
pub const CATALOG: &str = "assets_sql_catalog";
/// Runs table name.
pub const RUNS: &str = "assets_sql_runs";
/// Seen-ids table name.
pub const SEEN: &str = "assets_sql_seen";

fn col(name: &str, ty: ColumnType, not_null: bool) -> ColumnDef {
    ColumnDef {
        name: name.to_owned(),
        ty,
        not_null,
    }
}

/// The export's own tables: catalog, runs, seen.
pub fn meta_tables() -> Vec<TableDef> {
    use ColumnType::*;
    vec![
        TableDef {
            name: CATALOG.into(),
            columns: vec![
                col("table_name", Id, true),
                col("column_name", Id, true),
                col("role", Id, true),
                col("schema_id", Id, false),
                col("schema_name", Text, false),
                col("object_type_id", Id, false),
                col("object_type_name", Text, false),
                col("attribute_id", Id, false),
                col("attribute_name", Text, false),
                col("attribute_type", Id, false),
                col("sql_type", Id, false),
            ],
            primary_key: vec!["table_name".into(), "column_name".into()],
            foreign_keys: vec![],
            indexes: vec![],
        },
        TableDef {
            name: RUNS.into(),
            columns: vec![
                col("run_id", Id, true),
                col("mode", Id, true),
                col("started", DateTime, true),
                col("finished", DateTime, false),
                col("status", Id, true),
                col("tables_count", Integer, false),
                col("objects", Integer, false),
                col("rows_written", Integer, false),
            ],
            primary_key: vec!["run_id".into()],
            foreign_keys: vec![],
            indexes: vec![],
        },
        TableDef {
            name: SEEN.into(),
            columns: vec![col("table_name", Id, true), col("object_id", Id, true)],
            primary_key: vec![],
            foreign_keys: vec![],
            indexes: vec![vec!["table_name".into(), "object_id".into()]],
        },
    ]
}

/// Builds the plan for `selection`, assigning names through `names`. Foreign keys are
/// declared for references whose target type is exported, unless `foreign_keys` is false
/// (e.g. with an AQL filter, which may leave targets out).
pub fn plan(
    meta: &Metadata,
    selection: &Selection,
    names: &mut NameMap,
    foreign_keys: bool,
) -> Plan {
    let selected: Vec<_> = meta
        .types
        .iter()
        .filter(|t| {
            selection
                .schemas
                .as_ref()
                .is_none_or(|s| s.contains(&t.schema_id))
        })
        .filter(|t| selection.types.as_ref().is_none_or(|s| s.contains(&t.id)))
        .collect();
    // Assign every table name first so references can point at them.
    for t in &selected {
        names.table(&t.id, &t.name);
    }
    let exported: BTreeSet<&str> = selected.iter().map(|t| t.id.as_str()).collect();
    let mut types = Vec::new();
    for t in selected {
        let table = names.table(&t.id, &t.name);
        let schema_name = meta
            .schema(&t.schema_id)
            .map(|s| s.name.clone())
            .unwrap_or_default();
        let mut columns = vec![
            col("object_id", ColumnType::Id, true),
            col("object_key", ColumnType::Id, false),
            col("label", ColumnType::Text, false),
            col("object_type_id", ColumnType::Id, false),
            col("object_type", ColumnType::Text, false),
            col("created", ColumnType::DateTime, false),
            col("updated", ColumnType::DateTime, false),
            col("workspace_id", ColumnType::Id, false),
        ];
        let mut sources = vec![
            Source::ObjectId,
            Source::ObjectKey,
            Source::Label,
            Source::TypeId,
            Source::TypeName,
            Source::Created,
            Source::Updated,
            Source::Workspace,
        ];
        let mut fks = Vec::new();
        let mut links = Vec::new();
        for a in &t.attributes {
            if selection
                .attributes
                .as_ref()
                .is_some_and(|s| !s.contains(&a.id))
            {
                continue;
            }
            let attr = AttrRef {
                id: a.id.clone(),
                name: a.name.clone(),
                kind: a.kind.clone(),
            };
            let ty = ColumnType::of(&a.kind);
            let target = match &a.kind {
                AttrKind::Reference {
                    target_type_id: Some(target),
                } if foreign_keys && exported.contains(target.as_str()) => {
                    names.tables.get(target).cloned()
                }
                _ => None,
            };
            if a.multi {
                let name = names.link(&t.id, &a.id, &table, &a.name);
                let value = if matches!(a.kind, AttrKind::Reference { .. }) {
                    "ref_object_id"
                } else {
                    "value"
                };
                let mut link_fks = vec![ForeignKey {
                    column: "object_id".into(),
                    table: table.clone(),
                }];
                if let Some(target) = target {
                    link_fks.push(ForeignKey {
                        column: value.into(),
                        table: target,
                    });
                }
                links.push(LinkTable {
                    attr,
                    def: TableDef {
                        name,
                        columns: vec![
                            col("object_id", ColumnType::Id, true),
                            col("position", ColumnType::Integer, true),
                            col(value, ty, false),
                        ],
                        primary_key: vec!["object_id".into(), "position".into()],
                        foreign_keys: link_fks,
                        indexes: vec![],
                    },
                });
            } else {
                let name = names.column(&t.id, &a.id, &a.name);
                if let Some(target) = target {
                    fks.push(ForeignKey {
                        column: name.clone(),
                        table: target,
                    });
                }
                columns.push(col(&name, ty, false));
                sources.push(Source::Attribute(attr));
            }
        }
        types.push(TypeTable {
            type_id: t.id.clone(),
            type_name: t.name.clone(),
            schema_id: t.schema_id.clone(),
            schema_name,
            def: TableDef {
                name: table,
                columns,
                primary_key: vec!["object_id".into()],
                foreign_keys: fks,
                indexes: vec![],
            },
            sources,
            links,
        });
    }
    Plan {
        workspace_id: meta.workspace_id.clone(),
        types,
    }
}

impl Plan {
    /// Every table: meta tables first, then each type's table and its link tables.
    pub fn all_tables(&self) -> Vec<&TableDef> {
        let mut out = Vec::new();
        for t in &self.types {
            out.push(&t.def);
            out.extend(t.links.iter().map(|l| &l.def));
        }
        out
    }

    /// Number of object and link tables.
    pub fn table_count(&self) -> usize {
        self.types.iter().map(|t| 1 + t.links.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Attribute, ObjectType, Schema};

    fn attr(id: &str, name: &str, kind: AttrKind, multi: bool) -> Attribute {
        Attribute {
            id: id.into(),
            name: name.into(),
            kind,
            multi,
        }
    }

    fn meta() -> Metadata {
        let reference = |t: &str| AttrKind::Reference {
            target_type_id: Some(t.into()),
        };
        Metadata {
            workspace_id: "w".into(),
            schemas: vec![Schema {
                id: "1".into(),
                name: "IT".into(),
                key: "IT".into(),
            }],
            types: vec![
                ObjectType {
                    id: "1".into(),
                    schema_id: "1".into(),
                    name: "Server".into(),
                    parent_id: None,
                    attributes: vec![
                        attr("10", "RAM", AttrKind::Default(DefaultType::Integer), false),
                        attr("11", "IPs", AttrKind::Default(DefaultType::IpAddress), true),
                        attr("12", "Licence", reference("2"), false),
                        attr("13", "Apps", reference("2"), true),
                        attr("14", "Site", reference("9"), false),
                    ],
                },
                ObjectType {
                    id: "2".into(),
                    schema_id: "1".into(),
                    name: "Licence".into(),
                    parent_id: None,
                    attributes: vec![],
                },
            ],
        }
    }

    #[test]
    fn tables_columns_links_and_foreign_keys() {
        let mut names = NameMap::default();
        let p = plan(&meta(), &Selection::default(), &mut names, true);
        let server = &p.types[0];
        assert_eq!(server.def.name, "server");
        let cols: Vec<&str> = server.def.column_names();
        assert_eq!(&cols[..8], COMMON);
        assert_eq!(&cols[8..], ["ram", "licence", "site"]);
        assert_eq!(server.def.columns[8].ty, ColumnType::Integer);
        assert_eq!(server.def.columns[9].ty, ColumnType::Id);
        // The reference to an exported type gets a foreign key; to an unknown type not.
        assert_eq!(
            server.def.foreign_keys,
            vec![ForeignKey {
                column: "licence".into(),
                table: "licence".into()
            }]
        );
        let links: Vec<&str> = server.links.iter().map(|l| l.def.name.as_str()).collect();
        assert_eq!(links, ["server_ips", "server_apps"]);
        assert_eq!(
            server.links[1].def.column_names(),
            ["object_id", "position", "ref_object_id"]
        );
        assert_eq!(server.links[1].def.foreign_keys.len(), 2);
        assert_eq!(p.table_count(), 4);

        // No foreign keys when asked (filters), and a selection drops types/attributes.
        let mut names2 = names.clone();
        let sel = Selection {
            types: Some(["1".to_owned()].into()),
            attributes: Some(["10".to_owned(), "12".to_owned()].into()),
            ..Selection::default()
        };
        let p = plan(&meta(), &sel, &mut names2, false);
        assert_eq!(p.types.len(), 1);
        assert_eq!(&p.types[0].def.column_names()[8..], ["ram", "licence"]);
        assert!(p.types[0].def.foreign_keys.is_empty());
        assert!(p.types[0].links.is_empty());
        // Only exported targets get keys even with foreign keys on.
        let p = plan(&meta(), &sel, &mut names2, true);
        assert!(p.types[0].def.foreign_keys.is_empty());
        assert_eq!(names2, names, "names stay stable");
    }

    const COMMON: [&str; 8] = [
        "object_id",
        "object_key",
        "label",
        "object_type_id",
        "object_type",
        "created",
        "updated",
        "workspace_id",
    ];
}
