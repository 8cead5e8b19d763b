//! JSM SLAs and request participants on the ticket view and in the queue, checked against
//! what the simulator computes.

use atlassian_sim::model::sla::SlaRecord;
use serde_json::Value;

use crate::harness::{location, start, unescape};

/// The state the ticket view shows for one of the simulator's SLAs.
fn expected_state(r: &SlaRecord) -> &'static str {
    match &r.ongoing {
        Some(o) if o.paused => "paused",
        Some(o) if o.breached() => "breached",
        Some(_) => "running",
        None if r.completed.last().is_some_and(|c| c.breached()) => "missed",
        None => "met",
    }
}

/// Far (an hour or more) from a change of state, so the page and the model agree.
fn settled(r: &SlaRecord) -> bool {
    r.ongoing
        .as_ref()
        .is_none_or(|o| o.paused || o.remaining_ms().abs() > 3_600_000)
}

#[tokio::test]
async fn the_ticket_view_shows_jsm_goals_and_participants() {
    let env = start().await;
    let tech = env.user("technician");
    let (key, expected, names) = {
        let m = env.sim.state.read();
        let now = m.clock.now();
        m.issues
            .iter()
            .filter(|i| i.assignee.as_deref() == Some(tech.account_id.as_str()))
            .filter_map(|i| {
                let people = m.participants.get(&i.id)?;
                let slas = m.slas(i, now);
                if slas.is_empty() || !slas.iter().all(settled) {
                    return None;
                }
                let states: Vec<(String, &'static str)> = slas
                    .iter()
                    .map(|r| (r.name.to_owned(), expected_state(r)))
                    .collect();
                let names: Vec<String> = people
                    .iter()
                    .filter_map(|a| m.user(a).map(|u| u.display_name.clone()))
                    .collect();
                Some((i.key.clone(), states, names))
            })
            .next()
            .expect("a request of the technician with participants")
    };
    let mut b = env.signed_in("technician").await;
    let page = unescape(&b.text(&format!("/techdesk/tickets/{key}")).await);
    assert!(page.contains("id=\"slas\""), "{page}");
    for (name, state) in &expected {
        assert!(
            page.contains(&format!("data-sla-state=\"{state}\">{name}:")),
            "{name} is {state}: {page}"
        );
    }
    assert!(page.contains("id=\"participants\""));
    assert!(!names.is_empty());
    for n in &names {
        assert!(page.contains(n.as_str()), "participant {n} shown");
    }
}

#[tokio::test]
async fn a_plain_jira_issue_falls_back_to_the_priority_table() {
    let env = start().await;
    let tech = env.user("technician");
    let key = {
        let mut m = env.sim.state.write();
        let issue = m
            .issues
            .iter_mut()
            .find(|i| i.assignee.as_deref() == Some(tech.account_id.as_str()))
            .expect("a ticket of the technician");
        issue.request_type = None;
        issue.key.clone()
    };
    let mut b = env.signed_in("technician").await;
    let page = b.text(&format!("/techdesk/tickets/{key}")).await;
    assert!(!page.contains("id=\"slas\""), "no JSM goals");
    assert!(!page.contains("id=\"participants\""), "no participants");
    assert!(page.contains("id=\"sla\">SLA: "), "the priority-based SLA");
}

#[tokio::test]
async fn participants_are_added_as_the_user_after_validation() {
    let env = start().await;
    let tech = env.user("technician");
    let customer = env.user("customer");
    let (key, issue_id) = {
        let m = env.sim.state.read();
        let i = m
            .issues
            .iter()
            .find(|i| {
                i.assignee.as_deref() == Some(tech.account_id.as_str())
                    && i.reporter != customer.account_id
                    && !m
                        .participants
                        .get(&i.id)
                        .is_some_and(|p| p.contains(&customer.account_id))
            })
            .expect("a request");
        (i.key.clone(), i.id.clone())
    };
    let participants_of = |env: &crate::harness::Env| {
        env.sim
            .state
            .read()
            .participants
            .get(&issue_id)
            .cloned()
            .unwrap_or_default()
    };
    let before = participants_of(&env);
    let mut b = env.signed_in("technician").await;
    let path = format!("/techdesk/tickets/{key}/participants");
    for (typed, reason) in [
        ("", "enter an email address or an account id"),
        ("not an address", "not an email address or account id"),
        ("nobody@nowhere.example", "no user with this email address"),
    ] {
        let resp = b.post(&path, &[("participant", typed)]).await;
        assert_eq!(resp.status(), 422, "{typed:?}");
        let page = unescape(&resp.text().await.unwrap());
        assert!(page.contains("id=\"participant-error\""), "{page}");
        assert!(page.contains(reason), "{typed:?}: {reason}");
        assert!(
            page.contains(&format!("value=\"{typed}\"")),
            "typed text kept"
        );
    }
    assert_eq!(
        participants_of(&env),
        before,
        "refused input changes nothing"
    );
    // Shown before the add: the page was cached; the add refreshes it at once.
    b.text(&format!("/techdesk/tickets/{key}")).await;
    let resp = b.post(&path, &[("participant", &customer.email)]).await;
    assert_eq!(resp.status(), 303);
    assert!(location(&resp).contains("done=participant"));
    let after = participants_of(&env);
    assert!(after.contains(&customer.account_id), "{after:?}");
    let page = unescape(&b.text(&location(&resp)).await);
    assert!(page.contains(&customer.display_name), "listed at once");
    assert!(page.contains("Participant added."));
    // By account id too; a viewer may not (Jira refuses, the page says why).
    let admin = env.user("admin");
    let resp = b.post(&path, &[("participant", &admin.account_id)]).await;
    assert_eq!(resp.status(), 303);
    assert!(participants_of(&env).contains(&admin.account_id));
    let mut v = env.signed_in("viewer").await;
    let dispatcher = env.user("dispatcher");
    let resp = v
        .post(&path, &[("participant", &dispatcher.account_id)])
        .await;
    assert_eq!(resp.status(), 403);
    assert!(!participants_of(&env).contains(&dispatcher.account_id));
}

#[tokio::test]
async fn the_queue_puts_breached_requests_first_then_least_time_left() {
    let env = start().await;
    let tech = env.user("technician");
    // One open request of the technician, raised a week ago: its resolution clock is
    // long past the goal in JSM.
    let breached_in_sim: Vec<String> = {
        let mut m = env.sim.state.write();
        let now = m.clock.now();
        let week = jiff::SignedDuration::from_hours(24 * 7);
        let idx = m
            .issues
            .iter()
            .position(|i| {
                i.assignee.as_deref() == Some(tech.account_id.as_str())
                    && i.resolution.is_none()
                    && i.request_type.is_some()
            })
            .expect("an open request of the technician");
        m.issues[idx].created = now.checked_sub(week).unwrap();
        let late = m.issues[idx].key.clone();
        let m = &*m;
        m.issues
            .iter()
            .filter(|i| i.assignee.as_deref() == Some(tech.account_id.as_str()))
            .filter(|i| {
                m.slas(i, now).iter().any(|r| {
                    r.ongoing
                        .as_ref()
                        .is_some_and(|o| !o.paused && o.remaining_ms() < -3_600_000)
                })
            })
            .map(|i| i.key.clone())
            .chain(std::iter::once(late))
            .collect()
    };
    let mut b = env.signed_in("technician").await;
    let body: Value = serde_json::from_str(&b.text("/api/techdesk/v1/queue").await).unwrap();
    let groups = body["groups"].as_array().unwrap();
    let mut seen_breached = Vec::new();
    for g in groups {
        let items = g["items"].as_array().unwrap();
        let rank: Vec<(bool, i64)> = items
            .iter()
            .map(|r| {
                (
                    r["sla"]["state"] != "breached",
                    r["sla"]["remaining_seconds"].as_i64().unwrap_or(i64::MAX),
                )
            })
            .collect();
        let mut sorted = rank.clone();
        sorted.sort();
        assert_eq!(rank, sorted, "breached first, then least time: {g}");
        for r in items {
            if r["sla"]["state"] == "breached" {
                seen_breached.push(r["item"]["key"].as_str().unwrap().to_owned());
            }
        }
    }
    let late = breached_in_sim.last().unwrap();
    assert!(
        seen_breached.contains(late),
        "{late} is breached in JSM: {body}"
    );
    for k in &breached_in_sim {
        if groups
            .iter()
            .any(|g| g.to_string().contains(&format!("\"{k}\"")))
        {
            assert!(seen_breached.contains(k), "{k} is breached in JSM");
        }
    }
}
