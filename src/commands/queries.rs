//! `pgrisk queries`: application SQL checked with the query rules against `--schema`.

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use super::lint::{Input, check_files};
use crate::analysis::Mode;
use crate::cli::QueriesArgs;
use crate::error::Error;
use crate::render;
use crate::source::discover::{self, DiscoverOptions, Framework};

pub fn run(args: QueriesArgs) -> Result<ExitCode, Error> {
    let settings = super::resolve_settings(&args.shared)?;
    let options = DiscoverOptions {
        framework: Some(Framework::Plain),
        max_file_bytes: settings.max_file_size,
        ..DiscoverOptions::default()
    };
    let context = super::read_schema(&args.shared, &options)?;
    let discovered = discover::discover(&args.paths, &options);
    for warning in &discovered.warnings {
        eprintln!("pgrisk: warning: {warning}");
    }
    for error in &discovered.errors {
        eprintln!("pgrisk: error: {error}");
    }
    let input = Input {
        context,
        files: discovered.files,
        mode: Mode::Queries,
        parse_all: args.shared.verbose,
    };
    let report = check_files(input, &settings);
    for note in &report.schema_notes {
        eprintln!("pgrisk: warning: {note}");
    }
    let mut out = BufWriter::new(io::stdout().lock());
    let written = render::render(
        &report,
        args.shared.format,
        &super::render_options(&args.shared),
        &mut out,
    )
    .and_then(|_| out.flush());
    match written {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
        other => other?,
    }
    Ok(ExitCode::from(super::exit_code(
        !discovered.errors.is_empty(),
        report.fails(settings.fail_on),
    )))
}
