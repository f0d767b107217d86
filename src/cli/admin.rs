use anyhow::Context as _;
use roster_core::domain::setup::{self, FirstAdmin};
use roster_core::domain::user;
use roster_core::model::{Lang, NodeId};
use roster_core::password::HashCost;
use roster_core::{Clock, Ctx, Db, Error, Settings, i18n};

use crate::cli::account::command_line_actor;
use crate::config::AdminCreateArgs;

/// An administrator of a customer account, through the same domain function as Add user.
async fn create_account_admin(
    ctx: &Ctx,
    account: &str,
    input: &FirstAdmin,
) -> Result<roster_core::model::UserId, Error> {
    let node = NodeId::parse(account).ok_or(Error::field("account", "error-not-found"))?;
    let actor = command_line_actor(ctx).await?;
    let new = user::NewUser {
        profile: user::ProfileInput {
            first_name: input.first_name.clone(),
            last_name: input.last_name.clone(),
            user_type: "administrator".into(),
            language: input.lang.code().into(),
            ..Default::default()
        },
        email: input.email.clone(),
        password: user::PasswordChoice::SetNow(input.password.clone()),
        ..Default::default()
    };
    Ok(user::create_user(ctx, &actor, node, &new).await?.id)
}

/// `roster admin create`: adds an operator administrator, the same rules as the set-up page.
pub async fn create(args: AdminCreateArgs) -> anyhow::Result<()> {
    let password = match &args.password_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            text.lines().next().unwrap_or("").to_string()
        }
        None => {
            let first = rpassword::prompt_password("Password: ")?;
            let again = rpassword::prompt_password("Repeat the password: ")?;
            anyhow::ensure!(first == again, "the two passwords are not the same");
            first
        }
    };
    let lang = Lang::parse(&args.language).context("--language must be en, nl or sv")?;
    let db = Db::connect(&args.storage.database_url()?).await?;
    db.migrate().await?;
    let cost = HashCost {
        memory_kib: args.hash.password_hash_memory_kib,
        iterations: args.hash.password_hash_iterations,
    };
    let ctx = Ctx::new(
        db.clone(),
        Clock::System,
        Settings::new("http://localhost", cost),
    );
    let input = FirstAdmin {
        first_name: args.first_name,
        last_name: args.last_name,
        email: args.email.clone(),
        password: password.clone(),
        password_repeat: password,
        lang,
    };
    let result = match &args.account {
        None => setup::create_operator_admin(&ctx, &input).await,
        Some(account) => create_account_admin(&ctx, account, &input).await,
    };
    db.close().await;
    match result {
        Ok(id) => {
            let kind = if args.account.is_some() {
                "account"
            } else {
                "operator"
            };
            println!(
                "Created {kind} administrator {} ({id})",
                args.email.trim().to_lowercase()
            );
            Ok(())
        }
        Err(Error::Invalid(fields)) => {
            let lines: Vec<String> = fields
                .iter()
                .map(|f| format!("{}: {}", f.field, i18n::t(Lang::En, f.code)))
                .collect();
            anyhow::bail!("{}", lines.join("\n"))
        }
        Err(Error::NotFound) => anyhow::bail!("no such account"),
        Err(e) => Err(e.into()),
    }
}
