//! A ticket's JSM SLAs and request participants: read through short per-user caches (so a
//! warm ticket view stays within three Atlassian calls), and "add participant" from the
//! ticket page, written as the user and audited.

use std::sync::Arc;

use atlassian::client::{AtlassianClient, Error as JiraError, Sla, User};
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::response::Response;
use futures_util::{StreamExt, TryStreamExt};
use jiff::Timestamp;
use platform::audit::Outcome;
use platform::identity::UserClient;
use platform::permissions::AccessContext;
use platform::web::{FieldErrors, HtmlError, UserChrome};
use serde::Deserialize;
use serde_json::json;

use super::ticket_actions::refused_by_jira;
use super::ticket_actions::with_errors;
use super::{TechDeskState, bad_form, check_issue_key, see_other};
use crate::domain::participants::{NewParticipant, parse_participant};

/// Most participants shown on a ticket.
const MAX_PARTICIPANTS: usize = 50;

/// A ticket's SLAs and when they were read.
pub(crate) struct FetchedSlas {
    pub at: Timestamp,
    pub slas: Vec<Sla>,
}

fn ticket_cache_key(ctx: &AccessContext, key: &str) -> String {
    format!(
        "{}|{}|{}",
        ctx.site,
        ctx.principal.id(),
        key.to_ascii_uppercase()
    )
}

/// "No such request" and "not allowed" mean "no SLAs / no participants" for the page.
fn means_none(e: &JiraError) -> bool {
    matches!(
        e,
        JiraError::NotFound { .. }
            | JiraError::Forbidden { .. }
            | JiraError::Http {
                status: 400..=499,
                ..
            }
    )
}

impl TechDeskState {
    /// The ticket's JSM SLAs (empty for a plain Jira issue or when the user may not read
    /// them; `None` when Jira could not be asked), cached per user for a minute.
    pub(crate) async fn request_slas(
        &self,
        ctx: &AccessContext,
        client: &AtlassianClient,
        key: &str,
    ) -> Option<Arc<FetchedSlas>> {
        let ck = ticket_cache_key(ctx, key);
        if let Some(v) = self.caches.slas.get(&ck) {
            return Some(v);
        }
        let slas = match client.request_sla(key).await {
            Ok(s) => s,
            Err(e) if means_none(&e) => Vec::new(),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the ticket's SLAs");
                return None;
            }
        };
        let at = Timestamp::now();
        Some(self.caches.slas.put(ck, FetchedSlas { at, slas }))
    }

    /// The ticket's request participants (empty for a plain Jira issue), cached per user
    /// for a minute.
    pub(crate) async fn participants(
        &self,
        ctx: &AccessContext,
        client: &AtlassianClient,
        key: &str,
    ) -> Arc<Vec<User>> {
        let ck = ticket_cache_key(ctx, key);
        if let Some(v) = self.caches.participants.get(&ck) {
            return v;
        }
        let got: Result<Vec<User>, _> = client
            .request_participants(key)
            .take(MAX_PARTICIPANTS)
            .try_collect()
            .await;
        match got {
            Ok(list) => self.caches.participants.put(ck, list),
            Err(e) if means_none(&e) => self.caches.participants.put(ck, Vec::new()),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the ticket's participants");
                Arc::new(Vec::new())
            }
        }
    }

    /// Forgets the cached SLAs and participants of a ticket (after a write that may change
    /// them: comment, transition, new participant).
    pub(crate) fn forget_ticket(&self, ctx: &AccessContext, key: &str) {
        let ck = ticket_cache_key(ctx, key);
        self.caches.slas.remove(&ck);
        self.caches.participants.remove(&ck);
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct AddForm {
    participant: String,
}

/// `POST /techdesk/tickets/{key}/participants`: adds one participant (email or account id)
/// to a JSM request, as the user.
pub(super) async fn add(
    State(st): State<TechDeskState>,
    ctx: AccessContext,
    UserClient(client): UserClient,
    user: Option<axum::Extension<UserChrome>>,
    Path(key): Path<String>,
    form: Result<Form<AddForm>, FormRejection>,
) -> Result<Response, HtmlError> {
    check_issue_key(&key)?;
    let Form(form) = form.map_err(bad_form)?;
    let typed = form.participant.clone();
    let keep = |p: &mut super::ticket::TicketPage| p.forms.participant = typed;
    let invalid = |reason: &str| {
        let mut errors = FieldErrors::new();
        errors.add("participant", reason);
        errors
    };
    let account = match parse_participant(&form.participant) {
        Err(reason) => {
            let errors = invalid(reason);
            return with_errors(&st, &ctx, &client, &user, &key, errors, keep).await;
        }
        Ok(NewParticipant::AccountId(id)) => id,
        Ok(NewParticipant::Email(email)) => {
            let found: Result<Vec<User>, _> =
                client.user_search(&email).take(20).try_collect().await;
            let hit = found.ok().and_then(|users| {
                users.into_iter().find(|u| {
                    u.email_address
                        .as_deref()
                        .is_some_and(|e| e.eq_ignore_ascii_case(&email))
                })
            });
            match hit {
                Some(u) => u.account_id,
                None => {
                    let errors = invalid("no user with this email address");
                    return with_errors(&st, &ctx, &client, &user, &key, errors, keep).await;
                }
            }
        }
    };
    let detail = json!({"op": "add_participant", "account_id": account});
    match client.add_participants(&key, &[account.as_str()]).await {
        Ok(_) => {
            st.audit_jira(&ctx, &key, detail, Outcome::Ok).await;
            st.forget_ticket(&ctx, &key);
            Ok(see_other(&format!(
                "/techdesk/tickets/{key}?done=participant#participants"
            )))
        }
        Err(e) => refused_by_jira(&st, &ctx, &client, &user, &key, detail, &e, keep).await,
    }
}
