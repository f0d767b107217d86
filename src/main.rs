//! `roster`: the one binary. Subcommands in `cli/`, configuration in `config.rs`.

mod cli;
mod config;

use clap::Parser;

use config::{
    AccountCommand, AdminCommand, AuditCommand, BenchCommand, Cli, Command, ScimTokenCommand,
    TokenCommand, UserCommand,
};

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    roster_core::outbox::install_tls_provider();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("roster: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => cli::serve::run(args).await,
            Command::Migrate(args) => cli::migrate::run(args).await,
            Command::Audit {
                command: AuditCommand::Verify(args),
            } => cli::audit::verify(args).await,
            Command::Admin {
                command: AdminCommand::Create(args),
            } => cli::admin::create(args).await,
            Command::Account {
                command: AccountCommand::Create(args),
            } => cli::account::create(args).await,
            Command::User {
                command: UserCommand::List(args),
            } => cli::user::list(args).await,
            Command::Token {
                command: TokenCommand::Create(args),
            } => cli::token::create(args).await,
            Command::ScimToken {
                command: ScimTokenCommand::Create(args),
            } => cli::token::create_scim(args).await,
            Command::Bench {
                command: BenchCommand::Seed(args),
            } => cli::bench::seed(args).await,
            Command::Bench {
                command: BenchCommand::Users(args),
            } => cli::bench::users(args).await,
            Command::Bench {
                command: BenchCommand::Scim(args),
            } => cli::bench::scim(args).await,
            Command::Bench {
                command: BenchCommand::Signin(args),
            } => cli::bench::signin(args).await,
            Command::Bench {
                command: BenchCommand::Settings(args),
            } => cli::bench_settings::settings(args).await,
            Command::Bench {
                command: BenchCommand::Lookup(args),
            } => cli::bench_lookup::lookup(args).await,
            Command::Bench {
                command: BenchCommand::Usage(args),
            } => cli::bench_usage::usage_bench(args).await,
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("roster: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
