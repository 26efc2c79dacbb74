//! `GET /v1/usage/summary?days=` and `GET /v1/usage/events?limit=`: the credit ledger as the
//! video vendor shows it (charges, refunds and grants, per account).

use axum::extract::State;
use axum::Json;
use cutout_store::{now_ms, LedgerEntry, LedgerReason};

use crate::error::ApiError;
use crate::error::OrInternal;
use crate::http::auth::Caller;
use crate::http::doc::StructuredError;
use crate::http::extract::QueryParams;
use crate::service::state::AppState;

use super::types::{EventsQuery, SummaryQuery, UsageEvent, UsageEvents, UsageSummary};

/// Most ledger entries a summary adds up (90 days of heavy use fits).
const SUMMARY_ROWS: u32 = 100_000;

fn bounded(v: Option<&str>, default: u32, max: u32, name: &str) -> Result<u32, ApiError> {
    match v.map(str::parse::<u32>) {
        None => Ok(default),
        Some(Ok(n)) if (1..=max).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::BadRequest(format!("{name} must be 1-{max}"))),
    }
}

fn event(e: &LedgerEntry) -> UsageEvent {
    UsageEvent {
        id: e.id,
        r#type: e.reason,
        credits: e.delta,
        job_id: e.job,
        created_at: crate::time::rfc3339(e.at),
    }
}

/// Credits charged, refunded and used over the last days
#[utoipa::path(get, path = "/v1/usage/summary", tag = "Video", operation_id = "usageSummary",
    params(SummaryQuery),
    responses(
        (status = 200, description = "The summary.", body = UsageSummary),
        (status = 400, description = "`days` out of range.", body = StructuredError),
        (status = 401, description = "Missing or invalid key.", body = StructuredError),
        (status = 403, description = "The key lacks the scope.", body = StructuredError),
    ))]
pub async fn summary(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(q): QueryParams<SummaryQuery>,
) -> Result<Json<UsageSummary>, ApiError> {
    caller.require_video_read()?;
    let days = bounded(q.days.as_deref(), 30, 90, "days")?;
    let since = now_ms() - days as i64 * 86_400_000;
    let entries = state
        .repo
        .ledger(caller.0.account, since, SUMMARY_ROWS)
        .await
        .or_internal("reading the ledger failed")?;
    let sum = |reason: LedgerReason| -> i64 {
        entries
            .iter()
            .filter(|e| e.reason == reason)
            .map(|e| e.delta)
            .sum()
    };
    let (charged, refunded) = (-sum(LedgerReason::Charge), sum(LedgerReason::Refund));
    let balance = state
        .repo
        .get_account(caller.0.account)
        .await
        .or_internal("account lookup failed")?
        .map_or(0, |a| a.balance);
    Ok(Json(UsageSummary {
        success: true,
        days,
        period_start: crate::time::rfc3339(since),
        credits_charged: charged,
        credits_refunded: refunded,
        credits_used: charged - refunded,
        charges: entries
            .iter()
            .filter(|e| e.reason == LedgerReason::Charge)
            .count(),
        balance,
    }))
}

/// Ledger lines, newest first
#[utoipa::path(get, path = "/v1/usage/events", tag = "Video", operation_id = "usageEvents",
    params(EventsQuery),
    responses(
        (status = 200, description = "The latest lines.", body = UsageEvents),
        (status = 400, description = "`limit` out of range.", body = StructuredError),
        (status = 401, description = "Missing or invalid key.", body = StructuredError),
        (status = 403, description = "The key lacks the scope.", body = StructuredError),
    ))]
pub async fn events(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(q): QueryParams<EventsQuery>,
) -> Result<Json<UsageEvents>, ApiError> {
    caller.require_video_read()?;
    let limit = bounded(q.limit.as_deref(), 20, 100, "limit")?;
    let entries = state
        .repo
        .ledger(caller.0.account, 0, limit)
        .await
        .or_internal("reading the ledger failed")?;
    Ok(Json(UsageEvents {
        success: true,
        events: entries.iter().map(event).collect(),
        limit,
    }))
}
