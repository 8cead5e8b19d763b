//! Webhook push: the rows of a run as JSON batches POSTed to an admin's URL, signed per the
//! Standard Webhooks scheme (`webhook-id`, `webhook-timestamp`, `webhook-signature:
//! v1,<base64 HMAC-SHA256(secret, "{id}.{timestamp}.{body}")>`), retried with exponential
//! backoff on 5xx, 429 and time-outs, each attempt written to the delivery log. Message ids
//! are stable per run and batch, so a receiver can drop repeats. Sent through the SSRF-safe
//! egress client: private, loopback and metadata addresses only when an admin allow-listed
//! the host.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{KeyInit, Mac};
use platform::egress::{EgressClient, EgressRequest};
use platform::store::Kv;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json, json};
use sha2::Sha256;

use crate::error::{Error, Result};
use crate::model::{Plan, TypeTable};
use crate::sink::{Counts, RunInfo, Sink};
use crate::value::{ObjectRow, Value};

/// Rows per message.
pub const BATCH_ROWS: usize = 500;
/// Days a delivery log entry is kept.
pub const LOG_DAYS: u64 = 30;

/// Signs `body` for message `id` at `timestamp` (seconds) with every secret given (old and
/// new during a rotation): the `webhook-signature` header value.
pub fn sign(secrets: &[&SecretString], id: &str, timestamp: i64, body: &[u8]) -> Result<String> {
    let mut sigs = Vec::new();
    for s in secrets {
        let raw = s.expose_secret();
        let key = raw.strip_prefix("whsec_").unwrap_or(raw);
        let key = STANDARD
            .decode(key)
            .map_err(|_| Error::Invalid("the webhook secret is not whsec_<base64>".into()))?;
        let mut mac = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(&key)
            .map_err(|_| Error::Invalid("the webhook secret cannot key HMAC".into()))?;
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        sigs.push(format!(
            "v1,{}",
            STANDARD.encode(mac.finalize().into_bytes())
        ));
    }
    Ok(sigs.join(" "))
}

/// One delivery attempt, as the log shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// Message id.
    pub id: String,
    /// When (ms).
    pub at_ms: i64,
    /// Attempt number (1 = first).
    pub attempt: u32,
    /// HTTP status, if there was an answer.
    pub status: Option<u16>,
    /// Error, if any (never a URL's path or credentials).
    pub error: Option<String>,
    /// Rows in the message.
    pub rows: usize,
}

/// Retry policy of the push.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Attempts per message.
    pub attempts: u32,
    /// First wait; doubled each time.
    pub first_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 5,
            first_wait: Duration::from_secs(1),
        }
    }
}

/// Pushes a run's rows as signed JSON batches.
pub struct WebhookSink {
    client: EgressClient,
    url: String,
    secrets: Vec<SecretString>,
    export_id: String,
    run_id: String,
    seq: u64,
    log: Kv,
    log_seq: u64,
    retry: RetryPolicy,
    buffered: Vec<(String, Json)>,
}

fn json_of(v: &Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Text(s) => Json::String(s.clone()),
        Value::Int(i) => json!(i),
        Value::Bool(b) => json!(b),
        Value::Double(d) => json!(d),
        Value::Date(d) => Json::String(d.to_string()),
        Value::Time(t) => Json::String(t.to_string()),
        Value::DateTime(t) => Json::String(t.to_string()),
    }
}

impl WebhookSink {
    /// A sink posting to `url` with `secrets` (the current one first), logging into `log`.
    pub fn new(
        client: EgressClient,
        url: String,
        secrets: Vec<SecretString>,
        export_id: String,
        log: Kv,
        retry: RetryPolicy,
    ) -> Self {
        Self {
            client,
            url,
            secrets,
            export_id,
            run_id: String::new(),
            seq: 0,
            log,
            log_seq: 0,
            retry,
            buffered: Vec::new(),
        }
    }

    async fn record(&mut self, d: &Delivery) {
        self.log_seq += 1;
        // Newest first: the key sorts by inverted time, then by sequence.
        let inverted = 9_999_999_999_999i64 - d.at_ms;
        let key = format!(
            "delivery:{}:{inverted:013}{:06}",
            self.export_id,
            999_999u64.saturating_sub(self.log_seq % 1_000_000)
        );
        if let Err(e) = self
            .log
            .set_with_ttl(&key, d, Duration::from_secs(LOG_DAYS * 86_400))
            .await
        {
            tracing::warn!(error = %e, "could not write the webhook delivery log");
        }
    }

    /// Sends one message, retrying; an error once every attempt failed.
    async fn send(&mut self, kind: &str, data: Json, rows: usize) -> Result<()> {
        self.seq += 1;
        let id = format!("msg_{}_{}", self.run_id, self.seq);
        let body = serde_json::to_vec(&json!({
            "type": kind,
            "timestamp": jiff::Timestamp::now().to_string(),
            "data": data,
        }))
        .map_err(|e| Error::Invalid(format!("webhook body: {e}")))?;
        let mut wait = self.retry.first_wait;
        for attempt in 1..=self.retry.attempts.max(1) {
            let ts = jiff::Timestamp::now().as_second();
            let secrets: Vec<&SecretString> = self.secrets.iter().collect();
            let signature = sign(&secrets, &id, ts, &body)?;
            let req = EgressRequest::post(self.url.clone(), body.clone())
                .header("content-type", "application/json")
                .and_then(|r| r.header("webhook-id", &id))
                .and_then(|r| r.header("webhook-timestamp", &ts.to_string()))
                .and_then(|r| r.header("webhook-signature", &signature))
                .map_err(|e| Error::Invalid(e.to_string()))?;
            let outcome = self.client.send(req).await;
            let (status, error, retry) = match &outcome {
                Ok(r) if r.status.is_success() => (Some(r.status.as_u16()), None, false),
                Ok(r) => {
                    let s = r.status.as_u16();
                    (
                        Some(s),
                        Some(format!("HTTP {s}")),
                        s >= 500 || s == 429 || s == 408,
                    )
                }
                Err(e) => {
                    let retry = matches!(
                        e,
                        platform::egress::EgressError::Timeout { .. }
                            | platform::egress::EgressError::Connect { .. }
                            | platform::egress::EgressError::Http { .. }
                    );
                    (None, Some(e.to_string()), retry)
                }
            };
            let delivered = error.is_none();
            self.record(&Delivery {
                id: id.clone(),
                at_ms: jiff::Timestamp::now().as_millisecond(),
                attempt,
                status,
                error: error.clone(),
                rows,
            })
            .await;
            if delivered {
                return Ok(());
            }
            if !retry || attempt == self.retry.attempts.max(1) {
                return Err(Error::Invalid(format!(
                    "webhook delivery {id} failed after {attempt} attempt(s): {}",
                    error.unwrap_or_default()
                )));
            }
            tokio::time::sleep(wait).await;
            wait = wait.saturating_mul(2).min(Duration::from_secs(60));
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<()> {
        if self.buffered.is_empty() {
            return Ok(());
        }
        let rows: Vec<(String, Json)> = std::mem::take(&mut self.buffered);
        let n = rows.len();
        let mut by_table: std::collections::BTreeMap<String, Vec<Json>> = Default::default();
        for (table, row) in rows {
            by_table.entry(table).or_default().push(row);
        }
        let data = json!({"export": self.export_id, "run": self.run_id, "tables": by_table});
        self.send("assets.rows", data, n).await
    }
}

impl Sink for WebhookSink {
    async fn begin(&mut self, plan: &Plan, run: &RunInfo) -> Result<()> {
        self.run_id = run.run_id.clone();
        let tables: Vec<Json> = plan
            .all_tables()
            .iter()
            .map(|t| json!({"name": t.name, "columns": t.column_names()}))
            .collect();
        self.send(
            "assets.run.started",
            json!({"export": self.export_id, "run": run.run_id, "mode": run.mode.as_str(), "tables": tables}),
            0,
        )
        .await
    }

    async fn seen(&mut self, table: &TypeTable, ids: &[String]) -> Result<()> {
        // Receivers learn deletions from the ids of the finished message's `present` lists
        // only for full runs; sending every id would double the traffic, so ids are counted.
        let _ = (table, ids);
        Ok(())
    }

    async fn rows(&mut self, table: &TypeTable, rows: &[ObjectRow]) -> Result<()> {
        let names = table.def.column_names();
        for r in rows {
            let mut obj = Map::new();
            for (name, v) in names.iter().zip(&r.values) {
                obj.insert((*name).to_string(), json_of(v));
            }
            for (link, values) in table.links.iter().zip(&r.links) {
                obj.insert(
                    link.def.name.clone(),
                    Json::Array(values.iter().map(json_of).collect()),
                );
            }
            self.buffered
                .push((table.def.name.clone(), Json::Object(obj)));
            if self.buffered.len() >= BATCH_ROWS {
                self.flush().await?;
            }
        }
        Ok(())
    }

    async fn finish(&mut self, _plan: &Plan, run: &RunInfo, counts: Counts) -> Result<()> {
        self.flush().await?;
        self.send(
            "assets.run.finished",
            json!({"export": self.export_id, "run": run.run_id, "objects": counts.objects, "rows": counts.rows}),
            0,
        )
        .await
    }

    async fn abort(&mut self) -> Result<()> {
        self.buffered.clear();
        let run = self.run_id.clone();
        // Tell the receiver to drop what it got of this run; its failure changes nothing.
        let _ = self
            .send(
                "assets.run.aborted",
                json!({"export": self.export_id, "run": run}),
                0,
            )
            .await;
        Ok(())
    }
}

/// The delivery log of an export, newest first.
pub async fn deliveries(log: &Kv, export_id: &str, limit: u32) -> Result<Vec<Delivery>> {
    let page = log
        .query()
        .begins_with(format!("delivery:{export_id}:"))
        .limit(limit.clamp(1, 100))
        .fetch_as::<Delivery>()
        .await
        .map_err(|e| Error::Invalid(format!("delivery log: {e}")))?;
    Ok(page.entries.into_iter().map(|e| e.value).collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn signature_matches_the_standard_webhooks_example() {
        // The example of the Standard Webhooks specification.
        let secret = SecretString::from("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_string());
        let body = br#"{"test": 2432232314}"#;
        let sig = sign(&[&secret], "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn rotation_signs_with_both_secrets() {
        let a = SecretString::from("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_string());
        let b =
            SecretString::from("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".to_string());
        let sig = sign(&[&a, &b], "m", 1, b"{}").unwrap();
        assert_eq!(sig.split(' ').count(), 2);
        assert!(sig.split(' ').all(|s| s.starts_with("v1,")));
        assert!(sign(&[&SecretString::from("whsec_!!".to_string())], "m", 1, b"").is_err());
    }
}
