//! The site's planning settings: how driving is estimated and how far automatic dispatch
//! reaches. Stored with the DispatchDesk settings; checked field by field.

use serde::{Deserialize, Serialize};

use crate::auto::Rules;
use crate::route::Travel;

/// What an admin sets under Settings → DispatchDesk → Planning.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Planning {
    /// Average speed on the road, km/h.
    pub km_per_hour: f64,
    /// Road km per straight-line km.
    pub detour: f64,
    /// Straight-line km beyond which automatic dispatch does not send a technician.
    pub max_km: f64,
    /// Minutes charged per job already given to a technician in one run (spreads work).
    pub spread_minutes: i64,
}

// Finite by construction (parsed and range-checked; JSON has no NaN).
impl Eq for Planning {}

impl Default for Planning {
    fn default() -> Self {
        let rules = Rules::default();
        Self {
            km_per_hour: rules.travel.km_per_hour,
            detour: rules.travel.detour,
            max_km: rules.max_km,
            spread_minutes: rules.spread_minutes,
        }
    }
}

impl Planning {
    /// The travel estimate.
    pub fn travel(&self) -> Travel {
        Travel {
            km_per_hour: self.km_per_hour,
            detour: self.detour,
        }
    }

    /// The rules of an automatic dispatch run.
    pub fn rules(&self) -> Rules {
        Rules {
            max_km: self.max_km,
            travel: self.travel(),
            spread_minutes: self.spread_minutes,
        }
    }
}

/// The form's text, as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct PlanningInput {
    /// Average speed.
    pub km_per_hour: String,
    /// Detour factor.
    pub detour: String,
    /// Reach.
    pub max_km: String,
    /// Spread charge.
    pub spread_minutes: String,
}

impl From<&Planning> for PlanningInput {
    fn from(p: &Planning) -> Self {
        Self {
            km_per_hour: format!("{}", p.km_per_hour),
            detour: format!("{}", p.detour),
            max_km: format!("{}", p.max_km),
            spread_minutes: p.spread_minutes.to_string(),
        }
    }
}

fn number(
    text: &str,
    field: &'static str,
    lo: f64,
    hi: f64,
    unit: &str,
    errors: &mut Vec<(&'static str, String)>,
) -> f64 {
    match text.trim().replace(',', ".").parse::<f64>() {
        Ok(v) if v.is_finite() && (lo..=hi).contains(&v) => v,
        Ok(_) => {
            errors.push((field, format!("must be between {lo} and {hi}{unit}")));
            lo
        }
        Err(_) => {
            errors.push((
                field,
                format!("must be a number between {lo} and {hi}{unit}"),
            ));
            lo
        }
    }
}

impl PlanningInput {
    /// The settings, or every field that is wrong with why.
    pub fn parse(&self) -> Result<Planning, Vec<(&'static str, String)>> {
        let mut errors = Vec::new();
        let km_per_hour = number(
            &self.km_per_hour,
            "km_per_hour",
            5.0,
            130.0,
            " km/h",
            &mut errors,
        );
        let detour = number(&self.detour, "detour", 1.0, 3.0, "", &mut errors);
        let max_km = number(&self.max_km, "max_km", 1.0, 1000.0, " km", &mut errors);
        let spread = number(
            &self.spread_minutes,
            "spread_minutes",
            0.0,
            240.0,
            " minutes",
            &mut errors,
        );
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Planning {
            km_per_hour,
            detour,
            max_km,
            spread_minutes: spread.round() as i64,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn input(a: &str, b: &str, c: &str, d: &str) -> PlanningInput {
        PlanningInput {
            km_per_hour: a.into(),
            detour: b.into(),
            max_km: c.into(),
            spread_minutes: d.into(),
        }
    }

    #[test]
    fn good_input_becomes_settings_and_rules() {
        let p = input("32.5", "1,4", "60", "10").parse().unwrap();
        assert_eq!(p.km_per_hour, 32.5);
        assert_eq!(p.detour, 1.4);
        let r = p.rules();
        assert_eq!(r.max_km, 60.0);
        assert_eq!(r.spread_minutes, 10);
        assert_eq!(r.travel.km_per_hour, 32.5);
        // Round trip through the form.
        assert_eq!(PlanningInput::from(&p).parse().unwrap(), p);
        assert_eq!(
            PlanningInput::from(&Planning::default()).parse().unwrap(),
            Planning::default()
        );
    }

    #[test]
    fn every_bad_field_is_named_with_its_reason() {
        let errors = input("0", "NaN", "many", "-5").parse().unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.0).collect();
        assert_eq!(
            fields,
            ["km_per_hour", "detour", "max_km", "spread_minutes"]
        );
        assert_eq!(errors[0].1, "must be between 5 and 130 km/h");
        assert_eq!(errors[2].1, "must be a number between 1 and 1000 km");
        assert!(input("inf", "1", "1", "0").parse().is_err());
        assert!(input("1e400", "1", "1", "0").parse().is_err());
    }

    #[test]
    fn stored_settings_without_planning_read_as_the_defaults() {
        let p: Planning = serde_json::from_str("{}").unwrap();
        assert_eq!(p, Planning::default());
    }
}
