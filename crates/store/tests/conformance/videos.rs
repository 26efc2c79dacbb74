//! The video API's storage checks.

use serde_json::json;

use crate::jobs::{account, new_job};
use cutout_store::*;

pub async fn videos_upload_list_and_cancel(repo: &dyn Repo) {
    let (a, key) = account(repo, 10).await;
    let (b, _) = account(repo, 0).await;
    let up = VideoUpload {
        id: VideoId::new(),
        account: a.id,
        blob: crate::jobs::key("videos/x/source"),
        filename: "clip.mp4".into(),
        size: 1234,
        info: json!({"duration_secs": 2.0}),
        created_at: now_ms(),
    };
    repo.create_upload(&up).await.unwrap();
    assert_eq!(
        repo.get_upload(a.id, up.id).await.unwrap(),
        Some(up.clone())
    );
    assert_eq!(repo.get_upload(b.id, up.id).await.unwrap(), None);

    let mut ids = Vec::new();
    for _ in 0..3 {
        let mut j = new_job(&a, &key, 2);
        j.kind = JobKind::Video;
        ids.push(j.id);
        assert!(matches!(
            repo.create_job(j, None).await.unwrap(),
            CreateOutcome::Created(_)
        ));
    }
    repo.create_job(new_job(&a, &key, 0), None).await.unwrap();
    let listed = repo
        .list_jobs(a.id, JobKind::Video, None, 10, 0)
        .await
        .unwrap();
    let got: Vec<JobId> = listed.iter().map(|j| j.id).collect();
    assert_eq!(
        got,
        [ids[2], ids[1], ids[0]],
        "newest first, video jobs only"
    );
    let page = repo
        .list_jobs(a.id, JobKind::Video, None, 1, 1)
        .await
        .unwrap();
    assert_eq!(page[0].id, ids[1]);
    assert!(repo
        .list_jobs(b.id, JobKind::Video, None, 10, 0)
        .await
        .unwrap()
        .is_empty());
    let balance = |id| async move { repo.get_account(id).await.unwrap().unwrap().balance };
    assert_eq!(balance(a.id).await, 4);

    assert_eq!(repo.cancel_job(b.id, ids[0], "client").await.unwrap(), None);
    assert_eq!(
        repo.cancel_job(a.id, ids[0], "client").await.unwrap(),
        Some(Cancelled::Now)
    );
    assert_eq!(balance(a.id).await, 6, "refunded");
    assert_eq!(
        repo.cancel_job(a.id, ids[0], "client").await.unwrap(),
        Some(Cancelled::AlreadyFinal(JobState::Failed))
    );
    assert_eq!(balance(a.id).await, 6, "refunded once");
    let failed = repo
        .list_jobs(a.id, JobKind::Video, Some(JobState::Failed), 10, 0)
        .await
        .unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].error_code.as_deref(), Some("cancelled"));
    // The ledger shows the grant, three charges and the one refund, newest first.
    let lines = repo.ledger(a.id, 0, 10).await.unwrap();
    let reasons: Vec<&str> = lines.iter().map(|l| l.reason.as_str()).collect();
    assert_eq!(reasons, ["refund", "charge", "charge", "charge", "grant"]);
    assert_eq!((lines[0].delta, lines[0].job), (2, Some(ids[0])));
    assert_eq!(repo.ledger(a.id, 0, 2).await.unwrap().len(), 2);
    assert!(repo
        .ledger(a.id, now_ms() + 60_000, 10)
        .await
        .unwrap()
        .is_empty());
    let events = repo.events(ids[0]).await.unwrap();
    assert_eq!(events.last().unwrap().cause, "cancelled");
}

/// A draft costs nothing until started; starting charges once; a cancelled draft refunds nothing.
pub async fn drafts_start_once_and_cancel_free(repo: &dyn Repo) {
    let (a, key) = account(repo, 5).await;
    let (b, _) = account(repo, 0).await;
    let balance = |id| async move { repo.get_account(id).await.unwrap().unwrap().balance };
    let mut draft = new_job(&a, &key, 4);
    draft.kind = JobKind::Video;
    draft.draft = true;
    let id = draft.id;
    repo.create_job(draft, None).await.unwrap();
    let job = repo.get_job(id).await.unwrap().unwrap();
    assert_eq!((job.state, balance(a.id).await), (JobState::Draft, 5));
    assert!(
        repo.claim_next("w", &[JobKind::Video])
            .await
            .unwrap()
            .is_none(),
        "drafts are not claimable"
    );
    assert!(repo.start_job(b.id, id, "k", 100).await.unwrap().is_none());
    assert!(matches!(
        repo.start_job(a.id, id, "k", 0).await.unwrap(),
        Some(Started::QueueFull)
    ));
    assert!(matches!(
        repo.start_job(a.id, id, "k", 100).await.unwrap(),
        Some(Started::Now(j)) if j.state == JobState::Queued
    ));
    assert_eq!(balance(a.id).await, 1);
    assert!(matches!(
        repo.start_job(a.id, id, "k", 100).await.unwrap(),
        Some(Started::NotDraft(JobState::Queued))
    ));
    assert_eq!(balance(a.id).await, 1, "charged once");

    let mut poor = new_job(&a, &key, 4);
    poor.kind = JobKind::Video;
    poor.draft = true;
    let poor_id = poor.id;
    repo.create_job(poor, None).await.unwrap();
    assert!(matches!(
        repo.start_job(a.id, poor_id, "k", 100).await.unwrap(),
        Some(Started::InsufficientCredits { balance: 1 })
    ));
    assert_eq!(
        repo.cancel_job(a.id, poor_id, "k").await.unwrap(),
        Some(Cancelled::Now)
    );
    assert_eq!(balance(a.id).await, 1, "a draft is never refunded");
    let causes: Vec<String> = repo
        .events(id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.cause)
        .collect();
    assert_eq!(causes, ["created", "started"]);
}

/// A job whose cost is known only after its input is fetched pays once, whatever the attempts;
/// `job.started` is queued once.
pub async fn late_charges_are_paid_once(repo: &dyn Repo) {
    let (a, key) = account(repo, 10).await;
    let mut j = new_job(&a, &key, 0);
    j.kind = JobKind::Video;
    let id = j.id;
    repo.create_job(j, None).await.unwrap();
    let balance = || async { repo.get_account(a.id).await.unwrap().unwrap().balance };
    assert_eq!(
        repo.charge_claimed(id, "w1", 3).await.unwrap(),
        Charged::NotClaimed
    );
    let job = repo
        .claim_next("w1", &[JobKind::Video])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        repo.charge_claimed(id, "w1", 30).await.unwrap(),
        Charged::InsufficientCredits { balance: 10 }
    );
    assert_eq!(
        repo.charge_claimed(id, "w1", 3).await.unwrap(),
        Charged::Now
    );
    assert_eq!(balance().await, 7);
    assert_eq!(repo.get_job(id).await.unwrap().unwrap().cost, 3);
    let hook = || NewDelivery {
        event: "job.started".into(),
        url: "https://example.com/hook".into(),
        body: "{}".into(),
    };
    assert!(repo.enqueue_once(&job, hook()).await.unwrap());
    assert!(!repo.enqueue_once(&job, hook()).await.unwrap());
    // The worker dies; the next attempt finds the charge.
    repo.requeue(id, "w1", now_ms(), "worker_lost", true)
        .await
        .unwrap();
    repo.claim_next("w2", &[JobKind::Video])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        repo.charge_claimed(id, "w2", 3).await.unwrap(),
        Charged::Already
    );
    assert_eq!(balance().await, 7);
    let failed = Finish::Failed {
        code: "bad".into(),
        message: "m".into(),
    };
    assert!(repo.finish(id, "w2", failed, vec![]).await.unwrap());
    assert_eq!(balance().await, 10, "refunded what was charged");
}
