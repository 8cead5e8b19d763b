//! `POST /settings/dispatch/planning`: the driving estimate and automatic dispatch's reach
//! (admins; audited; the form is shown again with every wrong field and why).

use axum::Extension;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::response::Response;
use platform::permissions::AccessContext;
use platform::web::{FieldErrors, HtmlError, Section, UserChrome};
use serde::Deserialize;
use serde_json::json;

use super::settings::{planning_refused, save_and_record};
use super::{DispatchState, bad_form, chrome, config, require_admin, see_other};
use crate::planning::PlanningInput;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct PlanningForm {
    #[serde(flatten)]
    input: PlanningInput,
    /// Minutes between automatic dispatch runs; empty: only when a dispatcher asks.
    auto_every: String,
    version: i64,
}

/// The interval of automatic runs, or why not.
fn every_minutes(text: &str) -> Result<Option<u32>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let range = crate::autorun::EVERY_MINUTES;
    match text.parse::<u32>() {
        Ok(m) if range.contains(&m) => Ok(Some(m)),
        _ => Err(format!(
            "a whole number of minutes from {} to {}, or empty to run only when a dispatcher asks",
            range.start(),
            range.end()
        )),
    }
}

pub(crate) async fn save(
    State(st): State<DispatchState>,
    ctx: AccessContext,
    user: Option<Extension<UserChrome>>,
    form: Result<Form<PlanningForm>, FormRejection>,
) -> Result<Response, HtmlError> {
    require_admin(&st, &ctx).await?;
    let Form(form) = form.map_err(bad_form)?;
    let (mut c, version) = config(&st, &ctx).await?;
    let mut errors = FieldErrors::new();
    let parsed = form.input.parse();
    if let Err(problems) = &parsed {
        for (field, reason) in problems {
            errors.add(*field, reason.as_str());
        }
    }
    let every = every_minutes(&form.auto_every);
    if let Err(why) = &every {
        errors.add("auto_every", why.as_str());
    }
    if form.version != version {
        errors.add(
            "km_per_hour",
            "someone else changed these settings; your input is kept, reload to see theirs",
        );
    }
    let (planning, every) = match (parsed, every) {
        (Ok(p), Ok(e)) if errors.is_empty() => (p, e),
        _ => {
            let chrome = chrome("DispatchDesk settings", Section::Settings, user);
            return planning_refused(&c, version, chrome, errors, (form.input, form.auto_every));
        }
    };
    let before = (c.planning, c.auto_every_minutes);
    c.planning = planning;
    c.auto_every_minutes = every;
    save_and_record(&st, &ctx, &c, version, "dispatch:planning".into(), json!({"from": before.0, "to": planning, "auto_every_minutes": {"from": before.1, "to": every}})).await?;
    if let Some((auth, scheduler)) = &st.jobs {
        crate::autorun::schedule(&st.store, auth, scheduler, &ctx.site, every).await;
    }
    Ok(see_other(
        "/settings/dispatch?done=planning#planning-heading",
    ))
}

#[cfg(test)]
mod tests {
    use super::every_minutes;

    #[test]
    fn the_interval_is_empty_or_within_range() {
        assert_eq!(every_minutes(" "), Ok(None));
        assert_eq!(every_minutes("30"), Ok(Some(30)));
        for bad in ["14", "241", "-5", "1.5", "often", "99999999999"] {
            assert!(every_minutes(bad).is_err(), "{bad}");
        }
    }
}
