//! `pgrisk queries`: application SQL checked with the query rules against `--schema`.

use std::process::ExitCode;

use super::lint::check_and_render;
use crate::analysis::Mode;
use crate::cli::QueriesArgs;
use crate::error::Error;
use crate::source::discover::{DiscoverOptions, Framework};

pub fn run(args: QueriesArgs) -> Result<ExitCode, Error> {
    let settings = super::resolve_settings(&args.shared)?;
    let options = DiscoverOptions {
        framework: Some(Framework::Plain),
        max_file_bytes: settings.max_file_size,
        ..DiscoverOptions::default()
    };
    let (context, discovered) =
        super::read_inputs(&args.paths, &args.shared, &options, Mode::Queries)?;
    check_and_render(
        context,
        discovered,
        Mode::Queries,
        &settings,
        &args.shared,
        None,
    )
}
