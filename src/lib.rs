//! pgrisk: a PostgreSQL risk linter and migration guard.
//!
//! The pipeline is the layout, and data flows one way:
//! `source` (files → statements with spans) → `parse` (sqlparser) → `analysis`
//! (locks, rewrites, scans, state, catalog) → `rules` → `diagnostic` → `render`;
//! `fix` applies a report's safe fixes (`lint --fix`).
//! `cli`, `config` and `commands` wire the stages for each subcommand.

pub mod analysis;
pub mod cli;
pub mod commands;
pub mod config;
pub mod diagnostic;
pub mod error;
pub mod fix;
pub mod live;
pub mod lsp;
pub mod parse;
pub mod pg;
pub mod render;
pub mod rules;
pub mod source;
pub mod trace;
