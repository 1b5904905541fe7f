//! `pgrisk queries`: application SQL checked with the query rules against `--schema`.

use std::process::ExitCode;

use super::lint::check_and_render;
use crate::analysis::Mode;
use crate::cli::QueriesArgs;
use crate::error::Error;
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
    check_and_render(context, discovered, Mode::Queries, &settings, &args.shared)
}
