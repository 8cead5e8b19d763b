//! Assets' connected tickets come from the Jira model: the issues whose Assets field links
//! the object, as the caller may see them, with a JQL query that finds the same issues.

use super::{AuthAs, client, sim, user};

#[tokio::test]
async fn connected_tickets_are_the_issues_linking_the_object() {
    let h = sim().await;
    let admin = user(&h, "admin");
    let customer = user(&h, "customer");
    // A ticket that links an Assets object, straight from the model.
    let (key, workspace, object_id) = {
        let m = h.state.read();
        m.issues
            .iter()
            .find_map(|i| {
                let link = i
                    .custom
                    .get("customfield_10060")?
                    .as_array()?
                    .first()?
                    .clone();
                Some((
                    i.key.clone(),
                    link["workspaceId"].as_str()?.to_owned(),
                    link["objectId"].as_str()?.parse::<u64>().ok()?,
                ))
            })
            .expect("the demo site links some tickets to Assets objects")
    };
    let url = format!(
        "{}/jsm/assets/workspace/{workspace}/v1/objectconnectedtickets/{object_id}/tickets",
        h.base_url
    );
    let body: serde_json::Value = client()
        .get(&url)
        .auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let keys: Vec<&str> = body["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["key"].as_str().unwrap())
        .collect();
    assert!(keys.contains(&key.as_str()), "{key} not in {keys:?}");
    assert!(
        body["tickets"][0]["title"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );

    // The query finds exactly those issues through the site's own JQL search.
    let query = body["allTicketsQuery"].as_str().unwrap();
    let found: serde_json::Value = client()
        .post(format!("{}/rest/api/3/search/jql", h.base_url))
        .auth(&admin)
        .json(&serde_json::json!({"jql": query, "fields": ["summary"], "maxResults": 100}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut searched: Vec<&str> = found["issues"]
        .as_array()
        .unwrap_or_else(|| panic!("search failed: {found}"))
        .iter()
        .map(|i| i["key"].as_str().unwrap())
        .collect();
    searched.sort_unstable();
    let mut expected = keys.clone();
    expected.sort_unstable();
    assert_eq!(searched, expected);

    // A customer sees only what they may browse (none of these internal tickets).
    let body: serde_json::Value = client()
        .get(&url)
        .auth(&customer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for t in body["tickets"].as_array().unwrap() {
        assert_ne!(t["key"].as_str(), Some(key.as_str()), "customer sees {key}");
    }
}
