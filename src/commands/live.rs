//! `pgrisk live`: connect read-only, read a snapshot, run the database rules, render.

use std::process::ExitCode;

use crate::cli::LiveArgs;
use crate::diagnostic::Report;
use crate::error::Error;
use crate::live;
use crate::pg::connect;
use crate::rules;

pub fn run(args: LiveArgs) -> Result<ExitCode, Error> {
    let settings = super::resolve_settings(&args.shared)?;
    let session = args.connection.read_only_session();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Output)?;
    let (snapshot, target) = runtime.block_on(async {
        let (client, beside, target) =
            connect::open_two(args.connection.dsn.as_deref(), &session).await?;
        let audit = live::audit(&client, beside.as_ref(), session.statement_timeout);
        tokio::select! {
            snapshot = audit => Ok((snapshot?, target)),
            _ = tokio::signal::ctrl_c() => Err(Error::Interrupted),
        }
    })?;

    let (findings, skipped) = rules::database::check(
        &snapshot,
        &settings.enabled_rules(),
        &settings.rule_settings(),
    );
    let mut report = Report {
        target: Some(format!(
            "{target} (PostgreSQL {}{})",
            snapshot.server.version,
            if snapshot.server.in_recovery {
                ", standby"
            } else {
                ""
            }
        )),
        notes: snapshot.notes().into_iter().chain(skipped).collect(),
        ..Report::default()
    };
    report.add_database(findings, &settings);
    // pg_stat_statements through the query rules; --export-stats (live::statements, stats_file)
    live::statements::add_to_report(&mut report, &snapshot, &settings);
    if let Some(path) = &args.export_stats {
        live::stats_file::export(&snapshot, path).map_err(Error::Usage)?;
    }
    report.finish();
    // charts for --format html: sizes from the snapshot, top queries from report.queries,
    // sessions by application and state from the activity reader
    let connections = snapshot
        .activity
        .as_ref()
        .map_or(&[][..], |a| &a.connections_by_app_state);
    report.charts = live::charts::build(
        &snapshot,
        report.queries.as_deref().unwrap_or_default(),
        connections,
    );
    super::lint::render_outcome(
        &report,
        &settings,
        &args.shared,
        false,
        &mut std::io::stdout().lock(),
    )
}
