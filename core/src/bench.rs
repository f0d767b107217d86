//! The data generator behind `roster bench`: one account with units and many users, written in
//! large batches. It writes exactly the rows Add user writes (user, search terms, unit counts)
//! but skips the per-user checks and hashing, which is what makes a million users take minutes.

use std::time::Instant;

use uuid::Uuid;

use crate::context::Ctx;
use crate::domain::Actor;
use crate::domain::node::{self, AccountInput};
use crate::domain::user::{search_terms_of, sort_name_of};
use crate::error::Result;
use crate::model::NodeId;
use crate::store::{self, user::UserRow};

const FIRST: [&str; 24] = [
    "Anna", "Erik", "Maria", "Lars", "Eva", "Johan", "Karin", "Anders", "Sara", "Per", "Emma",
    "Jan", "Sofie", "Daan", "Lotte", "Bram", "Fleur", "Ruben", "Noor", "Sem", "Julia", "Lucas",
    "Mila", "Finn",
];
const LAST: [&str; 20] = [
    "Andersson",
    "Johansson",
    "Karlsson",
    "Nilsson",
    "Eriksson",
    "Larsson",
    "Olsson",
    "Persson",
    "Svensson",
    "Gustafsson",
    "de Jong",
    "Jansen",
    "de Vries",
    "van den Berg",
    "van Dijk",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "de Boer",
];

pub struct Seeded {
    pub account: NodeId,
    pub units: Vec<NodeId>,
    pub users: usize,
    pub seconds: f64,
}

/// Creates an account named `name` with `units` units (in two levels) and `users` users spread
/// over them; user i has the email `user{i}@{domain}`.
pub async fn seed(
    ctx: &Ctx,
    actor: &Actor,
    name: &str,
    units: usize,
    users: usize,
) -> Result<Seeded> {
    let started = Instant::now();
    let input = AccountInput {
        name: name.into(),
        default_language: "en".into(),
        default_country: "SE".into(),
        ..Default::default()
    };
    let account = node::create_account(ctx, actor, &input).await?;
    let mut unit_ids = vec![account];
    let top = (units as f64).sqrt().ceil() as usize;
    for i in 0..units {
        let parent = if i < top {
            account
        } else {
            unit_ids[1 + (i % top)]
        };
        unit_ids.push(node::create_unit(ctx, actor, parent, &format!("Unit {i:04}")).await?);
    }
    let domain = format!(
        "{}.test",
        name.to_lowercase()
            .replace(|c: char| !c.is_ascii_alphanumeric(), "")
    );
    let now = ctx.clock.now().millis();
    const BATCH: usize = 500;
    let mut counts = vec![0i64; unit_ids.len()];
    let mut i = 0;
    while i < users {
        let end = (i + BATCH * 20).min(users);
        let mut tx = ctx.db.begin().await?;
        let mut rows = Vec::with_capacity(BATCH);
        let mut terms: Vec<(Uuid, String)> = Vec::with_capacity(BATCH * 6);
        for n in i..end {
            let unit = n % unit_ids.len();
            counts[unit] += 1;
            let (first, last) = (FIRST[n % FIRST.len()], LAST[(n / FIRST.len()) % LAST.len()]);
            let email = format!("user{n}@{domain}");
            let row = UserRow {
                id: Uuid::now_v7(),
                node_id: unit_ids[unit].0,
                account_id: account.0,
                kind: "person".into(),
                email: Some(email.clone()),
                email_verified: false,
                email_pending: None,
                login: None,
                sort_name: sort_name_of(first, last, &email),
                first_name: first.into(),
                last_name: last.into(),
                friendly_name: String::new(),
                phone: None,
                country_code: "SE".into(),
                language: "en".into(),
                user_type: if n % 1000 == 0 {
                    "administrator"
                } else {
                    "user"
                }
                .into(),
                status: if n % 7 == 0 { "invited" } else { "active" }.into(),
                password_hash: None,
                password_must_change: false,
                notes: String::new(),
                receive_invoices: false,
                notifications_enabled: false,
                notify_email: false,
                notify_sms: false,
                mfa_required: false,
                invite_message: String::new(),
                version: 1,
                created_at: now,
                updated_at: now,
            };
            terms.extend(search_terms_of(&row).into_iter().map(|t| (row.id, t)));
            rows.push(row);
            if rows.len() == BATCH {
                store::user::insert_users_bulk(tx.ex(), &rows).await?;
                store::user::insert_terms_bulk(tx.ex(), account.0, &terms).await?;
                rows.clear();
                terms.clear();
            }
        }
        if !rows.is_empty() {
            store::user::insert_users_bulk(tx.ex(), &rows).await?;
            store::user::insert_terms_bulk(tx.ex(), account.0, &terms).await?;
        }
        tx.commit().await?;
        i = end;
    }
    let mut tx = ctx.db.begin().await?;
    for (unit, count) in unit_ids.iter().zip(&counts) {
        store::node::adjust_user_count(tx.ex(), unit.0, *count).await?;
    }
    tx.commit().await?;
    // A bulk load leaves the planner's statistics behind: refresh them, as autovacuum would.
    let mut tx = ctx.db.begin().await?;
    store::stats::analyze(tx.ex()).await?;
    tx.commit().await?;
    Ok(Seeded {
        account,
        units: unit_ids,
        users,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Gives every user of `account` the same password hash and makes them active (the sign-in
/// benchmark signs them in); returns their addresses.
pub async fn set_all_passwords(ctx: &Ctx, account: NodeId, hash: &str) -> Result<Vec<String>> {
    let mut tx = ctx.db.begin().await?;
    let emails = store::user::bench_set_passwords(tx.ex(), account.0, hash).await?;
    tx.commit().await?;
    Ok(emails)
}

/// Gives each of these users an authenticator app (a confirmed TOTP factor with a fresh seed,
/// sealed like any other); returns the seeds in base32, in the same order.
pub async fn give_totp(ctx: &Ctx, emails: &[String]) -> Result<Vec<String>> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let mut secrets = Vec::with_capacity(emails.len());
    for email in emails {
        let user = store::user::find_user_by_email(tx.ex(), email)
            .await?
            .ok_or(crate::Error::NotFound)?;
        let mut seed = [0u8; 20];
        crate::secret::fill_random(&mut seed)?;
        let id = uuid::Uuid::now_v7();
        store::factor::insert_factor(
            tx.ex(),
            &store::factor::FactorRow {
                id,
                user_id: user.id,
                kind: "totp".into(),
                name: "Bench".into(),
                secret: Some(ctx.settings.secret_key.seal(&seed, id.as_bytes())?),
                data: String::new(),
                last_step: 0,
                confirmed: true,
                created_at: now.millis(),
                last_used_at: None,
            },
        )
        .await?;
        secrets.push(totp_rs::Secret::from(seed.to_vec()).to_base32());
    }
    tx.commit().await?;
    Ok(secrets)
}

/// The code an authenticator app shows for a base32 seed at `at`.
pub fn totp_code(secret: &str, at: crate::model::Timestamp) -> Option<String> {
    let seed = totp_rs::Secret::try_from_base32(secret).ok()?;
    let totp = totp_rs::Builder::new().with_secret(seed).build().ok()?;
    Some(totp.generate(at.millis().max(0) as u64 / 1000).to_string())
}

/// Gives every person user of `account` a provider's userName (its address), as if an identity
/// provider had provisioned them over SCIM; returns how many were adopted.
pub async fn adopt_for_scim(ctx: &Ctx, account: NodeId) -> Result<u64> {
    let mut tx = ctx.db.begin().await?;
    let n = store::scim::adopt_account_users(tx.ex(), account.0).await?;
    tx.commit().await?;
    let mut tx = ctx.db.begin().await?;
    store::stats::analyze(tx.ex()).await?;
    tx.commit().await?;
    Ok(n)
}

/// Every userName of the account's person users (the provider's, else the address).
pub async fn user_names(ctx: &Ctx, account: NodeId) -> Result<Vec<String>> {
    let mut conn = ctx.db.conn().await?;
    store::scim::all_user_names(conn.ex(), account.0).await
}

/// Gives these users (by address) the service `service` with their own value of one setting,
/// and a number each (`+4670` and seven digits from 1,000,000 up), for the lookup benchmark;
/// returns the numbers.
pub async fn give_services(
    ctx: &Ctx,
    emails: &[String],
    service: &str,
    own: (&str, serde_json::Value),
) -> Result<Vec<String>> {
    let mut tx = ctx.db.begin().await?;
    let mut numbers = vec![];
    let now = ctx.clock.now().millis();
    for (i, e) in emails.iter().enumerate() {
        let Some(u) = store::user::find_user_by_email(tx.ex(), e).await? else {
            continue;
        };
        let configured = vec![service.to_string()];
        store::user::set_services(tx.ex(), u.id, &configured, &configured).await?;
        let settings = serde_json::json!({ own.0: own.1.clone() }).to_string();
        store::setting::set_user_settings(tx.ex(), u.id, service, &settings).await?;
        let number = format!("+4670{}", 1_000_000 + i);
        numbers.push(number.clone());
        if store::address::number_owner(tx.ex(), &number)
            .await?
            .is_some()
        {
            continue;
        }
        store::address::insert_number(
            tx.ex(),
            &store::address::NumberRow {
                id: Uuid::now_v7(),
                user_id: u.id,
                number: number.clone(),
                label: "Desk".into(),
                services: service.to_string(),
                created_at: now,
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(numbers)
}

/// Every person of an account with their unit, for the generators below.
pub async fn people_of(ctx: &Ctx, account: NodeId) -> Result<Vec<(Uuid, Uuid)>> {
    let mut conn = ctx.db.conn().await?;
    store::usage::users_of_account(conn.ex(), account.0).await
}

/// Writes `events` usage events for the people of an account, spread evenly over the `days`
/// before now (two kinds of the SMS service), as a reporter would have; the seconds it took.
pub async fn usage_events(
    ctx: &Ctx,
    people: &[(Uuid, Uuid)],
    reporter: Uuid,
    events: usize,
    days: i64,
) -> Result<f64> {
    let started = Instant::now();
    let now = ctx.clock.now().millis();
    let span = days.max(1) * 86_400_000;
    let mut i = 0;
    while i < events {
        let end = (i + 10_000).min(events);
        let rows: Vec<store::usage::UsageRow> = (i..end)
            .map(|n| {
                let (user_id, node_id) = people[(n * 7919) % people.len()];
                store::usage::UsageRow {
                    event_id: format!("gen-{n}"),
                    user_id,
                    node_id,
                    service: "sms".into(),
                    kind: if n % 3 == 0 { "sms-parts" } else { "sms-sent" }.into(),
                    count: 1 + (n % 5) as i64,
                    at: now - (n as i64 * 7_777) % span,
                }
            })
            .collect();
        let mut tx = ctx.db.begin().await?;
        store::usage::insert_usage(tx.ex(), reporter, &rows, now).await?;
        tx.commit().await?;
        i = end;
    }
    Ok(started.elapsed().as_secs_f64())
}

/// Writes `events` audit events over the past year in an account: changes to its people by
/// one administrator, `about_one` of every thousand about `user`; the seconds it took.
pub async fn audit_history(
    ctx: &Ctx,
    people: &[(Uuid, Uuid)],
    user: (Uuid, Uuid),
    events: usize,
    about_one: usize,
) -> Result<f64> {
    let started = Instant::now();
    let now = ctx.clock.now().millis();
    let span = 365 * 86_400_000i64;
    let admin = people[0].0;
    let targets: Vec<String> = people.iter().map(|p| p.0.to_string()).collect();
    let mine = user.0.to_string();
    let mut i = 0;
    while i < events {
        let end = (i + 10_000).min(events);
        let rows: Vec<store::audit::NewAuditEvent<'_>> = (i..end)
            .map(|n| {
                let ours = n % 1000 < about_one;
                let k = (n * 7919) % people.len();
                store::audit::NewAuditEvent {
                    at: now - span + (n as i64 * span) / events as i64,
                    actor_user_id: Some(admin),
                    actor_label: "admin@bench.test",
                    action: if n % 4 == 0 { "sign-in" } else { "user.update" },
                    target_kind: "user",
                    target_id: if ours {
                        mine.clone()
                    } else {
                        targets[k].clone()
                    },
                    node_id: Some(if ours { user.1 } else { people[k].1 }),
                    after: r#"{"notes":"generated"}"#.into(),
                    ..Default::default()
                }
            })
            .collect();
        let mut tx = ctx.db.begin().await?;
        store::audit::insert_unchained_bulk(tx.ex(), &rows).await?;
        tx.commit().await?;
        i = end;
    }
    Ok(started.elapsed().as_secs_f64())
}

/// Refreshes the planner's statistics after a bulk load.
pub async fn analyze(ctx: &Ctx) -> Result<()> {
    let mut tx = ctx.db.begin().await?;
    store::stats::analyze(tx.ex()).await?;
    tx.commit().await
}
