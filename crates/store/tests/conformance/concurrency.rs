//! What must hold when many processes share one database: every check fires its calls at once
//! (each on its own pooled connection), as API nodes and workers on other machines would.

use std::collections::BTreeSet;

use cutout_store::*;
use futures_util::future::join_all;

use crate::jobs::{account, new_job};

/// Eight workers claiming at once take each job exactly once.
pub async fn concurrent_claims_take_each_job_once(repo: &dyn Repo) {
    let (acc, key) = account(repo, 100).await;
    let mut made = BTreeSet::new();
    for _ in 0..40 {
        let job = new_job(&acc, &key, 1);
        made.insert(job.id);
        assert!(matches!(
            repo.create_job(job, None).await.unwrap(),
            CreateOutcome::Created(_)
        ));
    }
    let workers = (0..8).map(|w| async move {
        let id = format!("worker-{w}");
        let mut mine = Vec::new();
        while let Some(job) = repo.claim_next(&id, &[JobKind::Image]).await.unwrap() {
            assert_eq!(job.claimed_by.as_deref(), Some(id.as_str()));
            let done = Finish::Completed {
                result: serde_json::json!({}),
            };
            assert!(repo.finish(job.id, &id, done, vec![]).await.unwrap());
            mine.push(job.id);
        }
        mine
    });
    let claimed: Vec<JobId> = join_all(workers).await.into_iter().flatten().collect();
    let unique: BTreeSet<JobId> = claimed.iter().copied().collect();
    assert_eq!(claimed.len(), unique.len(), "a job was claimed twice");
    assert_eq!(unique, made, "every job is claimed");
}

/// Twin requests with one `Idempotency-Key`, arriving at once on different nodes, create and
/// charge one job; the others get its answer.
pub async fn concurrent_twins_create_one_job(repo: &dyn Repo) {
    let (acc, key) = account(repo, 10).await;
    let rec = IdemRecord {
        key: key.id,
        idem_key: "twin".into(),
        request_hash: "same".into(),
        status: 202,
        body: "{\"first\":true}".into(),
    };
    let twins = (0..6).map(|_| repo.create_job(new_job(&acc, &key, 1), Some(rec.clone())));
    let outcomes: Vec<CreateOutcome> = join_all(twins)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let created = outcomes
        .iter()
        .filter(|o| matches!(o, CreateOutcome::Created(_)))
        .count();
    let replayed = outcomes
        .iter()
        .filter(|o| matches!(o, CreateOutcome::Replay(_)))
        .count();
    assert_eq!((created, replayed), (1, 5), "{outcomes:?}");
    let acc_now = repo.get_account(acc.id).await.unwrap().unwrap();
    assert_eq!(acc_now.balance, 9, "charged once");
    let listed = repo
        .list_jobs(acc.id, JobKind::Image, None, 100, 0)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1, "one job exists");
}

/// A cancel racing a worker's finish leaves one final state and at most one refund.
pub async fn cancel_racing_finish_settles_once(repo: &dyn Repo) {
    let (acc, key) = account(repo, 20).await;
    for _ in 0..10 {
        let job = new_job(&acc, &key, 1);
        repo.create_job(job, None).await.unwrap();
        let claimed = repo
            .claim_next("w", &[JobKind::Image])
            .await
            .unwrap()
            .unwrap();
        let failed = Finish::Failed {
            code: "boom".into(),
            message: "failed".into(),
        };
        let (finished, cancelled) = tokio::join!(
            repo.finish(claimed.id, "w", failed, vec![]),
            repo.cancel_job(acc.id, claimed.id, "key:x"),
        );
        let finished = finished.unwrap();
        let cancelled = matches!(cancelled.unwrap(), Some(Cancelled::Now));
        assert!(finished ^ cancelled, "exactly one of them settles the job");
    }
    let acc_now = repo.get_account(acc.id).await.unwrap().unwrap();
    assert_eq!(acc_now.balance, 20, "every charge refunded exactly once");
}

/// A key's bucket is one, however many nodes draw on it at once: a burst of 20 concurrent
/// requests against a bucket of 5 lets exactly 5 through; it refills at the rate.
pub async fn rate_buckets_are_shared(repo: &dyn Repo) {
    let key = KeyId::new();
    let now = now_ms();
    let burst = (0..20).map(|_| repo.take_token(key, 60, 5, now));
    let allowed = join_all(burst)
        .await
        .into_iter()
        .map(Result::unwrap)
        .filter(|b| b.allowed)
        .count();
    assert_eq!(allowed, 5);
    let later = repo.take_token(key, 60, 5, now + 1_100).await.unwrap();
    assert!(later.allowed, "one token back after a second at 60/min");
    assert!(
        !repo
            .take_token(key, 60, 5, now + 1_100)
            .await
            .unwrap()
            .allowed
    );
    let other = repo.take_token(KeyId::new(), 60, 5, now).await.unwrap();
    assert!(
        other.allowed && (other.tokens - 4.0).abs() < 1e-9,
        "{other:?}"
    );
}

/// A queue bound holds when creates race on several nodes: with room for 3, twelve concurrent
/// creates leave exactly 3 queued and refuse (and charge) none of the rest.
pub async fn the_queue_bound_holds_under_racing_creates(repo: &dyn Repo) {
    let (acc, key) = account(repo, 100).await;
    let racing = (0..12).map(|_| {
        let mut job = new_job(&acc, &key, 1);
        job.max_pending = 3;
        repo.create_job(job, None)
    });
    let outcomes: Vec<CreateOutcome> = join_all(racing)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let created = outcomes
        .iter()
        .filter(|o| matches!(o, CreateOutcome::Created(_)))
        .count();
    let full = outcomes
        .iter()
        .filter(|o| matches!(o, CreateOutcome::QueueFull))
        .count();
    assert_eq!((created, full), (3, 9), "{outcomes:?}");
    assert_eq!(repo.pending_count().await.unwrap(), 3);
    let acc_now = repo.get_account(acc.id).await.unwrap().unwrap();
    assert_eq!(acc_now.balance, 97, "only the queued jobs are charged");
}
