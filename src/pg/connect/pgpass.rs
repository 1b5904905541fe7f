//! The password file (`~/.pgpass`, `PGPASSFILE`): lines `host:port:database:user:password`,
//! `*` for any value, `\:` and `\\` for a literal colon and backslash, `#` for a comment. As in
//! libpq, a file that the group or others may read is ignored with a warning.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// One field of a line: a value, or `*` (any).
#[derive(Debug, PartialEq)]
enum Field {
    Any,
    Exact(String),
}

impl Field {
    fn matches(&self, value: &str) -> bool {
        match self {
            Field::Any => true,
            Field::Exact(exact) => exact == value,
        }
    }
}

pub struct Entries(Vec<([Field; 4], String)>);

/// Reads the file: `Ok(None)` when there is none, `Err(warning)` when it is not used.
pub fn read(path: &Path) -> Result<Option<Entries>, String> {
    let Ok(metadata) = std::fs::metadata(path) else {
        return Ok(None);
    };
    let shown = path.display();
    if !metadata.is_file() {
        return Err(format!("password file \"{shown}\" is not a plain file"));
    }
    if metadata.permissions().mode() & 0o077 != 0 {
        return Err(format!(
            "password file \"{shown}\" has group or world access; permissions should be u=rw (0600) or less"
        ));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read password file \"{shown}\": {e}"))?;
    Ok(Some(Entries(text.lines().filter_map(parse_line).collect())))
}

fn parse_line(line: &str) -> Option<([Field; 4], String)> {
    if line.trim_start().starts_with('#') {
        return None;
    }
    let mut fields: Vec<(String, bool)> = vec![(String::new(), false)];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ':' if fields.len() < 5 => fields.push((String::new(), false)),
            // the password ends at the next unescaped colon
            ':' => break,
            c => {
                let (field, escaped) = fields.last_mut()?;
                if c == '\\' {
                    field.extend(chars.next());
                    *escaped = true;
                } else {
                    field.push(c);
                }
            }
        }
    }
    let mut fields = fields.into_iter();
    let mut key = || -> Option<Field> {
        let (value, escaped) = fields.next()?;
        Some(if value == "*" && !escaped {
            Field::Any
        } else {
            Field::Exact(value)
        })
    };
    let matched = [key()?, key()?, key()?, key()?];
    let (password, _) = fields.next()?;
    Some((matched, password))
}

impl Entries {
    /// The password of the first line that matches one of `hosts` (a host has several names
    /// when `localhost` also stands for the default socket directory), `port`, `db`, `user`.
    pub fn lookup(&self, hosts: &[&str], port: u16, db: &str, user: &str) -> Option<String> {
        let port = port.to_string();
        self.0
            .iter()
            .find(|([host, p, d, u], _)| {
                hosts.iter().any(|h| host.matches(h))
                    && p.matches(&port)
                    && d.matches(db)
                    && u.matches(user)
            })
            .map(|(_, password)| password.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_split_on_unescaped_colons() {
        let (fields, password) = parse_line(r"db\:1:5432:*:a\\b:pa\:ss:ignored").unwrap();
        assert_eq!(fields[0], Field::Exact("db:1".into()));
        assert_eq!(fields[2], Field::Any);
        assert_eq!(fields[3], Field::Exact(r"a\b".into()));
        assert_eq!(password, "pa:ss");
        assert_eq!(
            parse_line(r"\*:*:*:*:x").unwrap().0[0],
            Field::Exact("*".into())
        );
        assert!(parse_line("too:few:fields:x").is_none());
        assert!(parse_line("# h:p:d:u:pw").is_none());
    }
}
