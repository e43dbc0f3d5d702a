//! Cron-style schedules: standard five-field patterns (minute hour day month weekday) or six
//! with seconds first, plus `@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly`; times in UTC.

use chrono::{DateTime, Utc};
use std::str::FromStr;

/// The first time strictly after `after` that `pattern` matches, as stored.
pub fn next_after(pattern: &str, after: DateTime<Utc>) -> Result<String, String> {
    let expanded = match pattern.trim() {
        "@hourly" => "0 * * * *",
        "@daily" | "@midnight" => "0 0 * * *",
        "@weekly" => "0 0 * * 0",
        "@monthly" => "0 0 1 * *",
        "@yearly" | "@annually" => "0 0 1 1 *",
        p => p,
    };
    let cron = croner::Cron::from_str(expanded).map_err(|e| format!("cron `{pattern}`: {e}"))?;
    let next = cron
        .find_next_occurrence(&after, false)
        .map_err(|e| format!("cron `{pattern}`: {e}"))?;
    Ok(next.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn next_times() {
        let t = Utc.with_ymd_and_hms(2026, 11, 25, 13, 7, 30).unwrap();
        assert_eq!(
            next_after("*/15 * * * *", t).unwrap(),
            "2026-11-25T13:15:00.000000Z"
        );
        assert_eq!(
            next_after("@daily", t).unwrap(),
            "2026-11-26T00:00:00.000000Z"
        );
        assert_eq!(
            next_after("0 3 * * 1", t).unwrap(),
            "2026-11-30T03:00:00.000000Z"
        );
        assert_eq!(
            next_after("*/5 * * * * *", t).unwrap(),
            "2026-11-25T13:07:35.000000Z"
        );
        assert!(
            next_after("61 * * * *", t)
                .unwrap_err()
                .contains("cron `61 * * * *`")
        );
        assert!(next_after("every day", t).is_err());
    }
}
