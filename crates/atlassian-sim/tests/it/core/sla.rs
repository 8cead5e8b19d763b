//! JSM SLAs follow the model and the clock: a public agent comment completes the first
//! response, time running moves the resolution clock, a Done status stops it and a reopen
//! starts a new cycle; the same clock gives the same answer.

use atlassian_sim::seed::site::st;
use jiff::SignedDuration;
use serde_json::Value;

use super::{AuthAs, client, sim, user};

async fn slas(h: &atlassian_sim::SimHandle, key: &str) -> Vec<Value> {
    let admin = user(h, "admin");
    let r = client()
        .get(format!(
            "{}/rest/servicedeskapi/request/{key}/sla",
            h.base_url
        ))
        .auth(&admin)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.expect("json");
    v["values"].as_array().expect("values").clone()
}

fn named<'a>(all: &'a [Value], name: &str) -> &'a Value {
    all.iter().find(|s| s["name"] == name).expect(name)
}

#[tokio::test]
async fn slas_follow_comments_statuses_and_the_clock() {
    let h = sim().await;
    let tech = user(&h, "technician");
    // An open FS request without any public comment yet, not waiting (its clocks run).
    let key = {
        let m = h.state.read();
        let now = m.clock.now();
        m.issues
            .iter()
            .find(|i| {
                i.key.starts_with("FS-")
                    && i.request_type.is_some()
                    && i.created < now
                    && i.comments.iter().all(|c| !c.public)
                    && i.status == st::TO_DISPATCH
            })
            .map(|i| i.key.clone())
            .expect("an open request")
    };
    let first = slas(&h, &key).await;
    assert_eq!(first, slas(&h, &key).await, "same clock, same answer");
    let ttfr = named(&first, "Time to first response");
    assert!(ttfr["ongoingCycle"].is_object(), "{ttfr}");
    let ttr = named(&first, "Time to resolution");
    let elapsed = ttr["ongoingCycle"]["elapsedTime"]["millis"]
        .as_i64()
        .expect("elapsed");
    let goal = ttr["ongoingCycle"]["goalDuration"]["millis"]
        .as_i64()
        .expect("goal");
    assert_eq!(
        ttr["ongoingCycle"]["remainingTime"]["millis"].as_i64(),
        Some(goal - elapsed)
    );

    // One hour later the resolution clock shows one more hour.
    h.clock().advance(SignedDuration::from_hours(1));
    let later = slas(&h, &key).await;
    let ttr = named(&later, "Time to resolution");
    assert_eq!(
        ttr["ongoingCycle"]["elapsedTime"]["millis"].as_i64(),
        Some(elapsed + 3_600_000)
    );

    // A public comment by an agent completes the first response.
    let r = client()
        .post(format!(
            "{}/rest/servicedeskapi/request/{key}/comment",
            h.base_url
        ))
        .auth(&tech)
        .json(&serde_json::json!({"body": "On our way.", "public": true}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 201);
    let answered = slas(&h, &key).await;
    let ttfr = named(&answered, "Time to first response");
    assert!(ttfr.get("ongoingCycle").is_none(), "{ttfr}");
    assert_eq!(ttfr["completedCycles"].as_array().map(Vec::len), Some(1));

    // Done stops the resolution clock; reopening starts a second cycle.
    let now = h.clock().now();
    {
        let mut m = h.state.write();
        let idx = m.issue_index(&key).expect("issue");
        let items = m.set_status(idx, st::WORK_COMPLETE, now);
        m.record(idx, &tech.account_id, now, items);
    }
    let done = slas(&h, &key).await;
    let ttr = named(&done, "Time to resolution");
    assert!(ttr.get("ongoingCycle").is_none(), "{ttr}");
    assert_eq!(ttr["completedCycles"].as_array().map(Vec::len), Some(1));
    h.clock().advance(SignedDuration::from_mins(10));
    let now = h.clock().now();
    {
        let mut m = h.state.write();
        let idx = m.issue_index(&key).expect("issue");
        let items = m.set_status(idx, st::TO_DISPATCH, now);
        m.record(idx, &tech.account_id, now, items);
    }
    h.clock().advance(SignedDuration::from_mins(5));
    let reopened = slas(&h, &key).await;
    let ttr = named(&reopened, "Time to resolution");
    assert_eq!(
        ttr["ongoingCycle"]["elapsedTime"]["millis"].as_i64(),
        Some(300_000),
        "{ttr}"
    );
    h.shutdown().await;
}
