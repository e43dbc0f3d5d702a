//! Host ranges: `web[01:20].example.com`, `db-[a:c]`, `node[0:10:2]` expand to host names.

/// The most names one range expression may give (an inventory line or host pattern such as
/// `web[0:99999999999]` would otherwise exhaust memory; found by tests/fuzz).
pub const MAX_NAMES: u64 = 1_000_000;

/// Expands every `[start:end(:stride)]` range in `name`, left to right. A name without a range
/// expands to itself. Numeric ranges keep the width of a zero-padded start (`[01:10]`).
pub fn expand(name: &str) -> Result<Vec<String>, String> {
    let Some(open) = name.find('[') else {
        return Ok(vec![name.to_string()]);
    };
    let close = name[open..]
        .find(']')
        .map(|i| open + i)
        .ok_or_else(|| format!("unclosed `[` in host range `{name}`"))?;
    let (head, body, tail) = (&name[..open], &name[open + 1..close], &name[close + 1..]);
    let parts: Vec<&str> = body.split(':').collect();
    if parts.len() < 2 || parts.len() > 3 {
        return Err(format!(
            "host range `[{body}]` in `{name}` must be `[start:end]` or `[start:end:stride]`"
        ));
    }
    let stride = match parts.get(2) {
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|s| *s > 0)
            .ok_or_else(|| format!("stride `{s}` in `{name}` must be a positive integer"))?,
        None => 1,
    };
    let (start, end) = (parts[0], parts[1]);
    let items: Vec<String> = if let (Ok(a), Ok(b)) = (start.parse::<u64>(), end.parse::<u64>()) {
        if a > b {
            return Err(format!(
                "host range `[{body}]` in `{name}` starts after it ends"
            ));
        }
        if (b - a) / stride as u64 + 1 > MAX_NAMES {
            return Err(format!(
                "host range `[{body}]` in `{name}` gives more than {MAX_NAMES} names"
            ));
        }
        let width = if start.starts_with('0') && start.len() > 1 {
            start.len()
        } else {
            0
        };
        (a..=b)
            .step_by(stride)
            .map(|n| format!("{n:0width$}"))
            .collect()
    } else {
        let (a, b) = (single_char(start), single_char(end));
        match (a, b) {
            (Some(a), Some(b)) if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() && a <= b => {
                (a..=b).step_by(stride).map(String::from).collect()
            }
            _ => {
                return Err(format!(
                    "host range `[{body}]` in `{name}` must be numbers (`[01:20]`) or single letters (`[a:f]`)"
                ));
            }
        }
    };
    let rests = expand(tail)?;
    if (items.len() as u64).saturating_mul(rests.len() as u64) > MAX_NAMES {
        return Err(format!(
            "the host ranges in `{name}` give more than {MAX_NAMES} names"
        ));
    }
    let mut out = Vec::with_capacity(items.len() * rests.len());
    for item in items {
        for rest in &rests {
            out.push(format!("{head}{item}{rest}"));
        }
    }
    Ok(out)
}

fn single_char(s: &str) -> Option<char> {
    let mut it = s.chars();
    match (it.next(), it.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    }
}

/// True when `name` contains a range that [`expand`] would expand.
pub fn has_range(name: &str) -> bool {
    name.contains('[') && name.contains(':') && name.contains(']')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_ranges_are_refused_not_allocated() {
        // Found by tests/fuzz: this asked for 50 billion names.
        assert!(
            expand("web[0:49990000000]")
                .unwrap_err()
                .contains("more than")
        );
        assert!(
            expand("a[0:999][0:999][0:9]")
                .unwrap_err()
                .contains("more than")
        );
        assert_eq!(expand("a[0:999][0:999]").map(|v| v.len()), Ok(1_000_000));
    }

    #[test]
    fn numeric_padded() {
        assert_eq!(
            expand("web[01:03].x").unwrap(),
            vec!["web01.x", "web02.x", "web03.x"]
        );
    }

    #[test]
    fn letters_and_stride_and_nested() {
        assert_eq!(expand("db-[a:c]").unwrap(), vec!["db-a", "db-b", "db-c"]);
        assert_eq!(expand("n[0:6:3]").unwrap(), vec!["n0", "n3", "n6"]);
        assert_eq!(
            expand("r[1:2]c[a:b]").unwrap(),
            vec!["r1ca", "r1cb", "r2ca", "r2cb"]
        );
    }

    #[test]
    fn errors() {
        assert!(
            expand("web[3:1]")
                .unwrap_err()
                .contains("starts after it ends")
        );
        assert!(expand("web[1:").unwrap_err().contains("unclosed"));
        assert!(expand("web[a:9]").unwrap_err().contains("single letters"));
        assert!(expand("web[1:4:0]").unwrap_err().contains("positive"));
    }
}
