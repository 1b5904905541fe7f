use std::process::ExitCode;

use clap::Parser;
use pgrisk::cli::Cli;
use pgrisk::commands;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("pgrisk: error: {error}");
            ExitCode::from(commands::EXIT_ERROR)
        }
    }
}

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
