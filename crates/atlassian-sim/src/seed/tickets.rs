//! Ticket generation with realistic dispatch changelogs.

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use super::site::st;
use super::{Scale, city, local_day_start};
use crate::model::render::adf_paragraph;
use crate::model::{DemoRole, Model};
use crate::rng::Rng;

/// An Assets object a ticket may reference in `customfield_10060`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkTarget {
    /// Workspace id.
    pub workspace_id: String,
    /// Object id.
    pub object_id: String,
}

const DISPATCH_PHASES: [&str; 7] = [
    st::TO_DISPATCH,
    st::ASSIGNED,
    st::TRAVELLING,
    st::ON_SITE,
    st::AWAITING_PARTS,
    st::WORK_COMPLETE,
    st::CLOSED,
];

fn mins(m: i64) -> SignedDuration {
    SignedDuration::from_mins(m)
}

struct Ctx<'a> {
    m: &'a mut Model,
    rng: Rng,
    dispatchers: Vec<String>,
    techs: Vec<String>,
    customers: Vec<String>,
    links: &'a [LinkTarget],
}

impl Ctx<'_> {
    fn set(
        &mut self,
        idx: usize,
        author: &str,
        at: Timestamp,
        changes: &[(&str, Value)],
        status: Option<&str>,
    ) {
        let mut items = Vec::new();
        for (f, v) in changes {
            if let Ok(Some(i)) = self.m.apply_field(idx, f, v) {
                items.push(i);
            }
        }
        if let Some(s) = status {
            items.extend(self.m.set_status(idx, s, at));
        }
        self.m.record(idx, author, at, items);
    }

    fn comment(&mut self, idx: usize, author: &str, at: Timestamp, text: &str, public: bool) {
        let id = self.m.next_id();
        if let Some(issue) = self.m.issues.get_mut(idx) {
            issue.comments.push(crate::model::Comment {
                id,
                author: author.to_owned(),
                body: adf_paragraph(text),
                created: at,
                updated: at,
                public,
            });
            issue.updated = issue.updated.max(at);
        }
    }

    fn worklog(&mut self, idx: usize, author: &str, from: Timestamp, to: Timestamp) {
        let secs = (to - from).as_secs().max(60);
        let id = self.m.next_id();
        if let Some(issue) = self.m.issues.get_mut(idx) {
            issue.worklogs.push(crate::model::Worklog {
                id,
                author: author.to_owned(),
                comment: Some(adf_paragraph("Time on site")),
                started: from,
                time_spent_seconds: secs,
                created: to,
            });
        }
    }
}

/// Generates the tickets; `links` are Assets objects tickets may reference.
pub fn seed_tickets(m: &mut Model, seed: u64, scale: Scale, links: &[LinkTarget]) {
    let by_role = |m: &Model, r: DemoRole| {
        m.users
            .iter()
            .filter(|u| u.role == r)
            .map(|u| u.account_id.clone())
            .collect::<Vec<_>>()
    };
    let mut ctx = Ctx {
        dispatchers: by_role(m, DemoRole::Dispatcher),
        techs: by_role(m, DemoRole::Technician),
        customers: by_role(m, DemoRole::Customer),
        rng: Rng::derive(seed, "tickets"),
        links,
        m,
    };
    let (count, history_days) = match scale {
        Scale::Small => (300, 30),
        Scale::Large => (20_000, 365),
    };
    let now = ctx.m.clock.now();
    let tz = ctx.m.site.time_zone.clone();
    let today = local_day_start(now, &tz);
    let today_count = count * 15 / 100;
    let future_count = count / 10;
    for n in 0..count {
        let r = ctx.rng.unit();
        let project = if r < 0.55 {
            "10000"
        } else if r < 0.75 {
            "10002"
        } else {
            "10001"
        };
        let bucket = if n < today_count {
            0
        } else if n < today_count + future_count {
            1
        } else {
            2
        };
        if project == "10001" {
            it_ticket(&mut ctx, today, now, bucket, history_days);
        } else {
            field_ticket(&mut ctx, project, today, now, bucket, history_days);
        }
    }
    super::seed_participants(ctx.m, seed);
}

fn pick(rng: &mut Rng, v: &[String]) -> String {
    rng.pick(v).cloned().unwrap_or_default()
}

fn field_ticket(
    c: &mut Ctx<'_>,
    project: &str,
    today: Timestamp,
    now: Timestamp,
    bucket: u8,
    days: i64,
) {
    let rng = &mut c.rng;
    let (job, skill) = city::FIELD_JOBS[rng.index(city::FIELD_JOBS.len())];
    let (street, district, postcode, lat, lng) = city::STREETS[rng.index(city::STREETS.len())];
    let number = rng.range(1, 250);
    let customer = pick(rng, &c.customers);
    let tech = pick(rng, &c.techs);
    let disp = pick(rng, &c.dispatchers);
    let special = bucket == 0 && rng.chance(0.08);
    let rt = if special {
        if rng.chance(0.5) { "3" } else { "4" }
    } else if project == "10002" {
        "7"
    } else if rng.chance(0.7) {
        "1"
    } else {
        "2"
    };
    let final_phase = match bucket {
        0 => rng.index(6),
        1 => 0,
        _ => {
            if rng.chance(0.85) {
                6
            } else {
                5
            }
        }
    };
    // Timeline gaps (minutes) for each phase step.
    let mut gaps: Vec<i64> = vec![
        rng.range(15, 120),
        rng.range(5, 60),
        rng.range(15, 50),
        rng.range(20, 90),
        rng.range(30, 180),
        rng.range(30, 240),
    ];
    let detour = final_phase == 4 || (final_phase >= 5 && rng.chance(0.25));
    let total: i64 = gaps.iter().take(final_phase + 1).sum();
    let created = match bucket {
        0 => {
            let end = now.min(today.checked_add(mins(17 * 60 + 30)).unwrap_or(now))
                - mins(rng.range(2, 25));
            end - mins(total)
        }
        1 => now - mins(rng.range(10, 600)),
        _ => {
            today - SignedDuration::from_hours(24 * rng.range(1, days))
                + mins(rng.range(6 * 60, 15 * 60))
        }
    };
    let mut issue = c.m.blank_issue(project, "10102", &customer, created);
    issue.summary = if special {
        if rt == "3" {
            "Drive home".to_owned()
        } else {
            "Office visit: collect parts".to_owned()
        }
    } else {
        format!("{job} at {number} {street}")
    };
    issue.description = Some(adf_paragraph(&format!(
        "{job}. Site: {number} {street}, {district}, Manchester {postcode}. Please call ahead on arrival."
    )));
    issue.priority = (rng.range(1, 5)).to_string();
    issue.request_type = Some(rt.to_owned());
    let jl = lat + (rng.unit() - 0.5) * 0.003;
    let jg = lng + (rng.unit() - 0.5) * 0.005;
    issue.custom.insert(
        "customfield_10050".into(),
        json!({"lat": (jl * 1e6).round() / 1e6, "lng": (jg * 1e6).round() / 1e6}),
    );
    issue.custom.insert(
        "customfield_10053".into(),
        json!(format!("{number} {street}")),
    );
    issue
        .custom
        .insert("customfield_10054".into(), json!("Manchester"));
    issue
        .custom
        .insert("customfield_10055".into(), json!(postcode));
    issue
        .custom
        .insert("customfield_10070".into(), json!([skill]));
    if !c.links.is_empty() && rng.chance(0.6) {
        let l = &c.links[rng.index(c.links.len())];
        issue.custom.insert("customfield_10060".into(), json!([{"workspaceId": l.workspace_id, "id": format!("{}:{}", l.workspace_id, l.object_id), "objectId": l.object_id}]));
    }
    let sched_start = if bucket == 1 {
        today + SignedDuration::from_hours(24 * rng.range(1, 5) + rng.range(8, 15))
    } else {
        created + mins(gaps[0] + gaps[1])
    };
    issue.custom.insert(
        "customfield_10080".into(),
        json!(crate::clock::jira_time(sched_start)),
    );
    issue.custom.insert(
        "customfield_10081".into(),
        json!(crate::clock::jira_time(
            sched_start + SignedDuration::from_hours(2)
        )),
    );
    if rng.chance(0.3) {
        issue.labels.push(
            ["urgent", "repeat-visit", "key-holder", "out-of-hours"][rng.index(4)].to_owned(),
        );
    }
    let idx = c.m.insert_issue(issue);
    let mut t = created;
    for (phase, gap) in gaps.iter_mut().enumerate().take(final_phase + 1).skip(1) {
        t += mins(*gap);
        match DISPATCH_PHASES[phase] {
            st::ASSIGNED => c.set(
                idx,
                &disp,
                t,
                &[("assignee", json!({"accountId": tech}))],
                Some(st::ASSIGNED),
            ),
            st::TRAVELLING => c.set(idx, &tech, t, &[], Some(st::TRAVELLING)),
            st::ON_SITE => c.set(idx, &tech, t, &[], Some(st::ON_SITE)),
            st::AWAITING_PARTS => {
                if detour {
                    c.set(idx, &tech, t, &[], Some(st::AWAITING_PARTS));
                    c.comment(
                        idx,
                        &tech,
                        t,
                        "Waiting for a replacement part from the depot.",
                        false,
                    );
                    if final_phase > 4 {
                        t += mins(c.rng.range(60, 240));
                        c.set(idx, &tech, t, &[], Some(st::TRAVELLING));
                        t += mins(c.rng.range(15, 40));
                        c.set(idx, &tech, t, &[], Some(st::ON_SITE));
                    }
                }
            }
            st::WORK_COMPLETE => {
                c.set(
                    idx,
                    &tech,
                    t,
                    &[("resolution", json!({"name": "Fixed"}))],
                    Some(st::WORK_COMPLETE),
                );
                c.worklog(idx, &tech, t - mins(*gap), t);
                c.comment(
                    idx,
                    &tech,
                    t,
                    "Job completed and tested with the customer.",
                    true,
                );
            }
            _ => c.set(idx, &disp, t, &[], Some(st::CLOSED)),
        }
    }
}

fn it_ticket(c: &mut Ctx<'_>, today: Timestamp, now: Timestamp, bucket: u8, days: i64) {
    let rng = &mut c.rng;
    let summary = city::IT_JOBS[rng.index(city::IT_JOBS.len())];
    let customer = pick(rng, &c.customers);
    let agent = pick(rng, &c.dispatchers);
    let created = match bucket {
        0 => now.min(today.checked_add(mins(17 * 60)).unwrap_or(now)) - mins(rng.range(30, 480)),
        1 => now - mins(rng.range(10, 300)),
        _ => {
            today - SignedDuration::from_hours(24 * rng.range(1, days))
                + mins(rng.range(8 * 60, 17 * 60))
        }
    };
    let rt = if rng.chance(0.7) { "5" } else { "6" };
    let mut issue = c.m.blank_issue(
        "10001",
        if rt == "5" { "10100" } else { "10101" },
        &customer,
        created,
    );
    issue.summary = summary.to_owned();
    issue.description = Some(adf_paragraph(&format!("{summary}. Please help.")));
    issue.request_type = Some(rt.to_owned());
    issue.priority = rng.range(2, 4).to_string();
    let final_state = if bucket == 2 {
        3 + rng.index(2)
    } else {
        rng.index(3)
    };
    let idx = c.m.insert_issue(issue);
    let mut t = created;
    let steps: [(&str, bool); 4] = [
        (st::IN_PROGRESS, true),
        (st::WAITING, false),
        (st::RESOLVED, false),
        (st::CLOSED, false),
    ];
    for (i, (status, assign)) in steps.iter().enumerate().take(final_state) {
        t += mins(c.rng.range(5, 90));
        let changes: Vec<(&str, Value)> = if *assign {
            vec![("assignee", json!({"accountId": agent}))]
        } else if *status == st::RESOLVED {
            vec![("resolution", json!({"name": "Done"}))]
        } else {
            Vec::new()
        };
        c.set(idx, &agent, t, &changes, Some(status));
        if i == 1 {
            c.comment(
                idx,
                &agent,
                t,
                "Could you tell us which device this is on?",
                true,
            );
        }
    }
}
