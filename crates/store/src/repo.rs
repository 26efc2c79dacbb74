//! The narrow traits every database backend implements. Handlers and workers only see these, so a
//! new backend (PostgreSQL) is a new module plus one line in [`crate::open_repo`], and it must pass
//! the same conformance suite (`tests/conformance`).

use async_trait::async_trait;

use crate::blob::BlobKey;
use crate::ids::{AccountId, AssetId, JobId, KeyId, Millis, VideoId};
use crate::kinds::{JobKind, JobPhase, LedgerReason, Scope};
use crate::model::*;
use crate::StoreError;

type R<T> = Result<T, StoreError>;

/// Jobs' lifecycle, as the API sees it: created (charged, idempotent), read, listed, started,
/// cancelled, charged late, and their audit trail.
#[async_trait]
pub trait JobRepo: Send + Sync {
    /// Creates a queued job, debits its cost and records the idempotency response (if any) in one
    /// transaction: either all of it happens or none.
    async fn create_job(&self, job: NewJob, idem: Option<IdemRecord>) -> R<CreateOutcome>;
    async fn get_job(&self, id: JobId) -> R<Option<Job>>;
    /// The account's jobs of `kind`, newest first, optionally in one state.
    async fn list_jobs(
        &self,
        account: AccountId,
        kind: JobKind,
        state: Option<JobState>,
        limit: u32,
        offset: u32,
    ) -> R<Vec<Job>>;
    /// Starts a draft of the account: debits its cost and queues it, in one transaction.
    async fn start_job(
        &self,
        account: AccountId,
        id: JobId,
        actor: &str,
        max_pending: u64,
    ) -> R<Option<Started>>;
    /// Stops a queued or running job of the account: failed with code `cancelled`, refunded, in
    /// one transaction. A worker running it loses its claim and stops. `None`: no such job.
    async fn cancel_job(&self, account: AccountId, id: JobId, actor: &str) -> R<Option<Cancelled>>;
    /// Debits `cost` for a job `worker` holds and records it as the job's cost, once per job:
    /// a restarted attempt finds the charge and pays nothing again.
    async fn charge_claimed(&self, id: JobId, worker: &str, cost: i64) -> R<Charged>;
    async fn events(&self, id: JobId) -> R<Vec<JobEvent>>;
}

/// The queue, as workers see it: claims with heartbeats, progress, final states, re-queues and
/// the reaper of stale claims.
#[async_trait]
pub trait QueueRepo: Send + Sync {
    /// Claims the oldest runnable job of one of `kinds` for `worker`, counting an attempt.
    async fn claim_next(&self, worker: &str, kinds: &[JobKind]) -> R<Option<Job>>;
    /// Refreshes the claim; false when the job is no longer this worker's (re-queued or finished).
    async fn heartbeat(&self, id: JobId, worker: &str) -> R<bool>;
    async fn set_progress(
        &self,
        id: JobId,
        worker: &str,
        status: JobPhase,
        progress: u8,
    ) -> R<bool>;
    /// Moves a claimed job to its final state, refunding and enqueueing webhooks in the same
    /// transaction. False (and nothing changed) when the claim was lost.
    async fn finish(
        &self,
        id: JobId,
        worker: &str,
        finish: Finish,
        deliveries: Vec<NewDelivery>,
    ) -> R<bool>;
    /// Puts a claimed job back in the queue to run again no earlier than `run_after`.
    /// `count_attempt: false` is for a graceful shutdown, which is not the job's fault.
    async fn requeue(
        &self,
        id: JobId,
        worker: &str,
        run_after: Millis,
        cause: &str,
        count_attempt: bool,
    ) -> R<bool>;
    /// Re-queues running jobs whose heartbeat is older than `stale_before`; those out of attempts
    /// fail instead (with a refund). Returns the ids touched.
    async fn reap_stale(&self, stale_before: Millis) -> R<Vec<JobId>>;
    /// Jobs queued or running: the bounded queue's depth.
    async fn pending_count(&self) -> R<u64>;
    async fn count_by_state(&self) -> R<Vec<(JobState, u64)>>;
    /// Notices that another process queued work (PostgreSQL's LISTEN/NOTIFY), for idle workers
    /// to wake at once. `None`: this backend has none, and workers rely on their poll (and on
    /// the in-process wake-up of an embedded install).
    async fn work_notices(&self) -> R<Option<Box<dyn WorkNotices>>> {
        Ok(None)
    }
}

/// A stream of "work was queued" notices from other processes.
#[async_trait]
pub trait WorkNotices: Send {
    /// Waits for the next notice; an error means the channel broke (the caller backs off and
    /// opens a new one).
    async fn next(&mut self) -> R<()>;
}

/// Accounts, keys and the credit ledger.
#[async_trait]
pub trait AccountRepo: Send + Sync {
    async fn create_account(&self, name: &str, credits: i64, webhook_secret: &str) -> R<Account>;
    async fn get_account(&self, id: AccountId) -> R<Option<Account>>;
    async fn create_key(
        &self,
        account: AccountId,
        name: &str,
        key_hash: &str,
        prefix: &str,
        scopes: &[Scope],
    ) -> R<ApiKey>;
    /// The live (not revoked) key with this hash.
    async fn find_key(&self, key_hash: &str) -> R<Option<ApiKey>>;
    async fn list_keys(&self) -> R<Vec<ApiKey>>;
    async fn revoke_key(&self, id: KeyId) -> R<bool>;
    /// Adds (or with a negative amount removes, never below zero) credits; returns the balance.
    async fn credit(&self, account: AccountId, amount: i64, reason: LedgerReason)
        -> R<Option<i64>>;
    async fn usage(&self, account: AccountId) -> R<Usage>;
    /// The account's ledger lines at or after `since`, newest first.
    async fn ledger(&self, account: AccountId, since: Millis, limit: u32) -> R<Vec<LedgerEntry>>;
}

/// Named parameter presets per account.
#[async_trait]
pub trait PresetRepo: Send + Sync {
    /// Creates or replaces; true when it was created.
    async fn put_preset(
        &self,
        account: AccountId,
        name: &str,
        params: &serde_json::Value,
    ) -> R<bool>;
    async fn get_preset(&self, account: AccountId, name: &str) -> R<Option<Preset>>;
    async fn list_presets(&self, account: AccountId) -> R<Vec<Preset>>;
    async fn delete_preset(&self, account: AccountId, name: &str) -> R<bool>;
}

/// Stored responses for `Idempotency-Key`.
#[async_trait]
pub trait IdempotencyRepo: Send + Sync {
    async fn get_idem(&self, key: KeyId, idem_key: &str) -> R<Option<IdemRecord>>;
    /// Stores a response unless one is already stored; returns the one that is stored now.
    async fn put_idem(&self, record: IdemRecord) -> R<IdemRecord>;
}

/// The webhook outbox.
#[async_trait]
pub trait WebhookRepo: Send + Sync {
    /// Deliveries due now, oldest first.
    async fn due_deliveries(&self, now: Millis, limit: u32) -> R<Vec<Delivery>>;
    async fn delivery_done(&self, delivery: &Delivery) -> R<()>;
    /// Records a failed attempt; `next_at: None` gives up.
    async fn delivery_failed(
        &self,
        delivery: &Delivery,
        error: &str,
        next_at: Option<Millis>,
    ) -> R<()>;
    async fn webhook_secret(&self, account: AccountId) -> R<Option<String>>;
    /// Queues `delivery` unless the job already has one for the same event (`job.started`
    /// is sent once even when a restarted attempt starts again). `false`: it already had one.
    async fn enqueue_once(&self, job: &Job, delivery: NewDelivery) -> R<bool>;
}

/// Assets and their conversions. Every call is scoped by account: another account's asset is
/// simply not found, so ids cannot be probed.
#[async_trait]
pub trait AssetRepo: Send + Sync {
    async fn create_asset(&self, asset: &Asset) -> R<()>;
    async fn get_asset(&self, account: AccountId, id: AssetId) -> R<Option<Asset>>;
    /// Newest first; `before` is the last id of the previous page.
    async fn list_assets(
        &self,
        account: AccountId,
        before: Option<AssetId>,
        limit: u32,
    ) -> R<Vec<Asset>>;
    /// Applies a JSON merge patch to the custom metadata in one transaction.
    async fn patch_asset_custom(
        &self,
        account: AccountId,
        id: AssetId,
        patch: &serde_json::Value,
    ) -> R<Option<Asset>>;
    /// Deletes the asset and its conversions; returns the blob keys they used, for the caller to
    /// delete, or `None` when there was no such asset.
    async fn delete_asset(&self, account: AccountId, id: AssetId) -> R<Option<Vec<BlobKey>>>;
    /// Adds the conversion or switches an existing one of that name to the new blob atomically.
    async fn put_conversion(
        &self,
        account: AccountId,
        asset: AssetId,
        conversion: &Conversion,
    ) -> R<PutConversion>;
    async fn get_conversion(
        &self,
        account: AccountId,
        asset: AssetId,
        name: &str,
    ) -> R<Option<Conversion>>;
    async fn list_conversions(&self, account: AccountId, asset: AssetId) -> R<Vec<Conversion>>;
}

/// Per-key token buckets kept in the database, so every API node draws on the same bucket.
#[async_trait]
pub trait RateLimitRepo: Send + Sync {
    /// Refills `key`'s bucket (capacity `burst`, `per_minute` tokens a minute) to `now` and takes
    /// one token if there is one, atomically. A new key starts full.
    async fn take_token(&self, key: KeyId, per_minute: u32, burst: u32, now: Millis) -> R<Bucket>;
}

/// Uploaded videos.
#[async_trait]
pub trait VideoRepo: Send + Sync {
    async fn create_upload(&self, upload: &VideoUpload) -> R<()>;
    async fn get_upload(&self, account: AccountId, id: VideoId) -> R<Option<VideoUpload>>;
}

/// Everything the server needs from a database.
pub trait Repo:
    JobRepo
    + QueueRepo
    + AccountRepo
    + PresetRepo
    + IdempotencyRepo
    + WebhookRepo
    + AssetRepo
    + VideoRepo
    + RateLimitRepo
{
}
impl<T> Repo for T where
    T: JobRepo
        + QueueRepo
        + AccountRepo
        + PresetRepo
        + IdempotencyRepo
        + WebhookRepo
        + AssetRepo
        + VideoRepo
        + RateLimitRepo
{
}
