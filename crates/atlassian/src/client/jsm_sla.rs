//! JSM request SLAs and request participants (`/rest/servicedeskapi/request/{issueIdOrKey}/sla`
//! and `…/participant`).

use futures_util::TryStreamExt;
use serde::Deserialize;

use super::error::Result;
use super::http::{AtlassianClient, Call, Op};
use super::jira_meta::User;
use super::paging::{self, Paged};

static REQUEST_SLA: Op = Op::get(
    "jsm.request_sla",
    "/rest/servicedeskapi/request/{issueIdOrKey}/sla",
);
static REQUEST_PARTICIPANTS: Op = Op::get(
    "jsm.request_participants",
    "/rest/servicedeskapi/request/{issueIdOrKey}/participant",
);
static ADD_PARTICIPANTS: Op = Op::post(
    "jsm.add_participants",
    "/rest/servicedeskapi/request/{issueIdOrKey}/participant",
);

/// Every operation of this module (see [`super::operations`]).
pub(crate) static OPS: &[&Op] = &[&REQUEST_SLA, &REQUEST_PARTICIPANTS, &ADD_PARTICIPANTS];

/// JSM page size (`limit`).
const LIMIT: u64 = 50;

/// A JSM date (`DateDTO`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SlaDate {
    /// Milliseconds since the epoch.
    pub epoch_millis: Option<i64>,
    /// ISO 8601 text.
    pub iso8601: Option<String>,
}

/// A JSM duration (`DurationDTO`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SlaDuration {
    /// Milliseconds (negative for an overdue remaining time).
    #[serde(default)]
    pub millis: i64,
    /// Display text.
    pub friendly: Option<String>,
}

/// The running cycle of an SLA.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SlaOngoingCycle {
    /// When the clock started.
    pub start_time: Option<SlaDate>,
    /// When the goal will be (or was) missed; absent while paused.
    pub breach_time: Option<SlaDate>,
    /// Whether the goal is missed.
    #[serde(default)]
    pub breached: bool,
    /// Whether the clock is paused.
    #[serde(default)]
    pub paused: bool,
    /// Whether the clock runs in calendar hours now.
    #[serde(default)]
    pub within_calendar_hours: bool,
    /// The goal.
    pub goal_duration: Option<SlaDuration>,
    /// Time counted so far.
    pub elapsed_time: Option<SlaDuration>,
    /// Time left (negative when breached).
    pub remaining_time: Option<SlaDuration>,
}

/// A finished cycle of an SLA.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SlaCompletedCycle {
    /// When the clock started.
    pub start_time: Option<SlaDate>,
    /// When it stopped.
    pub stop_time: Option<SlaDate>,
    /// When it breached or would have.
    pub breach_time: Option<SlaDate>,
    /// Whether the goal was missed.
    #[serde(default)]
    pub breached: bool,
    /// The goal.
    pub goal_duration: Option<SlaDuration>,
    /// Time counted.
    pub elapsed_time: Option<SlaDuration>,
    /// Time left at the stop (negative when breached).
    pub remaining_time: Option<SlaDuration>,
}

/// One SLA metric of a request (`SlaInformationDTO`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sla {
    /// Metric id.
    pub id: Option<String>,
    /// Metric name, e.g. `Time to resolution`.
    #[serde(default)]
    pub name: String,
    /// The running cycle, if the clock runs (or is paused).
    pub ongoing_cycle: Option<SlaOngoingCycle>,
    /// Finished cycles, oldest first.
    #[serde(default)]
    pub completed_cycles: Vec<SlaCompletedCycle>,
}

impl AtlassianClient {
    /// Every SLA of a customer request (all pages collected). Needs an agent of the desk.
    pub async fn request_sla(&self, key: &str) -> Result<Vec<Sla>> {
        let key = key.to_owned();
        let page = self.page_size(LIMIT);
        paging::jsm(self, move |start| {
            Call::new(&REQUEST_SLA)
                .arg(key.clone())
                .query("start", start)
                .query("limit", page)
        })
        .try_collect()
        .await
    }

    /// Participants of a customer request (JSM pages).
    pub fn request_participants(&self, key: &str) -> Paged<User> {
        let key = key.to_owned();
        let page = self.page_size(LIMIT);
        paging::jsm(self, move |start| {
            Call::new(&REQUEST_PARTICIPANTS)
                .arg(key.clone())
                .query("start", start)
                .query("limit", page)
        })
    }

    /// Adds participants (account ids) to a customer request; returns the first page of
    /// participants after the change (not retried).
    pub async fn add_participants(&self, key: &str, account_ids: &[&str]) -> Result<Vec<User>> {
        #[derive(Deserialize)]
        struct Page {
            #[serde(default)]
            values: Vec<User>,
        }
        let body = serde_json::json!({ "accountIds": account_ids });
        let page: Page = self
            .json(Call::new(&ADD_PARTICIPANTS).arg(key).json(body))
            .await?;
        Ok(page.values)
    }
}
