//! Raising a request on behalf of a customer through a generated form.

use crate::harness::{location, start};

#[tokio::test]
async fn a_generated_form_refuses_then_creates_the_request() {
    let env = start().await;
    let customer = env.user("customer");
    let mut b = env.signed_in("technician").await;
    let page = b.text("/techdesk/requests/new").await;
    assert!(page.contains("name=\"desk\""));
    let page = b.text("/techdesk/requests/new?desk=1").await;
    assert!(page.contains("Repair visit"));
    let form = b.text("/techdesk/requests/new?desk=1&type=1").await;
    for id in [
        "f_summary",
        "f_customfield_10053",
        "f_customfield_10055",
        "f_priority",
    ] {
        assert!(form.contains(&format!("name=\"{id}\"")), "{id} in the form");
    }
    assert!(form.contains("UK postcode, e.g. M1 1AA."), "help text");
    assert!(form.contains("Summary (required)"));

    let count = env.sim.state.read().issues.len();
    let resp = b
        .post(
            "/techdesk/requests/new",
            &[
                ("desk", "1"),
                ("type", "1"),
                ("on_behalf", customer.email.as_str()),
                ("f_summary", "Leaking boiler"),
                ("f_priority", "bogus"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 422);
    let body = resp.text().await.unwrap();
    assert!(
        body.contains("id=\"f_customfield_10053-error\""),
        "street address required"
    );
    assert!(
        body.contains("id=\"f_customfield_10055-error\""),
        "postcode required"
    );
    assert!(
        body.contains("id=\"f_priority-error\""),
        "priority must be an option"
    );
    assert!(body.contains("value=\"Leaking boiler\""), "input kept");
    assert_eq!(
        env.sim.state.read().issues.len(),
        count,
        "nothing sent to JSM"
    );

    let resp = b
        .post(
            "/techdesk/requests/new",
            &[
                ("desk", "1"),
                ("type", "1"),
                ("on_behalf", customer.email.as_str()),
                ("f_summary", "Leaking boiler"),
                ("f_description", "Water under the boiler"),
                ("f_customfield_10053", "1 Deansgate"),
                ("f_customfield_10055", "M3 1AZ"),
                ("f_customfield_10070", "plumbing gas"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let to = location(&resp);
    assert!(to.starts_with("/techdesk/tickets/FS-"), "{to}");
    let key = to
        .trim_start_matches("/techdesk/tickets/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    {
        let m = env.sim.state.read();
        let issue = m.issue(&key).unwrap();
        assert_eq!(issue.summary, "Leaking boiler");
        assert_eq!(issue.reporter, customer.account_id);
        assert_eq!(issue.request_type.as_deref(), Some("1"));
        assert_eq!(issue.custom["customfield_10053"], "1 Deansgate");
        assert_eq!(
            issue.custom["customfield_10070"],
            serde_json::json!(["plumbing", "gas"])
        );
    }
    let page = b.text(&to).await;
    assert!(page.contains("Request created."));
    assert!(
        page.contains("1 Deansgate"),
        "request-type field values shown"
    );
}
