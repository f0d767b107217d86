//! `roster audit verify`: checks the audit trail's hash chains and names the first broken link.

use roster_core::Db;
use roster_core::domain::audit_chain;

use crate::cli::account::context;
use crate::config::MigrateArgs;

pub async fn verify(args: MigrateArgs) -> anyhow::Result<()> {
    let db = Db::connect(&args.storage.database_url()?).await?;
    db.migrate().await?;
    let ctx = context(db.clone());
    let reports = audit_chain::verify(&ctx).await;
    db.close().await;
    let reports = reports?;
    let mut broken = 0;
    for r in &reports {
        let chain = if r.chain.is_empty() {
            "outside any account".to_string()
        } else {
            format!("account {}", r.chain)
        };
        match r.broken {
            None => match (r.first, r.last) {
                (Some(first), Some(last)) => {
                    println!(
                        "{chain}: intact, events {first}–{last} ({} checked)",
                        r.events
                    )
                }
                _ => println!("{chain}: intact, no events kept"),
            },
            Some((seq, id, what)) => {
                broken += 1;
                let id = id.map(|i| format!(" (event {i})")).unwrap_or_default();
                println!(
                    "{chain}: BROKEN at event number {seq}{id}: {}",
                    what.as_str()
                );
            }
        }
    }
    if reports.is_empty() {
        println!("no audit events in a chain yet");
    }
    if broken > 0 {
        anyhow::bail!("{broken} of {} chains broken", reports.len());
    }
    Ok(())
}
