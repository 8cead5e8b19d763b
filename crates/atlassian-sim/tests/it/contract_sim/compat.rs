//! Routes served for third-party clients (pycontribs `jira`, atlassian-python-api; see
//! `tests/thirdparty/`): the deprecated project list, the unversioned `latest` alias and the
//! documented query parameters of adding a worklog.

use atlassian_sim::UserSummary;
use serde_json::json;

use super::Sender;

pub(super) async fn compat_routes(s: &mut Sender<'_>, admin: &UserSummary, tech: &UserSummary) {
    let projects = s
        .ok(
            "GET",
            "/rest/api/3/project",
            "/rest/api/3/project",
            &[],
            None,
            admin,
        )
        .await;
    let keys: Vec<&str> = projects
        .as_array()
        .expect("an array of projects")
        .iter()
        .filter_map(|p| p["key"].as_str())
        .collect();
    assert_eq!(keys, ["FAC", "FS", "IT"], "ordered by name");
    let recent = s
        .ok(
            "GET",
            "/rest/api/3/project",
            "/rest/api/3/project",
            &[("recent", "1"), ("expand", "description")],
            None,
            admin,
        )
        .await;
    assert_eq!(recent.as_array().map(Vec::len), Some(1));

    let latest = "/rest/api/latest/issue/{key}/assignee";
    s.ok(
        "PUT",
        latest,
        "/rest/api/latest/issue/FS-3/assignee",
        &[],
        Some(json!({"accountId": tech.account_id})),
        admin,
    )
    .await;
    let issue = s
        .ok(
            "GET",
            "/rest/api/3/issue/{key}",
            "/rest/api/3/issue/FS-3",
            &[("fields", "assignee")],
            None,
            admin,
        )
        .await;
    assert_eq!(
        issue["fields"]["assignee"]["accountId"].as_str(),
        Some(tech.account_id.as_str())
    );

    let worklog = "/rest/api/3/issue/{key}/worklog";
    let path = "/rest/api/3/issue/FS-3/worklog";
    let body = json!({"timeSpent": "45m", "started": "2026-03-10T09:00:00.000+0000"});
    let added = s
        .ok(
            "POST",
            worklog,
            path,
            &[
                ("adjustEstimate", "new"),
                ("newEstimate", "2h"),
                ("notifyUsers", "false"),
            ],
            Some(body.clone()),
            admin,
        )
        .await;
    assert_eq!(added["timeSpentSeconds"], 2700);
    for (query, field) in [
        (&[("adjustEstimate", "new")][..], "newEstimate"),
        (
            &[("adjustEstimate", "manual"), ("reduceBy", "soon")][..],
            "reduceBy",
        ),
    ] {
        let (status, v) = s
            .send(
                "POST",
                worklog,
                path,
                query,
                Some(body.clone()),
                Some(admin),
            )
            .await;
        assert_eq!(status, 400, "{query:?}: {v}");
        assert!(v["errors"][field].is_string(), "{query:?}: {v}");
    }
}
