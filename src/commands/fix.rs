//! `pgrisk lint --fix` and `--diff-only`: lint, apply the safe fixes of each file, write them
//! (or print them as a diff), then lint the fixed text and report what remains.

use std::io::{self, Write};
use std::process::ExitCode;

use super::lint::{Input, check_files, render_outcome, report_inputs};
use crate::analysis::Mode;
use crate::cli::SharedArgs;
use crate::config::Settings;
use crate::error::Error;
use crate::fix;
use crate::source::discover::{self, DiscoverOptions, Discovered, MigrationFile};

/// What to do with the fixes.
pub struct How<'a> {
    /// Print a diff per file instead of writing.
    pub diff_only: bool,
    /// How the files were discovered: the fixed text is classified the same way.
    pub options: &'a DiscoverOptions,
}

fn is_stdin(file: &MigrationFile) -> bool {
    file.path.as_os_str() == "<stdin>"
}

pub fn run(
    context: Vec<MigrationFile>,
    discovered: Discovered,
    how: How,
    settings: &Settings,
    shared: &SharedArgs,
) -> Result<ExitCode, Error> {
    report_inputs(&discovered);
    let input_errors: Vec<String> = discovered.errors.iter().map(|e| e.to_string()).collect();
    let report = check_files(
        Input {
            context: context.clone(),
            files: discovered.files.clone(),
            mode: Mode::Migrations,
            parse_all: shared.verbose,
        },
        settings,
    );
    let mut refused = false;
    let mut stdin_text = None;
    let mut diffs = String::new();
    let mut after = Vec::with_capacity(discovered.files.len());
    for (index, file) in discovered.files.into_iter().enumerate() {
        let fixed = fix::apply(
            &file.text,
            report.diagnostics.iter().filter(|d| d.file == Some(index)),
        );
        let path = file.path.display().to_string();
        for skipped in &fixed.skipped {
            let line = skipped.start.map_or(0, |p| p.line);
            eprintln!(
                "pgrisk: {path}:{line}: fix for `{}` not applied: it overlaps another fix (run --fix again)",
                skipped.rule
            );
        }
        if fixed.applied == 0 {
            if is_stdin(&file) {
                stdin_text = Some(file.text.clone());
            }
            after.push(file);
            continue;
        }
        let plural = if fixed.applied == 1 { "" } else { "es" };
        if how.diff_only {
            diffs.push_str(&fix::unified_diff(&file.path, &file.text, &fixed.text));
            eprintln!("pgrisk: {path}: {} fix{plural} to apply", fixed.applied);
        } else if is_stdin(&file) {
            stdin_text = Some(fixed.text.clone());
            eprintln!("pgrisk: {path}: {} fix{plural} applied", fixed.applied);
        } else if let Err(e) = fix::write_if_unchanged(&file.path, &file.text, &fixed.text) {
            eprintln!("pgrisk: error: {e}");
            refused = true;
            after.push(file);
            continue;
        } else {
            eprintln!("pgrisk: {path}: {} fix{plural} applied", fixed.applied);
        }
        after.push(discover::from_text(file.path, fixed.text, how.options));
    }
    // the findings that remain, in the fixed text
    let mut remaining = check_files(
        Input {
            context,
            files: after,
            mode: Mode::Migrations,
            parse_all: shared.verbose,
        },
        settings,
    );
    let errors = !input_errors.is_empty() || refused;
    remaining.input_errors = input_errors;
    let mut stdout = io::stdout().lock();
    if how.diff_only {
        let s = &remaining.summary;
        eprintln!(
            "pgrisk: with these fixes, {} errors, {} warnings and {} infos remain",
            s.errors, s.warnings, s.infos
        );
        return match stdout
            .write_all(diffs.as_bytes())
            .and_then(|_| stdout.flush())
        {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
            Err(e) => Err(e.into()),
            Ok(()) => Ok(ExitCode::from(super::exit_code(
                errors,
                remaining.fails(settings.fail_on),
            ))),
        };
    }
    match stdin_text {
        // standard input cannot be rewritten: the fixed SQL goes to stdout, the report to stderr
        Some(text) => {
            stdout.write_all(text.as_bytes())?;
            stdout.flush()?;
            render_outcome(
                &remaining,
                settings,
                shared,
                errors,
                &mut io::stderr().lock(),
            )
        }
        None => render_outcome(&remaining, settings, shared, errors, &mut stdout),
    }
}
