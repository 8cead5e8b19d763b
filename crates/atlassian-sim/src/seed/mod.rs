//! The deterministic demo site: a field-service company in Manchester, UK.
//!
//! Everything is derived from `(seed, scale, now)`: the same inputs give the same users,
//! tokens, tickets and changelogs. Technicians' home bases, skills and working hours are
//! stored as the user property `jsmkit.profile` (served by
//! `GET /rest/api/3/user/properties/jsmkit.profile?accountId=…`, as in Jira Cloud) and,
//! for convenience, by the sim-only `GET /sim/technicians`.

pub mod city;
mod participants;
pub mod site;
mod tickets;

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde_json::json;

use crate::clock::Clock;
use crate::model::{
    AccountType, Actor, DemoRole, Model, Organization, Project, RequestType, RequestTypeField,
    ServiceDesk, Site, User,
};
use crate::rng::Rng;

pub use participants::seed_participants;
pub use tickets::{LinkTarget, seed_tickets};

/// How big the generated site is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Scale {
    /// The demo: ~25 technicians, ~300 tickets.
    #[default]
    Small,
    /// Load testing: ~200 technicians, ~20k tickets.
    Large,
}

impl std::str::FromStr for Scale {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "small" => Ok(Scale::Small),
            "large" => Ok(Scale::Large),
            o => Err(format!("unknown scale {o:?} (small|large)")),
        }
    }
}

/// Email domain of the company's staff.
pub const STAFF_DOMAIN: &str = "irwell-field.example";

fn uuid_like(rng: &mut Rng) -> String {
    let h = rng.hex(16);
    format!(
        "{}-{}-4{}-8{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

/// Builds the site with users, groups, projects and JSM configuration (no tickets).
pub fn seed_site(seed: u64, scale: Scale, clock: Clock, base_url: &str) -> Model {
    let mut rng = Rng::derive(seed, "site");
    let site = Site {
        cloud_id: uuid_like(&mut rng),
        url: base_url.trim_end_matches('/').to_owned(),
        name: "irwell-field".to_owned(),
        assets_workspace_id: uuid_like(&mut rng),
        time_zone: "Europe/London".to_owned(),
    };
    let mut m = Model::new(site, clock);
    site::configure(&mut m);
    seed_users(&mut m, seed, scale);
    seed_projects(&mut m);
    m
}

fn make_user(
    m: &mut Model,
    rng: &mut Rng,
    name: String,
    email: String,
    role: DemoRole,
    profile: Option<serde_json::Value>,
) -> String {
    let (account_id, account_type) = if role == DemoRole::Customer {
        (
            format!("qm:{}:{}", uuid_like(rng), uuid_like(rng)),
            AccountType::Customer,
        )
    } else {
        (format!("712020:{}", uuid_like(rng)), AccountType::Atlassian)
    };
    let token = format!("ATATT3xFfGF0{}", rng.hex(24).to_uppercase());
    m.add_user(User {
        account_id: account_id.clone(),
        email,
        display_name: name,
        time_zone: "Europe/London".to_owned(),
        active: true,
        account_type,
        api_token: token,
        role,
        profile,
    });
    account_id
}

fn seed_users(m: &mut Model, seed: u64, scale: Scale) {
    let mut rng = Rng::derive(seed, "users");
    let (techs, customers) = match scale {
        Scale::Small => (25, 20),
        Scale::Large => (200, 400),
    };
    let mut used = std::collections::BTreeSet::new();
    let mut next_name = |rng: &mut Rng| loop {
        let f = rng.pick(city::FIRST).copied().unwrap_or("Sam");
        let l = rng.pick(city::LAST).copied().unwrap_or("Smith");
        let n = used.len();
        let name = if n > city::FIRST.len() * city::LAST.len() / 2 {
            format!("{f} {l} {n}")
        } else {
            format!("{f} {l}")
        };
        if used.insert(name.clone()) {
            return name;
        }
    };
    let email =
        |name: &str, domain: &str| format!("{}@{domain}", name.to_lowercase().replace(' ', "."));
    let admin = make_user(
        m,
        &mut rng,
        "Alex Morgan".into(),
        format!("admin@{STAFF_DOMAIN}"),
        DemoRole::Admin,
        None,
    );
    m.add_to_group("jira-admins", &admin);
    m.add_to_group("site-admins", &admin);
    for _ in 0..3 {
        let n = next_name(&mut rng);
        let id = make_user(
            m,
            &mut rng,
            n.clone(),
            email(&n, STAFF_DOMAIN),
            DemoRole::Dispatcher,
            None,
        );
        m.add_to_group("dispatchers", &id);
    }
    for i in 0..techs {
        let n = next_name(&mut rng);
        let (street, district, _, lat, lng) = city::STREETS[rng.index(city::STREETS.len())];
        let mut skills: Vec<&str> = Vec::new();
        for _ in 0..rng.range(1, 3) {
            let s = rng.pick(city::SKILLS).copied().unwrap_or("electrical");
            if !skills.contains(&s) {
                skills.push(s);
            }
        }
        let start = ["07:00", "07:30", "08:00", "09:00"][i % 4];
        let end = ["15:30", "16:00", "16:30", "17:30"][i % 4];
        let profile = json!({
            "homeBase": {"lat": lat + (rng.unit() - 0.5) * 0.004, "lng": lng + (rng.unit() - 0.5) * 0.006,
                          "address": format!("{} {street}, {district}, Manchester", rng.range(1, 240))},
            "skills": skills,
            "workingHours": {"timeZone": "Europe/London", "days": ["MON", "TUE", "WED", "THU", "FRI"], "start": start, "end": end},
        });
        let id = make_user(
            m,
            &mut rng,
            n.clone(),
            email(&n, STAFF_DOMAIN),
            DemoRole::Technician,
            Some(profile),
        );
        m.add_to_group("technicians", &id);
    }
    let viewer = make_user(
        m,
        &mut rng,
        "Vic Reader".into(),
        format!("viewer@{STAFF_DOMAIN}"),
        DemoRole::Viewer,
        None,
    );
    m.add_to_group("jsmkit-viewers", &viewer);
    let mut orgs: Vec<Organization> = city::ORGS
        .iter()
        .enumerate()
        .map(|(i, o)| Organization {
            id: (i + 1).to_string(),
            name: (*o).to_owned(),
            members: Vec::new(),
        })
        .collect();
    for i in 0..customers {
        let n = next_name(&mut rng);
        let org_idx = i % orgs.len();
        let domain = format!(
            "{}.example",
            city::ORGS[org_idx].to_lowercase().replace(' ', "-")
        );
        let id = make_user(
            m,
            &mut rng,
            n.clone(),
            email(&n, &domain),
            DemoRole::Customer,
            None,
        );
        m.add_to_group("customers", &id);
        if let Some(o) = orgs.get_mut(org_idx) {
            o.members.push(id);
        }
    }
    m.organizations = orgs;
}

fn rtf(id: &str, name: &str, required: bool, desc: &str) -> RequestTypeField {
    RequestTypeField {
        field_id: id.into(),
        name: name.into(),
        description: desc.into(),
        required,
        valid_values: Vec::new(),
    }
}

fn seed_projects(m: &mut Model) {
    let admin = m
        .users
        .first()
        .map(|u| u.account_id.clone())
        .unwrap_or_default();
    let mut roles = BTreeMap::new();
    roles.insert(
        "Administrators".to_owned(),
        vec![
            Actor::User(admin.clone()),
            Actor::Group("jira-admins".into()),
        ],
    );
    roles.insert(
        "Service Desk Team".to_owned(),
        vec![
            Actor::Group("dispatchers".into()),
            Actor::Group("technicians".into()),
        ],
    );
    roles.insert(
        "Dispatchers".to_owned(),
        vec![Actor::Group("dispatchers".into())],
    );
    roles.insert(
        "Technicians".to_owned(),
        vec![Actor::Group("technicians".into())],
    );
    roles.insert(
        "Customers".to_owned(),
        vec![Actor::Group("customers".into())],
    );
    let defs = [
        (
            "10000",
            "FS",
            "Field Service",
            site::DISPATCH_WF,
            vec!["10102", "10100"],
        ),
        (
            "10001",
            "IT",
            "IT Support",
            site::SERVICE_WF,
            vec!["10100", "10101"],
        ),
        (
            "10002",
            "FAC",
            "Facilities",
            site::DISPATCH_WF,
            vec!["10102", "10100"],
        ),
    ];
    for (i, (id, key, name, wf, types)) in defs.into_iter().enumerate() {
        m.projects.push(Project {
            id: id.into(),
            key: key.into(),
            name: name.into(),
            lead: admin.clone(),
            issue_types: types.into_iter().map(String::from).collect(),
            workflow: wf.into(),
            roles: roles.clone(),
            next_number: 1,
        });
        m.service_desks.push(ServiceDesk {
            id: (i + 1).to_string(),
            project_id: id.into(),
        });
    }
    let location_fields = || {
        vec![
            rtf("summary", "Summary", true, "A short summary of the job."),
            rtf(
                "description",
                "Description",
                false,
                "What is wrong? Include access instructions.",
            ),
            rtf(
                "customfield_10053",
                "Street address",
                true,
                "Number and street.",
            ),
            rtf(
                "customfield_10054",
                "City",
                false,
                "Defaults to Manchester.",
            ),
            rtf(
                "customfield_10055",
                "Postcode",
                true,
                "UK postcode, e.g. M1 1AA.",
            ),
            rtf(
                "customfield_10050",
                "Location",
                false,
                "Latitude/longitude of the site.",
            ),
            rtf(
                "customfield_10070",
                "Skills required",
                false,
                "Skills the technician needs.",
            ),
            rtf("customfield_10060", "Assets", false, "Affected equipment."),
            rtf("priority", "Priority", false, "How urgent is it?"),
        ]
    };
    let mut prio = rtf("priority", "Priority", false, "How urgent is it?");
    prio.valid_values = m
        .priorities
        .iter()
        .map(|p| (p.id.clone(), p.name.clone()))
        .collect();
    let with_prio = |mut v: Vec<RequestTypeField>| {
        if let Some(p) = v.iter_mut().find(|f| f.field_id == "priority") {
            *p = prio.clone();
        }
        v
    };
    let simple = || {
        vec![
            rtf("summary", "Summary", true, "What do you need?"),
            rtf("description", "Description", false, "Tell us more."),
        ]
    };
    type RtDef<'a> = (
        &'a str,
        &'a str,
        &'a str,
        &'a str,
        &'a str,
        Vec<RequestTypeField>,
    );
    let rts: Vec<RtDef<'_>> = vec![
        (
            "1",
            "1",
            "Repair visit",
            "Book a technician to fix something on site.",
            "10102",
            with_prio(location_fields()),
        ),
        (
            "2",
            "1",
            "Planned maintenance",
            "Schedule routine maintenance.",
            "10102",
            with_prio(location_fields()),
        ),
        (
            "3",
            "1",
            "Drive home",
            "Technician's end-of-day drive back to base (logged for travel time).",
            "10102",
            simple(),
        ),
        (
            "4",
            "1",
            "Office visit",
            "Technician's visit to the office or depot.",
            "10102",
            simple(),
        ),
        (
            "5",
            "2",
            "Get IT help",
            "Ask the IT team for help.",
            "10100",
            simple(),
        ),
        (
            "6",
            "2",
            "Report an IT incident",
            "Something is broken.",
            "10101",
            simple(),
        ),
        (
            "7",
            "3",
            "Building repair",
            "Report a fault in a building.",
            "10102",
            with_prio(location_fields()),
        ),
        (
            "8",
            "3",
            "Office visit",
            "Book an office visit by the facilities team.",
            "10100",
            simple(),
        ),
    ];
    for (id, desk, name, desc, it, fields) in rts {
        m.request_types.push(RequestType {
            id: id.into(),
            name: name.into(),
            description: desc.into(),
            help_text: format!("Use this to request: {}", name.to_lowercase()),
            issue_type_id: it.into(),
            service_desk_id: desk.into(),
            group_ids: vec![desk.into()],
            fields,
        });
    }
}

/// One line of [`crate::server::SimHandle::users_summary`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserSummary {
    /// admin / dispatcher / technician / viewer / customer.
    pub role: String,
    /// Display name.
    pub display_name: String,
    /// Email (basic-auth user name).
    pub email: String,
    /// Account id.
    pub account_id: String,
    /// API token (basic-auth password).
    pub api_token: String,
}

/// The demo users with their credentials.
pub fn users_summary(m: &Model) -> Vec<UserSummary> {
    m.users
        .iter()
        .map(|u| UserSummary {
            role: u.role.as_str().to_owned(),
            display_name: u.display_name.clone(),
            email: u.email.clone(),
            account_id: u.account_id.clone(),
            api_token: u.api_token.clone(),
        })
        .collect()
}

/// Start of the local day of `now` in the site's zone, as a timestamp.
pub fn local_day_start(now: Timestamp, tz: &str) -> Timestamp {
    let tz = jiff::tz::TimeZone::get(tz).unwrap_or(jiff::tz::TimeZone::UTC);
    now.to_zoned_datetime(tz)
        .start_of_day()
        .map(|z| z.timestamp())
        .unwrap_or(now)
}
