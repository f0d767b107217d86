/// A moment, in milliseconds since the Unix epoch (UTC); stored as a BIGINT in both engines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    pub fn from_millis(millis: i64) -> Timestamp {
        Timestamp(millis)
    }

    pub fn millis(self) -> i64 {
        self.0
    }

    pub fn plus_secs(self, secs: i64) -> Timestamp {
        Timestamp(self.0 + secs * 1000)
    }

    /// Whole seconds from `self` until `later` (rounded up, never negative).
    pub fn secs_until(self, later: Timestamp) -> i64 {
        ((later.0 - self.0).max(0) + 999) / 1000
    }

    /// `YYYY-MM-DD HH:MM UTC`, for pages and logs.
    pub fn to_utc_string(self) -> String {
        let secs = self.0.div_euclid(1000);
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        format!(
            "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
            rem / 3600,
            (rem % 3600) / 60
        )
    }
}

impl Timestamp {
    /// RFC 3339 in UTC with seconds (`2026-11-25T17:40:00Z`), for the API.
    pub fn to_rfc3339(self) -> String {
        let secs = self.0.div_euclid(1000);
        let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
        let rem = secs.rem_euclid(86_400);
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            rem / 3600,
            (rem % 3600) / 60,
            rem % 60
        )
    }
}

impl Timestamp {
    /// The start (00:00 UTC) of a day written `YYYY-MM-DD`; None for anything else.
    pub fn parse_date(text: &str) -> Option<Timestamp> {
        let t = text.trim();
        let mut parts = t.splitn(3, '-');
        let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
        if y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return None;
        }
        let (y, m, d): (i64, i64, i64) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
        if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
            return None;
        }
        let days = days_from_civil(y, m, d);
        // 2026-02-31 would silently be March 3rd: refuse days the month does not have.
        (civil_from_days(days) == (y, m, d)).then(|| Timestamp(days * 86_400_000))
    }

    /// `YYYY-MM-DD` in UTC.
    pub fn to_date_string(self) -> String {
        let (y, m, d) = civil_from_days(self.0.div_euclid(86_400_000));
        format!("{y:04}-{m:02}-{d:02}")
    }
}

/// Howard Hinnant's civil-to-days algorithm: days since 1970-01-01 of a Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc() {
        assert_eq!(Timestamp(0).to_utc_string(), "1970-01-01 00:00 UTC");
        assert_eq!(
            Timestamp(1_795_000_000_000).to_utc_string(),
            "2026-11-18 11:06 UTC"
        );
    }

    #[test]
    fn rounds_waits_up() {
        assert_eq!(Timestamp(0).secs_until(Timestamp(1)), 1);
        assert_eq!(Timestamp(5).secs_until(Timestamp(0)), 0);
    }

    #[test]
    fn dates_round_trip_and_impossible_days_are_refused() {
        let t = Timestamp::parse_date("2026-12-03").unwrap();
        assert_eq!(t.to_utc_string(), "2026-12-03 00:00 UTC");
        assert_eq!(t.to_date_string(), "2026-12-03");
        assert_eq!(Timestamp::parse_date("1970-01-01"), Some(Timestamp(0)));
        let leap = Timestamp::parse_date("2024-02-29").unwrap();
        assert_eq!(leap.to_date_string(), "2024-02-29");
        for bad in [
            "2026-02-30",
            "2026-13-01",
            "26-01-01",
            "2026-1-01",
            "yesterday",
            "",
        ] {
            assert_eq!(Timestamp::parse_date(bad), None, "{bad}");
        }
    }
}
