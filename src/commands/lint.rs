//! `pgrisk lint`: discover → split → prepare (parallel) → fold (in order) → rules → report.

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use crate::analysis::{self, Analyzer, Origin, Prepared};
use crate::cli::LintArgs;
use crate::config::{self, Settings};
use crate::diagnostic::Report;
use crate::error::Error;
use crate::render;
use crate::rules::{self, RuleSettings};
use crate::source::SourceFile;
use crate::source::discover::{self, DiscoverOptions, MigrationFile};

pub fn run(args: LintArgs) -> Result<ExitCode, Error> {
    let mut settings = super::resolve_settings(&args.shared)?;
    if let Some(name) = &args.framework {
        settings.framework = Some(config::parse_framework(name).map_err(Error::Usage)?);
    }
    settings.assume_in_transaction |= args.assume_in_transaction;
    let options = DiscoverOptions {
        framework: settings.framework,
        assume_in_transaction: settings.assume_in_transaction,
        max_file_bytes: settings.max_file_size,
        include: settings.include.clone(),
        exclude: settings.exclude.clone(),
    };
    let discovered = discover::discover(&args.paths, &options);
    for warning in &discovered.warnings {
        eprintln!("pgrisk: warning: {warning}");
    }
    for error in &discovered.errors {
        eprintln!("pgrisk: error: {error}");
    }
    let report = lint_files(discovered.files, &settings);
    let render_options = super::render_options(&args.shared);
    let mut out = BufWriter::new(io::stdout().lock());
    let written = render::render(&report, args.shared.format, &render_options, &mut out)
        .and_then(|_| out.flush());
    match written {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
        other => other?,
    }
    let code = if !discovered.errors.is_empty() {
        super::EXIT_ERROR
    } else if report.fails(settings.fail_on) {
        super::EXIT_FINDINGS
    } else {
        super::EXIT_CLEAN
    };
    Ok(ExitCode::from(code))
}

/// Lints files given in migration order; every object they create counts as new.
pub fn lint_files(files: Vec<MigrationFile>, settings: &Settings) -> Report {
    let prepared = prepare_all(files);
    let rule_settings = RuleSettings {
        pg_version: settings.pg_version,
    };
    let mut analyzer = Analyzer::new(settings.pg_version);
    let mut report = Report::default();
    for (index, file) in prepared.into_iter().enumerate() {
        let analyzed = analyzer.analyze(file, Origin::Created { file: index });
        let findings = rules::check_file(&analyzed, rules::ALL, &rule_settings);
        report.add_file(&analyzed, findings, settings);
    }
    report.finish();
    report
}

/// Splits, reads and parses files on all cores; the result keeps the input order.
fn prepare_all(files: Vec<MigrationFile>) -> Vec<Prepared> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let prepare = |f: MigrationFile| analysis::prepare(SourceFile::load(f));
    if threads == 1 || files.len() < 2 {
        return files.into_iter().map(prepare).collect();
    }
    let chunk = files.len().div_ceil(threads);
    let mut files = files.into_iter();
    let chunks: Vec<Vec<MigrationFile>> = std::iter::from_fn(|| {
        let c: Vec<_> = files.by_ref().take(chunk).collect();
        (!c.is_empty()).then_some(c)
    })
    .collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|c| scope.spawn(move || c.into_iter().map(prepare).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}
