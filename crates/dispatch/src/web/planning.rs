//! `POST /settings/dispatch/planning`: the driving estimate and automatic dispatch's reach
//! (admins; audited; the form is shown again with every wrong field and why).

use axum::Extension;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::response::Response;
use platform::audit::{Action, Outcome};
use platform::permissions::AccessContext;
use platform::web::{FieldErrors, HtmlError, Section, UserChrome};
use serde::Deserialize;
use serde_json::json;

use super::settings::{conflict_or_internal, planning_refused};
use super::{DispatchState, bad_form, chrome, config, record, require_admin, see_other};
use crate::planning::PlanningInput;
use crate::store::DispatchStore;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct PlanningForm {
    #[serde(flatten)]
    input: PlanningInput,
    version: i64,
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
    if form.version != version {
        errors.add(
            "km_per_hour",
            "someone else changed these settings; your input is kept, reload to see theirs",
        );
    }
    let planning = match parsed {
        Ok(p) if errors.is_empty() => p,
        _ => {
            let chrome = chrome("DispatchDesk settings", Section::Settings, user);
            return planning_refused(&c, version, chrome, errors, form.input);
        }
    };
    let before = c.planning;
    c.planning = planning;
    DispatchStore::new(&st.store, &ctx.site)
        .save_config(&c, version)
        .await
        .map_err(conflict_or_internal)?;
    record(
        &st,
        &ctx,
        Action::SETTINGS_CHANGE,
        "dispatch:planning".into(),
        json!({"from": before, "to": planning}),
        Outcome::Ok,
    )
    .await;
    Ok(see_other(
        "/settings/dispatch?done=planning#planning-heading",
    ))
}
