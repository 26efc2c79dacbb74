//! Cut-outs answered within the request (the remove.bg API, the bg_remove add-on): the order
//! that keeps money right is written once here. Take an inference slot (so a saturated server
//! refuses before charging), charge the call, render, and refund if the render fails.

use std::future::Future;
use std::time::Duration;

use cutout_store::{AccountId, StoreError};

use super::credits;
use super::state::AppState;
use super::JobError;
use crate::error::ApiError;

/// Why an inline call was not answered with a cut-out.
#[derive(Debug, thiserror::Error)]
pub enum InlineError {
    /// Every inference slot stayed busy for the call's wait.
    #[error("every inference slot is busy")]
    Busy,
    #[error("insufficient credits")]
    InsufficientCredits,
    /// Charging failed (the database); nothing was charged.
    #[error("charging failed: {0}")]
    Store(#[from] StoreError),
    /// The render failed; the charge was refunded.
    #[error("{0}")]
    Render(JobError),
}

impl InlineError {
    /// The render's own failure, for the family to answer in its words; every other refusal
    /// is the same for every family.
    pub fn into_render(self) -> Result<JobError, ApiError> {
        match self {
            Self::Render(e) => Ok(e),
            Self::Busy => Err(ApiError::Unavailable {
                reason: "every inference slot is busy, retry later",
                retry_after_secs: 2,
            }),
            Self::InsufficientCredits => Err(ApiError::InsufficientCredits),
            Self::Store(e) => Err(ApiError::internal("charging failed", &e)),
        }
    }
}

/// The call's price and how long it may wait for a slot (`None`: as long as the request's own
/// deadline allows).
#[derive(Clone, Copy, Debug)]
pub struct Charge<'a> {
    pub account: AccountId,
    pub cost: i64,
    pub max_wait: Option<Duration>,
    /// What the ledger's refund line is for, in the log.
    pub what: &'a str,
}

/// Runs `render` under an inference slot, charged; a failed render is refunded.
pub async fn charged_render<T, Fut>(
    state: &AppState,
    charge: Charge<'_>,
    render: impl FnOnce() -> Fut,
) -> Result<T, InlineError>
where
    Fut: Future<Output = Result<T, JobError>>,
{
    let acquire = state.inline_slots.acquire();
    let slot = match charge.max_wait {
        Some(wait) => tokio::time::timeout(wait, acquire)
            .await
            .map_err(|_| InlineError::Busy)?,
        None => acquire.await,
    };
    // The semaphore is never closed while the server runs; a closed one is a server stopping.
    let _slot = slot.map_err(|_| InlineError::Busy)?;
    if !credits::charge(state, charge.account, charge.cost).await? {
        return Err(InlineError::InsufficientCredits);
    }
    match render().await {
        Ok(out) => Ok(out),
        Err(e) => {
            credits::refund(state, charge.account, charge.cost, charge.what).await;
            Err(InlineError::Render(e))
        }
    }
}
