//! `pgrisk explain RULE` and `pgrisk rules`.

use std::io::Write;
use std::process::ExitCode;

use crate::cli::RulesFormat;
use crate::config;
use crate::error::Error;
use crate::rules;

pub fn explain(name: &str) -> Result<ExitCode, Error> {
    let rule = rules::find(name).ok_or_else(|| {
        let hint = config::suggest(name)
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default();
        Error::Usage(format!("unknown rule `{name}`{hint} (see `pgrisk rules`)"))
    })?;
    let mut out = std::io::stdout().lock();
    out.write_all(rule.doc.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

pub fn list(format: RulesFormat) -> Result<ExitCode, Error> {
    let mut out = std::io::stdout().lock();
    match format {
        RulesFormat::Human => {
            for r in rules::ALL {
                let lock = r.lock.map_or("—", |l| l.sql_name());
                writeln!(
                    out,
                    "{:<32} {:<14} {:<8} {:<23} {}",
                    r.name,
                    r.category.name(),
                    r.severity.name(),
                    lock,
                    r.summary
                )?;
            }
        }
        RulesFormat::Json => {
            let list: Vec<_> = rules::ALL
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "name": r.name, "category": r.category.name(), "severity": r.severity.name(),
                        "lock": r.lock.map(|l| l.sql_name()), "summary": r.summary,
                    })
                })
                .collect();
            serde_json::to_writer_pretty(&mut out, &list).map_err(std::io::Error::other)?;
            writeln!(out)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
