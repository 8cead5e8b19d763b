//! The technician profile form: reading what was typed into a [`Technician`] with
//! per-field errors, and showing a technician as the form's values.

use jiff::civil::{Date, Time};
use platform::permissions::ProjectKey;
use platform::web::FieldErrors;

use crate::geo::LatLon;
use crate::technician::{Shift, Technician, TimeOff, WEEKDAYS, check_skill, normalise_skill};

/// The profile form's values, kept as typed so a failed save shows them again.
#[derive(Clone, Debug, Default)]
pub(crate) struct ProfileForm {
    pub name: String,
    pub skills: String,
    pub zone: String,
    pub lat: String,
    pub lon: String,
    pub projects: String,
    /// (weekday, start, end) as typed.
    pub hours: Vec<(&'static str, String, String)>,
    /// (row, from, to, reason) as typed; one empty row to add.
    pub time_off: Vec<(usize, String, String, String)>,
    pub version: i64,
}

impl ProfileForm {
    pub(crate) fn of(t: &Technician, version: i64) -> Self {
        let hours = WEEKDAYS
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let s = t.hours.get(i).copied().flatten();
                (
                    *d,
                    s.map(|s| s.start.strftime("%H:%M").to_string())
                        .unwrap_or_default(),
                    s.map(|s| s.end.strftime("%H:%M").to_string())
                        .unwrap_or_default(),
                )
            })
            .collect();
        let mut time_off: Vec<(usize, String, String, String)> = t
            .time_off
            .iter()
            .enumerate()
            .map(|(i, o)| (i, o.from.to_string(), o.to.to_string(), o.reason.clone()))
            .collect();
        time_off.push((time_off.len(), String::new(), String::new(), String::new()));
        Self {
            name: t.display_name.clone(),
            skills: t.skills.iter().cloned().collect::<Vec<_>>().join(", "),
            zone: t.zone.clone(),
            lat: t.home.map(|h| h.lat().to_string()).unwrap_or_default(),
            lon: t.home.map(|h| h.lon().to_string()).unwrap_or_default(),
            projects: t.projects.iter().cloned().collect::<Vec<_>>().join(", "),
            hours,
            time_off,
            version,
        }
    }
}

fn parse_time(s: &str) -> Option<Time> {
    let s = s.trim();
    let (h, m) = s.split_once(':')?;
    Time::new(h.parse().ok()?, m.parse().ok()?, 0, 0).ok()
}

/// Reads the profile form into `tech`, collecting per-field errors.
pub(crate) fn apply_form(
    tech: &mut Technician,
    pairs: &[(String, String)],
    admin: bool,
) -> (ProfileForm, FieldErrors) {
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let mut errors = FieldErrors::new();
    let mut form = ProfileForm {
        name: get("name"),
        skills: get("skills"),
        zone: get("zone").trim().to_string(),
        lat: get("lat"),
        lon: get("lon"),
        projects: get("projects"),
        version: get("version").parse().unwrap_or(-1),
        ..ProfileForm::default()
    };
    if admin {
        let name = form.name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            errors.add("name", "enter the name to show (1 to 100 characters)");
        } else {
            tech.display_name = name.to_string();
        }
        let mut projects = std::collections::BTreeSet::new();
        for p in form
            .projects
            .split([',', ' '])
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            match ProjectKey::new(p.to_uppercase()) {
                Ok(k) => {
                    projects.insert(k.as_str().to_string());
                }
                Err(e) => {
                    errors.add("projects", e.reason);
                }
            }
        }
        tech.projects = projects;
    } else {
        form.name = tech.display_name.clone();
        form.projects = tech.projects.iter().cloned().collect::<Vec<_>>().join(", ");
    }
    let mut skills = std::collections::BTreeSet::new();
    for s in form
        .skills
        .split(',')
        .map(normalise_skill)
        .filter(|s| !s.is_empty())
    {
        match check_skill(&s) {
            Ok(()) => {
                skills.insert(s);
            }
            Err(r) => {
                errors.add("skills", r);
            }
        }
    }
    tech.skills = skills;
    tech.zone = form.zone.clone();
    tech.home = match (form.lat.trim(), form.lon.trim()) {
        ("", "") => None,
        (a, b) => match (a.parse::<f64>(), b.parse::<f64>()) {
            (Ok(a), Ok(b)) => match LatLon::new(a, b) {
                Ok(p) => Some(p),
                Err(e) => {
                    errors.add("lat", e.0);
                    tech.home
                }
            },
            _ => {
                errors.add(
                    "lat",
                    "enter the home base as two numbers: latitude and longitude",
                );
                tech.home
            }
        },
    };
    for (i, d) in WEEKDAYS.iter().enumerate() {
        let start = get(&format!("hours.{d}.start"));
        let end = get(&format!("hours.{d}.end"));
        let shift = match (start.trim(), end.trim()) {
            ("", "") => None,
            (s, e) => match (parse_time(s), parse_time(e)) {
                (Some(s), Some(e)) => Some(Shift { start: s, end: e }),
                _ => {
                    errors.add(
                        format!("hours.{d}.start"),
                        "use times such as 08:00 and 16:30, or leave both empty",
                    );
                    None
                }
            },
        };
        if let Some(slot) = tech.hours.get_mut(i) {
            *slot = shift;
        }
        form.hours.push((d, start, end));
    }
    let mut offs = Vec::new();
    for i in 0..50 {
        let from = get(&format!("time_off.{i}.from"));
        let to = get(&format!("time_off.{i}.to"));
        let reason = get(&format!("time_off.{i}.reason"));
        if from.is_empty() && to.is_empty() && reason.is_empty() {
            if pairs
                .iter()
                .any(|(k, _)| k.starts_with(&format!("time_off.{i}.")))
            {
                continue;
            }
            break;
        }
        match (from.trim().parse::<Date>(), to.trim().parse::<Date>()) {
            (Ok(f), Ok(t)) => offs.push(TimeOff {
                from: f,
                to: t,
                reason: reason.trim().to_string(),
            }),
            _ => {
                errors.add(
                    format!("time_off.{i}.from"),
                    "use dates such as 2026-12-24 for both ends",
                );
            }
        }
        form.time_off.push((form.time_off.len(), from, to, reason));
    }
    form.time_off.push((
        form.time_off.len(),
        String::new(),
        String::new(),
        String::new(),
    ));
    tech.time_off = offs;
    for e in tech.validate() {
        if errors.get(&e.field).is_empty() {
            errors.add(e.field, e.reason);
        }
    }
    (form, errors)
}
