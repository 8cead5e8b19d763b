//! My queue, the ticket view and its writes, checked in the simulator.

use crate::harness::{location, start};

#[tokio::test]
async fn queue_lists_my_open_tickets_and_the_team_queue() {
    let env = start().await;
    let tech = env.user("technician");
    let mine = env.open_issues_of(&tech.account_id);
    assert!(!mine.is_empty(), "the demo technician has open tickets");
    let mut b = env.signed_in("technician").await;
    let page = b.text("/techdesk").await;
    assert!(page.contains("My work"));
    let shown = mine
        .iter()
        .filter(|k| page.contains(&format!("/techdesk/tickets/{k}\"")))
        .count();
    assert!(shown > 0, "some of {mine:?} listed: {page}");
    assert!(page.contains("class=\"td-group\""));
    assert!(
        page.contains("id=\"feedback\""),
        "feedback widget on the page"
    );
    // Team queue: unassigned only.
    let team = b.text("/techdesk?scope=team").await;
    assert!(team.contains("Team queue"));
    for k in &mine {
        assert!(
            !team.contains(&format!("/techdesk/tickets/{k}\"")),
            "{k} is assigned"
        );
    }
    // Text search narrows the queue (the words are searched literally).
    let (key, word) = {
        let m = env.sim.state.read();
        let issue = m.issue(&mine[0]).unwrap();
        let word = issue
            .summary
            .split_whitespace()
            .max_by_key(|w| w.len())
            .unwrap()
            .to_owned();
        (issue.key.clone(), word)
    };
    let found = b
        .text(&format!(
            "/techdesk?q={}",
            url::form_urlencoded::byte_serialize(word.as_bytes()).collect::<String>()
        ))
        .await;
    assert!(
        found.contains(&format!("/techdesk/tickets/{key}\"")),
        "{word} finds {key}"
    );
    let none = b
        .text("/techdesk?q=%22%29%20OR%20project%20%3D%20IT%20%28%22zzqx")
        .await;
    assert!(
        none.contains("id=\"queue-count\">0<"),
        "quotes and JQL words stay text"
    );
    // A bad filter is refused with the field named.
    let resp = b.get("/techdesk?sla=soon").await;
    assert_eq!(resp.status(), 422);
    assert!(resp.text().await.unwrap().contains("id=\"sla-error\""));
    // The JSON queue.
    let resp = b.get("/api/techdesk/v1/queue").await;
    assert_eq!(resp.status(), 200);
    let json: serde_json::Value = resp.json().await.unwrap();
    assert!(json["total"].as_u64().unwrap() > 0);
    // Saved views.
    let resp = b
        .post(
            "/techdesk/views",
            &[("name", "Urgent FS"), ("project", "FS"), ("sla", "")],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let page = b.text("/techdesk").await;
    assert!(page.contains("Urgent FS"));
    let view = b.text("/techdesk?view=Urgent%20FS").await;
    assert!(view.contains("value=\"FS\""), "the view's filter applied");
}

fn first_open(env: &crate::harness::Env) -> String {
    let tech = env.user("technician");
    env.open_issues_of(&tech.account_id)
        .into_iter()
        .find(|k| {
            let m = env.sim.state.read();
            m.issue(k).is_some_and(|i| i.request_type.is_some())
        })
        .expect("an open request assigned to the technician")
}

#[tokio::test]
async fn internal_and_public_comments_reach_jira() {
    let env = start().await;
    let key = first_open(&env);
    let mut b = env.signed_in("technician").await;
    let page = b.text(&format!("/techdesk/tickets/{key}")).await;
    assert!(page.contains(&key));
    assert!(page.contains("id=\"request-type\""));
    assert!(
        page.contains("class=\"td-profile\""),
        "customer and assignee profiles"
    );
    assert!(page.contains("<dt>Time zone</dt>"));
    let before = env.sim.state.read().issue(&key).unwrap().comments.len();
    for (text, vis) in [
        ("Parts ordered (internal)", "internal"),
        ("We are on our way", "public"),
    ] {
        let resp = b
            .post(
                &format!("/techdesk/tickets/{key}/comment"),
                &[("comment", text), ("visibility", vis)],
            )
            .await;
        assert_eq!(resp.status(), 303, "{vis}");
        assert!(location(&resp).contains("done=comment"));
    }
    {
        let m = env.sim.state.read();
        let comments = &m.issue(&key).unwrap().comments;
        assert_eq!(comments.len(), before + 2);
        assert!(!comments[before].public);
        assert!(comments[before + 1].public);
    }
    let page = b.text(&format!("/techdesk/tickets/{key}")).await;
    assert!(page.contains("Parts ordered (internal)"));
    assert!(page.contains("We are on our way"));
}

#[tokio::test]
async fn an_empty_or_refused_comment_keeps_the_form_and_changes_nothing() {
    let env = start().await;
    let key = first_open(&env);
    let mut b = env.signed_in("technician").await;
    let resp = b
        .post(
            &format!("/techdesk/tickets/{key}/comment"),
            &[("comment", "  "), ("visibility", "public")],
        )
        .await;
    assert_eq!(resp.status(), 422);
    assert!(resp.text().await.unwrap().contains("id=\"comment-error\""));
    // A viewer may not comment: Jira refuses, the text stays in the form.
    let before = env.sim.state.read().issue(&key).unwrap().comments.len();
    let mut v = env.signed_in("viewer").await;
    let resp = v
        .post(
            &format!("/techdesk/tickets/{key}/comment"),
            &[
                ("comment", "keep me <b>please</b>"),
                ("visibility", "internal"),
            ],
        )
        .await;
    let status = resp.status().as_u16();
    let body = resp.text().await.unwrap();
    assert!((400..500).contains(&status), "refused: {status}");
    assert!(
        body.contains("keep me &#60;b&#62;please&#60;/b&#62;"),
        "text kept: {body}"
    );
    assert!(
        body.contains("Only agents can add internal comments."),
        "Jira's reason shown"
    );
    assert_eq!(
        env.sim.state.read().issue(&key).unwrap().comments.len(),
        before
    );
}

#[tokio::test]
async fn worklogs_are_validated_and_logged() {
    let env = start().await;
    let key = first_open(&env);
    let mut b = env.signed_in("technician").await;
    let path = format!("/techdesk/tickets/{key}/worklog");
    let resp = b
        .post(
            &path,
            &[("duration", "soon"), ("worklog_comment", "typed text")],
        )
        .await;
    assert_eq!(resp.status(), 422);
    let body = resp.text().await.unwrap();
    assert!(body.contains("id=\"duration-error\""));
    assert!(body.contains("typed text"), "comment kept");
    let before = env.sim.state.read().issue(&key).unwrap().worklogs.len();
    let resp = b
        .post(
            &path,
            &[
                ("duration", "1h 30m"),
                ("started", "2026-01-05T09:00"),
                ("worklog_comment", "Replaced valve"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let m = env.sim.state.read();
    let logs = &m.issue(&key).unwrap().worklogs;
    assert_eq!(logs.len(), before + 1);
    assert_eq!(logs[before].time_spent_seconds, 5400);
    assert_eq!(logs[before].started.as_second(), 1_767_603_600);
}

#[tokio::test]
async fn the_timer_survives_reloads_and_logs_when_stopped() {
    let env = start().await;
    let key = first_open(&env);
    let mut b = env.signed_in("technician").await;
    let resp = b
        .post(&format!("/techdesk/tickets/{key}/timer/start"), &[])
        .await;
    assert_eq!(resp.status(), 303);
    // Another device (a new session of the same user) sees the running timer.
    let mut other = env.signed_in("technician").await;
    let page = other.text(&format!("/techdesk/tickets/{key}")).await;
    assert!(
        page.contains("id=\"timer-stop\""),
        "timer running on the other device"
    );
    let before = env.sim.state.read().issue(&key).unwrap().worklogs.len();
    let resp = other
        .post(
            &format!("/techdesk/tickets/{key}/timer/stop"),
            &[("timer_comment", "On site"), ("action", "log")],
        )
        .await;
    assert_eq!(resp.status(), 303);
    {
        let m = env.sim.state.read();
        let logs = &m.issue(&key).unwrap().worklogs;
        assert_eq!(logs.len(), before + 1);
        assert_eq!(
            logs[before].time_spent_seconds, 60,
            "rounded up to a whole minute"
        );
    }
    let page = b.text(&format!("/techdesk/tickets/{key}")).await;
    assert!(page.contains("id=\"timer-start\""), "stopped everywhere");
}

#[tokio::test]
async fn transitions_are_those_jira_offers() {
    let env = start().await;
    let key = first_open(&env);
    let tech = env.client("technician");
    let offered = tech.transitions(&key).await.unwrap();
    let t = offered
        .iter()
        .find(|t| !t.fields.values().any(|f| f["required"] == true))
        .expect("a transition without required fields");
    let mut b = env.signed_in("technician").await;
    let page = b.text(&format!("/techdesk/tickets/{key}")).await;
    for o in &offered {
        assert!(page.contains(&format!("name=\"transition\" value=\"{}\"", o.id)));
    }
    let resp = b
        .post(
            &format!("/techdesk/tickets/{key}/transition"),
            &[("transition", "99999")],
        )
        .await;
    assert_eq!(resp.status(), 422, "not offered");
    let resp = b
        .post(
            &format!("/techdesk/tickets/{key}/transition"),
            &[("transition", t.id.as_str())],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let to = t.to.as_ref().and_then(|s| s.id.clone()).unwrap();
    assert_eq!(env.sim.state.read().issue(&key).unwrap().status, to);
}

#[tokio::test]
async fn assign_to_me_picks_up_a_team_ticket() {
    let env = start().await;
    let tech = env.user("technician");
    let key = {
        let m = env.sim.state.read();
        m.issues
            .iter()
            .find(|i| {
                i.assignee.is_none()
                    && i.resolution.is_none()
                    && m.project(&i.project_id).is_some_and(|p| p.key == "FS")
            })
            .map(|i| i.key.clone())
            .expect("an unassigned FS ticket")
    };
    // Jira lets only dispatchers and admins assign: the technician's attempt is refused with
    // Jira's reason and changes nothing.
    let mut b = env.signed_in("technician").await;
    let resp = b
        .post(&format!("/techdesk/tickets/{key}/assign"), &[])
        .await;
    assert_eq!(resp.status(), 403);
    assert!(resp.text().await.unwrap().contains("id=\"problem\""));
    assert_eq!(env.sim.state.read().issue(&key).unwrap().assignee, None);
    let _ = tech;
    let dispatcher = env.user("dispatcher");
    let mut d = env.signed_in("dispatcher").await;
    let resp = d
        .post(&format!("/techdesk/tickets/{key}/assign"), &[])
        .await;
    assert_eq!(resp.status(), 303);
    assert_eq!(
        env.sim
            .state
            .read()
            .issue(&key)
            .unwrap()
            .assignee
            .as_deref(),
        Some(dispatcher.account_id.as_str())
    );
}
