//! The `sequence` lookup (and `with_sequence`) as ansible-core has it: `[start-]end[/stride][:format]`
//! or `key=value` options (`start`, `end`, `count`, `stride`, `format`), the same checks and
//! messages, numbers in decimal, hex (`0x`) or octal (`0o`), printf-style formats.

use serde_json::{Map, Value as Json};

const FIELDS: [&str; 5] = ["start", "end", "stride", "count", "format"];

fn int(key: &str, s: &str) -> Result<i64, String> {
    let t = s.trim();
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t),
    };
    let lower = t.to_ascii_lowercase();
    let v = if let Some(h) = lower.strip_prefix("0x") {
        i64::from_str_radix(h, 16)
    } else if let Some(o) = lower.strip_prefix("0o") {
        i64::from_str_radix(o, 8)
    } else {
        t.parse::<i64>()
    }
    .map_err(|_| format!("option '{key}' has an invalid value: '{s}' is not an integer"))?;
    Ok(if neg { -v } else { v })
}

/// The shortcut form, split into its fields; `None` when `term` is not one.
fn shortcut(term: &str) -> Option<Vec<(&'static str, String)>> {
    let re =
        regex::Regex::new(r"(?i)^((0?x?[0-9a-f]+)-)?(0?x?[0-9a-f]+)(/(0?x?[0-9a-f]+))?(:(.+))?$")
            .ok()?;
    let c = re.captures(term)?;
    let mut out = Vec::new();
    for (name, group) in [("start", 2), ("end", 3), ("stride", 5), ("format", 7)] {
        if let Some(m) = c.get(group) {
            out.push((name, m.as_str().to_string()));
        }
    }
    Some(out)
}

/// `%d`, `%x`, `%X`, `%o` with flags and width, as Python's `%` formats an integer.
fn printf_int(format: &str, n: i64) -> Result<String, String> {
    let re = regex::Regex::new(r"%([-0 +]*)(\d*)([dixXo])").map_err(|e| e.to_string())?;
    let c = re
        .captures(format)
        .ok_or_else(|| format!("problem formatting {n} with '{format}'"))?;
    let flags = &c[1];
    let width: usize = c[2].parse().unwrap_or(0);
    let abs = n.unsigned_abs();
    let mut body = match &c[3] {
        "x" => format!("{abs:x}"),
        "X" => format!("{abs:X}"),
        "o" => format!("{abs:o}"),
        _ => abs.to_string(),
    };
    let sign = if n < 0 {
        "-"
    } else if flags.contains('+') {
        "+"
    } else if flags.contains(' ') {
        " "
    } else {
        ""
    };
    let pad = width.saturating_sub(body.len() + sign.len());
    body = if flags.contains('-') {
        format!("{sign}{body}{}", " ".repeat(pad))
    } else if flags.contains('0') {
        format!("{sign}{}{body}", "0".repeat(pad))
    } else {
        format!("{}{sign}{body}", " ".repeat(pad))
    };
    let whole = c.get(0).map(|m| m.range()).unwrap_or(0..0);
    Ok(format!("{}{body}{}", &format[..whole.start], &format[whole.end..]).replace("%%", "%"))
}

/// The sequence one term (with `options` given as keywords) stands for.
pub fn run(term: &str, options: &Map<String, Json>) -> Result<Vec<String>, String> {
    let mut set: Vec<(String, String)> = options
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string()),
            )
        })
        .collect();
    match shortcut(term) {
        Some(fields) => set.extend(fields.into_iter().map(|(k, v)| (k.to_string(), v))),
        None => {
            let mut unknown = Vec::new();
            for word in crate::playbook::split_words(term) {
                match word.split_once('=') {
                    Some((k, v)) if FIELDS.contains(&k) => set.push((k.to_string(), v.to_string())),
                    Some((k, _)) => unknown.push(format!("'{k}'")),
                    None => unknown.push("'_raw_params'".to_string()),
                }
            }
            if !unknown.is_empty() {
                return Err(format!(
                    "unrecognized arguments to with_sequence: [{}]",
                    unknown.join(", ")
                ));
            }
        }
    }
    let get = |k: &str| {
        set.iter()
            .rev()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
    };
    let start = get("start")
        .map(|v| int("start", &v))
        .transpose()?
        .unwrap_or(1);
    let stride = get("stride")
        .map(|v| int("stride", &v))
        .transpose()?
        .unwrap_or(1);
    let count = get("count").map(|v| int("count", &v)).transpose()?;
    let mut end = get("end").map(|v| int("end", &v)).transpose()?;
    let format = get("format").unwrap_or_else(|| "%d".into());
    match (count, end) {
        (None, None) => return Err("must specify count or end in with_sequence".into()),
        (Some(_), Some(_)) => {
            return Err("can't specify both count and end in with_sequence".into());
        }
        (Some(0), None) => return Ok(Vec::new()),
        (Some(c), None) => end = Some(start + c * stride - 1),
        (None, Some(_)) => {}
    }
    let end = end.unwrap_or(start);
    if stride > 0 && end < start {
        return Err("to count backwards make stride negative".into());
    }
    if stride < 0 && end > start {
        return Err("to count forward don't make stride negative".into());
    }
    if stride == 0 {
        return Ok(Vec::new());
    }
    if format.matches('%').count() != 1 {
        return Err(format!("bad formatting string: {format}"));
    }
    let adjust = if stride >= 0 { 1 } else { -1 };
    let len = ((end + adjust - start) / stride).max(0);
    if len > 1_000_000 {
        return Err("with_sequence: more than 1000000 numbers".into());
    }
    let mut out = Vec::new();
    let mut i = start;
    while (stride > 0 && i < end + adjust) || (stride < 0 && i > end + adjust) {
        out.push(printf_int(&format, i)?);
        i += stride;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(t: &str) -> Result<Vec<String>, String> {
        run(t, &Map::new())
    }

    #[test]
    fn forms_and_messages_follow_ansible_core() {
        assert_eq!(seq("4").unwrap(), ["1", "2", "3", "4"]);
        assert_eq!(seq("2-10/4").unwrap(), ["2", "6", "10"]);
        assert_eq!(
            seq("0x2-0x5:host%02d").unwrap(),
            ["host02", "host03", "host04", "host05"]
        );
        assert_eq!(seq("start=1 count=3 stride=2").unwrap(), ["1", "3", "5"]);
        assert_eq!(seq("start=5 end=1 stride=-2").unwrap(), ["5", "3", "1"]);
        assert_eq!(seq("count=0").unwrap(), Vec::<String>::new());
        assert_eq!(
            seq("start=5 end=1").unwrap_err(),
            "to count backwards make stride negative"
        );
        assert_eq!(
            seq("start=1").unwrap_err(),
            "must specify count or end in with_sequence"
        );
        assert_eq!(
            seq("end=3 count=3").unwrap_err(),
            "can't specify both count and end in with_sequence"
        );
        assert!(
            seq("end=3 junk=1")
                .unwrap_err()
                .starts_with("unrecognized arguments to with_sequence")
        );
        assert_eq!(
            seq("end=3 format=%d%d").unwrap_err(),
            "bad formatting string: %d%d"
        );
    }
}
