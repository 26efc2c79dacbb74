//! Presets, idempotency records, the webhook outbox and rate buckets: small tables with simple
//! access.

use async_trait::async_trait;

use super::backend::PresetWrite;
use super::statements::{idem_get, idem_insert, insert_deliveries};
use super::value::query;
use super::{rows, Backend, Conn, SqlRepo};
use crate::ids::{now_ms, AccountId, KeyId, Millis};
use crate::model::*;
use crate::repo::{IdempotencyRepo, PresetRepo, RateLimitRepo, WebhookRepo};
use crate::StoreError;

type R<T> = Result<T, StoreError>;

#[async_trait]
impl<B: Backend> IdempotencyRepo for SqlRepo<B> {
    async fn get_idem(&self, key: KeyId, idem_key: &str) -> R<Option<IdemRecord>> {
        idem_get(&mut self.db.conn().await?, key, idem_key).await
    }

    async fn put_idem(&self, record: IdemRecord) -> R<IdemRecord> {
        let mut tx = self.db.begin().await?;
        idem_insert(&mut tx, &record).await?;
        let stored = idem_get(&mut tx, record.key, &record.idem_key)
            .await?
            .ok_or_else(|| StoreError::Corrupt("idempotency record vanished".into()))?;
        B::commit(tx).await?;
        Ok(stored)
    }
}

#[async_trait]
impl<B: Backend> PresetRepo for SqlRepo<B> {
    async fn put_preset(
        &self,
        account: AccountId,
        name: &str,
        params: &serde_json::Value,
    ) -> R<bool> {
        let mut tx = self.db.begin().await?;
        let preset = PresetWrite {
            account,
            name,
            params: params.to_string(),
            now: now_ms(),
        };
        let created = tx.upsert_preset(preset).await?;
        B::commit(tx).await?;
        Ok(created)
    }

    async fn get_preset(&self, account: AccountId, name: &str) -> R<Option<Preset>> {
        let q = query(
            "SELECT name, params, created_at, updated_at FROM presets \
             WHERE account_id = $1 AND name = $2",
        )
        .bind(account)
        .bind(name);
        let row = self.db.conn().await?.fetch_optional(q).await?;
        row.as_ref().map(rows::preset).transpose()
    }

    async fn list_presets(&self, account: AccountId) -> R<Vec<Preset>> {
        let q = query(
            "SELECT name, params, created_at, updated_at FROM presets \
             WHERE account_id = $1 ORDER BY name",
        )
        .bind(account);
        let rows = self.db.conn().await?.fetch_all(q).await?;
        rows.iter().map(rows::preset).collect()
    }

    async fn delete_preset(&self, account: AccountId, name: &str) -> R<bool> {
        let q = query("DELETE FROM presets WHERE account_id = $1 AND name = $2")
            .bind(account)
            .bind(name);
        Ok(self.db.conn().await?.execute(q).await? == 1)
    }
}

#[async_trait]
impl<B: Backend> WebhookRepo for SqlRepo<B> {
    async fn due_deliveries(&self, now: Millis, limit: u32) -> R<Vec<Delivery>> {
        let q = query(
            "SELECT id, job_id, account_id, event, url, body, attempts FROM webhook_deliveries \
             WHERE state = 'pending' AND next_at <= $1 ORDER BY next_at, id LIMIT $2",
        )
        .bind(now)
        .bind(limit as i64);
        let rows = self.db.conn().await?.fetch_all(q).await?;
        rows.iter().map(rows::delivery).collect()
    }

    async fn delivery_done(&self, d: &Delivery) -> R<()> {
        let q = query(
            "UPDATE webhook_deliveries SET state = 'delivered', attempts = attempts + 1 \
             WHERE id = $1",
        )
        .bind(d.id);
        self.db.conn().await?.execute(q).await?;
        Ok(())
    }

    async fn delivery_failed(&self, d: &Delivery, error: &str, next_at: Option<Millis>) -> R<()> {
        let q = query(
            "UPDATE webhook_deliveries SET attempts = attempts + 1, last_error = $1, \
             state = CASE WHEN $2 IS NULL THEN 'abandoned' ELSE 'pending' END, \
             next_at = COALESCE($2, next_at) WHERE id = $3",
        )
        .bind(error)
        .bind(next_at)
        .bind(d.id);
        self.db.conn().await?.execute(q).await?;
        Ok(())
    }

    async fn webhook_secret(&self, account: AccountId) -> R<Option<String>> {
        let q = query("SELECT webhook_secret FROM accounts WHERE id = $1").bind(account);
        let row = self.db.conn().await?.fetch_optional(q).await?;
        row.map(|r| r.first()).transpose()
    }

    async fn enqueue_once(&self, job: &Job, delivery: NewDelivery) -> R<bool> {
        let mut tx = self.db.begin().await?;
        // The job's row lock orders concurrent enqueues of the same event (two nodes restarting
        // the same attempt): the second sees the first's delivery.
        let lock = format!(
            "SELECT 1 FROM jobs WHERE id = $1 {}",
            <B::Conn as Conn>::ROW_LOCK
        );
        tx.fetch_all(query(lock).bind(job.id)).await?;
        let q = query("SELECT COUNT(*) FROM webhook_deliveries WHERE job_id = $1 AND event = $2")
            .bind(job.id)
            .bind(&delivery.event);
        if tx.fetch_one(q).await?.first::<i64>()? > 0 {
            return Ok(false);
        }
        insert_deliveries(&mut tx, job, vec![delivery]).await?;
        B::commit(tx).await?;
        Ok(true)
    }
}

#[async_trait]
impl<B: Backend> RateLimitRepo for SqlRepo<B> {
    /// One statement: insert a full bucket less one token, or refill the stored one and take a
    /// token if it holds one. SET expressions all see the old row, so the refill is computed
    /// the same way three times.
    async fn take_token(&self, key: KeyId, per_minute: u32, burst: u32, now: Millis) -> R<Bucket> {
        let per_ms = per_minute as f64 / 60_000.0;
        let cap = burst.max(1) as f64;
        // min(capacity, tokens + elapsed * rate), as a CASE: neither LEAST (PostgreSQL) nor
        // the scalar MIN (SQLite) exists on both.
        let grown = "rate_buckets.tokens + ($3 - rate_buckets.at) * $4";
        let refill = format!("(CASE WHEN {grown} < $2 THEN {grown} ELSE $2 END)");
        let sql = format!(
            "INSERT INTO rate_buckets (key_id, tokens, at, allowed) VALUES ($1, $2 - 1, $3, TRUE) \
             ON CONFLICT (key_id) DO UPDATE SET allowed = {refill} >= 1, \
             tokens = {refill} - CASE WHEN {refill} >= 1 THEN 1 ELSE 0 END, at = $3 \
             RETURNING tokens, allowed"
        );
        let q = query(sql).bind(key).bind(cap).bind(now).bind(per_ms);
        let row = self.db.conn().await?.fetch_one(q).await?;
        Ok(Bucket {
            allowed: row.get("allowed")?,
            tokens: row.get("tokens")?,
        })
    }
}
