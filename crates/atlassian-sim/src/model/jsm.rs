//! JSM customer requests: creation with request-type field validation.

use serde_json::{Map, Value};

use super::{Model, ModelError};
use crate::model::render::adf_paragraph;

/// A JSM validation failure, rendered as JSM's `ErrorResponse`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsmError {
    /// HTTP status.
    pub status: u16,
    /// `errorMessage`.
    pub message: String,
    /// `i18nErrorMessage.i18nKey`.
    pub i18n_key: String,
}

impl JsmError {
    fn bad(message: String, key: &str) -> Self {
        JsmError {
            status: 400,
            message,
            i18n_key: key.to_owned(),
        }
    }
}

impl From<ModelError> for JsmError {
    fn from(e: ModelError) -> Self {
        match e {
            ModelError::NotFound(m) => JsmError {
                status: 404,
                message: m,
                i18n_key: "sd.request.not.found".into(),
            },
            ModelError::Forbidden(m) => JsmError {
                status: 403,
                message: m,
                i18n_key: "sd.permission.denied".into(),
            },
            ModelError::Invalid { messages, errors } => {
                let mut parts = messages;
                parts.extend(errors.into_iter().map(|(k, v)| format!("{k}: {v}")));
                JsmError::bad(parts.join(" "), "sd.request.create.error.field.validation")
            }
        }
    }
}

impl Model {
    /// `POST /rest/servicedeskapi/request`: validates and creates the request, returning
    /// the new issue's index.
    pub fn create_request(
        &mut self,
        caller: &str,
        service_desk_id: &str,
        request_type_id: &str,
        values: &Map<String, Value>,
        on_behalf_of: Option<&str>,
        adf: bool,
    ) -> Result<usize, JsmError> {
        let desk = self
            .service_desks
            .iter()
            .find(|d| d.id == service_desk_id)
            .cloned()
            .ok_or_else(|| JsmError {
                status: 404,
                message: format!("The service desk with ID {service_desk_id} does not exist."),
                i18n_key: "sd.servicedesk.error.not.found".into(),
            })?;
        let rt = self
            .request_types
            .iter()
            .find(|r| r.id == request_type_id && r.service_desk_id == desk.id)
            .cloned()
            .ok_or_else(|| JsmError::bad(format!("The request type with ID {request_type_id} does not exist in this service desk."), "sd.request.type.error.not.found"))?;
        let project = self
            .project(&desk.project_id)
            .cloned()
            .ok_or_else(|| JsmError::bad("Unknown project".into(), "sd.project.not.found"))?;
        let caller_user = self.user(caller).cloned().ok_or_else(|| JsmError {
            status: 401,
            message: "Unauthorized".into(),
            i18n_key: "sd.unauthorized".into(),
        })?;
        let is_agent = self.is_agent(caller, &project);
        let is_customer = self.in_role(&project, "Customers", caller)
            || caller_user.account_type == super::AccountType::Customer;
        if !is_agent && !is_customer {
            return Err(JsmError {
                status: 403,
                message: "You do not have permission to create requests in this service desk."
                    .into(),
                i18n_key: "sd.permission.denied".into(),
            });
        }
        let reporter =
            match on_behalf_of {
                Some(who) if is_agent => self
                    .user_by_email(who)
                    .or_else(|| self.user(who))
                    .map(|u| u.account_id.clone())
                    .ok_or_else(|| {
                        JsmError::bad(
                            format!("The user '{who}' does not exist."),
                            "sd.request.create.error.raise.on.behalf",
                        )
                    })?,
                Some(_) => return Err(JsmError {
                    status: 403,
                    message:
                        "You do not have permission to raise a request on behalf of another user."
                            .into(),
                    i18n_key: "sd.permission.denied".into(),
                }),
                None => caller.to_owned(),
            };
        let mut missing = Vec::new();
        for f in &rt.fields {
            if f.required
                && values
                    .get(&f.field_id)
                    .is_none_or(|v| v.is_null() || v.as_str().is_some_and(|s| s.trim().is_empty()))
            {
                missing.push(f.name.clone());
            }
        }
        if !missing.is_empty() {
            return Err(JsmError::bad(
                format!(
                    "Your request could not be created. Please check the fields have been correctly filled in. {}",
                    missing
                        .iter()
                        .map(|m| format!("{m} is required."))
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
                "sd.request.create.error.field.required",
            ));
        }
        for (k, v) in values {
            let Some(f) = rt.fields.iter().find(|f| &f.field_id == k) else {
                return Err(JsmError::bad(
                    format!("Field '{k}' is not valid for this request type."),
                    "sd.request.create.error.field.invalid",
                ));
            };
            if !f.valid_values.is_empty() {
                let s = v
                    .get("id")
                    .or_else(|| v.get("value"))
                    .and_then(Value::as_str)
                    .or(v.as_str())
                    .unwrap_or("");
                if !f
                    .valid_values
                    .iter()
                    .any(|(val, label)| val == s || label == s)
                {
                    return Err(JsmError::bad(
                        format!("Specify a valid value for {}.", f.name),
                        "sd.request.create.error.field.invalid",
                    ));
                }
            }
        }
        let now = self.clock.now();
        let mut issue = self.blank_issue(&project.id, &rt.issue_type_id, &reporter, now);
        issue.creator = caller.to_owned();
        issue.request_type = Some(rt.id.clone());
        let idx = self.insert_issue(issue);
        for (k, v) in values {
            let v = if k == "description" && !adf {
                v.as_str().map_or(v.clone(), adf_paragraph)
            } else {
                v.clone()
            };
            let v = if k == "priority" {
                v.as_str()
                    .map_or(v.clone(), |s| serde_json::json!({"id": s}))
            } else {
                v
            };
            if let Err(e) = self.apply_field(idx, k, &v) {
                self.remove_last_issue();
                return Err(e.into());
            }
        }
        if let Some(issue) = self.issues.get_mut(idx) {
            issue.changelog.clear();
            issue.updated = now;
        }
        Ok(idx)
    }
}
