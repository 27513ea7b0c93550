//! Webhooks: partners register an endpoint and receive the events of the
//! pathways they follow, signed per Standard Webhooks.
//!
//! The outbox is written by a database trigger in the transaction of each
//! event (migration `000006_webhooks`), so nothing acknowledged is lost and
//! no request waits for a partner's server.
//!
//! This job sends due deliveries: claims a batch (see
//! [`crate::db::webhooks::claim`]), posts each one signed, records the
//! outcome. Every API instance runs one; they share the outbox without
//! sending an attempt twice.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;

use crate::config::{Environment, WebhookSettings};
use crate::db::DbPool;
use crate::db::webhooks::{self, Claimed, Outcome};
use crate::jobs::periodic::Periodic;
use crate::privacy::PersonalDataKeys;
use crate::services::change::transaction;
use crate::services::partner_events::{WebhookPayload, event_view};
use crate::services::webhooks::endpoint::PublicOnly;
use crate::services::webhooks::signature;

const BATCH: i64 = 16;

/// Starts the sender of this instance; stopping it lets the batch in
/// flight finish.
pub fn spawn(
    pool: DbPool,
    privacy: Arc<PersonalDataKeys>,
    environment: Environment,
    settings: WebhookSettings,
) -> anyhow::Result<Periodic> {
    // reqwest is built without a default TLS provider; ring is ours.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut client = reqwest::Client::builder()
        .timeout(settings.timeout())
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("parcours-webhooks/", env!("CARGO_PKG_VERSION")));
    if environment == Environment::Production {
        client = client.dns_resolver(PublicOnly);
    }
    let client = client.build()?;
    let every = settings.poll();
    let sender = Arc::new(Sender {
        pool,
        privacy,
        client,
        settings,
    });
    Ok(Periodic::spawn(every, move || {
        let sender = sender.clone();
        async move {
            // Drain what is due before sleeping again.
            loop {
                match sender.send_batch().await {
                    Ok(sent) if sent == BATCH as usize => continue,
                    Ok(_) => break,
                    Err(error) => {
                        tracing::warn!(error = %error, "webhook deliveries could not be claimed");
                        break;
                    }
                }
            }
        }
    }))
}

struct Sender {
    pool: DbPool,
    privacy: Arc<PersonalDataKeys>,
    client: reqwest::Client,
    settings: WebhookSettings,
}

impl Sender {
    async fn send_batch(&self) -> anyhow::Result<usize> {
        // The lease outlasts the send's timeout, so no other instance sends
        // a delivery while this one may still be sending it.
        let lease = 2.0 * self.settings.timeout().as_secs_f64() + 5.0;
        let claimed = {
            let mut conn = self.pool.get().await?;
            webhooks::claim(&mut conn, BATCH, lease).await?
        };
        let count = claimed.len();
        futures_util::future::join_all(claimed.into_iter().map(|c| self.attempt(c))).await;
        Ok(count)
    }

    async fn attempt(&self, claimed: Claimed) {
        let outcome = match self.payload(&claimed) {
            Some((body, secrets)) if claimed.deliverable => {
                self.post(&claimed, &body, &secrets).await
            }
            _ => Outcome::Withdrawn,
        };
        let retry_in = jitter(self.settings.backoff(claimed.attempts.unsigned_abs()));
        let max_attempts = i32::try_from(self.settings.max_attempts).unwrap_or(i32::MAX);
        let settled = async {
            let mut conn = self.pool.get().await?;
            transaction(&mut conn, async |tx| {
                webhooks::settle(tx, claimed.id, &outcome, retry_in, max_attempts).await
            })
            .await?;
            anyhow::Ok(())
        };
        match settled.await {
            Ok(()) => tracing::info!(
                delivery = %claimed.id,
                webhook = %claimed.webhook_id,
                attempt = claimed.attempts,
                outcome = ?outcome,
                "webhook attempt"
            ),
            // The lease expires and the delivery is sent again: at least once.
            Err(error) => tracing::warn!(
                delivery = %claimed.id,
                error = %error,
                "a webhook attempt could not be recorded"
            ),
        }
    }

    /// The body and the secrets that sign it; `None` if the event is not
    /// one partners may know of or a secret does not decrypt.
    fn payload(&self, claimed: &Claimed) -> Option<(Vec<u8>, Vec<Vec<u8>>)> {
        let event = event_view(claimed.event.clone())?;
        let body = serde_json::to_vec(&WebhookPayload {
            kind: event.kind,
            timestamp: event.occurred_at,
            data: event,
        })
        .ok()?;
        let keys = &self.privacy;
        let mut secrets =
            vec![keys.decrypt_webhook_secret(claimed.webhook_id, &claimed.secret_ciphertext)?];
        if let (Some(previous), Some(until)) = (
            &claimed.previous_secret_ciphertext,
            claimed.previous_secret_expires_at,
        ) && until > chrono::Utc::now()
        {
            secrets.push(keys.decrypt_webhook_secret(claimed.webhook_id, previous)?);
        }
        Some((body, secrets))
    }

    async fn post(&self, claimed: &Claimed, body: &[u8], secrets: &[Vec<u8>]) -> Outcome {
        let id = claimed.id.to_string();
        let timestamp = chrono::Utc::now().timestamp();
        let sent = self
            .client
            .post(&claimed.url)
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header(
                "webhook-signature",
                signature::header(secrets, &id, timestamp, body),
            )
            .body(body.to_vec())
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => Outcome::Delivered {
                status: response.status().as_u16().into(),
            },
            Ok(response) => Outcome::Failed {
                status: Some(response.status().as_u16().into()),
                error: format!("the endpoint answered {}", response.status()),
            },
            // Only the kind of failure: reqwest's message would repeat the URL.
            Err(error) => Outcome::Failed {
                status: None,
                error: if error.is_timeout() {
                    "no answer within the timeout".to_owned()
                } else if error.is_connect() {
                    "could not connect".to_owned()
                } else {
                    "the request failed".to_owned()
                },
            },
        }
    }
}

/// Up to 10 % more, so that many failures do not retry in step.
fn jitter(wait: Duration) -> Duration {
    wait.mul_f64(1.0 + rand::thread_rng().gen_range(0.0..0.1))
}
