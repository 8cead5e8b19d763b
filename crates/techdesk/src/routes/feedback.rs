//! `POST /techdesk/feedback`: the feedback widget on every TechDesk page. Stored in the
//! app's store only; nothing is sent anywhere.

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::response::Response;
use platform::permissions::AccessContext;
use platform::web::{ApiError, HtmlError};
use serde::Deserialize;

use super::{TechDeskState, bad_form, field_errors, see_other};
use crate::domain::feedback::{Feedback, check_feedback};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct FeedbackForm {
    rating: String,
    text: String,
    page: String,
}

/// Store key of a feedback entry: time-ordered, unique per sender and nanosecond.
fn feedback_key(at: jiff::Timestamp, account: &str) -> String {
    let safe: String = account
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '-' | '_'))
        .take(128)
        .collect();
    format!("feedback:{:020}:{safe}", at.as_nanosecond())
}

pub(super) async fn send(
    State(st): State<TechDeskState>,
    ctx: AccessContext,
    form: Result<Form<FeedbackForm>, FormRejection>,
) -> Result<Response, HtmlError> {
    let Form(form) = form.map_err(bad_form)?;
    let (rating, text, page) =
        check_feedback(&form.rating, &form.text, &form.page).map_err(|p| {
            HtmlError(ApiError::Validation {
                fields: field_errors(p),
            })
        })?;
    let at = jiff::Timestamp::now();
    let entry = Feedback {
        at,
        account_id: ctx.principal.id().to_owned(),
        display_name: ctx.principal.display(),
        rating,
        text,
        page: page.clone(),
    };
    st.kv(&ctx)?
        .set(&feedback_key(at, ctx.principal.id()), &entry)
        .await
        .map_err(ApiError::internal)?;
    let sep = if page.contains('?') { '&' } else { '?' };
    let back = if page.starts_with("/techdesk") || page.starts_with("/settings/techdesk") {
        page
    } else {
        "/techdesk".to_owned()
    };
    Ok(see_other(&format!("{back}{sep}done=feedback")))
}
