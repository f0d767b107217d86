use roster_core::Db;

use crate::config::MigrateArgs;

/// `roster migrate`: applies pending migrations and exits.
pub async fn run(args: MigrateArgs) -> anyhow::Result<()> {
    let db = Db::connect(&args.storage.database_url()?).await?;
    db.migrate().await?;
    println!(
        "{} database is at schema version {}",
        db.engine().name(),
        db.schema_version()
    );
    db.close().await;
    Ok(())
}
