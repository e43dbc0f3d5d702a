//! `csv_fleet`: hosts from a CSV or JSON fleet file.
//!
//! ```yaml
//! plugin: csv_fleet
//! source: fleet.csv        # relative to this file; .json = a list of objects
//! group_by: [dc, role]     # groups named <column>_<value> (e.g. dc_fra1)
//! groups_column: groups    # `;`-separated group names (default `groups`)
//! vars:                    # variables for every host
//!   ansible_user: root
//! ```
//! CSV: a header row; column `host` (or `name`) names the host; every other column becomes a
//! host variable (integers, `true`/`false` typed). Quoted fields (RFC 4180) are understood.

use hoist_plugin_sdk::Value;
use hoist_plugin_sdk::controller;
use hoist_plugin_sdk::inventory::{Host, Inventory, Source};
use hoist_plugin_sdk::json::Map;

/// RFC 4180 rows: quotes, doubled quotes, separators and newlines inside quotes.
fn rows(text: &str, sep: char) -> Result<Vec<Vec<String>>, String> {
    let mut out = Vec::new();
    let (mut row, mut field) = (Vec::new(), String::new());
    let (mut quoted, mut line) = (false, 1);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => {
                if c == '\n' {
                    line += 1;
                }
                field.push(c)
            }
            (false, '"') if field.is_empty() => quoted = true,
            (false, c) if c == sep => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                line += 1;
                row.push(std::mem::take(&mut field));
                if row.iter().any(|f| !f.is_empty()) {
                    out.push(std::mem::take(&mut row));
                } else {
                    row.clear();
                }
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err(format!("line {line}: a quoted field is not closed"));
    }
    row.push(field);
    if row.iter().any(|f| !f.is_empty()) {
        out.push(row);
    }
    Ok(out)
}

fn typed(s: &str) -> Value {
    if let Ok(i) = s.parse::<i64>() {
        return Value::from(i);
    }
    match s {
        "true" | "True" => Value::Bool(true),
        "false" | "False" => Value::Bool(false),
        _ => Value::from(s),
    }
}

fn group_name(column: &str, value: &str) -> String {
    let clean: String = value
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("{column}_{clean}")
}

/// Each host's variables, from CSV or JSON.
fn records(path: &str, text: &str, sep: char) -> Result<Vec<Map<String, Value>>, String> {
    if path.ends_with(".json") {
        let v: Value =
            hoist_plugin_sdk::json::from_str(text).map_err(|e| format!("{path}: {e}"))?;
        let list = v
            .as_array()
            .ok_or_else(|| format!("{path}: expected a list of objects"))?;
        return list
            .iter()
            .enumerate()
            .map(|(i, r)| {
                r.as_object()
                    .cloned()
                    .ok_or_else(|| format!("{path}: item {i} is not an object"))
            })
            .collect();
    }
    let mut all = rows(text, sep)
        .map_err(|e| format!("{path}: {e}"))?
        .into_iter();
    let header = all.next().ok_or_else(|| format!("{path}: empty file"))?;
    let header: Vec<String> = header.iter().map(|h| h.trim().to_string()).collect();
    let mut out = Vec::new();
    for (i, row) in all.enumerate() {
        if row.len() != header.len() {
            return Err(format!(
                "{path}: row {} has {} fields, the header has {}",
                i + 2,
                row.len(),
                header.len()
            ));
        }
        let mut m = Map::new();
        for (k, v) in header.iter().zip(row) {
            if !v.is_empty() {
                m.insert(k.clone(), typed(v.trim()));
            }
        }
        out.push(m);
    }
    Ok(out)
}

struct CsvFleet;

impl Source for CsvFleet {
    fn load(config: Map<String, Value>, source_dir: &str) -> Result<Inventory, String> {
        let source = config
            .get("source")
            .and_then(Value::as_str)
            .ok_or("expected `source:` (the CSV or JSON file)")?;
        let path = if source.starts_with('/') {
            source.to_string()
        } else {
            format!("{source_dir}/{source}")
        };
        let sep = match config.get("delimiter").and_then(Value::as_str) {
            None => ',',
            Some(d) if d.chars().count() == 1 => d.chars().next().unwrap_or(','),
            Some(d) => return Err(format!("delimiter `{d}`: expected one character")),
        };
        let group_by: Vec<String> = match config.get("group_by") {
            None => Vec::new(),
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            Some(_) => return Err("group_by: expected a list of column names".into()),
        };
        let groups_column = config
            .get("groups_column")
            .and_then(Value::as_str)
            .unwrap_or("groups")
            .to_string();
        let common = config
            .get("vars")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let text = controller::read_to_string(&path)?;
        let mut inv = Inventory::default();
        for (i, mut rec) in records(&path, &text, sep)?.into_iter().enumerate() {
            let name = rec
                .remove("host")
                .or_else(|| rec.remove("name"))
                .and_then(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .or_else(|| Some(v.to_string()))
                })
                .ok_or_else(|| format!("{path}: record {} has no `host` column", i + 1))?;
            if let Some(g) = rec.remove(&groups_column) {
                for gname in g
                    .as_str()
                    .unwrap_or_default()
                    .split(';')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                {
                    inv.group(gname).hosts.push(name.clone());
                }
            }
            for col in &group_by {
                if let Some(v) = rec.get(col) {
                    let v = v
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string());
                    inv.group(&group_name(col, &v)).hosts.push(name.clone());
                }
            }
            let mut vars = common.clone();
            vars.extend(rec);
            inv.hosts.push(Host { name, vars });
        }
        hoist_plugin_sdk::log::info(&format!("{}: {} hosts", path, inv.hosts.len()));
        Ok(inv)
    }
}

hoist_plugin_sdk::register_inventory!(CsvFleet);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4180_rows() {
        let r = rows(
            "a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\n\n\"multi\nline\",2\n",
            ',',
        )
        .unwrap();
        assert_eq!(
            r,
            vec![
                vec!["a", "b"],
                vec!["x, y", "say \"hi\""],
                vec!["multi\nline", "2"]
            ]
        );
        assert!(rows("a\n\"open", ',').unwrap_err().contains("not closed"));
    }

    #[test]
    fn records_are_typed_and_checked() {
        let recs = records(
            "f.csv",
            "host,port,tls,dc\nweb1,8080,true,fra1\nweb2,,false,\n",
            ',',
        )
        .unwrap();
        assert_eq!(recs[0]["port"], 8080);
        assert_eq!(recs[0]["tls"], true);
        assert!(!recs[1].contains_key("port"), "empty fields are left out");
        let e = records("f.csv", "host,dc\nweb1\n", ',').unwrap_err();
        assert!(e.contains("row 2 has 1 fields, the header has 2"), "{e}");
        let j = records("f.json", r#"[{"host": "a", "x": 1}]"#, ',').unwrap();
        assert_eq!(j[0]["x"], 1);
        assert!(
            records("f.json", "{}", ',')
                .unwrap_err()
                .contains("expected a list")
        );
        assert_eq!(group_name("dc", "FRA-1"), "dc_fra_1");
    }
}
