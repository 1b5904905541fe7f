//! `pgrisk lint`: discover → split → prepare (parallel) → fold (in order) → rules → report.

use std::collections::BTreeMap;
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;
use std::sync::{Mutex, mpsc};

use crate::analysis::{self, Analyzer, Mode, Origin, Prepared};
use crate::cli::{LintArgs, SharedArgs};
use crate::config::{self, Settings};
use crate::diagnostic::Report;
use crate::diagnostic::size;
use crate::error::Error;
use crate::live;
use crate::live::locks::{self, Preflight};
use crate::live::sizes::TableSize;
use crate::live::stats_file::{self, StatsFile};
use crate::pg::connect;
use crate::render;
use crate::rules;
use crate::rules::migration::migration_would_wait;
use crate::source::SourceFile;
use crate::source::discover::{self, MigrationFile};

pub fn run(args: LintArgs) -> Result<ExitCode, Error> {
    let mut settings = super::resolve_settings(&args.shared)?;
    if let Some(name) = &args.input.framework {
        settings.framework = Some(config::parse_framework(name).map_err(Error::Usage)?);
    }
    settings.assume_in_transaction |= args.assume_in_transaction;
    let options = settings.discover_options();
    let (context, discovered) =
        super::read_inputs(&args.input.paths, &args.shared, &options, Mode::Migrations)?;
    if args.fix || args.diff_only {
        let how = super::fix::How {
            diff_only: args.diff_only,
            options: &options,
        };
        return super::fix::run(context, discovered, how, &settings, &args.shared);
    }
    let live = read_live(&args, &settings)?;
    check_and_render(
        context,
        discovered,
        Mode::Migrations,
        &settings,
        &args.shared,
        live.as_ref(),
    )
}

/// What `--stats FILE` or `--dsn` tell about the database the migrations will run on.
pub struct Live {
    /// Where the facts come from, for the schema file's name.
    source: String,
    tables: Vec<TableSize>,
    /// `--dsn` only: the locks held now and the application's query families.
    preflight: Option<Preflight>,
    notes: Vec<String>,
}

impl Live {
    /// The tables as schema DDL, replayed before the migrations as the existing database.
    fn schema_file(&self) -> MigrationFile {
        let options = discover::DiscoverOptions {
            framework: Some(discover::Framework::Plain),
            ..discover::DiscoverOptions::default()
        };
        discover::from_text(
            format!("<{}>", self.source).into(),
            stats_file::schema_ddl(&self.tables),
            &options,
        )
    }

    /// Size evidence and severities (RULES.md "Size awareness"), and the notes.
    fn apply(&self, report: &mut Report, settings: &Settings) {
        let thresholds = &settings.rule_options.thresholds;
        size::apply(report, &self.tables, &settings.search_path, thresholds);
        report.notes.extend(self.notes.iter().cloned());
    }
}

fn read_live(args: &LintArgs, settings: &Settings) -> Result<Option<Live>, Error> {
    if let Some(path) = &args.stats {
        let file = StatsFile::read(path).map_err(Error::Usage)?;
        let mut notes = vec![format!(
            "table sizes of database `{}` captured at {} (--stats {})",
            file.database,
            file.captured_at,
            path.display()
        )];
        if !file.locked.is_empty() {
            notes.push(locked_note(&file.locked));
        }
        return Ok(Some(Live {
            source: format!("stats {}", path.display()),
            tables: file.tables,
            preflight: None,
            notes,
        }));
    }
    let Some(dsn) = &args.connection.dsn else {
        return Ok(None);
    };
    let session = args.connection.read_only_session();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Output)?;
    runtime.block_on(async {
        let (client, target) = connect::open(Some(dsn), &session).await?;
        let server = live::preflight::read(&client, session.statement_timeout).await?;
        let reader = live::Reader::new(&client, &server, session.statement_timeout);
        let mut notes = Vec::new();
        let tables = match live::sizes::read(&reader).await {
            Ok(sizes) => {
                if !sizes.locked.is_empty() {
                    notes.push(locked_note(&sizes.locked));
                }
                sizes.tables
            }
            Err(skipped) => {
                notes.push(format!("table sizes not read: {}", skipped.reason));
                Vec::new()
            }
        };
        let search_path = settings.search_path.clone();
        let preflight =
            match locks::preflight(&reader, tables.clone(), search_path).await {
                Ok(preflight) => {
                    notes.extend(preflight.families_skipped.iter().map(|r| {
                        format!("migration-would-wait: no queued queries estimated: {r}")
                    }));
                    Some(preflight)
                }
                Err(skipped) => {
                    notes.push(format!("migration-would-wait skipped: {}", skipped.reason));
                    None
                }
            };
        notes.insert(
            0,
            format!(
                "table sizes and locks read from {target} (PostgreSQL {})",
                server.version
            ),
        );
        Ok(Some(Live {
            source: target,
            tables,
            preflight,
            notes,
        }))
    })
}

fn locked_note(tables: &[String]) -> String {
    format!(
        "sizes unknown, under an ACCESS EXCLUSIVE lock when read: {}",
        tables.join(", ")
    )
}

/// The shared tail of `lint` and `queries`: report unreadable inputs, check the files, render,
/// and turn the outcome into the exit code.
pub fn check_and_render(
    context: Vec<MigrationFile>,
    discovered: discover::Discovered,
    mode: Mode,
    settings: &Settings,
    shared: &SharedArgs,
    live: Option<&Live>,
) -> Result<ExitCode, Error> {
    report_inputs(&discovered);
    let mut context = context;
    if let Some(live) = live {
        context.insert(0, live.schema_file());
    }
    let input = Input {
        context,
        files: discovered.files,
        mode,
        parse_all: shared.verbose,
    };
    let preflight = live.and_then(|l| l.preflight.as_ref()).filter(|_| {
        let name = migration_would_wait::RULE.name;
        settings.enabled_rules().iter().any(|r| r.name == name)
    });
    let mut report = check_files_with(input, settings, &|file| {
        preflight.map_or_else(Vec::new, |p| migration_would_wait::check(file, p))
    });
    if let Some(live) = live {
        live.apply(&mut report, settings);
    }
    report.input_errors = discovered.errors.iter().map(|e| e.to_string()).collect();
    render_outcome(
        &report,
        settings,
        shared,
        !discovered.errors.is_empty(),
        &mut io::stdout().lock(),
    )
}

/// Prints the warnings and errors of reading the inputs.
pub fn report_inputs(discovered: &discover::Discovered) {
    for warning in &discovered.warnings {
        eprintln!("pgrisk: warning: {warning}");
    }
    for error in &discovered.errors {
        eprintln!("pgrisk: error: {error}");
    }
}

/// Renders `report` to `out` and turns the outcome into the exit code (2 when `errors`).
pub fn render_outcome(
    report: &Report,
    settings: &Settings,
    shared: &SharedArgs,
    errors: bool,
    out: &mut dyn Write,
) -> Result<ExitCode, Error> {
    for note in &report.schema_notes {
        eprintln!("pgrisk: warning: {note}");
    }
    let mut out = BufWriter::new(out);
    let written = render::render(
        report,
        shared.format,
        &super::render_options(shared),
        &mut out,
    )
    .and_then(|_| out.flush());
    match written {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
        other => other?,
    }
    Ok(ExitCode::from(super::exit_code(
        errors,
        report.fails(settings.fail_on),
    )))
}

/// What to check: `files` in order, after `context` (schema DDL replayed as the existing
/// database, e.g. `--schema`), as migrations or as application queries.
pub struct Input {
    pub context: Vec<MigrationFile>,
    pub files: Vec<MigrationFile>,
    pub mode: Mode,
    /// Offer every statement to sqlparser (coverage for `-v`), not only those the reader
    /// does not know.
    pub parse_all: bool,
}

/// Checks a set of files; every object they create counts as new.
///
/// Files are split, read and parsed on all cores and folded in order (catalog, state) as
/// they arrive; rules run once the whole set is known.
pub fn check_files(input: Input, settings: &Settings) -> Report {
    check_files_with(input, settings, &|_| Vec::new())
}

/// [`check_files`] with `extra` findings per file, from checks that need more than the files
/// (the `--dsn` preflight); they go through suppressions like every rule's.
pub fn check_files_with(
    input: Input,
    settings: &Settings,
    extra: &(dyn Fn(&analysis::AnalyzedFile) -> Vec<rules::Finding> + Sync),
) -> Report {
    let Input {
        context,
        files,
        mode,
        parse_all,
    } = input;
    let rule_settings = settings.rule_settings();
    let mut analyzer = Analyzer::new(settings.pg_version, settings.search_path.clone());
    // schema statements pgrisk cannot read are skipped; the report says which
    let mut schema_notes = Vec::new();
    for file in context {
        let replayed = analyzer.analyze(
            analysis::prepare(SourceFile::load(file), false, Mode::Migrations),
            Origin::Existing,
        );
        for s in replayed
            .statements
            .iter()
            .filter(|s| s.understanding == analysis::Understanding::Unknown)
        {
            let line = replayed.source.position(s.span.start).line;
            let reason = s.parse_error.as_deref().unwrap_or("not understood");
            schema_notes.push(format!(
                "{}:{line}: schema statement skipped: {reason}",
                replayed.source.path.display()
            ));
        }
    }
    let mut analyzed = Vec::with_capacity(files.len());
    let mut fold = |index: usize, file: Prepared| {
        analyzed.push(analyzer.analyze(file, Origin::Created { file: index }));
    };
    let prepare = |f: MigrationFile| analysis::prepare(SourceFile::load(f), parse_all, mode);
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(files.len());
    if workers <= 1 {
        for (index, file) in files.into_iter().enumerate() {
            fold(index, prepare(file));
        }
    } else {
        let count = files.len();
        // workers take files in batches: one lock and one wake-up per batch, not per file
        // (a directory of small migrations spent more time in futex calls than in parsing)
        let batch = count.div_ceil(workers * 8).clamp(1, 64);
        let queue = Mutex::new(files.into_iter().enumerate());
        // bounded, so workers wait instead of piling up prepared files in memory
        let (sender, receiver) = mpsc::sync_channel::<Vec<(usize, Prepared)>>(workers * 2);
        std::thread::scope(|scope| {
            for _ in 0..workers {
                let sender = sender.clone();
                let queue = &queue;
                scope.spawn(move || {
                    loop {
                        let taken: Vec<_> = match queue.lock() {
                            Ok(mut q) => q.by_ref().take(batch).collect(),
                            Err(_) => break,
                        };
                        if taken.is_empty() {
                            break;
                        }
                        let prepared = taken.into_iter().map(|(i, f)| (i, prepare(f))).collect();
                        if sender.send(prepared).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(sender);
            // files finish out of order; fold them in order
            let mut waiting = BTreeMap::new();
            let mut next = 0;
            for (index, prepared) in receiver.iter().flatten() {
                waiting.insert(index, prepared);
                while let Some(prepared) = waiting.remove(&next) {
                    fold(next, prepared);
                    next += 1;
                }
            }
            debug_assert_eq!(next, count);
        });
    }
    // rules see the schema at the end of the set ("an index added in a later file")
    let mut report = Report {
        schema_notes,
        ..Report::default()
    };
    // rules only read the analysed files and the final catalog: check files on all cores
    let rule_set = rules::for_mode(mode);
    let catalog = &analyzer.catalog;
    let check = |file: &analysis::AnalyzedFile| {
        let mut findings = rules::check_file(file, &rule_set, &rule_settings, catalog);
        findings.extend(extra(file));
        findings
    };
    let chunk = analyzed.len().div_ceil(workers.max(1)).max(1);
    let findings: Vec<Vec<rules::Finding>> = std::thread::scope(|scope| {
        let handles: Vec<_> = analyzed
            .chunks(chunk)
            .map(|c| scope.spawn(move || c.iter().map(check).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    for (file, findings) in analyzed.iter().zip(findings) {
        report.add_file(file, findings, settings);
    }
    report.finish();
    report
}
