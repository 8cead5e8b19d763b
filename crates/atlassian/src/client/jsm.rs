//! Jira Service Management REST (`/rest/servicedeskapi`): service desks,
//! request types and their fields, requests, request comments, and the
//! Assets workspace discovery.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::error::{Error, Result};
use super::http::{AtlassianClient, Call, Op};
use super::paging::{self, Paged};

static SERVICE_DESKS: Op = Op::get("jsm.service_desks", "/rest/servicedeskapi/servicedesk");
static REQUEST_TYPES: Op = Op::get(
    "jsm.request_types",
    "/rest/servicedeskapi/servicedesk/{serviceDeskId}/requesttype",
);
static REQUEST_TYPE_FIELDS: Op = Op::get(
    "jsm.request_type_fields",
    "/rest/servicedeskapi/servicedesk/{serviceDeskId}/requesttype/{requestTypeId}/field",
);
static CREATE_REQUEST: Op = Op::post("jsm.create_request", "/rest/servicedeskapi/request");
static REQUEST_COMMENTS: Op = Op::get(
    "jsm.request_comments",
    "/rest/servicedeskapi/request/{issueIdOrKey}/comment",
);
static ADD_REQUEST_COMMENT: Op = Op::post(
    "jsm.add_request_comment",
    "/rest/servicedeskapi/request/{issueIdOrKey}/comment",
);
pub(crate) static ASSETS_WORKSPACE: Op = Op::get(
    "jsm.assets_workspace",
    "/rest/servicedeskapi/assets/workspace",
);

/// Every operation of this module (see [`super::operations`]).
pub(crate) static OPS: &[&Op] = &[
    &SERVICE_DESKS,
    &REQUEST_TYPES,
    &REQUEST_TYPE_FIELDS,
    &CREATE_REQUEST,
    &REQUEST_COMMENTS,
    &ADD_REQUEST_COMMENT,
    &ASSETS_WORKSPACE,
];

/// JSM page size (`limit`).
const LIMIT: u64 = 50;

/// A service desk.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceDesk {
    /// Service desk id.
    pub id: String,
    /// Project id.
    pub project_id: Option<String>,
    /// Project key.
    pub project_key: Option<String>,
    /// Project name.
    pub project_name: Option<String>,
}

/// A request type.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestType {
    /// Request type id.
    pub id: String,
    /// Name.
    pub name: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Help text.
    pub help_text: Option<String>,
    /// Underlying issue type id.
    pub issue_type_id: Option<String>,
    /// Service desk id.
    pub service_desk_id: Option<String>,
    /// Portal groups.
    #[serde(default)]
    pub group_ids: Vec<String>,
}

/// Fields of a request type's portal form.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestTypeFields {
    /// The fields.
    #[serde(default)]
    pub request_type_fields: Vec<RequestTypeField>,
    /// Whether the caller may raise on behalf of others.
    pub can_raise_on_behalf_of: Option<bool>,
    /// Whether participants may be added.
    pub can_add_request_participants: Option<bool>,
}

/// One portal form field.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestTypeField {
    /// Field id (`summary`, `customfield_…`).
    pub field_id: String,
    /// Label.
    pub name: Option<String>,
    /// Help text.
    pub description: Option<String>,
    /// Required on the form.
    #[serde(default)]
    pub required: bool,
    /// Jira schema, raw.
    pub jira_schema: Option<Value>,
    /// Allowed values, raw.
    #[serde(default)]
    pub valid_values: Vec<Value>,
}

/// A new customer request.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewRequest {
    /// Service desk id.
    pub service_desk_id: String,
    /// Request type id.
    pub request_type_id: String,
    /// Field values by field id.
    pub request_field_values: Map<String, Value>,
    /// Raise for this customer (account id) instead of the caller.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raise_on_behalf_of: Option<String>,
}

/// A created (or fetched) customer request.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerRequest {
    /// Issue id.
    pub issue_id: String,
    /// Issue key.
    pub issue_key: String,
    /// Request type id.
    pub request_type_id: Option<String>,
    /// Service desk id.
    pub service_desk_id: Option<String>,
}

/// A request comment (plain-text body as JSM returns it).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestComment {
    /// Comment id.
    pub id: String,
    /// Body text.
    pub body: Option<String>,
    /// Visible to the customer.
    pub public: Option<bool>,
    /// Author, raw.
    pub author: Option<Value>,
    /// Created date object, raw.
    pub created: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Workspace {
    pub workspace_id: String,
}

impl AtlassianClient {
    /// All service desks (JSM pages).
    pub fn service_desks(&self) -> Paged<ServiceDesk> {
        let page = self.page_size(LIMIT);
        paging::jsm(self, move |start| {
            Call::new(&SERVICE_DESKS)
                .query("start", start)
                .query("limit", page)
        })
    }

    /// Request types of a service desk (JSM pages).
    pub fn request_types(&self, service_desk_id: &str) -> Paged<RequestType> {
        let sd = service_desk_id.to_owned();
        let page = self.page_size(LIMIT);
        paging::jsm(self, move |start| {
            Call::new(&REQUEST_TYPES)
                .arg(sd.clone())
                .query("start", start)
                .query("limit", page)
        })
    }

    /// Portal form fields of a request type.
    pub async fn request_type_fields(
        &self,
        service_desk_id: &str,
        request_type_id: &str,
    ) -> Result<RequestTypeFields> {
        self.json(
            Call::new(&REQUEST_TYPE_FIELDS)
                .arg(service_desk_id)
                .arg(request_type_id),
        )
        .await
    }

    /// Creates a customer request (not retried).
    pub async fn create_request(&self, request: &NewRequest) -> Result<CustomerRequest> {
        let body = serde_json::to_value(request).unwrap_or(Value::Null);
        self.json(Call::new(&CREATE_REQUEST).json(body)).await
    }

    /// Comments of a request; `public_only` filters to customer-visible ones.
    pub fn request_comments(&self, key: &str, public_only: bool) -> Paged<RequestComment> {
        let key = key.to_owned();
        let page = self.page_size(LIMIT);
        paging::jsm(self, move |start| {
            let call = Call::new(&REQUEST_COMMENTS).arg(key.clone());
            let call = if public_only {
                call.query("internal", false)
            } else {
                call
            };
            call.query("start", start).query("limit", page)
        })
    }

    /// Adds a plain-text request comment, public (customer-visible) or internal (not retried).
    pub async fn add_request_comment(
        &self,
        key: &str,
        body: &str,
        public: bool,
    ) -> Result<RequestComment> {
        let body = serde_json::json!({ "body": body, "public": public });
        self.json(Call::new(&ADD_REQUEST_COMMENT).arg(key).json(body))
            .await
    }

    /// The site's Assets workspace id (`GET /rest/servicedeskapi/assets/workspace`).
    pub async fn discover_assets_workspace(&self) -> Result<String> {
        #[derive(Deserialize)]
        struct Page {
            #[serde(default)]
            values: Vec<Workspace>,
        }
        let page: Page = self.json(Call::new(&ASSETS_WORKSPACE)).await?;
        page.values
            .into_iter()
            .next()
            .map(|w| w.workspace_id)
            .ok_or_else(|| Error::NotFound {
                op: ASSETS_WORKSPACE.name,
                messages: vec!["no Assets workspace on this site".into()],
            })
    }
}
