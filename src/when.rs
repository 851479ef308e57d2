//! Times, ages and timeouts as the command line gives them: export's and list's
//! `--since`/`--until` (a day, a date-time, or an age such as `7d`), prune's `--older-than`
//! (an age) and `--busy-timeout` (seconds). clap reads each with a parser here, so that a bad
//! value is a usage error naming the flag; ages are read by one parser, so that every flag
//! accepts the same `h`, `d`, `w`, `m` and `y`. An age counts back from when the command runs,
//! so it becomes an instant only then (`DateWindow::new`, `Age::before`).

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Months, NaiveDate, NaiveDateTime, TimeDelta, Utc};

use crate::db;
use crate::error::Failure;

/// A length of time back from now: `24h`, `7d`, `12w`, `6m` (calendar months), `1y`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Age {
    count: u32,
    unit: AgeUnit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AgeUnit {
    Hours,
    Days,
    Weeks,
    Months,
    Years,
}

/// The units an age takes, as messages name them.
const AGE_UNITS: &str = "h (hours), d (days), w (weeks), m (months) or y (years)";

impl Age {
    /// clap's parser of `--older-than`: digits and one lowercase unit, else what is expected
    /// (clap's message names the flag and the value).
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        Self::read(text).ok_or_else(|| {
            format!("expected a number and a unit {AGE_UNITS}, like 24h, 7d, 12w or 6m")
        })
    }

    fn read(text: &str) -> Option<Self> {
        let digits = text
            .len()
            .checked_sub(1)
            .filter(|&i| text.is_char_boundary(i))?;
        let (number, unit) = text.split_at(digits);
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let unit = match unit {
            "h" => AgeUnit::Hours,
            "d" => AgeUnit::Days,
            "w" => AgeUnit::Weeks,
            "m" => AgeUnit::Months,
            "y" => AgeUnit::Years,
            _ => return None,
        };
        Some(Self {
            count: number.parse().ok()?,
            unit,
        })
    }

    /// The instant this long before `now`; `None` when that is before any date there is.
    /// Days and weeks are 24 and 168 hours; months and years are calendar ones (a month
    /// before 31 March is the last day of February).
    pub(crate) fn before(self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let hours = |per: i64| {
            TimeDelta::try_hours(i64::from(self.count) * per)
                .and_then(|age| now.checked_sub_signed(age))
        };
        match self.unit {
            AgeUnit::Hours => hours(1),
            AgeUnit::Days => hours(24),
            AgeUnit::Weeks => hours(24 * 7),
            AgeUnit::Months => now.checked_sub_months(Months::new(self.count)),
            AgeUnit::Years => self
                .count
                .checked_mul(12)
                .and_then(|months| now.checked_sub_months(Months::new(months))),
        }
    }
}

impl fmt::Display for Age {
    /// As given, but for any leading zeros: `7d`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.unit {
            AgeUnit::Hours => 'h',
            AgeUnit::Days => 'd',
            AgeUnit::Weeks => 'w',
            AgeUnit::Months => 'm',
            AgeUnit::Years => 'y',
        };
        write!(f, "{}{unit}", self.count)
    }
}

/// clap's parser of `--busy-timeout`: seconds, fractions included (`5`, `0.5`), from none to
/// the longest wait SQLite takes.
pub(crate) fn parse_seconds(text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .and_then(|seconds| Duration::try_from_secs_f64(seconds).ok())
        .filter(|&timeout| timeout <= db::MAX_BUSY_TIMEOUT)
        .ok_or_else(|| {
            format!(
                "expected a number of seconds from 0 to {} (24 days), like 5 or 0.5",
                db::MAX_BUSY_TIMEOUT.as_secs()
            )
        })
}

/// One end of a `--since`/`--until` window as given: a day, an instant, or an age back from
/// when the command runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateBound {
    given: Given,
    /// The text given, for messages.
    text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Given {
    Day(NaiveDate),
    Instant(DateTime<Utc>),
    Ago(Age),
}

/// Date-times without a zone that `--since` and `--until` take as UTC.
const NAIVE_FORMATS: [&str; 4] = [
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
];

impl DateBound {
    /// clap's parser of `--since` and `--until`: a day (`YYYY-MM-DD`), an RFC 3339 instant,
    /// a date-time without a zone (UTC), or an age (`7d`); else what is expected (clap's
    /// message names the flag and the value).
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let given = if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            Given::Day(day)
        } else if let Ok(at) = DateTime::parse_from_rfc3339(text) {
            Given::Instant(at.with_timezone(&Utc))
        } else if let Some(at) = NAIVE_FORMATS
            .iter()
            .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        {
            Given::Instant(at.and_utc())
        } else if let Some(age) = Age::read(text) {
            Given::Ago(age)
        } else {
            return Err(format!(
                "expected a day (YYYY-MM-DD), a time (2026-11-25T14:30:00Z; UTC when it has no \
                 zone) or an age back from now (a number and a unit {AGE_UNITS}, like 7d)"
            ));
        };
        Ok(Self {
            given,
            text: text.to_owned(),
        })
    }

    /// The bound at `now`, when an age is counted back from it; `flag` names it in the
    /// usage error for an age that reaches before any date there is.
    fn at(&self, flag: &str, now: DateTime<Utc>) -> Result<Bound, Failure> {
        match self.given {
            Given::Day(day) => Ok(Bound::Day(day)),
            Given::Instant(at) => Ok(Bound::Instant(at)),
            Given::Ago(age) => age.before(now).map(Bound::Instant).ok_or_else(|| {
                Failure::Usage(format!(
                    "{flag} {}: reaches before any date there is",
                    self.text
                ))
            }),
        }
    }
}

/// A creation-time window on tickets, as given and as database bounds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DateWindow {
    /// The bounds as recorded in the manifest (`dateFrom`, `dateTo`).
    pub from_label: Option<String>,
    pub to_label: Option<String>,
    /// Inclusive lower and exclusive upper bound on `created_at`, as text to compare it with.
    pub from: Option<String>,
    pub before: Option<String>,
    /// The lower bound as an instant, to compare with the clock.
    starts: Option<DateTime<Utc>>,
}

impl DateWindow {
    /// The window `--since` and `--until` give, ages counted back from `now`; both ends are
    /// included. `--since` after `--until` is a usage error.
    pub(crate) fn new(
        since: Option<&DateBound>,
        until: Option<&DateBound>,
        now: DateTime<Utc>,
    ) -> Result<Self, Failure> {
        let mut window = DateWindow::default();
        let mut ends = None;
        if let Some(since) = since {
            let bound = since.at("--since", now)?;
            let (starts, from) = bound.start();
            window.starts = Some(starts);
            window.from = Some(from);
            window.from_label = Some(bound.label());
        }
        if let Some(until) = until {
            let bound = until.at("--until", now)?;
            // The last day there is has no next one: nothing is created after it.
            let (end, before) = bound.end().unzip();
            ends = end;
            window.before = before;
            window.to_label = Some(bound.label());
        }
        if let (Some(since), Some(until), Some(starts), Some(ends)) =
            (since, until, window.starts, ends)
            && starts >= ends
        {
            return Err(Failure::Usage(format!(
                "--since {} is after --until {}",
                since.text, until.text
            )));
        }
        Ok(window)
    }

    /// Whether a bound was given at all.
    pub(crate) fn is_set(&self) -> bool {
        self.from_label.is_some() || self.to_label.is_some()
    }

    /// True when the window opens after `now`: no ticket can be in it yet.
    pub(crate) fn starts_after(&self, now: DateTime<Utc>) -> bool {
        self.starts.is_some_and(|starts| starts > now)
    }

    /// `from 2026-01-01 to now`, for messages.
    pub(crate) fn describe(&self) -> String {
        format!(
            "from {} to {}",
            self.from_label.as_deref().unwrap_or("the beginning"),
            self.to_label.as_deref().unwrap_or("now")
        )
    }
}

/// One end of the window, its age (if any) counted back.
enum Bound {
    Day(NaiveDate),
    Instant(DateTime<Utc>),
}

impl Bound {
    fn label(&self) -> String {
        match self {
            Bound::Day(day) => day.format("%Y-%m-%d").to_string(),
            Bound::Instant(at) => db::format_timestamp(*at),
        }
    }

    /// The first instant the bound includes, and the text `created_at` is compared with.
    fn start(&self) -> (DateTime<Utc>, String) {
        match self {
            Bound::Day(day) => (day.and_time(chrono::NaiveTime::MIN).and_utc(), self.label()),
            Bound::Instant(at) => (*at, self.label()),
        }
    }

    /// The first instant after the bound, and its text; `None` after the last day there is.
    fn end(&self) -> Option<(DateTime<Utc>, String)> {
        match self {
            Bound::Day(day) => day.succ_opt().map(|next| Bound::Day(next).start()),
            Bound::Instant(at) => {
                let next = at.checked_add_signed(TimeDelta::milliseconds(1))?;
                Some((next, db::format_timestamp(next)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn ages_count_back_from_now() {
        let now = at("2026-03-31T12:00:00Z");
        let back = |text: &str| Age::parse(text).ok().and_then(|a| a.before(now));
        assert_eq!(back("24h"), Some(at("2026-03-30T12:00:00Z")));
        assert_eq!(back("1d"), back("24h"));
        assert_eq!(back("2w"), Some(at("2026-03-17T12:00:00Z")));
        assert_eq!(back("1m"), Some(at("2026-02-28T12:00:00Z")));
        assert_eq!(back("1y"), Some(at("2025-03-31T12:00:00Z")));
        assert_eq!(back("0d"), Some(now));
        for bad in [
            "", "d", "7", "-1d", "1.5d", "7D", "7 d", "w12", "7dd", "+7d", "7é",
        ] {
            assert!(Age::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(Age::parse("007d").map(|a| a.to_string()), Ok("7d".into()));
        assert_eq!(back("4294967295y"), None, "too far back is no date");
    }

    /// The window from `since` and `until` as given, at `now`.
    fn window(
        since: Option<&str>,
        until: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<DateWindow, String> {
        let bound = |text: Option<&str>| text.map(DateBound::parse).transpose();
        DateWindow::new(bound(since)?.as_ref(), bound(until)?.as_ref(), now)
            .map_err(|err| err.to_string())
    }

    #[test]
    fn bounds_take_days_times_with_or_without_zone_and_ages() {
        let now = at("2026-03-31T12:00:00Z");
        let from = |since: &str| window(Some(since), None, now).ok().and_then(|w| w.from);
        assert_eq!(from("2026-01-31"), Some("2026-01-31".into()));
        let noon = Some("2026-01-31T12:00:00.000Z".into());
        assert_eq!(from("2026-01-31T12:00:00Z"), noon);
        assert_eq!(from("2026-01-31T13:00:00+01:00"), noon);
        assert_eq!(from("2026-01-31T12:00:00"), noon);
        assert_eq!(from("2026-01-31 12:00:00"), noon);
        assert_eq!(from("2026-01-31T12:00"), noon);
        assert_eq!(from("2026-01-31 12:00:00.000"), noon);
        assert_eq!(from("7d"), Some("2026-03-24T12:00:00.000Z".into()));
        assert_eq!(from("1m"), Some("2026-02-28T12:00:00.000Z".into()));
        for bad in ["2026-02-30", "yesterday", "2026-01-31T25:00:00", "7x"] {
            assert!(DateBound::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            window(Some("300000y"), None, now).map(drop),
            Err("--since 300000y: reaches before any date there is".into())
        );
    }

    #[test]
    fn since_after_until_is_refused_to_the_millisecond() {
        let now = at("2026-03-31T12:00:00Z");
        let parse = |since, until| window(Some(since), Some(until), now);
        assert_eq!(
            parse("2026-02-01", "2026-01-31T23:59:59.999Z").map(drop),
            Err("--since 2026-02-01 is after --until 2026-01-31T23:59:59.999Z".into())
        );
        assert!(parse("2026-01-31T23:59:59.999Z", "2026-01-31T23:59:59.999Z").is_ok());
        assert!(parse("2026-01-31", "2026-01-31").is_ok());
        assert!(parse("1d", "2d").is_err());
    }

    #[test]
    fn a_window_opening_after_now_is_said_to() {
        let now = at("2026-03-31T12:00:00Z");
        let starts_after = |since| {
            window(Some(since), None, now)
                .map(|w| w.starts_after(now))
                .unwrap_or_else(|e| panic!("{since}: {e}"))
        };
        assert!(starts_after("2026-04-01"));
        assert!(starts_after("2026-03-31T12:00:00.001Z"));
        assert!(!starts_after("2026-03-31"));
        assert!(!starts_after("0h"));
    }

    #[test]
    fn busy_timeouts_are_seconds_up_to_what_sqlite_takes() {
        assert_eq!(parse_seconds("5"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_seconds("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_seconds("0"), Ok(Duration::ZERO));
        assert_eq!(parse_seconds("2147483.647"), Ok(db::MAX_BUSY_TIMEOUT));
        for bad in ["-1", "5s", "", "NaN", "inf", "1e30", "2147483.648"] {
            assert!(parse_seconds(bad).is_err(), "{bad}");
        }
    }
}
