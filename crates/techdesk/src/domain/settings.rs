//! TechDesk's settings (per site): projects, request types and fields shown, Assets fields
//! and attributes, default comment visibility and time-logging rules.

use serde::{Deserialize, Serialize};

use super::duration::{RoundingMode, TimeRules};

/// Everything an admin sets for TechDesk on a site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct TechDeskSettings {
    /// Project keys that use TechDesk; empty: every project the user can see.
    pub projects: Vec<String>,
    /// New comments are public (customer-visible) unless the technician says otherwise.
    pub default_public: bool,
    /// Time-logging rules.
    pub time: TimeRules,
    /// Request type ids not offered on the new-request page.
    pub hidden_request_types: Vec<String>,
    /// Optional field ids not shown on request forms and the ticket view.
    pub hidden_fields: Vec<String>,
    /// Assets custom field ids to show; empty: every Assets field found.
    pub assets_fields: Vec<String>,
    /// Assets attribute names to show on linked objects; empty: all.
    pub assets_attributes: Vec<String>,
}

impl TechDeskSettings {
    /// Whether TechDesk is on for a project.
    pub fn uses_project(&self, key: &str) -> bool {
        self.projects.is_empty() || self.projects.iter().any(|p| p == key)
    }
}

/// The settings form as submitted (lists are comma- or space-separated).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SettingsForm {
    /// Project keys.
    pub projects: String,
    /// `public` or `internal`.
    pub default_visibility: String,
    /// `none`, `up`, `nearest`.
    pub rounding: String,
    /// Minutes.
    pub step_minutes: String,
    /// `on` when checked.
    pub require_comment: Option<String>,
    /// Minutes.
    pub max_minutes: String,
    /// Request type ids.
    pub hidden_request_types: String,
    /// Field ids.
    pub hidden_fields: String,
    /// Field ids.
    pub assets_fields: String,
    /// Attribute names, one per line or comma-separated.
    pub assets_attributes: String,
}

impl SettingsForm {
    /// The form pre-filled from saved settings.
    pub fn from_settings(s: &TechDeskSettings) -> Self {
        Self {
            projects: s.projects.join(", "),
            default_visibility: if s.default_public {
                "public"
            } else {
                "internal"
            }
            .into(),
            rounding: s.time.rounding.as_str().into(),
            step_minutes: s.time.step_minutes.to_string(),
            require_comment: s.time.require_comment.then(|| "on".into()),
            max_minutes: s.time.max_minutes.to_string(),
            hidden_request_types: s.hidden_request_types.join(", "),
            hidden_fields: s.hidden_fields.join(", "),
            assets_fields: s.assets_fields.join(", "),
            assets_attributes: s.assets_attributes.join(", "),
        }
    }
}

/// A Jira project key: 1–20 characters, an upper-case letter then letters, digits or `_`.
pub fn is_project_key(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_uppercase())
        && s.len() <= 20
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

fn is_field_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_numeric_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 20 && s.chars().all(|c| c.is_ascii_digit())
}

fn split_list(s: &str) -> Vec<String> {
    let mut out: Vec<String> = s
        .split([',', ' ', '\n', '\r', '\t'])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_owned)
        .collect();
    out.dedup();
    out
}

fn split_names(s: &str) -> Vec<String> {
    let mut out: Vec<String> = s
        .split([',', '\n'])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_owned)
        .collect();
    out.dedup();
    out
}

fn minutes(raw: &str, min: u32, max: u32) -> Result<u32, String> {
    match raw.trim().parse::<u32>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!("a whole number of minutes from {min} to {max}")),
    }
}

/// Validates the settings form; problems come back as (field, reason).
pub fn parse_settings(
    form: &SettingsForm,
) -> Result<TechDeskSettings, Vec<(&'static str, String)>> {
    let mut errors: Vec<(&'static str, String)> = Vec::new();
    let projects = split_list(&form.projects.to_ascii_uppercase());
    if let Some(bad) = projects.iter().find(|p| !is_project_key(p)) {
        errors.push(("projects", format!("\"{bad}\" is not a project key")));
    }
    if projects.len() > 100 {
        errors.push(("projects", "at most 100 projects".into()));
    }
    let default_public = match form.default_visibility.as_str() {
        "public" => true,
        "internal" | "" => false,
        _ => {
            errors.push(("default_visibility", "choose public or internal".into()));
            false
        }
    };
    let rounding = RoundingMode::parse(form.rounding.as_str()).unwrap_or_else(|| {
        errors.push(("rounding", "choose none, up or nearest".into()));
        RoundingMode::None
    });
    let step_minutes = minutes(&form.step_minutes, 1, 240).unwrap_or_else(|e| {
        errors.push(("step_minutes", e));
        15
    });
    let max_minutes = minutes(&form.max_minutes, 1, 1440).unwrap_or_else(|e| {
        errors.push(("max_minutes", e));
        720
    });
    let hidden_request_types = split_list(&form.hidden_request_types);
    if hidden_request_types.iter().any(|x| !is_numeric_id(x)) {
        errors.push((
            "hidden_request_types",
            "request type ids are numbers".into(),
        ));
    }
    let hidden_fields = split_list(&form.hidden_fields);
    if hidden_fields.iter().any(|x| !is_field_id(x)) {
        errors.push((
            "hidden_fields",
            "field ids look like customfield_10050 or description".into(),
        ));
    }
    let assets_fields = split_list(&form.assets_fields);
    if assets_fields
        .iter()
        .any(|x| !x.starts_with("customfield_") || !is_field_id(x))
    {
        errors.push((
            "assets_fields",
            "Assets fields are custom fields, e.g. customfield_10060".into(),
        ));
    }
    let assets_attributes = split_names(&form.assets_attributes);
    if assets_attributes
        .iter()
        .any(|x| x.chars().count() > 100 || x.chars().any(char::is_control))
    {
        errors.push((
            "assets_attributes",
            "attribute names have at most 100 characters".into(),
        ));
    }
    if assets_attributes.len() > 50 {
        errors.push(("assets_attributes", "at most 50 attributes".into()));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(TechDeskSettings {
        projects,
        default_public,
        time: TimeRules {
            rounding,
            step_minutes,
            require_comment: form.require_comment.as_deref() == Some("on"),
            max_minutes,
        },
        hidden_request_types,
        hidden_fields,
        assets_fields,
        assets_attributes,
    })
}

/// What a project admin may set for their own project, over the site's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ProjectSettings {
    /// Default comment visibility in this project (`None`: the site's).
    pub default_public: Option<bool>,
    /// More optional field ids hidden in this project.
    pub hidden_fields: Vec<String>,
    /// Assets attribute names shown in this project (empty: the site's choice).
    pub assets_attributes: Vec<String>,
}

/// The project settings form as submitted.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ProjectSettingsForm {
    /// `site`, `public` or `internal`.
    pub default_visibility: String,
    /// Field ids.
    pub hidden_fields: String,
    /// Attribute names.
    pub assets_attributes: String,
}

impl ProjectSettingsForm {
    /// The form pre-filled from saved project settings.
    pub fn from_settings(s: &ProjectSettings) -> Self {
        Self {
            default_visibility: match s.default_public {
                None => "site",
                Some(true) => "public",
                Some(false) => "internal",
            }
            .into(),
            hidden_fields: s.hidden_fields.join(", "),
            assets_attributes: s.assets_attributes.join(", "),
        }
    }
}

/// Validates the project settings form; problems as (field, reason).
pub fn parse_project_settings(
    form: &ProjectSettingsForm,
) -> Result<ProjectSettings, Vec<(&'static str, String)>> {
    let site = SettingsForm {
        default_visibility: "internal".into(),
        rounding: "none".into(),
        step_minutes: "15".into(),
        max_minutes: "720".into(),
        hidden_fields: form.hidden_fields.clone(),
        assets_attributes: form.assets_attributes.clone(),
        ..SettingsForm::default()
    };
    let mut errors: Vec<(&'static str, String)> = Vec::new();
    let default_public = match form.default_visibility.as_str() {
        "site" | "" => None,
        "public" => Some(true),
        "internal" => Some(false),
        _ => {
            errors.push((
                "default_visibility",
                "choose site default, public or internal".into(),
            ));
            None
        }
    };
    match parse_settings(&site) {
        Ok(s) if errors.is_empty() => Ok(ProjectSettings {
            default_public,
            hidden_fields: s.hidden_fields,
            assets_attributes: s.assets_attributes,
        }),
        Ok(_) => Err(errors),
        Err(more) => {
            errors.extend(more);
            Err(errors)
        }
    }
}

/// The settings in force for a project: the site's, with the project's choices applied.
pub fn effective(site: &TechDeskSettings, project: &ProjectSettings) -> TechDeskSettings {
    let mut out = site.clone();
    if let Some(p) = project.default_public {
        out.default_public = p;
    }
    for f in &project.hidden_fields {
        if !out.hidden_fields.contains(f) {
            out.hidden_fields.push(f.clone());
        }
    }
    if !project.assets_attributes.is_empty() {
        out.assets_attributes = project.assets_attributes.clone();
    }
    out
}

#[cfg(test)]
mod project_tests {
    use super::*;

    #[test]
    fn project_settings_override_the_site() {
        let form = ProjectSettingsForm {
            default_visibility: "public".into(),
            hidden_fields: "customfield_10070".into(),
            assets_attributes: "Vendor".into(),
        };
        let p = parse_project_settings(&form).unwrap();
        assert_eq!(p.default_public, Some(true));
        assert_eq!(
            parse_project_settings(&ProjectSettingsForm::from_settings(&p)).unwrap(),
            p
        );
        let site = TechDeskSettings {
            hidden_fields: vec!["description".into()],
            assets_attributes: vec!["Model".into()],
            ..TechDeskSettings::default()
        };
        let e = effective(&site, &p);
        assert!(e.default_public);
        assert_eq!(e.hidden_fields, vec!["description", "customfield_10070"]);
        assert_eq!(e.assets_attributes, vec!["Vendor"]);
        assert_eq!(effective(&site, &ProjectSettings::default()), site);
        let bad = ProjectSettingsForm {
            default_visibility: "all".into(),
            hidden_fields: "a<b".into(),
            ..ProjectSettingsForm::default()
        };
        let fields: Vec<_> = parse_project_settings(&bad)
            .unwrap_err()
            .into_iter()
            .map(|(f, _)| f)
            .collect();
        assert_eq!(fields, vec!["default_visibility", "hidden_fields"]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> SettingsForm {
        SettingsForm {
            projects: "fs, IT".into(),
            default_visibility: "public".into(),
            rounding: "up".into(),
            step_minutes: "15".into(),
            require_comment: Some("on".into()),
            max_minutes: "480".into(),
            hidden_request_types: "3 4".into(),
            hidden_fields: "customfield_10070".into(),
            assets_fields: "customfield_10060".into(),
            assets_attributes: "Serial number, Model\nStatus".into(),
        }
    }

    #[test]
    fn parses_a_valid_form_and_round_trips() {
        let s = parse_settings(&good()).unwrap();
        assert_eq!(s.projects, vec!["FS", "IT"]);
        assert!(s.default_public);
        assert_eq!(s.time.rounding, RoundingMode::Up);
        assert!(s.time.require_comment);
        assert_eq!(s.hidden_request_types, vec!["3", "4"]);
        assert_eq!(
            s.assets_attributes,
            vec!["Serial number", "Model", "Status"]
        );
        assert!(s.uses_project("FS") && !s.uses_project("FAC"));
        assert_eq!(parse_settings(&SettingsForm::from_settings(&s)).unwrap(), s);
    }

    #[test]
    fn reports_each_bad_field() {
        let form = SettingsForm {
            projects: "fs; drop".into(),
            default_visibility: "everyone".into(),
            rounding: "down".into(),
            step_minutes: "0".into(),
            max_minutes: "x".into(),
            hidden_request_types: "a".into(),
            hidden_fields: "x y<".into(),
            assets_fields: "summary".into(),
            assets_attributes: "a\u{7}".into(),
            ..good()
        };
        let fields: Vec<_> = parse_settings(&form)
            .unwrap_err()
            .into_iter()
            .map(|(f, _)| f)
            .collect();
        assert_eq!(
            fields,
            vec![
                "projects",
                "default_visibility",
                "rounding",
                "step_minutes",
                "max_minutes",
                "hidden_request_types",
                "hidden_fields",
                "assets_fields",
                "assets_attributes"
            ]
        );
    }

    #[test]
    fn project_keys() {
        assert!(is_project_key("FS"));
        assert!(is_project_key("A1_B"));
        assert!(!is_project_key("1A"));
        assert!(!is_project_key(""));
        assert!(!is_project_key("fs"));
    }
}
