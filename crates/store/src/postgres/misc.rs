//! Presets, idempotency records and the webhook outbox: small tables with simple access.

use async_trait::async_trait;

use super::tx::{idem_get, idem_insert, insert_deliveries};
use super::{parse_id, PgRepo};
use crate::ids::{now_ms, AccountId, KeyId, Millis};
use crate::model::*;
use crate::repo::{IdempotencyRepo, PresetRepo, RateLimitRepo, WebhookRepo};
use crate::StoreError;

type R<T> = Result<T, StoreError>;

#[async_trait]
impl IdempotencyRepo for PgRepo {
    async fn get_idem(&self, key: KeyId, idem_key: &str) -> R<Option<IdemRecord>> {
        let mut conn = self.pool.acquire().await?;
        idem_get(&mut conn, key, idem_key).await
    }

    async fn put_idem(&self, record: IdemRecord) -> R<IdemRecord> {
        let mut tx = self.write().await?;
        idem_insert(&mut tx, &record).await?;
        let stored = idem_get(&mut tx, record.key, &record.idem_key)
            .await?
            .ok_or_else(|| StoreError::Corrupt("idempotency record vanished".into()))?;
        tx.commit().await?;
        Ok(stored)
    }
}

#[async_trait]
impl PresetRepo for PgRepo {
    async fn put_preset(
        &self,
        account: AccountId,
        name: &str,
        params: &serde_json::Value,
    ) -> R<bool> {
        // One statement, so two nodes writing the same name cannot both insert; `xmax = 0`
        // tells a freshly inserted row from an updated one.
        let now = now_ms();
        let created: bool = sqlx::query_scalar(
            "INSERT INTO presets (account_id, name, params, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4) ON CONFLICT (account_id, name) \
             DO UPDATE SET params = excluded.params, updated_at = excluded.updated_at \
             RETURNING (xmax = 0)",
        )
        .bind(account.to_string())
        .bind(name)
        .bind(params.to_string())
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(created)
    }

    async fn get_preset(&self, account: AccountId, name: &str) -> R<Option<Preset>> {
        let row: Option<(String, String, i64, i64)> = sqlx::query_as(
            "SELECT name, params, created_at, updated_at FROM presets WHERE account_id = $1 AND name = $2",
        )
        .bind(account.to_string())
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.map(preset).transpose()
    }

    async fn list_presets(&self, account: AccountId) -> R<Vec<Preset>> {
        let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
            "SELECT name, params, created_at, updated_at FROM presets WHERE account_id = $1 ORDER BY name",
        )
        .bind(account.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(preset).collect()
    }

    async fn delete_preset(&self, account: AccountId, name: &str) -> R<bool> {
        let n = sqlx::query("DELETE FROM presets WHERE account_id = $1 AND name = $2")
            .bind(account.to_string())
            .bind(name)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n == 1)
    }
}

fn preset((name, params, created_at, updated_at): (String, String, i64, i64)) -> R<Preset> {
    Ok(Preset {
        name,
        params: serde_json::from_str(&params).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        created_at,
        updated_at,
    })
}

#[async_trait]
impl WebhookRepo for PgRepo {
    async fn due_deliveries(&self, now: Millis, limit: u32) -> R<Vec<Delivery>> {
        let rows: Vec<(String, String, String, String, String, String, i64)> = sqlx::query_as(
            "SELECT id, job_id, account_id, event, url, body, attempts FROM webhook_deliveries \
             WHERE state = 'pending' AND next_at <= $1 ORDER BY next_at, id LIMIT $2",
        )
        .bind(now)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(id, job, account, event, url, body, attempts)| {
                Ok(Delivery {
                    id: parse_id(&id, "delivery")?,
                    job: parse_id(&job, "job")?,
                    account: parse_id(&account, "account")?,
                    event,
                    url,
                    body,
                    attempts: attempts as u32,
                })
            })
            .collect()
    }

    async fn delivery_done(&self, d: &Delivery) -> R<()> {
        sqlx::query(
            "UPDATE webhook_deliveries SET state = 'delivered', attempts = attempts + 1 WHERE id = $1",
        )
        .bind(d.id.to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn delivery_failed(&self, d: &Delivery, error: &str, next_at: Option<Millis>) -> R<()> {
        sqlx::query(
            "UPDATE webhook_deliveries SET attempts = attempts + 1, last_error = $1, \
             state = CASE WHEN $2 IS NULL THEN 'abandoned' ELSE 'pending' END, \
             next_at = COALESCE($3, next_at) WHERE id = $4",
        )
        .bind(error)
        .bind(next_at)
        .bind(next_at)
        .bind(d.id.to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn webhook_secret(&self, account: AccountId) -> R<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT webhook_secret FROM accounts WHERE id = $1")
                .bind(account.to_string())
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn enqueue_once(&self, job: &Job, delivery: NewDelivery) -> R<bool> {
        let mut tx = self.write().await?;
        // The job's row lock orders concurrent enqueues of the same event (two nodes restarting
        // the same attempt): the second sees the first's delivery.
        sqlx::query("SELECT 1 FROM jobs WHERE id = $1 FOR UPDATE")
            .bind(job.id.to_string())
            .execute(&mut *tx)
            .await?;
        let seen: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM webhook_deliveries WHERE job_id = $1 AND event = $2",
        )
        .bind(job.id.to_string())
        .bind(&delivery.event)
        .fetch_one(&mut *tx)
        .await?;
        if seen > 0 {
            return Ok(false);
        }
        insert_deliveries(&mut tx, job, vec![delivery]).await?;
        tx.commit().await?;
        Ok(true)
    }
}

#[async_trait]
impl RateLimitRepo for PgRepo {
    /// One statement: insert a full bucket less one token, or refill the stored one and take a
    /// token if it holds one. SET expressions all see the old row, so the refill is computed
    /// the same way three times.
    async fn take_token(&self, key: KeyId, per_minute: u32, burst: u32, now: Millis) -> R<Bucket> {
        let per_ms = per_minute as f64 / 60_000.0;
        let cap = burst.max(1) as f64;
        let (tokens, allowed): (f64, bool) = sqlx::query_as(
            "INSERT INTO rate_buckets (key_id, tokens, at, allowed) VALUES ($1, $2 - 1, $3, TRUE) \
             ON CONFLICT (key_id) DO UPDATE SET \
             allowed = LEAST($2, rate_buckets.tokens + ($3 - rate_buckets.at) * $4) >= 1, \
             tokens = LEAST($2, rate_buckets.tokens + ($3 - rate_buckets.at) * $4) - CASE WHEN LEAST($2, rate_buckets.tokens + ($3 - rate_buckets.at) * $4) >= 1 THEN 1 ELSE 0 END, \
             at = $3 \
             RETURNING tokens, allowed",
        )
        .bind(key.to_string())
        .bind(cap)
        .bind(now)
        .bind(per_ms)
        .fetch_one(&self.pool)
        .await?;
        Ok(Bucket { allowed, tokens })
    }
}
