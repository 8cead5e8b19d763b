//! Writes to Jira on a user's behalf with the app's own credentials.
//!
//! # The rule
//!
//! When jsmkit writes to Jira **with the user's own token**, Jira enforces that user's
//! permissions itself and nothing more is needed. When it writes **with app credentials**
//! (a service account or API token kept in settings) because the user's token cannot do it,
//! Jira would check the *app's* permissions, which are usually wider. So before every such
//! write the app must ask Jira whether *that user* holds the permission on *that issue*
//! (`POST /rest/api/3/permissions/check` with the user's `accountId` and the issue id) and
//! refuse the write unless Jira says yes. Errors and time-outs refuse too. The answer is not
//! cached: writes are rare and the check is cheap. Record the write (or the refusal) in the
//! audit log as `jira_write` with the acting user as actor.
//!
//! ```text
//! let grant = check_write_on_behalf(&app_client, &user.account_id, issue.id, "EDIT_ISSUES",
//!     DEFAULT_JIRA_TIMEOUT).await?;          // Denied → 403
//! app_client.edit_issue(&issue.key, &update).await?;
//! ```

use std::time::Duration;

use super::jira::UserPermissionCheck;
use super::types::{Denied, DenyReason, Grant, JiraCheckError, Requirement, Via};

/// Refuses unless Jira confirms that `account_id` holds `permission` (e.g. `EDIT_ISSUES`,
/// `TRANSITION_ISSUES`, `ADD_COMMENTS`) on the issue `issue_id`, asked with the app's
/// credentials in `app_client`. Any Jira error or a time-out past `timeout` refuses.
pub async fn check_write_on_behalf(
    app_client: &dyn UserPermissionCheck,
    account_id: &str,
    issue_id: i64,
    permission: &str,
    timeout: Duration,
) -> Result<Grant, Denied> {
    let requirement = Requirement::IssuePermission {
        issue_id,
        permission: permission.to_owned(),
    };
    let deny = |reason| Err(Denied::new(requirement.clone(), reason));
    if account_id.is_empty() {
        return deny(DenyReason::NotSignedIn);
    }
    if super::validate_permission_key(permission).is_err() || issue_id <= 0 {
        return deny(DenyReason::NoIssuePermission {
            issue_id,
            permission: permission.to_owned(),
        });
    }
    let answer = tokio::time::timeout(
        timeout,
        app_client.issue_permissions(account_id, issue_id, &[permission]),
    )
    .await;
    match answer {
        Ok(Ok(held)) if held.contains(permission) => Ok(Grant {
            requirement,
            via: Via::JiraIssuePermission,
        }),
        Ok(Ok(_)) => {
            tracing::info!(
                account_id,
                issue_id,
                permission,
                "write on behalf refused by Jira"
            );
            deny(DenyReason::NoIssuePermission {
                issue_id,
                permission: permission.to_owned(),
            })
        }
        Ok(Err(err)) => {
            tracing::warn!(account_id, issue_id, permission, error = %err, "permission check for a write on behalf failed; refusing");
            deny(DenyReason::JiraUnavailable(err))
        }
        Err(_) => {
            tracing::warn!(
                account_id,
                issue_id,
                permission,
                "permission check for a write on behalf timed out; refusing"
            );
            deny(DenyReason::JiraUnavailable(JiraCheckError::Timeout))
        }
    }
}
