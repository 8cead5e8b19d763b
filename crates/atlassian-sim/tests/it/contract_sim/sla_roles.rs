//! Request SLAs, request participants and project roles: valid calls and their error cases,
//! every exchange validated by the recorder of [`super`].

use atlassian_sim::UserSummary;
use serde_json::{Value, json};

use super::Sender;

/// Method, concrete path, body, caller (none: anonymous) and expected status.
type Case<'a> = (&'a str, String, Option<Value>, Option<&'a UserSummary>, u16);

/// A JSM request of FS reported by `reporter` (`Ok`) or by anyone else (`Err`).
fn find_request(s: &Sender<'_>, reporter: Result<&str, &str>) -> String {
    let m = s.h.state.read();
    m.issues
        .iter()
        .find(|i| {
            i.request_type.is_some()
                && i.key.starts_with("FS-")
                && match reporter {
                    Ok(r) => i.reporter == r,
                    Err(r) => i.reporter != r,
                }
        })
        .map(|i| i.key.clone())
        .expect("a JSM request")
}

/// Users of `who`: agent (technician), admin, viewer and a customer.
pub(super) struct Who<'a> {
    pub admin: &'a UserSummary,
    pub tech: &'a UserSummary,
    pub viewer: &'a UserSummary,
    pub customer: &'a UserSummary,
}

pub(super) async fn sla_routes(s: &mut Sender<'_>, w: &Who<'_>) {
    let key = find_request(s, Err(&w.customer.account_id));
    let sla = "/rest/servicedeskapi/request/{key}/sla";
    let page = s
        .ok(
            "GET",
            sla,
            &format!("/rest/servicedeskapi/request/{key}/sla"),
            &[("start", "0"), ("limit", "10")],
            None,
            w.tech,
        )
        .await;
    let names: Vec<&str> = page["values"]
        .as_array()
        .expect("values")
        .iter()
        .filter_map(|v| v["name"].as_str())
        .collect();
    assert_eq!(
        names,
        ["Time to first response", "Time to resolution"],
        "{page}"
    );
    let own = find_request(s, Ok(&w.customer.account_id));
    for (path, who, want) in [
        (
            format!("/rest/servicedeskapi/request/{own}/sla"),
            Some(w.customer),
            403,
        ),
        (
            "/rest/servicedeskapi/request/FS-999999/sla".to_string(),
            Some(w.tech),
            404,
        ),
        (format!("/rest/servicedeskapi/request/{key}/sla"), None, 401),
    ] {
        let (got, v) = s.send("GET", sla, &path, &[], None, who).await;
        assert_eq!(got, want, "GET {path}: {v}");
    }

    let part = "/rest/servicedeskapi/request/{key}/participant";
    let path = format!("/rest/servicedeskapi/request/{key}/participant");
    let added = s
        .ok(
            "POST",
            part,
            &path,
            &[],
            Some(json!({"accountIds": [w.customer.account_id]})),
            w.tech,
        )
        .await;
    let listed = s
        .ok(
            "GET",
            part,
            &path,
            &[("start", "0"), ("limit", "50")],
            None,
            w.admin,
        )
        .await;
    for page in [&added, &listed] {
        assert!(
            page["values"]
                .as_array()
                .expect("values")
                .iter()
                .any(|u| u["accountId"] == w.customer.account_id.as_str()),
            "{page}"
        );
    }
    let cases: Vec<Case<'_>> = vec![
        (
            "POST",
            path.clone(),
            Some(json!({"accountIds": ["no-such-account"]})),
            Some(w.tech),
            400,
        ),
        (
            "POST",
            path.clone(),
            Some(json!({"accountIds": [w.tech.account_id]})),
            Some(w.viewer),
            403,
        ),
        (
            "POST",
            "/rest/servicedeskapi/request/FS-999999/participant".into(),
            Some(json!({"accountIds": []})),
            Some(w.tech),
            404,
        ),
        (
            "POST",
            path.clone(),
            Some(json!({"accountIds": []})),
            None,
            401,
        ),
        (
            "GET",
            "/rest/servicedeskapi/request/FS-999999/participant".into(),
            None,
            Some(w.admin),
            404,
        ),
        ("GET", path.clone(), None, None, 401),
    ];
    for (method, p, body, who, want) in cases {
        let (got, v) = s.send(method, part, &p, &[], body, who).await;
        assert_eq!(got, want, "{method} {p}: {v}");
    }
}

pub(super) async fn role_routes(s: &mut Sender<'_>, w: &Who<'_>) {
    let roles = "/rest/api/3/project/{key}/role";
    let map = s
        .ok(
            "GET",
            roles,
            "/rest/api/3/project/FS/role",
            &[],
            None,
            w.admin,
        )
        .await;
    let url = map["Technicians"]
        .as_str()
        .expect("Technicians role")
        .to_owned();
    let id = url.rsplit('/').next().expect("id").to_owned();
    let role = "/rest/api/3/project/{key}/role/{id}";
    let tech_role = s
        .ok(
            "GET",
            role,
            &format!("/rest/api/3/project/FS/role/{id}"),
            &[("excludeInactiveUsers", "true")],
            None,
            w.admin,
        )
        .await;
    assert!(
        tech_role["actors"]
            .as_array()
            .expect("actors")
            .iter()
            .any(|a| a["actorGroup"]["name"] == "technicians"),
        "{tech_role}"
    );
    let cases: Vec<(&str, String, Option<&UserSummary>, u16)> = vec![
        (
            roles,
            "/rest/api/3/project/NOPE/role".into(),
            Some(w.admin),
            404,
        ),
        (
            roles,
            "/rest/api/3/project/FS/role".into(),
            Some(w.tech),
            404,
        ),
        (roles, "/rest/api/3/project/FS/role".into(), None, 401),
        (
            role,
            "/rest/api/3/project/FS/role/99999".into(),
            Some(w.admin),
            404,
        ),
        (
            role,
            format!("/rest/api/3/project/FS/role/{id}"),
            Some(w.tech),
            404,
        ),
        (role, format!("/rest/api/3/project/FS/role/{id}"), None, 401),
    ];
    for (route, p, who, want) in cases {
        let (got, v) = s.send("GET", route, &p, &[], None, who).await;
        assert_eq!(got, want, "GET {p}: {v}");
    }
}
