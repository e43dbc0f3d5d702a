//! Time in templates, as Ansible has it: `now(utc=False, fmt=None)` (the current time, as
//! `YYYY-MM-DD HH:MM:SS.ffffff` or formatted with strftime codes) and the `strftime` filter
//! (`'%Y-%m-%d' | strftime(second=EPOCH, utc=False)`).

use chrono::{DateTime, Local, TimeZone, Utc};
use minijinja::value::Kwargs;
use minijinja::{Environment, Error, ErrorKind};

pub fn register(env: &mut Environment<'static>) {
    env.add_function("now", now);
    env.add_filter("strftime", strftime);
}

fn bad(msg: String) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg)
}

/// Formats with strftime codes; an unknown code is an error, not a panic.
fn format<Tz: TimeZone>(t: &DateTime<Tz>, fmt: &str) -> Result<String, Error>
where
    Tz::Offset: std::fmt::Display,
{
    use std::fmt::Write;
    let items: Vec<_> = chrono::format::StrftimeItems::new(fmt).collect();
    if items.contains(&chrono::format::Item::Error) {
        return Err(bad(format!("strftime: bad format `{fmt}`")));
    }
    let mut out = String::new();
    write!(out, "{}", t.format_with_items(items.into_iter()))
        .map_err(|_| bad(format!("strftime: cannot format with `{fmt}`")))?;
    Ok(out)
}

fn now(kwargs: Kwargs) -> Result<String, Error> {
    let utc: bool = kwargs.get::<Option<bool>>("utc")?.unwrap_or(false);
    let fmt: Option<String> = kwargs.get("fmt")?;
    kwargs.assert_all_used()?;
    let fmt = fmt.unwrap_or_else(|| "%Y-%m-%d %H:%M:%S%.6f".into());
    if utc {
        format(&Utc::now(), &fmt)
    } else {
        format(&Local::now(), &fmt)
    }
}

fn strftime(fmt: String, second: Option<f64>, kwargs: Kwargs) -> Result<String, Error> {
    let second = match second {
        Some(s) => Some(s),
        None => kwargs.get("second")?,
    };
    let utc: bool = kwargs.get::<Option<bool>>("utc")?.unwrap_or(false);
    kwargs.assert_all_used()?;
    let t = match second {
        Some(s) => Utc
            .timestamp_opt(s.trunc() as i64, (s.fract() * 1e9) as u32)
            .single()
            .ok_or_else(|| bad(format!("strftime: {s} is not a time")))?,
        None => Utc::now(),
    };
    if utc {
        format(&t, &fmt)
    } else {
        format(&t.with_timezone(&Local), &fmt)
    }
}
