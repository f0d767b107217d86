use roster_core::domain::Actor;
use roster_core::domain::node::{self, AccountInput};
use roster_core::domain::setup;
use roster_core::password::HashCost;
use roster_core::{Clock, Ctx, Db, Error, Settings, i18n, model::Lang};

use crate::config::AccountCreateArgs;

/// The actor of commands run on the server: operator powers, audited as "command line".
pub async fn command_line_actor(ctx: &Ctx) -> Result<Actor, Error> {
    setup::prepare_first_run(ctx).await?;
    let (root, path) = setup::operator_root(ctx).await?;
    Ok(Actor::command_line(root, path))
}

pub fn context(db: Db) -> Ctx {
    Ctx::new(
        db,
        Clock::System,
        Settings::new("http://localhost", HashCost::OWASP),
    )
}

/// Field problems as lines for the terminal, in English.
pub fn explain(e: Error) -> anyhow::Error {
    match e {
        Error::Invalid(fields) => anyhow::anyhow!(
            "{}",
            fields
                .iter()
                .map(|f| format!("{}: {}", f.field, i18n::t(Lang::En, f.code)))
                .collect::<Vec<_>>()
                .join("\n")
        ),
        other => other.into(),
    }
}

/// `roster account create --name N`: prints the new account's id.
pub async fn create(args: AccountCreateArgs) -> anyhow::Result<()> {
    let db = Db::connect(&args.storage.database_url()?).await?;
    db.migrate().await?;
    let ctx = context(db.clone());
    let input = AccountInput {
        name: args.name,
        contact_name: args.contact_name,
        contact_email: args.contact_email,
        contact_phone: String::new(),
        default_language: args.language,
        default_country: args.country,
    };
    let result =
        async { node::create_account(&ctx, &command_line_actor(&ctx).await?, &input).await }.await;
    db.close().await;
    println!("{}", result.map_err(explain)?);
    Ok(())
}
