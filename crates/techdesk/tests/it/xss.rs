//! Attack payloads from the shared corpus placed in summaries, descriptions, comments and
//! field values (through the REST API) stay inert on the queue and the ticket view.

use atlassian::adf::Doc;
use atlassian::client::IssueUpdate;
use serde_json::json;

use crate::harness::start;

/// The XSS corpus in the shared folder.
fn payloads_file() -> std::path::PathBuf {
    atlassian_sim::testkit::shared_dir().join("data/payloads/fuzzdb-xss-other.txt")
}

fn risky(payload: &str) -> bool {
    payload.contains(['<', '>']) || (payload.len() >= 4 && payload.contains(['"', '\'', '&']))
}

fn assert_inert(body: &str, payloads: &[&str]) {
    for p in payloads {
        if risky(p) {
            assert!(!body.contains(p), "unescaped payload {p:?}");
        }
    }
    let lower = body.to_lowercase();
    assert_eq!(
        lower.matches("<script").count(),
        3,
        "only the layout's and TechDesk's modules"
    );
    assert!(!lower.contains("<img"), "no injected elements");
    assert!(!lower.contains("<iframe"));
    assert!(!lower.contains("<svg"));
    assert!(!lower.contains("href=\"javascript:"));
}

#[tokio::test]
async fn payloads_in_jira_data_stay_inert() {
    let text = std::fs::read_to_string(payloads_file()).unwrap_or_else(|e| {
        panic!(
            "the attack corpus {} is required: {e}",
            payloads_file().display()
        )
    });
    let payloads: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && l.len() < 250 && !l.chars().any(char::is_control))
        .collect();
    assert!(payloads.len() > 50, "corpus looks truncated");
    let env = start().await;
    let tech = env.user("technician");
    let admin = env.client("admin");
    let keys: Vec<String> = env
        .open_issues_of(&tech.account_id)
        .into_iter()
        .take(4)
        .collect();
    assert!(keys.len() >= 2);
    let mut b = env.signed_in("technician").await;
    for (n, chunk) in payloads
        .chunks(payloads.len().div_ceil(keys.len()))
        .enumerate()
    {
        let key = &keys[n];
        let first = chunk[0];
        let mut content = Vec::new();
        for p in chunk {
            content.push(json!({"type": "paragraph", "content": [
                {"type": "text", "text": p},
                {"type": "text", "text": "link", "marks": [{"type": "link", "attrs": {"href": p}}]}
            ]}));
        }
        let mut update = IssueUpdate::default();
        update.fields.insert("summary".into(), json!(first));
        update.fields.insert(
            "description".into(),
            json!({"type": "doc", "version": 1, "content": content}),
        );
        update.fields.insert(
            "customfield_10053".into(),
            json!(chunk.last().copied().unwrap_or(first)),
        );
        update.fields.insert("labels".into(), json!(["x"]));
        admin.edit_issue(key, &update).await.unwrap();
        for p in chunk.iter().take(10) {
            admin
                .add_comment(key, &Doc::from_plain_text(p))
                .await
                .unwrap();
        }
        let page = b.text(&format!("/techdesk/tickets/{key}")).await;
        assert_inert(&page, chunk);
        let summary = first
            .replace('&', "&#38;")
            .replace('<', "&#60;")
            .replace('>', "&#62;");
        assert!(
            page.contains(summary.as_str()) || first.contains(['"', '\'']),
            "summary shown escaped: {first}"
        );
    }
    let queue = b.text("/techdesk").await;
    assert_inert(&queue, &payloads);
}

#[tokio::test]
async fn markup_in_assets_labels_and_attributes_stays_inert() {
    use atlassian::aql::{AqlString, Attribute};
    use futures_util::TryStreamExt;

    let env = start().await;
    let tech = env.user("technician");
    let client = env.client("technician");
    let assets = client.assets().await.unwrap();
    // The seeded workspace has a vendor called `<script>alert(1)</script> Inc`.
    let aql = Attribute::named("Vendor")
        .unwrap()
        .eq(AqlString::new("<script>alert(1)</script> Inc").unwrap())
        .to_aql();
    let objects: Vec<_> = assets.aql(&aql, false).try_collect().await.unwrap();
    let object = objects.first().expect("an object with the script vendor");
    let key = env.open_issues_of(&tech.account_id)[0].clone();
    let mut b = env.signed_in("technician").await;
    let resp = b
        .post(
            &format!("/techdesk/tickets/{key}/assets/link"),
            &[
                ("object_id", object.id.as_str()),
                ("field", "customfield_10060"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let page = b.text(&format!("/techdesk/tickets/{key}")).await;
    assert!(page.contains(&format!("data-object-id=\"{}\"", object.id)));
    assert!(
        page.contains("&#60;script&#62;alert(1)&#60;/script&#62; Inc"),
        "vendor shown as text"
    );
    assert_inert(
        &page,
        &[
            "<script>alert(1)</script> Inc",
            "<b>bold</b> & <i>brave</i>",
        ],
    );
    // Labels with markup in search results.
    let page = b
        .text(&format!("/techdesk/tickets/{key}/assets/search?q=bold"))
        .await;
    assert!(
        page.contains("&#60;b&#62;bold&#60;/b&#62;"),
        "a markup label found and escaped"
    );
    assert_inert(&page, &["<b>bold</b> & <i>brave</i>"]);
}
