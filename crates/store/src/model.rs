//! Records as the store hands them out. Processing specs and results are opaque JSON here: their
//! shape belongs to the server, and the store must not need a migration when it grows a field.

use serde::Serialize;

use crate::blob::BlobKey;
use crate::ids::{AccountId, AssetId, DeliveryId, JobId, KeyId, Millis, VideoId};
use crate::kinds::{JobKind, JobPhase, LedgerReason, Scope};

/// Where a job is in its life. Transitions are recorded in `job_events`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Created with `auto_start: false`: neither charged nor claimable until started.
    Draft,
    Queued,
    Running,
    Completed,
    Failed,
}

/// A stored state's spelling back into its variant.
impl std::str::FromStr for JobState {
    type Err = crate::UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s).ok_or_else(|| crate::UnknownName {
            what: "job state",
            value: s.to_owned(),
        })
    }
}

impl JobState {
    pub const ALL: [JobState; 5] = [
        Self::Draft,
        Self::Queued,
        Self::Running,
        Self::Completed,
        Self::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    pub fn is_final(self) -> bool {
        matches!(self, Self::Completed | Self::Failed)
    }
}

/// A job to create.
#[derive(Clone, Debug)]
pub struct NewJob {
    pub id: JobId,
    pub account: AccountId,
    pub key: KeyId,
    /// Which worker handler runs it.
    pub kind: JobKind,
    pub mode: String,
    /// The validated processing request, as JSON.
    pub spec: serde_json::Value,
    /// Blob key of the uploaded input, when the input was uploaded rather than fetched.
    pub input_key: Option<BlobKey>,
    pub max_attempts: u32,
    /// Credits debited in the creating transaction.
    pub cost: i64,
    /// Refuse with `QueueFull` when this many jobs are already queued or running.
    pub max_pending: u64,
    /// Create a [`JobState::Draft`]: nothing is debited or queued until it is started.
    pub draft: bool,
}

#[derive(Clone, Debug)]
pub struct Job {
    pub id: JobId,
    pub account: AccountId,
    pub key: KeyId,
    pub kind: JobKind,
    pub mode: String,
    pub spec: serde_json::Value,
    pub input_key: Option<BlobKey>,
    pub state: JobState,
    /// The detailed step shown to clients (`queued`, `fetching`, `processing`, ...).
    pub status: JobPhase,
    pub progress: u8,
    pub attempts: u32,
    pub max_attempts: u32,
    pub claimed_by: Option<String>,
    pub result: Option<serde_json::Value>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub cost: i64,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub finished_at: Option<Millis>,
}

/// One persisted state transition: who moved the job, from where to where, and why.
#[derive(Clone, Debug, Serialize)]
pub struct JobEvent {
    pub at: Millis,
    pub from: Option<JobState>,
    pub to: JobState,
    pub actor: String,
    pub cause: String,
}

/// A stored response to replay for a repeated `Idempotency-Key`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdemRecord {
    pub key: KeyId,
    pub idem_key: String,
    /// Hash of the canonical request; a different request under the same key is refused.
    pub request_hash: String,
    pub status: u16,
    pub body: String,
}

/// What creating a job did.
#[derive(Clone, Debug)]
pub enum CreateOutcome {
    Created(Box<Job>),
    /// The idempotency key was already used for this same request: replay its response.
    Replay(IdemRecord),
    /// The idempotency key was already used for a different request.
    IdemConflict,
    InsufficientCredits {
        balance: i64,
    },
    QueueFull,
}

/// A webhook delivery to enqueue with a job's final state (outbox pattern).
#[derive(Clone, Debug)]
pub struct NewDelivery {
    pub event: String,
    pub url: String,
    pub body: String,
}

#[derive(Clone, Debug)]
pub struct Delivery {
    pub id: DeliveryId,
    pub job: JobId,
    pub account: AccountId,
    pub event: String,
    pub url: String,
    pub body: String,
    pub attempts: u32,
}

/// How a job ended, with the deliveries to send about it.
#[derive(Clone, Debug)]
pub enum Finish {
    Completed {
        result: serde_json::Value,
    },
    /// What the job was charged, if anything, is given back in the same transaction, at most
    /// once.
    Failed {
        code: String,
        message: String,
    },
}

#[derive(Clone, Debug, Serialize)]
pub struct Account {
    pub id: AccountId,
    pub name: String,
    pub balance: i64,
    #[serde(skip)]
    pub webhook_secret: String,
    pub created_at: Millis,
}

impl Account {
    /// Debug output without the webhook secret.
    pub fn redacted(&self) -> String {
        format!("Account {{ id: {}, name: {:?} }}", self.id, self.name)
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct ApiKey {
    pub id: KeyId,
    pub account: AccountId,
    pub name: String,
    /// The first characters of the key, to recognise it in listings.
    pub prefix: String,
    pub scopes: Vec<Scope>,
    pub created_at: Millis,
    pub revoked_at: Option<Millis>,
}

impl ApiKey {
    pub fn has_scope(&self, scope: Scope) -> bool {
        self.scopes.iter().any(|s| s.grants(scope))
    }
}

/// A token bucket after one request took (or failed to take) a token.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bucket {
    pub allowed: bool,
    /// Tokens left after this request.
    pub tokens: f64,
}

/// Usage figures for `GET /api/v1/account`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Usage {
    pub jobs_total: u64,
    pub jobs_completed: u64,
    pub jobs_failed: u64,
    pub credits_spent: i64,
    pub credits_refunded: i64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Preset {
    pub name: String,
    pub params: serde_json::Value,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// An image file and what describes it. Which account owns it is a lookup key, never shown.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Asset {
    pub id: AssetId,
    #[serde(skip)]
    pub account: AccountId,
    pub name: String,
    pub mime: String,
    pub size: u64,
    pub width: u32,
    pub height: u32,
    pub sha256: String,
    #[serde(skip)]
    pub blob: BlobKey,
    /// The client's own metadata, a JSON object.
    pub custom: serde_json::Value,
    /// The asset this one was made from (the add-on's `add_new_asset`).
    pub source: Option<AssetId>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// A named derivative of an asset (the add-on's `add_conversion`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Conversion {
    pub name: String,
    #[serde(skip)]
    pub blob: BlobKey,
    pub mime: String,
    pub size: u64,
    pub width: u32,
    pub height: u32,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// What replacing or adding a conversion did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PutConversion {
    Created,
    /// The row now points at the new blob; the old one is the caller's to delete (unless it is
    /// the same key).
    Replaced {
        old_blob: BlobKey,
    },
    /// The asset is gone (or another account's): nothing was written.
    NoAsset,
}

/// A video uploaded for processing, with what ffprobe said about it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VideoUpload {
    pub id: VideoId,
    #[serde(skip)]
    pub account: AccountId,
    #[serde(skip)]
    pub blob: BlobKey,
    pub filename: String,
    pub size: u64,
    /// The probe (duration, fps, size, audio), as the server recorded it.
    pub info: serde_json::Value,
    pub created_at: Millis,
}

/// What a client's cancel did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cancelled {
    /// It was queued or running and is now failed with code `cancelled`, refunded.
    Now,
    /// It had already finished; nothing changed.
    AlreadyFinal(JobState),
}

/// What starting a draft did.
#[derive(Clone, Debug)]
pub enum Started {
    /// Charged and queued.
    Now(Box<Job>),
    /// It was not a draft (already started, finished or cancelled); nothing changed.
    NotDraft(JobState),
    InsufficientCredits {
        balance: i64,
    },
    QueueFull,
}

/// What charging a running job (whose cost is known only once its input was fetched) did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Charged {
    Now,
    /// An earlier attempt already paid; nothing is charged twice.
    Already,
    InsufficientCredits {
        balance: i64,
    },
    /// This worker no longer holds the job.
    NotClaimed,
}

/// One line of the credit ledger.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LedgerEntry {
    pub id: i64,
    /// Positive: credits added (grant, refund); negative: spent (charge).
    pub delta: i64,
    pub reason: LedgerReason,
    pub job: Option<JobId>,
    pub at: Millis,
}
