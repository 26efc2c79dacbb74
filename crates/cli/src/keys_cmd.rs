//! `cutout keys ...` and `cutout config print`: administration straight on the database.

use std::process::ExitCode;
use std::sync::Arc;

use cutout_server::{keys, Config};
use cutout_store::{AccountId, KeyId, LedgerReason, Repo, Scope};

use crate::args::{KeysCommand, ServeArgs};
use crate::BoxError;

pub fn print_config(args: &ServeArgs) -> Result<ExitCode, BoxError> {
    let config = Config::load(args.config.as_deref())?;
    print!("{}", config.to_masked_toml());
    Ok(ExitCode::SUCCESS)
}

async fn open(args: &ServeArgs) -> Result<Arc<dyn Repo>, BoxError> {
    let config = Config::load(args.config.as_deref())?;
    Ok(cutout_store::open_repo(&config.storage.database).await?)
}

pub fn run(cmd: KeysCommand) -> Result<ExitCode, BoxError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        match cmd {
            KeysCommand::Create {
                name,
                credits,
                scopes,
                account,
                cfg,
            } => create(&open(&cfg).await?, &name, credits, &scopes, account).await,
            KeysCommand::List(cfg) => list(&open(&cfg).await?).await,
            KeysCommand::Revoke { id, cfg } => {
                let id: KeyId = id.parse().map_err(|_| format!("{id:?} is not a key id"))?;
                if open(&cfg).await?.revoke_key(id).await? {
                    println!("revoked {id}");
                    Ok(ExitCode::SUCCESS)
                } else {
                    Err(format!("no live key {id}").into())
                }
            }
            KeysCommand::Credit {
                account,
                amount,
                cfg,
            } => {
                let id: AccountId = account
                    .parse()
                    .map_err(|_| format!("{account:?} is not an account id"))?;
                match open(&cfg)
                    .await?
                    .credit(id, amount, LedgerReason::Admin)
                    .await?
                {
                    Some(balance) => {
                        println!("account {id}: balance {balance}");
                        Ok(ExitCode::SUCCESS)
                    }
                    None => {
                        Err(format!("account {id} does not exist or would go below zero").into())
                    }
                }
            }
        }
    })
}

async fn create(
    repo: &Arc<dyn Repo>,
    name: &str,
    credits: i64,
    scopes: &[String],
    account: Option<String>,
) -> Result<ExitCode, BoxError> {
    let scopes = keys::parse_scopes(scopes)?;
    let account = match account {
        Some(a) => {
            let id: AccountId = a
                .parse()
                .map_err(|_| format!("{a:?} is not an account id"))?;
            let acc = repo
                .get_account(id)
                .await?
                .ok_or_else(|| format!("no account {id}"))?;
            if credits != 0 {
                repo.credit(id, credits, LedgerReason::Grant).await?;
            }
            acc
        }
        None => {
            repo.create_account(name, credits, &keys::webhook_secret())
                .await?
        }
    };
    let secret = keys::generate();
    let key = repo
        .create_key(
            account.id,
            name,
            &keys::hash(&secret),
            &keys::prefix(&secret),
            &scopes,
        )
        .await?;
    println!("key:            {secret}");
    println!("key id:         {}", key.id);
    println!("account id:     {}", account.id);
    println!(
        "credits:        {}",
        repo.get_account(account.id).await?.map_or(0, |a| a.balance)
    );
    println!("scopes:         {}", scope_list(&scopes));
    println!("webhook secret: {}", account.webhook_secret);
    eprintln!("The key is shown only now: store it safely.");
    Ok(ExitCode::SUCCESS)
}

async fn list(repo: &Arc<dyn Repo>) -> Result<ExitCode, BoxError> {
    println!(
        "{:<38} {:<38} {:<12} {:<20} {:<8} scopes",
        "key id", "account id", "prefix", "name", "revoked"
    );
    for k in repo.list_keys().await? {
        println!(
            "{:<38} {:<38} {:<12} {:<20} {:<8} {}",
            k.id,
            k.account,
            k.prefix,
            k.name,
            k.revoked_at.is_some(),
            scope_list(&k.scopes)
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn scope_list(scopes: &[Scope]) -> String {
    let names: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
    names.join(",")
}
