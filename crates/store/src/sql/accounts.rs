//! Accounts, keys and the credit ledger.

use async_trait::async_trait;

use super::schema::KEY_COLUMNS;
use super::value::query;
use super::{rows, Backend, Conn, SqlRepo};
use crate::ids::{now_ms, AccountId, KeyId, Millis};
use crate::kinds::{LedgerReason, Scope};
use crate::model::*;
use crate::repo::AccountRepo;
use crate::StoreError;

type R<T> = Result<T, StoreError>;

#[async_trait]
impl<B: Backend> AccountRepo for SqlRepo<B> {
    async fn create_account(&self, name: &str, credits: i64, webhook_secret: &str) -> R<Account> {
        let account = Account {
            id: AccountId::new(),
            name: name.to_owned(),
            balance: credits.max(0),
            webhook_secret: webhook_secret.to_owned(),
            created_at: now_ms(),
        };
        let mut tx = self.db.begin().await?;
        let q = query(
            "INSERT INTO accounts (id, name, balance, webhook_secret, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(account.id)
        .bind(&account.name)
        .bind(account.balance)
        .bind(&account.webhook_secret)
        .bind(account.created_at);
        tx.execute(q).await?;
        if account.balance > 0 {
            let q = query(
                "INSERT INTO ledger (account_id, delta, reason, created_at) \
                 VALUES ($1, $2, 'grant', $3)",
            )
            .bind(account.id)
            .bind(account.balance)
            .bind(account.created_at);
            tx.execute(q).await?;
        }
        B::commit(tx).await?;
        Ok(account)
    }

    async fn get_account(&self, id: AccountId) -> R<Option<Account>> {
        let q =
            query("SELECT name, balance, webhook_secret, created_at FROM accounts WHERE id = $1")
                .bind(id);
        let row = self.db.conn().await?.fetch_optional(q).await?;
        row.map(|r| {
            Ok(Account {
                id,
                name: r.get("name")?,
                balance: r.get("balance")?,
                webhook_secret: r.get("webhook_secret")?,
                created_at: r.get("created_at")?,
            })
        })
        .transpose()
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
        let scopes: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
        let q = query(
            "INSERT INTO api_keys (id, account_id, name, hash, prefix, scopes, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(key.id)
        .bind(account)
        .bind(name)
        .bind(key_hash)
        .bind(prefix)
        .bind(scopes.join(" "))
        .bind(key.created_at);
        self.db.conn().await?.execute(q).await?;
        Ok(key)
    }

    async fn find_key(&self, key_hash: &str) -> R<Option<ApiKey>> {
        let sql = format!(
            "SELECT {} FROM api_keys WHERE hash = $1 AND revoked_at IS NULL",
            *KEY_COLUMNS
        );
        let row = self
            .db
            .conn()
            .await?
            .fetch_optional(query(sql).bind(key_hash))
            .await?;
        row.as_ref().map(rows::key).transpose()
    }

    async fn list_keys(&self) -> R<Vec<ApiKey>> {
        let sql = format!("SELECT {} FROM api_keys ORDER BY id", *KEY_COLUMNS);
        let rows = self.db.conn().await?.fetch_all(query(sql)).await?;
        rows.iter().map(rows::key).collect()
    }

    async fn revoke_key(&self, id: KeyId) -> R<bool> {
        let q = query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now_ms())
            .bind(id);
        Ok(self.db.conn().await?.execute(q).await? == 1)
    }

    async fn credit(
        &self,
        account: AccountId,
        amount: i64,
        reason: LedgerReason,
    ) -> R<Option<i64>> {
        let mut tx = self.db.begin().await?;
        let q =
            query("UPDATE accounts SET balance = balance + $1 WHERE id = $2 AND balance + $1 >= 0")
                .bind(amount)
                .bind(account);
        if tx.execute(q).await? == 0 {
            return Ok(None);
        }
        let q = query(
            "INSERT INTO ledger (account_id, delta, reason, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(account)
        .bind(amount)
        .bind(reason.as_str())
        .bind(now_ms());
        tx.execute(q).await?;
        let q = query("SELECT balance FROM accounts WHERE id = $1").bind(account);
        let balance: i64 = tx.fetch_one(q).await?.first()?;
        B::commit(tx).await?;
        Ok(Some(balance))
    }

    async fn usage(&self, account: AccountId) -> R<Usage> {
        let mut conn = self.db.conn().await?;
        let jobs = conn
            .fetch_one(
                query(
                    "SELECT COUNT(*) AS total, \
                     COUNT(*) FILTER (WHERE state = 'completed') AS completed, \
                     COUNT(*) FILTER (WHERE state = 'failed') AS failed \
                     FROM jobs WHERE account_id = $1",
                )
                .bind(account),
            )
            .await?;
        // SUM of a BIGINT is NUMERIC on PostgreSQL: cast back.
        let credits = conn
            .fetch_one(
                query(
                    "SELECT CAST(COALESCE(-SUM(CASE WHEN reason = 'charge' THEN delta END), 0) \
                     AS BIGINT) AS spent, \
                     CAST(COALESCE(SUM(CASE WHEN reason = 'refund' THEN delta END), 0) \
                     AS BIGINT) AS refunded FROM ledger WHERE account_id = $1",
                )
                .bind(account),
            )
            .await?;
        Ok(Usage {
            jobs_total: jobs.get::<i64>("total")? as u64,
            jobs_completed: jobs.get::<i64>("completed")? as u64,
            jobs_failed: jobs.get::<i64>("failed")? as u64,
            credits_spent: credits.get("spent")?,
            credits_refunded: credits.get("refunded")?,
        })
    }

    async fn ledger(&self, account: AccountId, since: Millis, limit: u32) -> R<Vec<LedgerEntry>> {
        let q = query(
            "SELECT id, delta, reason, job_id, created_at FROM ledger \
             WHERE account_id = $1 AND created_at >= $2 ORDER BY id DESC LIMIT $3",
        )
        .bind(account)
        .bind(since)
        .bind(limit as i64);
        let rows = self.db.conn().await?.fetch_all(q).await?;
        rows.iter()
            .map(|r| {
                Ok(LedgerEntry {
                    id: r.get("id")?,
                    delta: r.get("delta")?,
                    reason: r.parsed("reason")?,
                    job: r.parsed_opt("job_id")?,
                    at: r.get("created_at")?,
                })
            })
            .collect()
    }
}
