//! Service-request forms generated from a request type's fields, and their validation on
//! the server before anything is sent to JSM.

use std::collections::BTreeMap;

use atlassian::client::RequestTypeField;
use serde_json::{Map, Value, json};

/// How a field is entered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldKind {
    /// One line of text.
    Text,
    /// Several lines (descriptions, paragraphs).
    TextArea,
    /// One of fixed options (value, label).
    Select(Vec<(String, String)>),
    /// Words separated by spaces (labels).
    Labels,
    /// A number.
    Number,
    /// A date and time (`YYYY-MM-DDTHH:MM`, UTC).
    DateTime,
    /// Not supported in this form (Assets objects, locations, …): shown as a note.
    Unsupported,
}

/// One generated form field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormField {
    /// Jira field id (`summary`, `customfield_10053`).
    pub id: String,
    /// Label.
    pub label: String,
    /// Help text.
    pub help: String,
    /// Required by the request type.
    pub required: bool,
    /// Input kind.
    pub kind: FieldKind,
}

impl FormField {
    /// Template helper: the select options.
    pub fn options(&self) -> &[(String, String)] {
        match &self.kind {
            FieldKind::Select(o) => o,
            _ => &[],
        }
    }

    /// Template helper: the input kind's name.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            FieldKind::Text => "text",
            FieldKind::TextArea => "textarea",
            FieldKind::Select(_) => "select",
            FieldKind::Labels => "labels",
            FieldKind::Number => "number",
            FieldKind::DateTime => "datetime",
            FieldKind::Unsupported => "unsupported",
        }
    }
}

fn schema_str<'a>(schema: Option<&'a Value>, key: &str) -> &'a str {
    schema
        .and_then(|s| s.get(key))
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn kind_of(field: &RequestTypeField) -> FieldKind {
    let schema = field.jira_schema.as_ref();
    let ty = schema_str(schema, "type");
    let items = schema_str(schema, "items");
    let custom = schema_str(schema, "custom");
    if !field.valid_values.is_empty() {
        let options = field
            .valid_values
            .iter()
            .filter_map(|v| {
                let value = v.get("value").and_then(Value::as_str)?;
                let label = v.get("label").and_then(Value::as_str).unwrap_or(value);
                Some((value.to_owned(), label.to_owned()))
            })
            .collect();
        return FieldKind::Select(options);
    }
    if field.field_id == "description" || custom.ends_with(":textarea") {
        return FieldKind::TextArea;
    }
    match (ty, items) {
        ("string", _) | ("", _) => FieldKind::Text,
        ("number", _) => FieldKind::Number,
        ("datetime", _) | ("date", _) => FieldKind::DateTime,
        ("array", "string") => FieldKind::Labels,
        _ => FieldKind::Unsupported,
    }
}

/// The form of a request type: every field, minus those the admin hid (required fields are
/// never hidden).
pub fn generate(fields: &[RequestTypeField], hidden: &[String]) -> Vec<FormField> {
    fields
        .iter()
        .filter(|f| f.required || !hidden.contains(&f.field_id))
        .map(|f| FormField {
            id: f.field_id.clone(),
            label: f.name.clone().unwrap_or_else(|| f.field_id.clone()),
            help: f.description.clone().unwrap_or_default(),
            required: f.required,
            kind: kind_of(f),
        })
        .collect()
}

/// Longest text accepted for one field.
pub const MAX_TEXT: usize = 32 * 1024;

/// Validates the submitted values against the form; on success the `requestFieldValues`
/// to send, otherwise the problems as (field id, reason).
pub fn validate(
    form: &[FormField],
    submitted: &BTreeMap<String, String>,
) -> Result<Map<String, Value>, Vec<(String, String)>> {
    let mut out = Map::new();
    let mut errors = Vec::new();
    for field in form {
        let raw = submitted.get(&field.id).map(|s| s.trim()).unwrap_or("");
        let mut fail = |reason: String| errors.push((field.id.clone(), reason));
        if raw.is_empty() {
            if field.required {
                fail(format!("{} is required", field.label));
            }
            continue;
        }
        if raw.chars().count() > MAX_TEXT {
            fail(format!("at most {MAX_TEXT} characters"));
            continue;
        }
        if field.id == "summary" && raw.chars().count() > 255 {
            fail("a summary has at most 255 characters".to_owned());
            continue;
        }
        match &field.kind {
            FieldKind::Text | FieldKind::TextArea => {
                if field.kind == FieldKind::Text && raw.contains(['\n', '\r']) {
                    fail("one line only".to_owned());
                } else {
                    out.insert(field.id.clone(), Value::String(raw.to_owned()));
                }
            }
            FieldKind::Select(options) => {
                if options.iter().any(|(v, _)| v == raw) {
                    out.insert(field.id.clone(), json!({ "id": raw }));
                } else {
                    fail("choose one of the options".to_owned());
                }
            }
            FieldKind::Labels => {
                let words: Vec<&str> = raw.split_whitespace().collect();
                if words.iter().any(|w| w.chars().count() > 255) {
                    fail("a label has at most 255 characters".to_owned());
                } else {
                    out.insert(field.id.clone(), json!(words));
                }
            }
            FieldKind::Number => match raw.parse::<f64>() {
                Ok(n) if n.is_finite() => {
                    out.insert(field.id.clone(), json!(n));
                }
                _ => fail("enter a number".to_owned()),
            },
            FieldKind::DateTime => match parse_local_datetime(raw) {
                Some(ts) => {
                    out.insert(
                        field.id.clone(),
                        Value::String(atlassian::client::jira_datetime(ts)),
                    );
                }
                None => fail("enter a date and time as YYYY-MM-DDTHH:MM".to_owned()),
            },
            FieldKind::Unsupported => fail("this field cannot be filled in here".to_owned()),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Parses `YYYY-MM-DDTHH:MM` (an HTML `datetime-local` value) as UTC.
pub fn parse_local_datetime(raw: &str) -> Option<jiff::Timestamp> {
    let dt: jiff::civil::DateTime = raw.parse().ok()?;
    jiff::tz::TimeZone::UTC.to_timestamp(dt).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(id: &str, required: bool, schema: Value, valid: Vec<Value>) -> RequestTypeField {
        serde_json::from_value(json!({
            "fieldId": id, "name": id.to_uppercase(), "description": "help", "required": required,
            "jiraSchema": schema, "validValues": valid,
        }))
        .unwrap()
    }

    fn sample() -> Vec<RequestTypeField> {
        vec![
            field(
                "summary",
                true,
                json!({"type": "string", "system": "summary"}),
                vec![],
            ),
            field("description", false, json!({"type": "string"}), vec![]),
            field(
                "priority",
                false,
                json!({"type": "priority"}),
                vec![
                    json!({"value": "1", "label": "Highest"}),
                    json!({"value": "3", "label": "Medium"}),
                ],
            ),
            field(
                "customfield_10070",
                false,
                json!({"type": "array", "items": "string"}),
                vec![],
            ),
            field(
                "customfield_10060",
                false,
                json!({"type": "array", "items": "cmdb-object"}),
                vec![],
            ),
            field(
                "customfield_10080",
                false,
                json!({"type": "datetime"}),
                vec![],
            ),
            field("customfield_1", false, json!({"type": "number"}), vec![]),
        ]
    }

    #[test]
    fn generates_kinds_and_hides_only_optional_fields() {
        let form = generate(&sample(), &["summary".into(), "customfield_10060".into()]);
        let kinds: Vec<_> = form
            .iter()
            .map(|f| (f.id.as_str(), f.kind_name()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("summary", "text"),
                ("description", "textarea"),
                ("priority", "select"),
                ("customfield_10070", "labels"),
                ("customfield_10080", "datetime"),
                ("customfield_1", "number"),
            ]
        );
        assert_eq!(form[2].options()[0], ("1".into(), "Highest".into()));
        assert!(form[0].required);
    }

    #[test]
    fn validates_with_per_field_errors() {
        let form = generate(&sample(), &["customfield_10060".into()]);
        let mut values = BTreeMap::new();
        values.insert("priority".to_owned(), "9".to_owned());
        values.insert("customfield_1".to_owned(), "abc".to_owned());
        values.insert("customfield_10080".to_owned(), "tomorrow".to_owned());
        let errs = validate(&form, &values).unwrap_err();
        let ids: Vec<_> = errs.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            ids,
            vec!["summary", "priority", "customfield_10080", "customfield_1"]
        );
    }

    #[test]
    fn builds_request_field_values() {
        let form = generate(&sample(), &[]);
        let mut values = BTreeMap::new();
        values.insert("summary".to_owned(), " Boiler <b>leak</b> ".to_owned());
        values.insert("description".to_owned(), "line1\nline2".to_owned());
        values.insert("priority".to_owned(), "3".to_owned());
        values.insert("customfield_10070".to_owned(), "gas  plumbing".to_owned());
        values.insert(
            "customfield_10080".to_owned(),
            "2026-01-02T03:04".to_owned(),
        );
        values.insert("customfield_1".to_owned(), "2.5".to_owned());
        let out = validate(&form, &values).unwrap();
        assert_eq!(out["summary"], json!("Boiler <b>leak</b>"));
        assert_eq!(out["priority"], json!({"id": "3"}));
        assert_eq!(out["customfield_10070"], json!(["gas", "plumbing"]));
        assert_eq!(
            out["customfield_10080"],
            json!("2026-01-02T03:04:00.000+0000")
        );
        assert_eq!(out["customfield_1"], json!(2.5));
        assert!(!out.contains_key("customfield_10060"));
        let mut bad = values.clone();
        bad.insert("summary".into(), "a\nb".into());
        assert!(validate(&form, &bad).is_err());
        bad.insert("customfield_10060".into(), "x".into());
        bad.insert("summary".into(), "ok".into());
        assert_eq!(validate(&form, &bad).unwrap_err()[0].0, "customfield_10060");
    }
}
