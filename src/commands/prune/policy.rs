//! Which archives prune keeps, and why: the newest N (`--keep-last`), any younger than
//! `--older-than`, and the calendar rules (`--keep-daily/weekly/monthly/yearly`). An archive
//! is kept when any rule keeps it.
//!
//! The calendar rules follow restic's documentation of `forget` (restic/restic,
//! doc/060_forget.rst, "Removing snapshots according to a policy"): a rule of N periods
//! looks at the last N days (weeks, months, years) that have at least one snapshot and keeps
//! the most recent snapshot of each; periods are whole calendar ones (weeks Monday to
//! Sunday), not counted back from the moment forget runs; and a snapshot that any one rule
//! keeps is kept (the rules are ORed). Here days, weeks (ISO 8601) and months are UTC, and
//! the periods are counted back from the newest archive that counts. restic's later
//! addition (0.17), keeping the oldest snapshot as well when there are fewer periods than a
//! rule asks for, is not made: such a rule keeps each period's newest, no more (SPEC §9).

use chrono::{DateTime, Datelike, Utc};
use serde::Serialize;

use crate::db::logs::Rules;
use crate::error::Failure;

/// A rule that keeps an archive, named as the report's policy keys are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum Rule {
    KeepLast,
    KeepDaily,
    KeepWeekly,
    KeepMonthly,
    KeepYearly,
    OlderThan,
    /// The export's recorded time does not parse: prune deletes only on certainty.
    UnreadableTime,
}

/// One reason an archive is kept: a rule, and for a calendar rule the period whose newest
/// archive it is (`2026-11-23`, `2026-W48`, `2026-11`, `2026`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Keep {
    pub rule: Rule,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
}

impl Keep {
    fn by(rule: Rule) -> Self {
        Keep { rule, period: None }
    }

    /// The reason as the summary prints it: `last`, `weekly 2026-W48`, `younger than 12w`.
    pub(crate) fn describe(&self, rules: &Rules) -> String {
        let name = match self.rule {
            Rule::KeepLast => "last",
            Rule::KeepDaily => "daily",
            Rule::KeepWeekly => "weekly",
            Rule::KeepMonthly => "monthly",
            Rule::KeepYearly => "yearly",
            Rule::OlderThan => {
                return format!(
                    "younger than {}",
                    rules.older_than.as_deref().unwrap_or("-")
                );
            }
            Rule::UnreadableTime => "its recorded time does not parse",
        };
        match &self.period {
            Some(period) => format!("{name} {period}"),
            None => name.to_owned(),
        }
    }
}

/// A calendar period: UTC days, ISO weeks, UTC months and years.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Calendar {
    Daily,
    Weekly,
    Monthly,
    Yearly,
}

impl Calendar {
    pub(crate) const ALL: [Calendar; 4] = [
        Calendar::Daily,
        Calendar::Weekly,
        Calendar::Monthly,
        Calendar::Yearly,
    ];

    /// The period a time falls in, as a name that differs between periods. A week is named
    /// by its ISO year, which at a year's edge is not the calendar year of every day in it
    /// (Monday 2025-12-29 is in 2026-W01).
    pub(crate) fn period(self, at: DateTime<Utc>) -> String {
        match self {
            Calendar::Daily => at.format("%Y-%m-%d").to_string(),
            Calendar::Weekly => {
                let week = at.iso_week();
                format!("{}-W{:02}", week.year(), week.week())
            }
            Calendar::Monthly => at.format("%Y-%m").to_string(),
            Calendar::Yearly => at.format("%Y").to_string(),
        }
    }

    fn rule(self) -> Rule {
        match self {
            Calendar::Daily => Rule::KeepDaily,
            Calendar::Weekly => Rule::KeepWeekly,
            Calendar::Monthly => Rule::KeepMonthly,
            Calendar::Yearly => Rule::KeepYearly,
        }
    }

    /// The option that sets the rule.
    fn flag(self) -> &'static str {
        match self {
            Calendar::Daily => "--keep-daily",
            Calendar::Weekly => "--keep-weekly",
            Calendar::Monthly => "--keep-monthly",
            Calendar::Yearly => "--keep-yearly",
        }
    }

    fn adjective(self) -> &'static str {
        match self {
            Calendar::Daily => "daily",
            Calendar::Weekly => "weekly",
            Calendar::Monthly => "monthly",
            Calendar::Yearly => "yearly",
        }
    }
}

/// What a policy keeps, and how it is told. Its fields are part of the log's format
/// (`db::logs::Rules`): prune's row records them.
impl Rules {
    /// The calendar rules given, with their numbers.
    pub(crate) fn calendar(&self) -> Vec<(Calendar, u64)> {
        Calendar::ALL
            .into_iter()
            .zip([
                self.keep_daily,
                self.keep_weekly,
                self.keep_monthly,
                self.keep_yearly,
            ])
            .filter_map(|(calendar, n)| n.map(|n| (calendar, n)))
            .collect()
    }

    /// Refuses a policy with a calendar rule that can keep no archive: no newest N, no
    /// calendar period, and no `--older-than` that keeps anything (`keeps_young`: one of
    /// zero keeps only an archive from the future). Without a calendar rule the policy is as
    /// it always was.
    pub(crate) fn check_keeps_something(&self, keeps_young: bool) -> Result<(), Failure> {
        let calendar = self.calendar();
        let nothing = self.keep_last == 0 && calendar.iter().all(|&(_, n)| n == 0) && !keeps_young;
        if calendar.is_empty() || !nothing {
            return Ok(());
        }
        let mut rules: Vec<String> = calendar
            .iter()
            .map(|(period, n)| format!("{} {n}", period.flag()))
            .collect();
        rules.push(format!("--keep-last {}", self.keep_last));
        rules.push(match &self.older_than {
            Some(older_than) => format!("--older-than {older_than}"),
            None => "no --older-than".to_owned(),
        });
        Err(Failure::Usage(format!(
            "this policy keeps no archive ({}); give a rule a number above 0",
            rules.join(", ")
        )))
    }

    /// What the policy keeps, for people: `the newest 3, 7 daily and any younger than 12w`.
    pub(crate) fn describe(&self) -> String {
        let calendar = self.calendar();
        let mut parts = Vec::new();
        if self.keep_last > 0 || calendar.is_empty() {
            parts.push(format!("the newest {}", self.keep_last));
        }
        for (period, n) in calendar {
            parts.push(format!("{n} {}", period.adjective()));
        }
        if let Some(older_than) = &self.older_than {
            parts.push(format!("any younger than {older_than}"));
        }
        match parts.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
            None => String::new(),
        }
    }

    /// The retention as `history ID` gives a prune's: `delete archives older than 7d,
    /// always keeping the newest 1`.
    pub(crate) fn retention(&self) -> String {
        let kept = Rules {
            older_than: None,
            ..self.clone()
        };
        match &self.older_than {
            Some(older_than) => format!(
                "delete archives older than {older_than}, always keeping {}",
                kept.describe()
            ),
            None => format!("keep {}; delete the rest", kept.describe()),
        }
    }
}

/// The count-limited rules as prune walks the archives from the newest: how many places
/// each has left, and the period of the last archive each kept.
pub(super) struct Selection {
    last_left: u64,
    buckets: Vec<Bucket>,
    younger_than: Option<DateTime<Utc>>,
}

struct Bucket {
    calendar: Calendar,
    left: u64,
    last: Option<String>,
}

impl Selection {
    /// `cutoff`: archives exported after it are kept by `--older-than`.
    pub(super) fn new(rules: &Rules, cutoff: Option<DateTime<Utc>>) -> Self {
        Self {
            last_left: rules.keep_last,
            buckets: rules
                .calendar()
                .into_iter()
                .map(|(calendar, left)| Bucket {
                    calendar,
                    left,
                    last: None,
                })
                .collect(),
            younger_than: cutoff,
        }
    }

    /// The count-limited rules that keep the next archive (made `at`) if it counts: if it
    /// still exists unchanged. Empty when none has a place for it.
    pub(super) fn candidates(&self, at: Option<DateTime<Utc>>) -> Vec<Keep> {
        let mut keeps = Vec::new();
        if self.last_left > 0 {
            keeps.push(Keep::by(Rule::KeepLast));
        }
        if let Some(at) = at {
            for bucket in self.buckets.iter().filter(|b| b.left > 0) {
                let period = bucket.calendar.period(at);
                if bucket.last.as_ref() != Some(&period) {
                    keeps.push(Keep {
                        rule: bucket.calendar.rule(),
                        period: Some(period),
                    });
                }
            }
        }
        keeps
    }

    /// Counts an archive that exists unchanged, kept by `keeps` (from `candidates`): each of
    /// those rules has one place fewer, and a calendar rule's period is taken.
    pub(super) fn count(&mut self, keeps: &[Keep]) {
        for keep in keeps {
            if keep.rule == Rule::KeepLast {
                self.last_left -= 1;
            }
            if let Some(bucket) = self
                .buckets
                .iter_mut()
                .find(|b| b.calendar.rule() == keep.rule)
            {
                bucket.left -= 1;
                bucket.last = keep.period.clone();
            }
        }
    }

    /// What keeps an archive whatever the count-limited rules say: being younger than
    /// `--older-than`, or a time that does not parse (never old enough to delete).
    pub(super) fn unconditional(&self, at: Option<DateTime<Utc>>) -> Option<Keep> {
        match at {
            None => Some(Keep::by(Rule::UnreadableTime)),
            Some(at) if self.younger_than.is_some_and(|cutoff| at >= cutoff) => {
                Some(Keep::by(Rule::OlderThan))
            }
            Some(_) => None,
        }
    }
}
