//! Numbers a person reads: bytes as kB/MB/GB (base 1024, as `pg_size_pretty` prints them),
//! durations as ms/s/min/h/d. Evidence keys carry their unit as a suffix (`size_bytes`,
//! `age_seconds`, `mean_ms`); [`evidence`] turns such a pair into a label and a readable value.

use crate::diagnostic::Unit;

const BYTE_UNITS: [&str; 5] = ["kB", "MB", "GB", "TB", "PB"];

/// `1536` → `1.5 kB`; below 1 kB the exact count in bytes.
pub fn bytes(n: f64) -> String {
    if n.abs() < 1024.0 {
        return format!("{} bytes", n.round());
    }
    let mut value = n / 1024.0;
    let mut unit = 0;
    while value.abs() >= 1024.0 && unit + 1 < BYTE_UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{} {}", significant(value), BYTE_UNITS[unit])
}

/// Units of a duration of a minute or more, largest first: (unit, seconds in it).
const DURATION_UNITS: [(&str, f64); 4] =
    [("d", 86_400.0), ("h", 3_600.0), ("min", 60.0), ("s", 1.0)];

/// `0.0123` → `12.3 ms`, `4.5` → `4.5 s`, `100` → `1 min 40 s`, `5400` → `1 h 30 min`.
pub fn seconds(s: f64) -> String {
    if s.abs() < 1.0 {
        return format!("{} ms", significant(s * 1000.0));
    }
    if s < 60.0 {
        return format!("{} s", significant(s));
    }
    let i = DURATION_UNITS
        .iter()
        .position(|(_, size)| s >= *size)
        .unwrap_or(DURATION_UNITS.len() - 1);
    let (unit, size) = DURATION_UNITS[i];
    let whole = (s / size).floor();
    // the next unit is kept, so "1 h 30 min" is not rounded to "2 h"
    if let Some((smaller, smaller_size)) = DURATION_UNITS.get(i + 1) {
        let rest = ((s - whole * size) / smaller_size).floor();
        if rest >= 1.0 {
            return format!("{whole} {unit} {rest} {smaller}");
        }
    }
    format!("{} {unit}", (s / size).round())
}

/// A value of a chart's unit.
pub fn of(unit: Unit, value: f64) -> String {
    match unit {
        Unit::Bytes => bytes(value),
        Unit::Milliseconds => seconds(value / 1000.0),
        Unit::Count => count(value),
    }
}

/// `1234567` → `1 234 567` (thin grouping a reader of any locale can parse).
pub fn count(n: f64) -> String {
    if n.fract() != 0.0 && n.abs() < 100.0 {
        return significant(n);
    }
    let digits = format!("{}", n.round().abs() as u64);
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(' ');
        }
        grouped.push(c);
    }
    if n < 0.0 {
        grouped.insert(0, '-');
    }
    grouped
}

/// Three significant digits at most, no trailing zeros: `1.50` → `1.5`, `123.4` → `123`.
fn significant(v: f64) -> String {
    let decimals = match v.abs() {
        a if a >= 100.0 => 0,
        a if a >= 10.0 => 1,
        _ => 2,
    };
    let text = format!("{v:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

/// Unit suffixes of evidence keys and how their numbers read.
type Reading = fn(f64) -> String;

const SUFFIXES: [(&str, Reading); 3] = [
    ("_bytes", bytes),
    ("_seconds", seconds),
    ("_ms", |ms| seconds(ms / 1000.0)),
];

/// A finding's evidence as people read it: `blocks` is left out (the lock line says it), and so
/// are unknown values (`null`), which tell nothing.
pub fn shown_evidence(
    evidence: &std::collections::BTreeMap<String, serde_json::Value>,
) -> impl Iterator<Item = (String, String)> + '_ {
    evidence
        .iter()
        .filter(|(k, v)| k.as_str() != "blocks" && !v.is_null())
        .map(|(k, v)| self::evidence(k, v))
}

/// An evidence entry for people: `("size_bytes", 1536)` → `("size", "1.5 kB")`. Strings are
/// shown as written, lists joined with `; `, other keys and values unchanged.
pub fn evidence(key: &str, value: &serde_json::Value) -> (String, String) {
    if let Some(n) = value.as_f64() {
        for (suffix, read) in SUFFIXES {
            if let Some(label) = key.strip_suffix(suffix).filter(|l| !l.is_empty()) {
                let mut label = label.replace('_', " ");
                // `table_bytes` beside `table` (its name) must not read as a second `table`
                if suffix == "_bytes" && !label.ends_with("size") {
                    label.push_str(" size");
                }
                return (label, read(n));
            }
        }
        // row estimates (`reltuples`) are floats that hold whole numbers
        if n.fract() == 0.0 && n.abs() < 1e15 && value.is_f64() {
            return (key.to_owned(), format!("{}", n as i64));
        }
    }
    let shown = match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    };
    (key.to_owned(), shown)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bytes_read_like_pg_size_pretty() {
        assert_eq!(bytes(512.0), "512 bytes");
        assert_eq!(bytes(1536.0), "1.5 kB");
        assert_eq!(bytes(123.4 * 1024.0 * 1024.0), "123 MB");
        assert_eq!(bytes(5.0 * 1024f64.powi(3)), "5 GB");
    }

    #[test]
    fn durations_use_the_largest_unit_and_one_smaller() {
        assert_eq!(seconds(0.0123), "12.3 ms");
        assert_eq!(seconds(4.5), "4.5 s");
        assert_eq!(seconds(2460.0), "41 min");
        assert_eq!(seconds(100.0), "1 min 40 s");
        assert_eq!(seconds(5400.0), "1 h 30 min");
        assert_eq!(seconds(90_000.0), "1 d 1 h");
        assert_eq!(seconds(3.0 * 86_400.0), "3 d");
    }

    #[test]
    fn unknown_values_and_the_lock_summary_are_not_shown() {
        let evidence = [
            ("blocks".to_owned(), json!("all reads and writes")),
            ("xmin_age".to_owned(), serde_json::Value::Null),
            ("pid".to_owned(), json!(42)),
        ]
        .into_iter()
        .collect();
        let shown: Vec<_> = shown_evidence(&evidence).collect();
        assert_eq!(shown, vec![("pid".to_owned(), "42".to_owned())]);
    }

    #[test]
    fn evidence_keys_lose_their_unit_suffix() {
        assert_eq!(
            evidence("size_bytes", &json!(2_097_152)),
            ("size".into(), "2 MB".into())
        );
        assert_eq!(
            evidence("age_seconds", &json!(2460)),
            ("age".into(), "41 min".into())
        );
        assert_eq!(
            evidence("mean_ms", &json!(12.5)),
            ("mean".into(), "12.5 ms".into())
        );
        assert_eq!(evidence("rows", &json!(10)), ("rows".into(), "10".into()));
        assert_eq!(
            evidence("rows", &json!(100000.0)),
            ("rows".into(), "100000".into())
        );
        assert_eq!(
            evidence("table_bytes", &json!(2048)),
            ("table size".into(), "2 kB".into())
        );
        assert_eq!(
            evidence("pids", &json!(["1", 2])),
            ("pids".into(), "1; 2".into())
        );
        assert_eq!(count(1_234_567.0), "1 234 567");
    }
}
