//! Output helpers: tables (comfy-table) and human-readable sizes and durations.

use comfy_table::{ContentArrangement, Table, presets};

/// A table with hoist's style and the given header.
pub fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.iter().copied());
    t
}

/// Kibibytes as a short human size (`1.5G`).
pub fn size_kb(kb: u64) -> String {
    let units = ["K", "M", "G", "T", "P"];
    let mut v = kb as f64;
    let mut i = 0;
    while v >= 1024.0 && i < units.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if v >= 10.0 || i == 0 {
        format!("{v:.0}{}", units[i])
    } else {
        format!("{v:.1}{}", units[i])
    }
}

/// Seconds as `3d 4h`, `5h 12m` or `7m 3s`.
pub fn duration_secs(s: u64) -> String {
    let (d, h, m) = (s / 86400, s % 86400 / 3600, s % 3600 / 60);
    if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m}m")
    } else {
        format!("{m}m {}s", s % 60)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_and_durations() {
        assert_eq!(super::size_kb(512), "512K");
        assert_eq!(super::size_kb(1536), "1.5M");
        assert_eq!(super::size_kb(24576000), "23G");
        assert_eq!(super::duration_secs(90061), "1d 1h");
        assert_eq!(super::duration_secs(3720), "1h 2m");
        assert_eq!(super::duration_secs(63), "1m 3s");
    }
}
