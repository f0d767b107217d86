//! `roster token create`: a new API token, printed once.

use roster_core::domain::api_token::{self, NewToken};
use roster_core::model::NodeId;
use roster_core::{Db, Error};

use crate::cli::account::{command_line_actor, context, explain};
use crate::config::{ScimTokenCreateArgs, TokenCreateArgs};

pub async fn create(args: TokenCreateArgs) -> anyhow::Result<()> {
    let db = Db::connect(&args.storage.database_url()?).await?;
    db.migrate().await?;
    let ctx = context(db.clone());
    let result = async {
        let node = match &args.node {
            Some(n) => Some(NodeId::parse(n).ok_or(Error::field("node", "error-not-found"))?),
            None => None,
        };
        let user = api_token::find_user(&ctx, &args.user).await?;
        let actor = command_line_actor(&ctx).await?;
        api_token::create_token(
            &ctx,
            &actor,
            &NewToken {
                user,
                name: args.name.clone(),
                node,
                read_only: args.read_only,
                scope: if args.usage {
                    api_token::TokenScope::Usage
                } else if args.lookup {
                    api_token::TokenScope::Lookup
                } else {
                    api_token::TokenScope::Admin
                },
                expires_days: args.expires,
            },
        )
        .await
    }
    .await;
    db.close().await;
    match result {
        Ok(created) => {
            println!("{}", created.token);
            Ok(())
        }
        Err(Error::NotFound) => anyhow::bail!("no user with that email address or login"),
        Err(e) => Err(explain(e)),
    }
}

/// `roster scim-token create --account ID`: a new SCIM token, printed once.
pub async fn create_scim(args: ScimTokenCreateArgs) -> anyhow::Result<()> {
    let db = Db::connect(&args.storage.database_url()?).await?;
    db.migrate().await?;
    let ctx = context(db.clone());
    let result = async {
        let node = NodeId::parse(&args.account).ok_or(Error::NotFound)?;
        let actor = command_line_actor(&ctx).await?;
        roster_core::domain::scim::create_token(&ctx, &actor, node, &args.name).await
    }
    .await;
    db.close().await;
    match result {
        Ok(token) => {
            println!("{token}");
            Ok(())
        }
        Err(Error::NotFound) => anyhow::bail!("no such account or unit"),
        Err(e) => Err(explain(e)),
    }
}
