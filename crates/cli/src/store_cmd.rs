//! `cutout store copy`: moves an install (accounts, keys, the ledger, jobs and their events,
//! presets, idempotency records, assets and conversions, videos, and every blob) to another
//! database and blob store, e.g. from the embedded SQLite + disk to PostgreSQL + S3, and checks
//! the counts.

use std::process::ExitCode;

use cutout_store::{BlobsConfig, DatabaseConfig};

use crate::args::StoreCopyArgs;
use crate::BoxError;

pub fn copy(a: &StoreCopyArgs) -> Result<ExitCode, BoxError> {
    let from = DatabaseConfig::from_url(&a.from, 4)?;
    let to = DatabaseConfig::from_url(&a.to, 8)?;
    let (blobs_from, blobs_to) = (
        BlobsConfig::from_url(&a.blobs_from)?,
        BlobsConfig::from_url(&a.blobs_to)?,
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let report = rt.block_on(async {
        let src = cutout_store::open_blobs(&blobs_from).await?;
        let dst = cutout_store::open_blobs(&blobs_to).await?;
        cutout_store::copy_store(&from, &to, &*src, &*dst).await
    })?;
    for (table, rows) in &report.rows {
        println!("{table:<20} {rows:>8} rows");
    }
    println!("{:<20} {:>8}", "blobs", report.blobs);
    println!("counts verified: the target holds what the source holds");
    Ok(ExitCode::SUCCESS)
}
