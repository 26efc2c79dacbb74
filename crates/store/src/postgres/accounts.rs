use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::Row;

use super::{parse_id, parse_name, PgRepo};
use crate::ids::{now_ms, AccountId, KeyId, Millis};
use crate::kinds::{LedgerReason, Scope};
use crate::model::*;
use crate::repo::AccountRepo;
use crate::StoreError;

type R<T> = Result<T, StoreError>;

const KEY_COLUMNS: &str = "id, account_id, name, prefix, scopes, created_at, revoked_at";

fn key_from_row(row: &PgRow) -> R<ApiKey> {
    let scopes: String = row.try_get("scopes")?;
    Ok(ApiKey {
        id: parse_id(&row.try_get::<String, _>("id")?, "key")?,
        account: parse_id(&row.try_get::<String, _>("account_id")?, "account")?,
        name: row.try_get("name")?,
        prefix: row.try_get("prefix")?,
        scopes: scopes
            .split_whitespace()
            .map(|s| parse_name(s, "scope"))
            .collect::<R<_>>()?,
        created_at: row.try_get("created_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

#[async_trait]
impl AccountRepo for PgRepo {
    async fn create_account(&self, name: &str, credits: i64, webhook_secret: &str) -> R<Account> {
        let account = Account {
            id: AccountId::new(),
            name: name.to_owned(),
            balance: credits.max(0),
            webhook_secret: webhook_secret.to_owned(),
            created_at: now_ms(),
        };
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO accounts (id, name, balance, webhook_secret, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(account.id.to_string())
        .bind(&account.name)
        .bind(account.balance)
        .bind(&account.webhook_secret)
        .bind(account.created_at)
        .execute(&mut *tx)
        .await?;
        if account.balance > 0 {
            sqlx::query(
                "INSERT INTO ledger (account_id, delta, reason, created_at) VALUES ($1, $2, 'grant', $3)",
            )
            .bind(account.id.to_string())
            .bind(account.balance)
            .bind(account.created_at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(account)
    }

    async fn get_account(&self, id: AccountId) -> R<Option<Account>> {
        let row: Option<(String, i64, String, i64)> = sqlx::query_as(
            "SELECT name, balance, webhook_secret, created_at FROM accounts WHERE id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        Ok(
            row.map(|(name, balance, webhook_secret, created_at)| Account {
                id,
                name,
                balance,
                webhook_secret,
                created_at,
            }),
        )
    }

    async fn create_key(
        &self,
        account: AccountId,
        name: &str,
        key_hash: &str,
        prefix: &str,
        scopes: &[Scope],
    ) -> R<ApiKey> {
        let key = ApiKey {
            id: KeyId::new(),
            account,
            name: name.to_owned(),
            prefix: prefix.to_owned(),
            scopes: scopes.to_vec(),
            created_at: now_ms(),
            revoked_at: None,
        };
        sqlx::query(
            "INSERT INTO api_keys (id, account_id, name, hash, prefix, scopes, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(key.id.to_string())
        .bind(account.to_string())
        .bind(name)
        .bind(key_hash)
        .bind(prefix)
        .bind(
            scopes
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" "),
        )
        .bind(key.created_at)
        .execute(&self.pool)
        .await?;
        Ok(key)
    }

    async fn find_key(&self, key_hash: &str) -> R<Option<ApiKey>> {
        let sql =
            format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE hash = $1 AND revoked_at IS NULL");
        let row = sqlx::query(&sql)
            .bind(key_hash)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(key_from_row).transpose()
    }

    async fn list_keys(&self) -> R<Vec<ApiKey>> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys ORDER BY id");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(key_from_row).collect()
    }

    async fn revoke_key(&self, id: KeyId) -> R<bool> {
        let n =
            sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(now_ms())
                .bind(id.to_string())
                .execute(&self.pool)
                .await?
                .rows_affected();
        Ok(n == 1)
    }

    async fn credit(
        &self,
        account: AccountId,
        amount: i64,
        reason: LedgerReason,
    ) -> R<Option<i64>> {
        let mut tx = self.write().await?;
        let n = sqlx::query(
            "UPDATE accounts SET balance = balance + $1 WHERE id = $2 AND balance + $3 >= 0",
        )
        .bind(amount)
        .bind(account.to_string())
        .bind(amount)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Ok(None);
        }
        sqlx::query(
            "INSERT INTO ledger (account_id, delta, reason, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(account.to_string())
        .bind(amount)
        .bind(reason.as_str())
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        let balance: i64 = sqlx::query_scalar("SELECT balance FROM accounts WHERE id = $1")
            .bind(account.to_string())
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(balance))
    }

    async fn usage(&self, account: AccountId) -> R<Usage> {
        let id = account.to_string();
        let (total, completed, failed): (i64, i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE state = 'completed'), \
                    COUNT(*) FILTER (WHERE state = 'failed') \
             FROM jobs WHERE account_id = $1",
        )
        .bind(&id)
        .fetch_one(&self.pool)
        .await?;
        let (spent, refunded): (i64, i64) = sqlx::query_as(
            "SELECT COALESCE(-SUM(CASE WHEN reason = 'charge' THEN delta END), 0)::BIGINT, \
                    COALESCE(SUM(CASE WHEN reason = 'refund' THEN delta END), 0)::BIGINT \
             FROM ledger WHERE account_id = $1",
        )
        .bind(&id)
        .fetch_one(&self.pool)
        .await?;
        Ok(Usage {
            jobs_total: total as u64,
            jobs_completed: completed as u64,
            jobs_failed: failed as u64,
            credits_spent: spent,
            credits_refunded: refunded,
        })
    }

    async fn ledger(&self, account: AccountId, since: Millis, limit: u32) -> R<Vec<LedgerEntry>> {
        let rows: Vec<(i64, i64, String, Option<String>, i64)> = sqlx::query_as(
            "SELECT id, delta, reason, job_id, created_at FROM ledger \
             WHERE account_id = $1 AND created_at >= $2 ORDER BY id DESC LIMIT $3",
        )
        .bind(account.to_string())
        .bind(since)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(id, delta, reason, job, at)| {
                Ok(LedgerEntry {
                    id,
                    delta,
                    reason: parse_name(&reason, "ledger reason")?,
                    job: job.map(|j| parse_id(&j, "job")).transpose()?,
                    at,
                })
            })
            .collect()
    }
}
