//! The ticket-view benchmark against the simulator: at most three Atlassian calls per warm
//! view.

use std::sync::Arc;

use platform::permissions::{AccessContext, Principal};
use platform::store::SiteId;

use crate::harness::start;

#[tokio::test]
async fn a_warm_ticket_view_makes_at_most_three_atlassian_calls() {
    let env = start().await;
    let tech = env.user("technician");
    let key = {
        let m = env.sim.state.read();
        m.issues
            .iter()
            .find(|i| {
                i.assignee.as_deref() == Some(tech.account_id.as_str())
                    && i.request_type.is_some()
                    && i.custom
                        .get("customfield_10060")
                        .and_then(|v| v.as_array())
                        .is_some_and(|a| !a.is_empty())
            })
            .map(|i| i.key.clone())
            .expect("a request with Assets")
    };
    let client = env.client("technician");
    let site = SiteId::new(env.sim.cloud_id.clone()).unwrap();
    let ctx = AccessContext {
        site: site.clone(),
        principal: Principal::User {
            site,
            account_id: tech.account_id.clone(),
            display_name: tech.display_name.clone(),
        },
        jira: Arc::new(client.clone()),
    };
    let sim = &env.sim;
    let report = techdesk::bench::bench_ticket_view(&env.state, &ctx, &client, &key, 20, &|| {
        sim.request_count()
    })
    .await
    .unwrap();
    println!("{report}");
    assert_eq!(report.iterations, 20);
    assert!(
        report.cold_calls > report.max_warm_calls,
        "metadata cached after the first view: {report}"
    );
    assert!(report.max_warm_calls <= 3, "{report}");
    assert!(
        report.max_warm_calls >= 2,
        "issue and transitions at least: {report}"
    );
}
