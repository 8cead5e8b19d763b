//! Linked Assets objects on the ticket view; search and link.

use crate::harness::start;

#[tokio::test]
async fn linked_objects_show_and_new_ones_can_be_linked() {
    let env = start().await;
    let tech = env.user("technician");
    // A ticket of the technician's with a linked object, and one without.
    let (with, without, object_id) = {
        let m = env.sim.state.read();
        let mine: Vec<_> = m
            .issues
            .iter()
            .filter(|i| i.assignee.as_deref() == Some(tech.account_id.as_str()))
            .collect();
        let linked = |i: &&atlassian_sim::model::Issue| {
            i.custom
                .get("customfield_10060")
                .and_then(|v| v.as_array())
                .is_some_and(|a| !a.is_empty())
        };
        let with = mine
            .iter()
            .find(|i| linked(i))
            .expect("a ticket with Assets");
        let without = mine
            .iter()
            .find(|i| !linked(i))
            .expect("a ticket without Assets");
        let oid = with.custom["customfield_10060"][0]["objectId"]
            .as_str()
            .unwrap()
            .to_owned();
        (with.key.clone(), without.key.clone(), oid)
    };
    let client = env.client("technician");
    let object = client
        .assets()
        .await
        .unwrap()
        .object(&object_id)
        .await
        .unwrap();
    let label = object.label.clone().unwrap();

    let mut b = env.signed_in("technician").await;
    let page = b.text(&format!("/techdesk/tickets/{with}")).await;
    assert!(
        page.contains(&format!("data-object-id=\"{object_id}\"")),
        "{page}"
    );
    assert!(!page.contains("class=\"form-error\""), "{page}");

    // Search by label, then link to the other ticket.
    let q: String = url::form_urlencoded::byte_serialize(label.as_bytes()).collect();
    let page = b
        .text(&format!("/techdesk/tickets/{without}/assets/search?q={q}"))
        .await;
    assert!(
        page.contains(&format!("name=\"object_id\" value=\"{object_id}\"")),
        "{page}"
    );
    // Quotes and AQL keywords in the search stay text.
    let page = b
        .text(&format!(
            "/techdesk/tickets/{without}/assets/search?q=%22%20OR%20Label%20!%3D%20%22"
        ))
        .await;
    assert!(page.contains("No objects found."), "{page}");

    let resp = b
        .post(
            &format!("/techdesk/tickets/{without}/assets/link"),
            &[
                ("object_id", object_id.as_str()),
                ("field", "customfield_10060"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let linked = env.sim.state.read().issue(&without).unwrap().custom["customfield_10060"].clone();
    assert_eq!(linked[0]["objectId"], object_id.as_str());
    let resp = b
        .post(
            &format!("/techdesk/tickets/{without}/assets/link"),
            &[("object_id", "1 OR 1"), ("field", "summary")],
        )
        .await;
    assert_eq!(resp.status(), 422);
}
