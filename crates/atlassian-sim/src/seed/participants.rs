//! Request participants of the seeded JSM requests: about a third of the requests get one or
//! two colleagues of the reporter (same organization) and now and then a dispatcher.
//! Uses its own random stream, so the rest of the seeded data does not change.

use crate::model::{DemoRole, Model};
use crate::rng::Rng;

/// Adds participants to some JSM requests of `m`.
pub fn seed_participants(m: &mut Model, seed: u64) {
    let mut rng = Rng::derive(seed, "participants");
    let dispatchers: Vec<String> = m
        .users
        .iter()
        .filter(|u| u.role == DemoRole::Dispatcher)
        .map(|u| u.account_id.clone())
        .collect();
    let mut added = Vec::new();
    for issue in m.issues.iter().filter(|i| i.request_type.is_some()) {
        if !rng.chance(0.35) {
            continue;
        }
        let colleagues: Vec<&String> = m
            .organizations
            .iter()
            .find(|o| o.members.contains(&issue.reporter))
            .map(|o| o.members.iter().filter(|a| **a != issue.reporter).collect())
            .unwrap_or_default();
        let mut people: Vec<String> = Vec::new();
        for _ in 0..(1 + rng.below(2)) {
            if let Some(c) = rng.pick(&colleagues)
                && !people.contains(c)
            {
                people.push((*c).clone());
            }
        }
        if rng.chance(0.2)
            && let Some(d) = rng.pick(&dispatchers)
            && !people.contains(d)
        {
            people.push(d.clone());
        }
        if !people.is_empty() {
            added.push((issue.id.clone(), people));
        }
    }
    for (id, people) in added {
        m.participants.insert(id, people);
    }
}
