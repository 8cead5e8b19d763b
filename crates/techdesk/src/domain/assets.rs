//! Linked Assets objects: the AQL that fetches them (builders only), the search a
//! technician runs to find an object to link, and the attributes shown.

use std::collections::HashMap;

use atlassian::aql::{Aql, AqlError, AqlString, Attribute};
use atlassian::client::{AssetObject, Scalar};

/// An object as shown on the ticket page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectView {
    /// Object id.
    pub id: String,
    /// Object key (`ITSM-12`).
    pub key: String,
    /// Label.
    pub label: String,
    /// Object type name.
    pub type_name: String,
    /// (attribute name, values joined) in the object's order.
    pub attributes: Vec<(String, String)>,
}

/// `objectId IN (…)` for the given ids; ids that are not numbers are dropped. `None` when
/// nothing is left.
pub fn linked_objects_query(ids: &[String]) -> Option<Aql> {
    let numbers: Vec<i64> = ids.iter().filter_map(|s| s.parse::<i64>().ok()).collect();
    Attribute::ObjectId.is_in(numbers).ok().map(|c| c.to_aql())
}

/// The search behind "find an object": label contains the text, or the key is the text.
pub fn search_query(text: &str) -> Result<Aql, AqlError> {
    let text = text.trim();
    let s = AqlString::new(text)?;
    Ok(Attribute::Label
        .like(s.clone())
        .or(Attribute::Key.eq(s))
        .to_aql())
}

/// Builds the view; `names` maps attribute ids to names (from the type's attribute list),
/// `shown` limits the attributes (empty: all).
pub fn object_view(
    o: &AssetObject,
    names: &HashMap<String, String>,
    shown: &[String],
) -> ObjectView {
    let attributes = o
        .attributes
        .iter()
        .filter_map(|a| {
            let id = a.object_type_attribute_id.as_ref()?.as_str()?;
            let name = names.get(id).cloned().unwrap_or_else(|| format!("#{id}"));
            if !shown.is_empty() && !shown.iter().any(|s| s.eq_ignore_ascii_case(&name)) {
                return None;
            }
            let values: Vec<String> = a
                .object_attribute_values
                .iter()
                .filter_map(|v| {
                    v.display_value
                        .as_ref()
                        .or(v.value.as_ref())
                        .and_then(Scalar::to_text)
                        .map(|t| t.into_owned())
                })
                .collect();
            Some((name, values.join(", ")))
        })
        .collect();
    ObjectView {
        id: o.id.clone(),
        key: o.object_key.clone().unwrap_or_default(),
        label: o.label.clone().unwrap_or_default(),
        type_name: type_id_and_name(o).1,
        attributes,
    }
}

/// The object type's (id, name).
pub fn type_id_and_name(o: &AssetObject) -> (String, String) {
    let text = |v: Option<&Scalar>| {
        v.and_then(Scalar::text_or_number)
            .map(str::to_owned)
            .unwrap_or_default()
    };
    match &o.object_type {
        Some(t) => (text(t.id.as_ref()), text(t.name.as_ref())),
        None => (String::new(), String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn queries_come_from_the_builder() {
        let q = linked_objects_query(&["12".into(), "x\" OR 1=1".into(), "7".into()]).unwrap();
        assert_eq!(q.as_str(), "objectId IN (12, 7)");
        assert!(linked_objects_query(&["nope".into()]).is_none());
        let q = search_query("pump\" OR Label != \"").unwrap();
        assert_eq!(
            q.as_str(),
            r#"Label LIKE "pump\" OR Label != \"" OR Key = "pump\" OR Label != \"""#
        );
        assert!(search_query("a\u{0}b").is_err());
    }

    #[test]
    fn attributes_by_name_and_choice() {
        let o: AssetObject = serde_json::from_value(json!({
            "id": "5", "label": "Pump <1>", "objectKey": "IT-5",
            "objectType": {"id": "3", "name": "Pump"},
            "attributes": [
                {"objectTypeAttributeId": "1", "objectAttributeValues": [{"value": "IT-5", "displayValue": "IT-5"}]},
                {"objectTypeAttributeId": "2", "objectAttributeValues": [{"value": "<img>", "displayValue": "<img>"}]},
                {"objectTypeAttributeId": "9", "objectAttributeValues": [{"value": 3}]}
            ]
        }))
        .unwrap();
        let names: HashMap<String, String> =
            [("1".into(), "Key".into()), ("2".into(), "Serial".into())].into();
        let all = object_view(&o, &names, &[]);
        assert_eq!(all.attributes.len(), 3);
        assert_eq!(all.attributes[2], ("#9".into(), "3".into()));
        assert_eq!(all.type_name, "Pump");
        let some = object_view(&o, &names, &["serial".into()]);
        assert_eq!(some.attributes, vec![("Serial".into(), "<img>".into())]);
    }
}
