//! Printing answers: a table for people, the API's JSON for scripts, or just
//! the id or the secret. A secret is printed once, to standard output only;
//! when standard output is a terminal it is marked as shown once.

use std::fmt::Write as _;
use std::io::IsTerminal as _;

use serde_json::Value;

use crate::args::Format;

/// The fields of an answer that hold a secret shown once.
const SECRET_FIELDS: &[&str] = &["secret", "token"];

/// How to print.
#[derive(Debug, Clone, Copy)]
pub struct Out {
    pub format: Format,
    pub quiet: bool,
    /// Whether standard output is a terminal.
    pub terminal: bool,
}

/// A column of a table: its heading and the field it shows.
pub type Column = (&'static str, &'static str);

impl Out {
    pub fn new(format: Format, quiet: bool) -> Self {
        Self {
            format,
            quiet,
            terminal: std::io::stdout().is_terminal(),
        }
    }

    /// One object: `key: value` lines (`first` in that order, then the
    /// rest), its secret last. `--quiet` prints the secret if there is one,
    /// else the field `id_key`.
    pub fn object(&self, raw: &str, value: &Value, first: &[&str], id_key: &str) {
        if self.format == Format::Json {
            print_raw(raw);
            return;
        }
        let secret = SECRET_FIELDS
            .iter()
            .find_map(|k| value.get(*k).and_then(Value::as_str).map(|s| (*k, s)));
        if self.quiet {
            match secret {
                Some((_, s)) => println!("{s}"),
                None => println!(
                    "{}",
                    text(id_key, value.get(id_key).unwrap_or(&Value::Null))
                ),
            }
            return;
        }
        let mut out = String::new();
        if let Value::Object(map) = value {
            let mut keys: Vec<&str> = first
                .iter()
                .copied()
                .filter(|k| map.contains_key(*k))
                .collect();
            keys.extend(
                map.keys()
                    .map(String::as_str)
                    .filter(|k| !first.contains(k)),
            );
            let width = keys.iter().map(|k| k.len()).max().unwrap_or(0);
            for key in keys {
                if SECRET_FIELDS.contains(&key) && secret.is_some_and(|(k, _)| k == key) {
                    continue;
                }
                let line = format!("{key:width$}  {}", text(key, &map[key]));
                let _ = writeln!(out, "{}", line.trim_end());
            }
        }
        print!("{out}");
        if let Some((name, s)) = secret {
            println!("{name}: {s}");
            if self.terminal {
                println!("(shown once: flowgate keeps only a digest; store it now)");
            }
        }
    }

    /// A list of objects as columns. `--quiet` prints the `id_key` of each.
    /// `raw` is printed as is for `--output json`.
    pub fn list(&self, raw: &str, items: &[Value], columns: &[Column], id_key: &str) {
        if self.format == Format::Json {
            print_raw(raw);
            return;
        }
        if self.quiet {
            for item in items {
                println!("{}", text(id_key, item.get(id_key).unwrap_or(&Value::Null)));
            }
            return;
        }
        print!("{}", table(items, columns));
    }

    /// What a command did when the answer has no body (`204`): a line for
    /// people, nothing for scripts.
    pub fn done(&self, message: &str) {
        if self.format == Format::Table && !self.quiet {
            println!("{message}");
        }
    }
}

fn print_raw(raw: &str) {
    if !raw.is_empty() {
        println!("{}", raw.trim_end());
    }
}

/// Rows under headings, each column as wide as its widest cell.
pub fn table(items: &[Value], columns: &[Column]) -> String {
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|item| {
            columns
                .iter()
                .map(|(_, key)| text(key, item.get(*key).unwrap_or(&Value::Null)))
                .collect()
        })
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, (heading, _))| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([heading.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                text.push_str(cell);
            } else {
                let _ = write!(text, "{cell:w$}  ", w = widths[i]);
            }
        }
        let _ = writeln!(out, "{}", text.trim_end());
    };
    line(columns.iter().map(|(h, _)| *h).collect());
    for row in &rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}

/// A value as table text: times (`*_at`, `time`) as UTC dates, lists joined,
/// a scope as `level[/project[/environment]]`, other objects as `k=v`.
pub fn text(key: &str, value: &Value) -> String {
    match value {
        Value::Null => "-".into(),
        Value::Bool(b) => if *b { "yes" } else { "no" }.into(),
        Value::Number(n) if key.ends_with("_at") || key == "time" => {
            n.as_u64().map(utc).unwrap_or_else(|| n.to_string())
        }
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) if items.is_empty() => "-".into(),
        Value::Array(items) => items
            .iter()
            .map(|v| match v {
                Value::Object(_) => format!("[{}]", text("", v)),
                _ => text("", v),
            })
            .collect::<Vec<_>>()
            .join(", "),
        Value::Object(map) if key == "scope" => ["level", "project", "environment"]
            .iter()
            .filter_map(|k| map.get(*k).and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("/"),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{k}={}", text(k, v)))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// Unix seconds as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian calendar).
pub fn utc(seconds: u64) -> String {
    let days = seconds / 86_400;
    let rem = seconds % 86_400;
    // Days since 1970-01-01 to a civil date, counting in 400-year eras that
    // start on 0000-03-01 (so that the leap day ends each year).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unix_seconds_become_utc_dates() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc(1_798_761_599), "2026-12-31T23:59:59Z");
        assert_eq!(utc(4_107_542_400), "2100-03-01T00:00:00Z");
    }

    #[test]
    fn table_aligns_columns_under_headings() {
        let items = [
            json!({"id": "a", "name": "first", "flows": ["orders", "reports"]}),
            json!({"id": "bbbb", "name": "x", "flows": []}),
        ];
        let out = table(
            &items,
            &[("ID", "id"), ("NAME", "name"), ("FLOWS", "flows")],
        );
        assert_eq!(
            out,
            "ID    NAME   FLOWS\na     first  orders, reports\nbbbb  x      -\n"
        );
    }

    #[test]
    fn scope_is_shown_as_its_path() {
        let scope = json!({"level": "environment", "project": "p", "environment": "prod"});
        assert_eq!(text("scope", &scope), "environment/p/prod");
    }
}
