//! Orphaned job blobs: an input an API node stored just before it died (its job was never
//! recorded), or a published result a re-run of its job replaced. Job ids are UUIDv7, so a key
//! tells its age without a listing's timestamps; nothing younger than the grace period is
//! touched, since its job may be being recorded at this moment.

use std::time::Duration;

use cutout_store::{now_ms, BlobKey, JobId, JobState};

use crate::service::results::ResultInfo;
use crate::service::state::AppState;

/// Deletes orphans under `inputs/` and `public/`; returns how many.
pub async fn sweep_orphans(
    state: &AppState,
    grace: Duration,
) -> Result<usize, cutout_store::StoreError> {
    let cutoff = now_ms() - grace.as_millis() as i64;
    let mut deleted = 0;
    for prefix in ["inputs/", "public/"] {
        for key in state.blobs.list(prefix).await? {
            let Some(job) = job_of(&key) else { continue };
            if created_ms(job).is_none_or(|at| at > cutoff) {
                continue;
            }
            if is_orphan(state, &key, job).await? {
                state.blobs.delete(&key).await?;
                tracing::info!(%key, job_id = %job, "deleted an orphaned blob");
                deleted += 1;
            }
        }
    }
    Ok(deleted)
}

/// `inputs/<job>` and `public/<job>/<token>.<ext>` name their job.
fn job_of(key: &BlobKey) -> Option<JobId> {
    let mut parts = key.as_str().split('/');
    parts.next()?;
    parts.next()?.parse().ok()
}

/// Milliseconds since the epoch at which a UUIDv7 id was made.
fn created_ms(job: JobId) -> Option<i64> {
    let (secs, nanos) = job.as_uuid().get_timestamp()?.to_unix();
    Some(secs as i64 * 1000 + nanos as i64 / 1_000_000)
}

async fn is_orphan(
    state: &AppState,
    key: &BlobKey,
    id: JobId,
) -> Result<bool, cutout_store::StoreError> {
    let Some(job) = state.repo.get_job(id).await? else {
        return Ok(true);
    };
    if !key.as_str().starts_with("public/") || job.state != JobState::Completed {
        return Ok(false);
    }
    // A completed job's published result is the one its record names.
    let info: Option<ResultInfo> = job.result.and_then(|r| serde_json::from_value(r).ok());
    Ok(info.is_some_and(|i| i.blob != *key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_their_job_and_ids_their_age() {
        let id = JobId::new();
        let key = BlobKey::job_input(id);
        assert_eq!(job_of(&key), Some(id));
        assert_eq!(job_of(&BlobKey::published(id, &[7; 16], "png")), Some(id));
        let age = now_ms() - created_ms(id).unwrap();
        assert!((0..5_000).contains(&age), "{age}");
    }
}
