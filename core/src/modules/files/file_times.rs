//! `modification_time`/`access_time` of the `file` module, as ansible-core's
//! `update_timestamp_for_file`: `now`, `preserve`, or a time written in `*_time_format`
//! (strftime, default `%Y%m%d%H%M.%S`) read as the target's local time. The path's current
//! times are compared with the wanted ones; a change is made with `touch -d @EPOCH` and
//! recorded in the diff with both times in seconds since the epoch.

use super::file_diff::StateDiff;
use crate::modules::remote::Remote;
use crate::modules::{ModuleError, fail};
use crate::ssh::shell::quote_path;
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

/// What one of the two times should become.
#[derive(Debug, Clone, PartialEq)]
pub enum Wanted {
    Preserve,
    Now,
    /// A local date and time on the target, as `YYYY-MM-DD HH:MM:SS`.
    At(String),
}

/// The default format of both times.
pub const DEFAULT_FORMAT: &str = "%Y%m%d%H%M.%S";

/// Reads one time argument; unset means `now` for `touch` and `preserve` for other states.
pub fn wanted(value: Option<&str>, format: Option<&str>, state: &str) -> Result<Wanted, String> {
    let value = match value {
        None if state == "touch" => return Ok(Wanted::Now),
        None | Some("preserve") => return Ok(Wanted::Preserve),
        Some("now") => return Ok(Wanted::Now),
        Some(v) => v,
    };
    let format = format.unwrap_or(DEFAULT_FORMAT);
    // Python's strptime fills what the format leaves out from 1900-01-01 00:00:00.
    let at = NaiveDateTime::parse_from_str(value, format)
        .or_else(|_| NaiveDate::parse_from_str(value, format).map(|d| d.and_time(NaiveTime::MIN)))
        .or_else(|e| {
            NaiveTime::parse_from_str(value, format)
                .map(|t| {
                    NaiveDate::from_ymd_opt(1900, 1, 1)
                        .unwrap_or_default()
                        .and_time(t)
                })
                .map_err(|_| e)
        })
        .map_err(|e| {
            format!("Error while obtaining timestamp for time {value} using format {format}: {e}")
        })?;
    Ok(Wanted::At(at.format("%Y-%m-%d %H:%M:%S").to_string()))
}

/// Shell printing the path's mtime and atime, then each wanted time as epoch seconds (`now`
/// as the current time, `preserve` as `-`).
fn probe_script(path: &str, follow: bool, times: [&Wanted; 2]) -> String {
    let p = quote_path(path);
    let l = if follow { "-L " } else { "" };
    let mut s = format!("stat {l}-c '%.9Y %.9X' -- {p} || exit 1; now=$(date +%s.%N)");
    for w in times {
        s.push_str(&match w {
            Wanted::Preserve => "; echo -".to_string(),
            Wanted::Now => "; echo \"$now\"".to_string(),
            Wanted::At(t) => format!("; date -d {} +%s || exit 1", crate::ssh::shell::quote(t)),
        });
    }
    s
}

/// Brings the path's times to what is wanted (unless checking); whether that is a change.
pub async fn apply(
    remote: &Remote,
    path: &str,
    follow: bool,
    mtime: &Wanted,
    atime: &Wanted,
    check: bool,
    diff: Option<&mut StateDiff>,
) -> Result<bool, ModuleError> {
    if *mtime == Wanted::Preserve && *atime == Wanted::Preserve {
        return Ok(false);
    }
    let out = remote
        .check(&probe_script(path, follow, [mtime, atime]), None)
        .await?;
    let text = out.stdout_str();
    let words: Vec<&str> = text.split_whitespace().collect();
    let num = |s: &str| s.parse::<f64>().ok();
    let [m0, a0, m1, a1] = words.as_slice() else {
        return fail(format!("could not read the times of {path}: {text}"));
    };
    let (Some(prev_m), Some(prev_a)) = (num(m0), num(a0)) else {
        return fail(format!("could not read the times of {path}: {text}"));
    };
    let new_m = num(m1).unwrap_or(prev_m);
    let new_a = num(a1).unwrap_or(prev_a);
    let both_now = *mtime == Wanted::Now && *atime == Wanted::Now;
    if !both_now && new_m == prev_m && new_a == prev_a {
        return Ok(false);
    }
    if !check {
        let p = quote_path(path);
        let h = if follow { "" } else { "-h " };
        let script = if both_now {
            format!("touch {h}-c -- {p}")
        } else {
            format!("touch {h}-c -m -d @{new_m} -- {p} && touch {h}-c -a -d @{new_a} -- {p}")
        };
        remote.check(&script, None).await?;
    }
    if let Some(d) = diff {
        if new_m != prev_m {
            d.set("mtime", prev_m, new_m);
        }
        if new_a != prev_a {
            d.set("atime", prev_a, new_a);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_read_as_ansible_core_reads_them() {
        assert_eq!(wanted(None, None, "touch"), Ok(Wanted::Now));
        assert_eq!(wanted(None, None, "file"), Ok(Wanted::Preserve));
        assert_eq!(
            wanted(Some("preserve"), None, "touch"),
            Ok(Wanted::Preserve)
        );
        assert_eq!(
            wanted(Some("202202081414.00"), None, "file"),
            Ok(Wanted::At("2022-02-08 14:14:00".into()))
        );
        assert_eq!(
            wanted(Some("2022-02-08"), Some("%Y-%m-%d"), "file"),
            Ok(Wanted::At("2022-02-08 00:00:00".into()))
        );
        let e = wanted(Some("yesterday"), None, "file").unwrap_err();
        assert!(
            e.starts_with(
                "Error while obtaining timestamp for time yesterday using format %Y%m%d%H%M.%S: "
            ),
            "{e}"
        );
    }

    #[test]
    fn the_probe() {
        insta::assert_snapshot!(
            probe_script("/tmp/a b", true, [&Wanted::At("2022-02-08 14:14:00".into()), &Wanted::Preserve]),
            @r#"stat -L -c '%.9Y %.9X' -- '/tmp/a b' || exit 1; now=$(date +%s.%N); date -d '2022-02-08 14:14:00' +%s || exit 1; echo -"#
        );
    }
}
