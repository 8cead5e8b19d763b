//! Typed conversion of Assets objects and their attribute values into column values.

use atlassian::client::{AttributeValue, Scalar};

use crate::model::{ColumnType, Source, TypeTable};
use crate::schema::{AttrKind, DefaultType};

/// A column value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// Text (never holds NUL characters).
    Text(String),
    /// Integer.
    Int(i64),
    /// Boolean.
    Bool(bool),
    /// Finite double.
    Double(f64),
    /// Date.
    Date(jiff::civil::Date),
    /// Time of day.
    Time(jiff::civil::Time),
    /// Instant.
    DateTime(jiff::Timestamp),
}

/// An Assets object as plain data (from the client's `AssetObject`, or built by tests).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawObject {
    /// Object id.
    pub id: String,
    /// Object key.
    pub key: Option<String>,
    /// Label.
    pub label: Option<String>,
    /// Object type id.
    pub type_id: Option<String>,
    /// Object type name.
    pub type_name: Option<String>,
    /// Created (ISO text).
    pub created: Option<String>,
    /// Updated (ISO text).
    pub updated: Option<String>,
    /// Attribute values: (object type attribute id, `objectAttributeValues`).
    pub attributes: Vec<(String, Vec<AttributeValue>)>,
}

impl RawObject {
    /// From the client's object; attribute entries without an attribute id are skipped.
    pub fn from_client(o: atlassian::client::AssetObject) -> Self {
        let text = |v: &Option<Scalar>| {
            v.as_ref()
                .and_then(Scalar::text_or_number)
                .map(str::to_owned)
        };
        let (type_id, type_name) = match &o.object_type {
            Some(t) => (text(&t.id), text(&t.name)),
            None => (None, None),
        };
        let attributes = o
            .attributes
            .into_iter()
            .filter_map(|a| {
                let id = text(&a.object_type_attribute_id)?;
                Some((id, a.object_attribute_values))
            })
            .collect();
        RawObject {
            id: o.id,
            key: o.object_key,
            label: o.label,
            type_id,
            type_name,
            created: o.created,
            updated: o.updated,
            attributes,
        }
    }

    fn values(&self, attr_id: &str) -> &[AttributeValue] {
        self.attributes
            .iter()
            .find(|(id, _)| id == attr_id)
            .map_or(&[], |(_, v)| v.as_slice())
    }
}

/// One object's row and link rows, aligned with a [`TypeTable`].
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectRow {
    /// Object id.
    pub id: String,
    /// One value per column of the type table.
    pub values: Vec<Value>,
    /// One list per link table, in value order.
    pub links: Vec<Vec<Value>>,
}

/// Text without NUL characters (no dialect can store them in text).
pub fn clean_text(s: &str) -> String {
    if s.contains('\0') {
        s.replace('\0', "")
    } else {
        s.to_owned()
    }
}

/// The text of a string, number or boolean (borrowed; [`parse_as`] cleans NULs).
fn text_of(v: &Option<Scalar>) -> Option<&str> {
    match v.as_ref()? {
        Scalar::Text(s) => Some(s),
        Scalar::Number(n) => Some(n),
        Scalar::Bool(true) => Some("true"),
        Scalar::Bool(false) => Some("false"),
        Scalar::Other => None,
    }
}

/// Parses an instant: RFC 3339 with offset, or a civil date-time taken as UTC.
pub fn parse_datetime(s: &str) -> Option<jiff::Timestamp> {
    let s = s.trim();
    if let Ok(t) = s.parse::<jiff::Timestamp>() {
        return Some(t);
    }
    let dt = s.parse::<jiff::civil::DateTime>().ok()?;
    dt.to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp())
}

/// Converts text to a value of `ty`; `Null` when it does not parse.
pub fn parse_as(ty: ColumnType, s: &str) -> Value {
    let t = s.trim();
    let v = match ty {
        ColumnType::Id | ColumnType::Text | ColumnType::LongText => {
            return Value::Text(clean_text(s));
        }
        ColumnType::Integer => t
            .parse::<i64>()
            .ok()
            .or_else(|| {
                t.parse::<f64>()
                    .ok()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e18)
                    .map(|f| f as i64)
            })
            .map(Value::Int),
        ColumnType::Boolean => match t.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Some(Value::Bool(true)),
            "false" | "0" | "no" => Some(Value::Bool(false)),
            _ => None,
        },
        ColumnType::Double => t
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(Value::Double),
        ColumnType::Date => t
            .parse::<jiff::civil::Date>()
            .ok()
            .or_else(|| {
                parse_datetime(t).map(|ts| ts.to_zoned_datetime(jiff::tz::TimeZone::UTC).date())
            })
            .map(Value::Date),
        ColumnType::Time => t
            .parse::<jiff::civil::Time>()
            .ok()
            .map(|tm| tm.with().subsec_nanosecond(0).build().unwrap_or(tm))
            .map(Value::Time),
        ColumnType::DateTime => parse_datetime(t)
            .map(|ts| ts.round(jiff::Unit::Millisecond).unwrap_or(ts))
            .map(Value::DateTime),
    };
    v.unwrap_or(Value::Null)
}

/// One attribute value (an `ObjectAttributeValue`) as a column value.
pub fn attribute_value(kind: &AttrKind, v: &AttributeValue) -> Value {
    let ty = ColumnType::of(kind);
    let text = match kind {
        AttrKind::Default(DefaultType::Unknown) | AttrKind::Other(_) => {
            text_of(&v.value).or_else(|| text_of(&v.display_value))
        }
        AttrKind::Default(_) => text_of(&v.value),
        AttrKind::Reference { .. } => v
            .referenced_object
            .as_ref()
            .and_then(|r| text_of(&r.id))
            .or_else(|| text_of(&v.referenced_object_id)),
        AttrKind::User => v
            .user
            .as_ref()
            .and_then(|u| text_of(&u.key))
            .or_else(|| text_of(&v.value))
            .or_else(|| text_of(&v.search_value)),
        AttrKind::Group => v
            .group
            .as_ref()
            .and_then(|g| text_of(&g.name))
            .or_else(|| text_of(&v.value)),
        AttrKind::Status => v
            .status
            .as_ref()
            .and_then(|st| text_of(&st.name))
            .or_else(|| text_of(&v.display_value)),
    };
    match text {
        Some(s) => parse_as(ty, s),
        None => Value::Null,
    }
}

/// The row of `o` for `table`.
pub fn object_row(table: &TypeTable, workspace_id: &str, o: &RawObject) -> ObjectRow {
    let opt = |s: &Option<String>| {
        s.as_deref()
            .map_or(Value::Null, |s| Value::Text(clean_text(s)))
    };
    let dt = |s: &Option<String>| {
        s.as_deref()
            .map_or(Value::Null, |s| parse_as(ColumnType::DateTime, s))
    };
    let values = table
        .sources
        .iter()
        .map(|src| match src {
            Source::ObjectId => Value::Text(clean_text(&o.id)),
            Source::ObjectKey => opt(&o.key),
            Source::Label => opt(&o.label),
            Source::TypeId => o.type_id.as_deref().map_or_else(
                || Value::Text(table.type_id.clone()),
                |s| Value::Text(clean_text(s)),
            ),
            Source::TypeName => o.type_name.as_deref().map_or_else(
                || Value::Text(table.type_name.clone()),
                |s| Value::Text(clean_text(s)),
            ),
            Source::Created => dt(&o.created),
            Source::Updated => dt(&o.updated),
            Source::Workspace => Value::Text(workspace_id.to_owned()),
            Source::Attribute(a) => o
                .values(&a.id)
                .iter()
                .map(|v| attribute_value(&a.kind, v))
                .find(|v| *v != Value::Null)
                .unwrap_or(Value::Null),
        })
        .collect();
    let links = table
        .links
        .iter()
        .map(|l| {
            o.values(&l.attr.id)
                .iter()
                .map(|v| attribute_value(&l.attr.kind, v))
                .filter(|v| *v != Value::Null)
                .collect()
        })
        .collect();
    ObjectRow {
        id: clean_text(&o.id),
        values,
        links,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// An `ObjectAttributeValue` from its JSON.
    fn av(v: serde_json::Value) -> AttributeValue {
        serde_json::from_value(v).unwrap_or_default()
    }

    #[test]
    fn default_types_parse() {
        let d = |t| AttrKind::Default(t);
        let v = |s: &str| av(json!({"value": s, "displayValue": s}));
        assert_eq!(
            attribute_value(&d(DefaultType::Integer), &v("42")),
            Value::Int(42)
        );
        assert_eq!(
            attribute_value(&d(DefaultType::Integer), &v("x")),
            Value::Null
        );
        assert_eq!(
            attribute_value(&d(DefaultType::Boolean), &v("true")),
            Value::Bool(true)
        );
        assert_eq!(
            attribute_value(&d(DefaultType::Double), &v("1.5")),
            Value::Double(1.5)
        );
        assert_eq!(
            attribute_value(&d(DefaultType::Double), &v("NaN")),
            Value::Null
        );
        assert_eq!(
            attribute_value(&d(DefaultType::Date), &v("2024-02-29")),
            Value::Date(jiff::civil::date(2024, 2, 29))
        );
        assert_eq!(
            attribute_value(&d(DefaultType::Time), &v("07:05")),
            Value::Time(jiff::civil::time(7, 5, 0, 0))
        );
        let ts: jiff::Timestamp = "2024-01-02T03:04:05.678Z".parse().unwrap_or_default();
        assert_eq!(
            attribute_value(&d(DefaultType::DateTime), &v("2024-01-02T03:04:05.678Z")),
            Value::DateTime(ts)
        );
        assert_eq!(
            attribute_value(&d(DefaultType::Text), &v("a\0b")),
            Value::Text("ab".into())
        );
    }

    #[test]
    fn other_kinds_pick_their_field() {
        let r = av(json!({"displayValue": "X", "referencedObject": {"id": "17"}}));
        assert_eq!(
            attribute_value(
                &AttrKind::Reference {
                    target_type_id: None
                },
                &r
            ),
            Value::Text("17".into())
        );
        let u = av(json!({"value": "acc-1", "user": {"key": "acc-1"}}));
        assert_eq!(
            attribute_value(&AttrKind::User, &u),
            Value::Text("acc-1".into())
        );
        let g = av(json!({"value": "g", "group": {"name": "g"}}));
        assert_eq!(
            attribute_value(&AttrKind::Group, &g),
            Value::Text("g".into())
        );
        let s = av(
            json!({"value": "1", "displayValue": "Active", "status": {"id": "1", "name": "Active"}}),
        );
        assert_eq!(
            attribute_value(&AttrKind::Status, &s),
            Value::Text("Active".into())
        );
        assert_eq!(
            attribute_value(&AttrKind::Status, &av(json!({}))),
            Value::Null
        );
    }
}
