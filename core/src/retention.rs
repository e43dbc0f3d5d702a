//! Backup retention, with restic's `forget` semantics: backups are named with a UTC timestamp
//! (`...YYYYMMDDTHHMMSSZ...`); `keep_last` keeps the N newest; `keep_hourly`/`keep_daily`/
//! `keep_weekly` (ISO weeks)/`keep_monthly`/`keep_yearly` keep, for the N most recent hours/
//! days/weeks/months/years that have backups, the newest backup of each. A backup is kept when
//! any rule keeps it; everything else is pruned. Pure: the `backup_rotate` module lists and
//! deletes the files.

use chrono::{Datelike, NaiveDateTime, Timelike};
use serde::Serialize;

/// How many of each to keep (0: the rule keeps nothing).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Policy {
    pub last: usize,
    pub hourly: usize,
    pub daily: usize,
    pub weekly: usize,
    pub monthly: usize,
    pub yearly: usize,
}

impl Policy {
    /// A policy that keeps nothing would delete every backup: refused.
    pub fn is_empty(&self) -> bool {
        *self == Policy::default()
    }
}

/// One backup's fate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub name: String,
    pub time: String,
    /// The rules that keep it (`last`, `daily`, ...); empty: pruned.
    pub reasons: Vec<&'static str>,
}

/// The timestamp in a backup's name (`YYYYMMDDTHHMMSSZ`), if any.
pub fn timestamp_of(name: &str) -> Option<NaiveDateTime> {
    let b = name.as_bytes();
    (0..b.len().saturating_sub(15)).find_map(|i| {
        let s = name.get(i..i + 16)?;
        let ok = s.as_bytes().iter().enumerate().all(|(k, c)| match k {
            8 => *c == b'T',
            15 => *c == b'Z',
            _ => c.is_ascii_digit(),
        });
        if !ok {
            return None;
        }
        NaiveDateTime::parse_from_str(&s[..15], "%Y%m%dT%H%M%S").ok()
    })
}

/// Decides for every `(name, time)`; newest first in the result.
pub fn plan(backups: &[(String, NaiveDateTime)], policy: &Policy) -> Vec<Decision> {
    let mut sorted: Vec<&(String, NaiveDateTime)> = backups.iter().collect();
    // Newest first; equal times by name so the result never depends on listing order.
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| b.0.cmp(&a.0)));
    type Key = fn(&NaiveDateTime) -> i64;
    let rules: [(&'static str, usize, Key); 5] = [
        ("hourly", policy.hourly, |t| {
            (t.year() as i64 * 10000 + t.ordinal() as i64) * 100 + t.hour() as i64
        }),
        ("daily", policy.daily, |t| {
            t.year() as i64 * 10000 + t.ordinal() as i64
        }),
        ("weekly", policy.weekly, |t| {
            let w = t.iso_week();
            w.year() as i64 * 100 + w.week() as i64
        }),
        ("monthly", policy.monthly, |t| {
            t.year() as i64 * 100 + t.month() as i64
        }),
        ("yearly", policy.yearly, |t| t.year() as i64),
    ];
    let mut out: Vec<Decision> = sorted
        .iter()
        .enumerate()
        .map(|(i, (name, t))| Decision {
            name: name.clone(),
            time: t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            reasons: if i < policy.last {
                vec!["last"]
            } else {
                Vec::new()
            },
        })
        .collect();
    for (label, n, key) in rules {
        let mut seen: Vec<i64> = Vec::new();
        for (i, (_, t)) in sorted.iter().enumerate() {
            if seen.len() >= n {
                break;
            }
            let k = key(t);
            if !seen.contains(&k) {
                seen.push(k);
                out[i].reasons.push(label);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> NaiveDateTime {
        timestamp_of(s).unwrap()
    }

    #[test]
    fn finds_timestamps_in_names() {
        assert_eq!(
            timestamp_of("db-20261125T093000Z.dump").map(|t| t.to_string()),
            Some("2026-11-25 09:30:00".into())
        );
        assert_eq!(timestamp_of("db-2026-11-25.dump"), None);
        assert_eq!(timestamp_of("db-20261345T093000Z.dump"), None, "month 13");
        assert_eq!(timestamp_of("short"), None);
    }

    #[test]
    fn restic_semantics() {
        // Two backups a day from Sat 2026-10-31 to Wed 2026-11-25 (26 days).
        let mut backups = Vec::new();
        let start = t("x-20261031T010000Z");
        for d in 0..26 {
            for h in [1, 13] {
                let when = start + chrono::Duration::days(d) + chrono::Duration::hours(h - 1);
                let name = format!("db-{}.dump", when.format("%Y%m%dT%H%M%SZ"));
                backups.push((name, when));
            }
        }
        let policy = Policy {
            last: 3,
            daily: 7,
            weekly: 4,
            monthly: 3,
            ..Policy::default()
        };
        let d = plan(&backups, &policy);
        assert_eq!(d.len(), 52);
        let kept: Vec<(&str, Vec<&str>)> = d
            .iter()
            .filter(|d| !d.reasons.is_empty())
            .map(|d| (&d.time[..13], d.reasons.clone()))
            .collect();
        assert_eq!(
            kept,
            vec![
                ("2026-11-25T13", vec!["last", "daily", "weekly", "monthly"]),
                ("2026-11-25T01", vec!["last"]),
                ("2026-11-24T13", vec!["last", "daily"]),
                ("2026-11-23T13", vec!["daily"]),
                // Sun 22 Nov ends ISO week 47.
                ("2026-11-22T13", vec!["daily", "weekly"]),
                ("2026-11-21T13", vec!["daily"]),
                ("2026-11-20T13", vec!["daily"]),
                ("2026-11-19T13", vec!["daily"]),
                ("2026-11-15T13", vec!["weekly"]),
                ("2026-11-08T13", vec!["weekly"]),
                ("2026-10-31T13", vec!["monthly"]),
            ]
        );
    }

    #[test]
    fn ties_and_empty_policy() {
        let a = ("a-20260101T000000Z".to_string(), t("20260101T000000Z"));
        let b = ("b-20260101T000000Z".to_string(), t("20260101T000000Z"));
        let p = Policy {
            last: 1,
            ..Policy::default()
        };
        let d1 = plan(&[a.clone(), b.clone()], &p);
        let d2 = plan(&[b, a], &p);
        assert_eq!(d1, d2);
        assert_eq!(d1[0].name, "b-20260101T000000Z");
        assert!(Policy::default().is_empty());
        assert!(!p.is_empty());
    }
}
