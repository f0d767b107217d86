use roster_core::domain::user::{self, ListFilter};
use roster_core::model::NodeId;
use roster_core::{Db, Error};

use crate::cli::account::{command_line_actor, context, explain};
use crate::config::UserListArgs;

/// `roster user list --account ID`: every user of the account, tab-separated, page by page.
pub async fn list(args: UserListArgs) -> anyhow::Result<()> {
    let db = Db::connect(&args.storage.database_url()?).await?;
    db.migrate().await?;
    let ctx = context(db.clone());
    let result = async {
        let node = NodeId::parse(&args.account).ok_or(Error::NotFound)?;
        let actor = command_line_actor(&ctx).await?;
        let mut filter = ListFilter {
            node: Some(node),
            ..Default::default()
        };
        println!("id\temail_or_login\tname\trole\tstatus\tunit");
        loop {
            let page = user::list_users(&ctx, &actor, &filter).await?;
            for u in &page.users {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    u.id,
                    u.email,
                    u.name,
                    u.user_type.as_str(),
                    u.status.as_str(),
                    u.node_name
                );
            }
            match page.next {
                Some(next) => filter.after = Some(next),
                None => break,
            }
        }
        Ok::<(), Error>(())
    }
    .await;
    db.close().await;
    match result {
        Err(Error::NotFound) => anyhow::bail!("no such account"),
        other => other.map_err(explain),
    }
}
