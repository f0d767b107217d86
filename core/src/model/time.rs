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

impl Timestamp {
    /// An RFC 3339 moment (`2026-12-03T10:15:00Z`, fractions of a second and an offset
    /// allowed); None for anything else.
    pub fn parse_rfc3339(text: &str) -> Option<Timestamp> {
        let t = text.trim();
        if t.len() < 20 || !t.is_char_boundary(10) || !matches!(&t[10..11], "T" | "t" | " ") {
            return None;
        }
        let day = Timestamp::parse_date(&t[..10])?.millis();
        let rest = &t[11..];
        let clock = |s: &str| -> Option<i64> {
            let n: i64 = s.parse().ok()?;
            (s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit())).then_some(n)
        };
        let (h, m, sec) = (
            clock(rest.get(0..2)?)?,
            clock(rest.get(3..5)?)?,
            clock(rest.get(6..8)?)?,
        );
        if rest.get(2..3)? != ":" || rest.get(5..6)? != ":" || h > 23 || m > 59 || sec > 60 {
            return None;
        }
        let mut tail = &rest[8..];
        let mut millis = 0;
        if let Some(frac) = tail.strip_prefix('.') {
            let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return None;
            }
            let first: String = frac[..digits].chars().chain("00".chars()).take(3).collect();
            millis = first.parse::<i64>().ok()?;
            tail = &frac[digits..];
        }
        let offset = match tail {
            "Z" | "z" => 0,
            o if o.len() == 6 && matches!(&o[..1], "+" | "-") && &o[3..4] == ":" => {
                let (oh, om) = (clock(&o[1..3])?, clock(&o[4..6])?);
                if oh > 23 || om > 59 {
                    return None;
                }
                let sign = if &o[..1] == "-" { -1 } else { 1 };
                sign * (oh * 60 + om) * 60_000
            }
            _ => return None,
        };
        Some(Timestamp(
            day + ((h * 60 + m) * 60 + sec.min(59)) * 1000 + millis - offset,
        ))
    }

    /// The day (UTC) this moment falls on, in days since 1970-01-01.
    pub fn day(self) -> i64 {
        self.0.div_euclid(86_400_000)
    }

    /// The start of a day counted in days since 1970-01-01.
    pub fn from_day(day: i64) -> Timestamp {
        Timestamp(day * 86_400_000)
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

    #[test]
    fn rfc3339_moments_are_read_with_their_offset() {
        let z = Timestamp::parse_rfc3339("2026-12-03T10:15:30Z").unwrap();
        assert_eq!(z.to_rfc3339(), "2026-12-03T10:15:30Z");
        let frac = Timestamp::parse_rfc3339("2026-12-03T10:15:30.25Z").unwrap();
        assert_eq!(frac.millis() - z.millis(), 250);
        let east = Timestamp::parse_rfc3339("2026-12-03T11:15:30+01:00").unwrap();
        assert_eq!(east, z);
        assert_eq!(z.day(), Timestamp::parse_date("2026-12-03").unwrap().day());
        assert_eq!(Timestamp::from_day(z.day()).to_date_string(), "2026-12-03");
        for bad in [
            "2026-12-03",
            "2026-12-03T25:00:00Z",
            "2026-12-03T10:15:30",
            "2026-12-03T10:15:30+1:00",
            "2026-12-03T1a:15:30Z",
            "2026-12-03T10:15:30.Z",
            "2026-02-30T10:15:30Z",
        ] {
            assert_eq!(Timestamp::parse_rfc3339(bad), None, "{bad}");
        }
    }
}
