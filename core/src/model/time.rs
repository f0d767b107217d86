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
}
