use anyhow::Context as _;
use roster_core::domain::setup::{self, FirstAdmin};
use roster_core::model::Lang;
use roster_core::password::HashCost;
use roster_core::{Clock, Ctx, Db, Error, Settings, i18n};

use crate::config::AdminCreateArgs;

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
    let ctx = Ctx {
        db: db.clone(),
        clock: Clock::System,
        settings: Settings::new("http://localhost", cost),
    };
    let input = FirstAdmin {
        first_name: args.first_name,
        last_name: args.last_name,
        email: args.email.clone(),
        password: password.clone(),
        password_repeat: password,
        lang,
    };
    let result = setup::create_operator_admin(&ctx, &input).await;
    db.close().await;
    match result {
        Ok(id) => {
            println!(
                "Created operator administrator {} ({id})",
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
        Err(e) => Err(e.into()),
    }
}
