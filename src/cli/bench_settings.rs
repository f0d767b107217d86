//! `roster bench settings`: resolving a user's service settings at depth 1 and at depth N of
//! the tree, with values set on the account and on the top unit (so the bottom user's values
//! come from far up).

use std::time::Instant;

use roster_core::Db;
use roster_core::domain::{node, service, user};
use serde_json::json;

use crate::cli::account::{command_line_actor, context};
use crate::cli::bench::percentile;
use crate::config::BenchSettingsArgs;

pub async fn settings(args: BenchSettingsArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.depth >= 1 && args.lookups >= 1,
        "--depth and --lookups: at least 1"
    );
    let db = Db::connect(&args.storage.database_url()?).await?;
    db.migrate().await?;
    let ctx = context(db.clone());
    let actor = command_line_actor(&ctx).await?;
    let tag = roster_core::secret::new_token()?[..6].to_lowercase();
    let account = node::create_account(
        &ctx,
        &actor,
        &node::AccountInput {
            name: format!("Settings {tag}"),
            default_language: "en".into(),
            default_country: "SE".into(),
            ..Default::default()
        },
    )
    .await?;
    let set = |node, v: serde_json::Value| {
        let ctx = ctx.clone();
        let actor = actor.clone();
        async move {
            let changes = v.as_object().cloned().unwrap_or_default();
            service::set_node_settings(&ctx, &actor, node, "sms", None, &changes).await
        }
    };
    set(account, json!({"sender_id": "ACME", "max_parts": 5})).await?;
    let mut units = vec![];
    let mut parent = account;
    for d in 1..=args.depth {
        let unit = node::create_unit(&ctx, &actor, parent, &format!("Level {d}")).await?;
        units.push(unit);
        parent = unit;
    }
    set(units[0], json!({"signature": "Top unit"})).await?;
    let person = |node, email: String| {
        let ctx = ctx.clone();
        let actor = actor.clone();
        async move {
            let input = user::NewUser {
                profile: user::ProfileInput {
                    first_name: "Bench".into(),
                    last_name: "User".into(),
                    user_type: "user".into(),
                    language: "en".into(),
                    ..Default::default()
                },
                email,
                services: vec!["sms".into()],
                ..Default::default()
            };
            user::create_user(&ctx, &actor, node, &input)
                .await
                .map(|c| c.id)
        }
    };
    let top = person(units[0], format!("top-{tag}@bench.test")).await?;
    let deepest = units.last().copied().unwrap_or(account);
    let bottom = person(deepest, format!("bottom-{tag}@bench.test")).await?;
    println!(
        "Service settings resolution on {}, {} lookups each",
        db.engine().name(),
        args.lookups
    );
    println!("| user | depth | p50 ms | p99 ms | max ms |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    for (label, depth, id) in [("top", 1, top), ("bottom", args.depth, bottom)] {
        let mut times = Vec::with_capacity(args.lookups);
        for i in 0..args.lookups + 20 {
            let started = Instant::now();
            let s = service::user_settings(&ctx, &actor, id, "sms").await?;
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            anyhow::ensure!(
                s.values.iter().any(|v| v.value == "Top unit"),
                "resolved wrongly"
            );
            if i >= 20 {
                times.push(ms);
            }
        }
        times.sort_by(|a, b| a.total_cmp(b));
        println!(
            "| {label} | {depth} | {:.3} | {:.3} | {:.3} |",
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            times[times.len() - 1]
        );
    }
    db.close().await;
    Ok(())
}
