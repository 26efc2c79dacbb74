//! Jobs, the queue, the ledger, keys, presets, idempotency and the webhook outbox: checks that
//! panic on a violation, each run on a fresh database (see `main.rs`).

use cutout_store::*;

pub(crate) async fn account(repo: &dyn Repo, credits: i64) -> (Account, ApiKey) {
    let acc = repo.create_account("acme", credits, "whsec").await.unwrap();
    let hash = format!("hash-{}", uuid::Uuid::new_v4());
    let key = repo
        .create_key(acc.id, "k", &hash, "ck_x", &[Scope::All])
        .await
        .unwrap();
    (acc, key)
}

pub(crate) fn key(s: &str) -> BlobKey {
    BlobKey::parse(s).unwrap()
}

pub(crate) fn new_job(acc: &Account, key: &ApiKey, cost: i64) -> NewJob {
    NewJob {
        id: JobId::new(),
        account: acc.id,
        key: key.id,
        kind: JobKind::Image,
        mode: "clipping".into(),
        spec: serde_json::json!({"output_format": "png"}),
        input_key: None,
        max_attempts: 2,
        cost,
        max_pending: 1000,
        draft: false,
    }
}

async fn created(repo: &dyn Repo, job: NewJob) -> Job {
    match repo.create_job(job, None).await.unwrap() {
        CreateOutcome::Created(j) => *j,
        other => panic!("expected Created, got {other:?}"),
    }
}

async fn balance(repo: &dyn Repo, acc: &Account) -> i64 {
    repo.get_account(acc.id).await.unwrap().unwrap().balance
}

/// Drains the queue of everything earlier tests left runnable.
async fn drain(repo: &dyn Repo) {
    while let Some(j) = repo.claim_next("drain", &[JobKind::Image]).await.unwrap() {
        let done = Finish::Completed {
            result: serde_json::json!({}),
        };
        assert!(repo.finish(j.id, "drain", done, vec![]).await.unwrap());
    }
}

pub async fn jobs_debit_and_refuse_when_short(repo: &dyn Repo) {
    let (acc, key) = account(repo, 2).await;
    let job = created(repo, new_job(&acc, &key, 2)).await;
    assert_eq!(job.state, JobState::Queued);
    assert_eq!(job.spec["output_format"], "png");
    assert_eq!(balance(repo, &acc).await, 0);
    match repo.create_job(new_job(&acc, &key, 1), None).await.unwrap() {
        CreateOutcome::InsufficientCredits { balance } => assert_eq!(balance, 0),
        other => panic!("expected InsufficientCredits, got {other:?}"),
    }
    let fetched = repo.get_job(job.id).await.unwrap().unwrap();
    assert_eq!(fetched.id, job.id);
    assert!(repo.get_job(JobId::new()).await.unwrap().is_none());
    let usage = repo.usage(acc.id).await.unwrap();
    assert_eq!((usage.jobs_total, usage.credits_spent), (1, 2));
    drain(repo).await;
}

pub async fn idempotency_replays_and_conflicts(repo: &dyn Repo) {
    let (acc, key) = account(repo, 10).await;
    let rec = |hash: &str| IdemRecord {
        key: key.id,
        idem_key: "retry-1".into(),
        request_hash: hash.into(),
        status: 202,
        body: "{\"first\":true}".into(),
    };
    let first = created_with(repo, new_job(&acc, &key, 1), rec("h1")).await;
    assert!(matches!(first, CreateOutcome::Created(_)));
    match repo
        .create_job(new_job(&acc, &key, 1), Some(rec("h1")))
        .await
        .unwrap()
    {
        CreateOutcome::Replay(r) => assert_eq!(r.body, "{\"first\":true}"),
        other => panic!("expected Replay, got {other:?}"),
    }
    let conflict = repo
        .create_job(new_job(&acc, &key, 1), Some(rec("h2")))
        .await
        .unwrap();
    assert!(
        matches!(conflict, CreateOutcome::IdemConflict),
        "{conflict:?}"
    );
    assert_eq!(
        balance(repo, &acc).await,
        9,
        "a replay must not charge again"
    );
    // The generic record API keeps the first response.
    let mut other = rec("h3");
    other.idem_key = "retry-2".into();
    assert_eq!(repo.put_idem(other.clone()).await.unwrap(), other);
    let mut second = other.clone();
    second.body = "changed".into();
    assert_eq!(repo.put_idem(second).await.unwrap().body, other.body);
    assert_eq!(repo.get_idem(key.id, "retry-2").await.unwrap(), Some(other));
    drain(repo).await;
}

async fn created_with(repo: &dyn Repo, job: NewJob, rec: IdemRecord) -> CreateOutcome {
    repo.create_job(job, Some(rec)).await.unwrap()
}

pub async fn claim_finish_and_lost_claims(repo: &dyn Repo) {
    let (acc, key) = account(repo, 10).await;
    let a = created(repo, new_job(&acc, &key, 1)).await;
    let b = created(repo, new_job(&acc, &key, 1)).await;
    assert!(
        repo.claim_next("w1", &[JobKind::Video])
            .await
            .unwrap()
            .is_none(),
        "wrong kind claimed"
    );
    let first = repo
        .claim_next("w1", &[JobKind::Image])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.id, a.id, "oldest first");
    assert_eq!((first.state, first.attempts), (JobState::Running, 1));
    assert!(repo.heartbeat(a.id, "w1").await.unwrap());
    assert!(
        !repo.heartbeat(a.id, "w2").await.unwrap(),
        "another worker's claim"
    );
    assert!(repo
        .set_progress(a.id, "w1", cutout_store::JobPhase::Processing, 40)
        .await
        .unwrap());
    assert_eq!(repo.get_job(a.id).await.unwrap().unwrap().progress, 40);
    let done = Finish::Completed {
        result: serde_json::json!({"blob": "r.png"}),
    };
    assert!(!repo.finish(a.id, "w2", done.clone(), vec![]).await.unwrap());
    assert!(repo.finish(a.id, "w1", done.clone(), vec![]).await.unwrap());
    assert!(
        !repo.finish(a.id, "w1", done, vec![]).await.unwrap(),
        "finished twice"
    );
    let a = repo.get_job(a.id).await.unwrap().unwrap();
    assert_eq!(
        (a.state, a.result.unwrap()["blob"].as_str()),
        (JobState::Completed, Some("r.png"))
    );
    // A graceful release does not count an attempt.
    let second = repo
        .claim_next("w1", &[JobKind::Image])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.id, b.id);
    assert!(repo
        .requeue(b.id, "w1", now_ms(), "shutdown", false)
        .await
        .unwrap());
    let b = repo.get_job(b.id).await.unwrap().unwrap();
    assert_eq!((b.state, b.attempts), (JobState::Queued, 0));
    // A failure with refund gives the credit back once.
    let again = repo
        .claim_next("w1", &[JobKind::Image])
        .await
        .unwrap()
        .unwrap();
    let fail = Finish::Failed {
        code: "corrupt".into(),
        message: "bad".into(),
    };
    assert!(repo.finish(again.id, "w1", fail, vec![]).await.unwrap());
    assert_eq!(balance(repo, &acc).await, 9);
    let events = repo.events(again.id).await.unwrap();
    let trail: Vec<&str> = events.iter().map(|e| e.to.as_str()).collect();
    assert_eq!(trail, ["queued", "running", "queued", "running", "failed"]);
    assert_eq!(events[2].cause, "shutdown");
    assert_eq!(events[4].cause, "corrupt");
}

pub async fn stale_claims_requeue_then_fail_with_one_refund(repo: &dyn Repo) {
    let (acc, key) = account(repo, 5).await;
    let job = created(repo, new_job(&acc, &key, 3)).await;
    assert_eq!(balance(repo, &acc).await, 2);
    let claimed = repo
        .claim_next("dead-1", &[JobKind::Image])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.id, job.id);
    // A heartbeat in the future of the cutoff keeps the claim.
    assert!(repo.reap_stale(now_ms() - 60_000).await.unwrap().is_empty());
    assert_eq!(repo.reap_stale(now_ms() + 1).await.unwrap(), vec![job.id]);
    let j = repo.get_job(job.id).await.unwrap().unwrap();
    assert_eq!((j.state, j.claimed_by), (JobState::Queued, None));
    // The old worker's late result is refused.
    let late = Finish::Completed {
        result: serde_json::json!({}),
    };
    assert!(!repo.finish(job.id, "dead-1", late, vec![]).await.unwrap());
    repo.claim_next("dead-2", &[JobKind::Image])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(repo.reap_stale(now_ms() + 1).await.unwrap(), vec![job.id]);
    let j = repo.get_job(job.id).await.unwrap().unwrap();
    assert_eq!(
        (j.state, j.error_code.as_deref()),
        (JobState::Failed, Some("worker_lost"))
    );
    assert_eq!(balance(repo, &acc).await, 5, "refunded exactly once");
}

pub async fn queue_is_bounded(repo: &dyn Repo) {
    let (acc, key) = account(repo, 10).await;
    let pending = repo.pending_count().await.unwrap();
    let mut job = new_job(&acc, &key, 1);
    job.max_pending = pending + 1;
    created(repo, job.clone()).await;
    job.id = JobId::new();
    let full = repo.create_job(job, None).await.unwrap();
    assert!(matches!(full, CreateOutcome::QueueFull), "{full:?}");
    assert_eq!(balance(repo, &acc).await, 9, "a refused job is not charged");
    let counts = repo.count_by_state().await.unwrap();
    assert!(
        counts.iter().any(|&(s, n)| s == JobState::Queued && n >= 1),
        "{counts:?}"
    );
    drain(repo).await;
}

pub async fn keys_and_credits(repo: &dyn Repo) {
    let acc = repo.create_account("team", 0, "s3cret").await.unwrap();
    let key = repo
        .create_key(acc.id, "ci", "deadbeef", "ck_dead", &[Scope::ImagesWrite])
        .await
        .unwrap();
    let found = repo.find_key("deadbeef").await.unwrap().unwrap();
    assert_eq!((found.id, found.account), (key.id, acc.id));
    assert!(found.has_scope(Scope::ImagesWrite) && !found.has_scope(Scope::AssetsRead));
    assert!(repo
        .list_keys()
        .await
        .unwrap()
        .iter()
        .any(|k| k.id == key.id));
    assert_eq!(
        repo.credit(acc.id, 7, LedgerReason::Admin).await.unwrap(),
        Some(7)
    );
    assert_eq!(
        repo.credit(acc.id, -8, LedgerReason::Admin).await.unwrap(),
        None,
        "below zero"
    );
    assert_eq!(
        repo.webhook_secret(acc.id).await.unwrap().as_deref(),
        Some("s3cret")
    );
    assert!(repo.revoke_key(key.id).await.unwrap());
    assert!(!repo.revoke_key(key.id).await.unwrap());
    assert!(
        repo.find_key("deadbeef").await.unwrap().is_none(),
        "revoked key still valid"
    );
}

pub async fn presets_crud(repo: &dyn Repo) {
    let (a, _) = account(repo, 0).await;
    let (b, _) = account(repo, 0).await;
    let p = serde_json::json!({"bg_color": "#fff"});
    assert!(repo.put_preset(a.id, "web", &p).await.unwrap());
    assert!(!repo
        .put_preset(a.id, "web", &serde_json::json!({"crop": true}))
        .await
        .unwrap());
    assert_eq!(
        repo.get_preset(a.id, "web").await.unwrap().unwrap().params["crop"],
        true
    );
    assert!(
        repo.get_preset(b.id, "web").await.unwrap().is_none(),
        "presets leak across accounts"
    );
    assert_eq!(repo.list_presets(a.id).await.unwrap().len(), 1);
    assert!(repo.delete_preset(a.id, "web").await.unwrap());
    assert!(!repo.delete_preset(a.id, "web").await.unwrap());
}

pub async fn webhook_outbox(repo: &dyn Repo) {
    let (acc, key) = account(repo, 1).await;
    let job = created(repo, new_job(&acc, &key, 1)).await;
    repo.claim_next("w", &[JobKind::Image])
        .await
        .unwrap()
        .unwrap();
    let hook = NewDelivery {
        event: "job.completed".into(),
        url: "https://example.com/hook".into(),
        body: "{}".into(),
    };
    let done = Finish::Completed {
        result: serde_json::json!({}),
    };
    assert!(repo.finish(job.id, "w", done, vec![hook]).await.unwrap());
    let due = repo.due_deliveries(now_ms() + 1, 10).await.unwrap();
    let d = due
        .iter()
        .find(|d| d.job == job.id)
        .expect("delivery enqueued with the job");
    repo.delivery_failed(d, "timeout", Some(now_ms() + 60_000))
        .await
        .unwrap();
    assert!(!repo
        .due_deliveries(now_ms() + 1, 10)
        .await
        .unwrap()
        .iter()
        .any(|x| x.id == d.id));
    let later = repo.due_deliveries(now_ms() + 120_000, 10).await.unwrap();
    let d = later.iter().find(|x| x.id == d.id).expect("rescheduled");
    assert_eq!(d.attempts, 1);
    repo.delivery_done(d).await.unwrap();
    assert!(!repo
        .due_deliveries(now_ms() + 120_000, 10)
        .await
        .unwrap()
        .iter()
        .any(|x| x.id == d.id));
}
