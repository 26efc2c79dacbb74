//! Charging and refunding an inline call (the add-on, remove.bg): taken before the work, given
//! back if it fails, so a failed call costs nothing and a crash never gives credits away.

use cutout_store::{AccountId, LedgerReason, StoreError};

use super::state::AppState;

/// Takes `cost` credits (nothing when `cost` is 0). `Ok(false)`: the balance is short.
pub async fn charge(state: &AppState, account: AccountId, cost: i64) -> Result<bool, StoreError> {
    if cost <= 0 {
        return Ok(true);
    }
    let charged = state
        .repo
        .credit(account, -cost, LedgerReason::Charge)
        .await?;
    Ok(charged.is_some())
}

/// Gives back what [`charge`] took after the call failed; a failure to do so is logged once.
pub async fn refund(state: &AppState, account: AccountId, cost: i64, what: &str) {
    if cost <= 0 {
        return;
    }
    if let Err(e) = state.repo.credit(account, cost, LedgerReason::Refund).await {
        tracing::error!(error = %e, cost, "refunding a failed {what} failed");
    }
}
