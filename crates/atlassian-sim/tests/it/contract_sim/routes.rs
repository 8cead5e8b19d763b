//! The valid request of every served route (raw HTTP as an authorised user).

use atlassian_sim::UserSummary;
use serde_json::{Value, json};

use super::Sender;

pub(super) fn adf(text: &str) -> Value {
    json!({"type": "doc", "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}]})
}

pub(super) async fn jira_routes(s: &mut Sender<'_>, admin: &UserSummary, tech: &UserSummary) {
    let i = "/rest/api/3/issue/{key}";
    s.ok(
        "GET",
        "/rest/api/3/search/jql",
        "/rest/api/3/search/jql",
        &[
            ("jql", "project = FS ORDER BY key"),
            ("fields", "summary,status"),
            ("maxResults", "5"),
        ],
        None,
        admin,
    )
    .await;
    let page = s
        .ok(
            "POST",
            "/rest/api/3/search/jql",
            "/rest/api/3/search/jql",
            &[],
            Some(json!({"jql": "project = FS", "fields": ["summary"], "maxResults": 3})),
            admin,
        )
        .await;
    let token = page["nextPageToken"]
        .as_str()
        .expect("a next page")
        .to_owned();
    s.ok(
        "POST",
        "/rest/api/3/search/jql",
        "/rest/api/3/search/jql",
        &[],
        Some(json!({"jql": "project = FS", "maxResults": 3, "nextPageToken": token})),
        admin,
    )
    .await;
    s.ok(
        "POST",
        "/rest/api/3/search/approximate-count",
        "/rest/api/3/search/approximate-count",
        &[],
        Some(json!({"jql": "project = FS"})),
        admin,
    )
    .await;
    s.ok(
        "POST",
        "/rest/api/3/issue/bulkfetch",
        "/rest/api/3/issue/bulkfetch",
        &[],
        Some(json!({"issueIdsOrKeys": ["FS-1", "FS-2", "FS-99999"], "fields": ["summary"]})),
        admin,
    )
    .await;
    s.ok(
        "GET",
        i,
        "/rest/api/3/issue/FS-1",
        &[("fields", "*all"), ("expand", "renderedFields,names")],
        None,
        admin,
    )
    .await;
    s.ok("PUT", i, "/rest/api/3/issue/FS-1", &[],
        Some(json!({"fields": {"summary": "Boiler check"}, "update": {"labels": [{"add": "contract"}]}})), admin).await;
    s.ok(
        "GET",
        "/rest/api/3/issue/{key}/changelog",
        "/rest/api/3/issue/FS-1/changelog",
        &[("startAt", "0"), ("maxResults", "10")],
        None,
        admin,
    )
    .await;
    s.ok(
        "POST",
        "/rest/api/3/changelog/bulkfetch",
        "/rest/api/3/changelog/bulkfetch",
        &[],
        Some(
            json!({"issueIdsOrKeys": ["FS-1", "FS-2"], "fieldIds": ["status"], "maxResults": 100}),
        ),
        admin,
    )
    .await;
    s.ok(
        "PUT",
        "/rest/api/3/issue/{key}/assignee",
        "/rest/api/3/issue/FS-1/assignee",
        &[],
        Some(json!({"accountId": tech.account_id})),
        admin,
    )
    .await;
    let t = s
        .ok(
            "GET",
            "/rest/api/3/issue/{key}/transitions",
            "/rest/api/3/issue/FS-1/transitions",
            &[("expand", "transitions.fields")],
            None,
            admin,
        )
        .await;
    let tid = t["transitions"][0]["id"]
        .as_str()
        .expect("transition")
        .to_owned();
    s.ok(
        "POST",
        "/rest/api/3/issue/{key}/transitions",
        "/rest/api/3/issue/FS-1/transitions",
        &[],
        Some(json!({"transition": {"id": tid}})),
        admin,
    )
    .await;
    s.ok(
        "POST",
        "/rest/api/3/issue/{key}/comment",
        "/rest/api/3/issue/FS-1/comment",
        &[],
        Some(json!({"body": adf("Checked the boiler.")})),
        admin,
    )
    .await;
    s.ok(
        "GET",
        "/rest/api/3/issue/{key}/comment",
        "/rest/api/3/issue/FS-1/comment",
        &[("startAt", "0"), ("maxResults", "5")],
        None,
        admin,
    )
    .await;
    s.ok("POST", "/rest/api/3/issue/{key}/worklog", "/rest/api/3/issue/FS-1/worklog", &[],
        Some(json!({"timeSpentSeconds": 900, "started": "2026-03-10T09:00:00.000+0000", "comment": adf("Travel")})), admin).await;
    s.ok(
        "GET",
        "/rest/api/3/issue/{key}/worklog",
        "/rest/api/3/issue/FS-1/worklog",
        &[("startAt", "0"), ("maxResults", "5")],
        None,
        admin,
    )
    .await;
    s.ok(
        "GET",
        "/rest/api/3/myself",
        "/rest/api/3/myself",
        &[],
        None,
        tech,
    )
    .await;
    s.ok(
        "GET",
        "/rest/api/3/user",
        "/rest/api/3/user",
        &[("accountId", &tech.account_id)],
        None,
        admin,
    )
    .await;
    s.ok(
        "GET",
        "/rest/api/3/user/search",
        "/rest/api/3/user/search",
        &[("query", "a"), ("startAt", "0"), ("maxResults", "5")],
        None,
        admin,
    )
    .await;
    s.ok(
        "GET",
        "/rest/api/3/user/assignable/search",
        "/rest/api/3/user/assignable/search",
        &[("project", "FS"), ("maxResults", "5")],
        None,
        admin,
    )
    .await;
    s.ok(
        "GET",
        "/rest/api/3/user/properties/{prop}",
        "/rest/api/3/user/properties/jsmkit.profile",
        &[("accountId", &tech.account_id)],
        None,
        admin,
    )
    .await;
    s.ok(
        "GET",
        "/rest/api/3/group/member",
        "/rest/api/3/group/member",
        &[
            ("groupname", "technicians"),
            ("startAt", "0"),
            ("maxResults", "5"),
        ],
        None,
        admin,
    )
    .await;
    let projects = s
        .ok(
            "GET",
            "/rest/api/3/project/search",
            "/rest/api/3/project/search",
            &[("startAt", "0"), ("maxResults", "5")],
            None,
            admin,
        )
        .await;
    let pid = projects["values"][0]["id"]
        .as_str()
        .expect("project id")
        .to_owned();
    s.ok(
        "GET",
        "/rest/api/3/project/{key}",
        "/rest/api/3/project/FS",
        &[],
        None,
        admin,
    )
    .await;
    s.ok(
        "GET",
        "/rest/api/3/project/{key}/statuses",
        "/rest/api/3/project/FS/statuses",
        &[],
        None,
        admin,
    )
    .await;
    s.ok(
        "GET",
        "/rest/api/3/statuses/search",
        "/rest/api/3/statuses/search",
        &[("projectId", &pid), ("startAt", "0"), ("maxResults", "5")],
        None,
        admin,
    )
    .await;
    s.ok(
        "GET",
        "/rest/api/3/field",
        "/rest/api/3/field",
        &[],
        None,
        admin,
    )
    .await;
    s.ok(
        "GET",
        "/rest/api/3/mypermissions",
        "/rest/api/3/mypermissions",
        &[
            ("projectKey", "FS"),
            ("permissions", "BROWSE_PROJECTS,EDIT_ISSUES"),
        ],
        None,
        tech,
    )
    .await;
    s.ok("POST", "/rest/api/3/permissions/check", "/rest/api/3/permissions/check", &[],
        Some(json!({"accountId": tech.account_id, "globalPermissions": ["ADMINISTER"],
            "projectPermissions": [{"permissions": ["EDIT_ISSUES"], "projects": [pid.parse::<i64>().expect("id")]}]})), admin).await;
    s.ok(
        "GET",
        "/rest/api/3/serverInfo",
        "/rest/api/3/serverInfo",
        &[],
        None,
        admin,
    )
    .await;
}

pub(super) async fn jsm_routes(s: &mut Sender<'_>, admin: &UserSummary) -> String {
    let desks = s
        .ok(
            "GET",
            "/rest/servicedeskapi/servicedesk",
            "/rest/servicedeskapi/servicedesk",
            &[("start", "0"), ("limit", "5")],
            None,
            admin,
        )
        .await;
    let sd = desks["values"][0]["id"].as_str().expect("desk").to_owned();
    let rts = s
        .ok(
            "GET",
            "/rest/servicedeskapi/servicedesk/{id}/requesttype",
            &format!("/rest/servicedeskapi/servicedesk/{sd}/requesttype"),
            &[("start", "0"), ("limit", "5")],
            None,
            admin,
        )
        .await;
    let rt = rts["values"][0]["id"]
        .as_str()
        .expect("request type")
        .to_owned();
    let fields = s
        .ok(
            "GET",
            "/rest/servicedeskapi/servicedesk/{id}/requesttype/{rt}/field",
            &format!("/rest/servicedeskapi/servicedesk/{sd}/requesttype/{rt}/field"),
            &[],
            None,
            admin,
        )
        .await;
    let mut values = serde_json::Map::new();
    for f in fields["requestTypeFields"].as_array().expect("fields") {
        let id = f["fieldId"].as_str().expect("fieldId");
        let v = match id {
            "summary" => json!("No heating"),
            "description" => json!("Radiators are cold."),
            _ if f["required"] == true => json!("1 Main Street"),
            _ => continue,
        };
        values.insert(id.to_string(), v);
    }
    let created = s
        .ok(
            "POST",
            "/rest/servicedeskapi/request",
            "/rest/servicedeskapi/request",
            &[],
            Some(json!({"serviceDeskId": sd, "requestTypeId": rt, "requestFieldValues": values})),
            admin,
        )
        .await;
    let key = created["issueKey"].as_str().expect("key").to_owned();
    let r = "/rest/servicedeskapi/request/{key}";
    s.ok(
        "GET",
        r,
        &format!("/rest/servicedeskapi/request/{key}"),
        &[],
        None,
        admin,
    )
    .await;
    let rc = "/rest/servicedeskapi/request/{key}/comment";
    let path = format!("/rest/servicedeskapi/request/{key}/comment");
    s.ok(
        "POST",
        rc,
        &path,
        &[],
        Some(json!({"body": "On our way.", "public": true})),
        admin,
    )
    .await;
    s.ok(
        "POST",
        rc,
        &path,
        &[],
        Some(json!({"body": "Parts ordered.", "public": false})),
        admin,
    )
    .await;
    s.ok(
        "GET",
        rc,
        &path,
        &[
            ("public", "true"),
            ("internal", "false"),
            ("start", "0"),
            ("limit", "5"),
        ],
        None,
        admin,
    )
    .await;
    let ws = s
        .ok(
            "GET",
            "/rest/servicedeskapi/assets/workspace",
            "/rest/servicedeskapi/assets/workspace",
            &[],
            None,
            admin,
        )
        .await;
    ws["values"][0]["workspaceId"]
        .as_str()
        .expect("workspace")
        .to_owned()
}

pub(super) async fn assets_routes(s: &mut Sender<'_>, admin: &UserSummary, ws: &str) {
    let p = |rest: &str| format!("/jsm/assets/workspace/{ws}/v1{rest}");
    let r = |rest: &str| format!("/jsm/assets/workspace/{{workspaceId}}/v1{rest}");
    let list = s
        .ok(
            "GET",
            &r("/objectschema/list"),
            &p("/objectschema/list"),
            &[("startAt", "0"), ("maxResults", "5")],
            None,
            admin,
        )
        .await;
    let schema = list["values"][0]["id"].as_str().expect("schema").to_owned();
    s.ok(
        "GET",
        &r("/objectschema/{id}"),
        &p(&format!("/objectschema/{schema}")),
        &[],
        None,
        admin,
    )
    .await;
    s.ok(
        "GET",
        &r("/objectschema/{id}/attributes"),
        &p(&format!("/objectschema/{schema}/attributes")),
        &[],
        None,
        admin,
    )
    .await;
    s.ok(
        "GET",
        &r("/objectschema/{id}/objecttypes"),
        &p(&format!("/objectschema/{schema}/objecttypes")),
        &[],
        None,
        admin,
    )
    .await;
    let types = s
        .ok(
            "GET",
            &r("/objectschema/{id}/objecttypes/flat"),
            &p(&format!("/objectschema/{schema}/objecttypes/flat")),
            &[("includeObjectCounts", "true")],
            None,
            admin,
        )
        .await;
    let ty = types[0]["id"].as_str().expect("type").to_owned();
    s.ok(
        "GET",
        &r("/objecttype/{id}"),
        &p(&format!("/objecttype/{ty}")),
        &[],
        None,
        admin,
    )
    .await;
    s.ok(
        "GET",
        &r("/objecttype/{id}/attributes"),
        &p(&format!("/objecttype/{ty}/attributes")),
        &[],
        None,
        admin,
    )
    .await;
    let aql = json!({"qlQuery": format!("objectSchemaId = {schema}")});
    let page = s
        .ok(
            "POST",
            &r("/object/aql"),
            &p("/object/aql"),
            &[
                ("startAt", "0"),
                ("maxResults", "5"),
                ("includeAttributes", "true"),
            ],
            Some(aql.clone()),
            admin,
        )
        .await;
    let obj = page["values"][0]["id"].as_str().expect("object").to_owned();
    s.ok(
        "POST",
        &r("/object/aql/totalcount"),
        &p("/object/aql/totalcount"),
        &[],
        Some(aql),
        admin,
    )
    .await;
    s.ok(
        "GET",
        &r("/object/{id}"),
        &p(&format!("/object/{obj}")),
        &[],
        None,
        admin,
    )
    .await;
    s.ok(
        "GET",
        &r("/object/{id}/attributes"),
        &p(&format!("/object/{obj}/attributes")),
        &[],
        None,
        admin,
    )
    .await;
    s.ok(
        "GET",
        &r("/config/statustype"),
        &p("/config/statustype"),
        &[("objectSchemaId", &schema)],
        None,
        admin,
    )
    .await;
    s.ok(
        "GET",
        &r("/objectconnectedtickets/{id}/tickets"),
        &p(&format!("/objectconnectedtickets/{obj}/tickets")),
        &[],
        None,
        admin,
    )
    .await;
}
