//! Statistics: daily figures per user, and per unit and account with everything under them,
//! rolled up by the scheduler (every `--stats-interval`, six hours by default) from the usage
//! the services report and from the audit's sign-ins. A run recomputes whole days: every day
//! that an event received since the last run falls on (so late events are folded into their
//! day) and every day since the last run (the sign-ins). Recomputing is idempotent, so a run
//! taken over or repeated does no harm.
//!
//! Who reads them: a user their own, administrators of a user's unit the user's, and
//! administrators of a unit or account that node's (operator staff the whole deployment's).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use uuid::Uuid;

use super::Actor;
use crate::context::Ctx;
use crate::error::Result;
use crate::model::{NodeId, Timestamp, UserId};
use crate::store;

/// The default time between roll-ups.
pub const DEFAULT_INTERVAL_SECS: i64 = 6 * 60 * 60;
/// Events received this long before the last run are read again (a report whose transaction
/// was still open when the last run read).
const LATE_MARGIN_MS: i64 = 10 * 60_000;
/// The longest range a reader may ask for, in days.
pub const MAX_RANGE_DAYS: i64 = 400;
/// The range shown when none is asked for, in days.
pub const DEFAULT_RANGE_DAYS: i64 = 30;
pub const SIGN_INS: &str = "sign-ins";
/// The scheduler's name of the roll-up.
pub const ROLLUP_JOB: &str = "stats.rollup";
pub const ACTIVE_USERS: &str = "active-users";

/// Recomputes every day with news since the last run; what it did, in a few words.
pub async fn roll_up(ctx: &Ctx) -> Result<String> {
    let started = ctx.clock.now();
    let mut days = {
        let mut conn = ctx.db.conn().await?;
        let last = store::usage::rollup_state(conn.ex()).await?.map(|s| s.0);
        let since = last.map_or(i64::MIN, |w| w - LATE_MARGIN_MS);
        let late: BTreeSet<i64> = store::usage::days_received_since(conn.ex(), since)
            .await?
            .into_iter()
            .collect();
        let first = match last {
            Some(w) => Some(Timestamp::from_millis(w - LATE_MARGIN_MS).day()),
            None => store::usage::first_day(conn.ex()).await?,
        };
        let mut days = late;
        if let Some(first) = first {
            days.extend(first.max(started.day() - MAX_RANGE_DAYS)..=started.day());
        }
        days
    };
    days.retain(|d| *d <= started.day());
    let mut paths: HashMap<Uuid, Option<String>> = HashMap::new();
    let mut figures = 0;
    for &day in &days {
        figures += roll_up_day(ctx, day, &mut paths).await?;
    }
    let mut tx = ctx.db.begin().await?;
    store::usage::set_rollup_state(tx.ex(), started.millis(), ctx.clock.now().millis()).await?;
    tx.commit().await?;
    Ok(format!("{} days, {figures} figures", days.len()))
}

/// One day's figures: each user's, then each node's above them (their sums, and how many
/// users were active: signed in or used anything).
async fn roll_up_day(
    ctx: &Ctx,
    day: i64,
    paths: &mut HashMap<Uuid, Option<String>>,
) -> Result<usize> {
    let mut conn = ctx.db.conn().await?;
    let mut totals = store::usage::usage_of_day(conn.ex(), day).await?;
    totals.extend(store::usage::sign_ins_of_day(conn.ex(), day).await?);
    let unknown: Vec<Uuid> = totals
        .iter()
        .map(|t| t.user_id)
        .filter(|u| !paths.contains_key(u))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if !unknown.is_empty() {
        let found: HashMap<Uuid, String> = store::usage::paths_of(conn.ex(), &unknown)
            .await?
            .into_iter()
            .collect();
        for u in unknown {
            paths.insert(u, found.get(&u).cloned());
        }
    }
    drop(conn);
    let mut sums: BTreeMap<(Uuid, String), i64> = BTreeMap::new();
    let mut active: BTreeMap<Uuid, BTreeSet<Uuid>> = BTreeMap::new();
    for t in totals {
        *sums.entry((t.user_id, t.metric.clone())).or_default() += t.total;
        // A user removed since still counts for the day in no unit: their own figures stay.
        let Some(Some(path)) = paths.get(&t.user_id) else {
            continue;
        };
        for node in nodes_of(path) {
            *sums.entry((node, t.metric.clone())).or_default() += t.total;
            active.entry(node).or_default().insert(t.user_id);
        }
    }
    let mut rows: Vec<(Uuid, String, i64)> =
        sums.into_iter().map(|((s, m), v)| (s, m, v)).collect();
    for (node, users) in active {
        rows.push((node, ACTIVE_USERS.to_string(), users.len() as i64));
    }
    let mut tx = ctx.db.begin().await?;
    store::usage::replace_day(tx.ex(), day, &rows).await?;
    tx.commit().await?;
    Ok(rows.len())
}

/// The ids of the nodes a path runs through, the root first.
fn nodes_of(path: &str) -> impl Iterator<Item = Uuid> + '_ {
    path.split('/')
        .filter(|s| !s.is_empty())
        .filter_map(|s| Uuid::parse_str(s).ok())
}

/// Whose figures are asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    User(UserId),
    Node(NodeId),
}

/// A range of days, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub from: i64,
    pub to: i64,
}

impl Range {
    /// The range from the address's `from` and `to` (`YYYY-MM-DD`); the last 30 days by
    /// default. A bad value names its field.
    pub fn parse(from: &str, to: &str, today: i64) -> Result<Range> {
        let mut p = crate::error::Problems::default();
        let mut date = |field: &'static str, text: &str| match text.trim() {
            "" => None,
            t => Timestamp::parse_date(t).map(Timestamp::day).or_else(|| {
                p.add(field, "date-invalid");
                None
            }),
        };
        let (f, t) = (date("from", from), date("to", to));
        let to = t.unwrap_or(today);
        let from = f.unwrap_or(to - (DEFAULT_RANGE_DAYS - 1));
        if to < from {
            p.add("to", "logs-range-backwards");
        } else if to - from >= MAX_RANGE_DAYS {
            p.add("from", "stats-range-too-long");
        }
        p.finish()?;
        Ok(Range { from, to })
    }

    pub fn days(&self) -> impl Iterator<Item = i64> {
        self.from..=self.to
    }

    pub fn len(&self) -> usize {
        (self.to - self.from + 1) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.to < self.from
    }
}

/// One metric's values, one per day of the range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    /// `sign-ins`, `active-users` or `<service>:<kind>`.
    pub metric: String,
    pub values: Vec<i64>,
    pub total: i64,
}

impl Series {
    /// The service of a usage metric (`sms` of `sms:sms-sent`), if it is one.
    pub fn service(&self) -> Option<&str> {
        self.metric.split_once(':').map(|(s, _)| s)
    }

    /// The kind of a usage metric (`sms-sent`), else the metric itself.
    pub fn kind(&self) -> &str {
        self.metric
            .split_once(':')
            .map_or(self.metric.as_str(), |(_, k)| k)
    }

    /// The highest day's value.
    pub fn peak(&self) -> i64 {
        self.values.iter().copied().max().unwrap_or(0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statistics {
    pub range: Range,
    /// Sign-ins first (and active users, for a unit or account), then usage by service and
    /// kind; a metric with nothing in the range is left out, except sign-ins.
    pub series: Vec<Series>,
    /// When the figures were last rolled up (None: never yet).
    pub updated_at: Option<Timestamp>,
    /// When the next roll-up is due.
    pub next_due: Timestamp,
    /// A unit's or account's name and kind (`unit`, `account`, `operator`).
    pub node: Option<(String, String)>,
}

/// The figures of a user or node for a reader allowed to see them (404 for anyone else).
pub async fn statistics(
    ctx: &Ctx,
    actor: &Actor,
    subject: Subject,
    range: Range,
) -> Result<Statistics> {
    let mut conn = ctx.db.conn().await?;
    let mut node_named = None;
    let id = match subject {
        Subject::User(user) => {
            super::timeline::readable_user(&mut conn, actor, user)
                .await?
                .id
        }
        Subject::Node(node) => {
            let row = super::timeline::readable_node(&mut conn, actor, node).await?;
            node_named = Some((row.name, row.kind));
            row.id
        }
    };
    let figures = store::usage::figures(conn.ex(), id, range.from, range.to).await?;
    let state = store::usage::rollup_state(conn.ex()).await?;
    let mut by_metric: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    by_metric.insert(SIGN_INS.into(), vec![0; range.len()]);
    if matches!(subject, Subject::Node(_)) {
        by_metric.insert(ACTIVE_USERS.into(), vec![0; range.len()]);
    }
    for f in figures {
        let values = by_metric
            .entry(f.metric)
            .or_insert_with(|| vec![0; range.len()]);
        values[(f.day - range.from) as usize] = f.value;
    }
    let mut series: Vec<Series> = by_metric
        .into_iter()
        .map(|(metric, values)| Series {
            total: values.iter().sum(),
            metric,
            values,
        })
        .collect();
    // Who signed in and who was active first, then the services' usage in order.
    series.sort_by_key(|s| {
        (
            s.metric != SIGN_INS,
            s.metric != ACTIVE_USERS,
            s.metric.clone(),
        )
    });
    let job = super::schedule::Job {
        name: ROLLUP_JOB,
        every_secs: interval_secs(ctx),
    };
    Ok(Statistics {
        range,
        series,
        updated_at: state.map(|s| Timestamp::from_millis(s.1)),
        next_due: super::schedule::next_start(&job, ctx.clock.now()),
        node: node_named,
    })
}

/// How often the roll-up runs on this deployment.
pub fn interval_secs(ctx: &Ctx) -> i64 {
    ctx.settings.stats_interval_secs.max(60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn a_range_defaults_to_the_last_thirty_days_and_names_a_bad_end() {
        let today = Timestamp::parse_date("2026-12-03").unwrap().day();
        let r = Range::parse("", "", today).unwrap();
        assert_eq!((r.len(), r.to), (30, today));
        let r = Range::parse("2026-11-01", "2026-11-30", today).unwrap();
        assert_eq!(r.len(), 30);
        let Err(Error::Invalid(p)) = Range::parse("2026-11-31", "", today) else {
            panic!("refused");
        };
        assert_eq!(p[0].field, "from");
        assert!(Range::parse("2026-12-02", "2026-12-01", today).is_err());
        assert!(Range::parse("2020-01-01", "2026-12-01", today).is_err());
    }

    #[test]
    fn a_path_names_each_node_from_the_root() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let path = format!("/{}/{}/", a.simple(), b.simple());
        assert_eq!(nodes_of(&path).collect::<Vec<_>>(), [a, b]);
    }
}
