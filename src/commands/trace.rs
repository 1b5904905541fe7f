//! `pgrisk trace`: analyse the files, start a disposable cluster (or connect to --dsn), run
//! them, report observed vs predicted per statement.

use std::io::{self, Write};
use std::process::ExitCode;

use crate::analysis::{self, AnalyzedFile, Analyzer, Origin};
use crate::cli::{TraceArgs, TraceFormat};
use crate::config;
use crate::error::Error;
use crate::pg::{cluster, connect};
use crate::source::SourceFile;
use crate::source::discover::{self, DiscoverOptions};
use crate::trace::{self, Target, render};

/// Reads and analyses files in order, for tracing (and for the ground-truth tests), and
/// returns them with the catalog at the end. `context` files come first and count as the
/// existing schema (their objects are not new).
pub fn analyze_files(
    context: Vec<discover::MigrationFile>,
    files: Vec<discover::MigrationFile>,
    pg_version: u32,
) -> (Vec<AnalyzedFile>, analysis::Catalog) {
    // the disposable cluster (and most --dsn targets) search `public`
    let mut analyzer = Analyzer::new(pg_version, analysis::SearchPath::default());
    for file in context {
        analyzer.analyze(
            analysis::prepare(SourceFile::load(file), false, analysis::Mode::Migrations),
            Origin::Existing,
        );
    }
    let analyzed = files
        .into_iter()
        .enumerate()
        .map(|(i, f)| {
            analyzer.analyze(
                analysis::prepare(SourceFile::load(f), false, analysis::Mode::Migrations),
                Origin::Created { file: i },
            )
        })
        .collect();
    (analyzed, analyzer.catalog)
}

pub fn run(args: TraceArgs) -> Result<ExitCode, Error> {
    let framework = args
        .input
        .framework
        .as_deref()
        .map(config::parse_framework)
        .transpose()
        .map_err(Error::Usage)?;
    let options = DiscoverOptions {
        framework,
        ..DiscoverOptions::default()
    };
    let discovered = discover::discover(&args.input.paths, &options);
    for warning in &discovered.warnings {
        eprintln!("pgrisk: warning: {warning}");
    }
    if let Some(error) = discovered.errors.first() {
        return Err(Error::Usage(error.to_string()));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // the cluster lives outside the async block so that it is stopped on every way out
    let mut disposable = None;
    let (client, server, target, major) = runtime.block_on(async {
        match &args.dsn {
            Some(dsn) => {
                let session = connect::SessionOptions::rolled_back_writes();
                let (client, described) = connect::open(Some(dsn), &session).await?;
                let major = server_major(&client).await.unwrap_or(16);
                let target = Target::UserServer {
                    allow_non_transactional: args.allow_non_transactional,
                };
                Ok::<_, Error>((client, described, target, major))
            }
            None => {
                let bin = cluster::find_bin_dir(args.pg_bin.as_deref())?;
                let started = cluster::Cluster::start(&bin)?;
                let admin = connect::connect(&started.config("postgres")).await?;
                admin
                    .batch_execute("CREATE DATABASE pgrisk_trace")
                    .await
                    .map_err(crate::trace::TraceError::from)?;
                let client = connect::connect(&started.config("pgrisk_trace")).await?;
                let server = format!("a disposable cluster ({})", started.version);
                let major = started.major;
                disposable = Some(started);
                Ok((client, server, Target::Disposable, major))
            }
        }
    })?;
    let (files, _) = analyze_files(
        Vec::new(),
        discovered.files,
        args.pg_version.unwrap_or(major),
    );
    let traced = runtime.block_on(async {
        tokio::select! {
            result = trace::trace(&client, &files, target, args.rows) => result.map_err(Error::from),
            _ = tokio::signal::ctrl_c() => Err(Error::Interrupted),
        }
    });
    drop(client);
    drop(disposable);
    let traced = traced?;
    let mut out = io::stdout().lock();
    let written = match args.format {
        TraceFormat::Human => render::human(&traced, &server, &mut out),
        TraceFormat::Json => render::json(&traced, &server, &mut out),
        TraceFormat::Markdown => render::markdown(&traced, &server, &mut out),
    };
    match written.and_then(|_| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        other => other.map(|_| ExitCode::SUCCESS).map_err(Error::from),
    }
}

async fn server_major(client: &tokio_postgres::Client) -> Option<u32> {
    let row = client
        .query_one("SHOW server_version_num", &[])
        .await
        .ok()?;
    let number: String = row.get(0);
    number.parse::<u32>().ok().map(|n| n / 10_000)
}
