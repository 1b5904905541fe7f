//! `pgrisk lsp`: the language server on stdio.

use std::process::ExitCode;

use crate::error::Error;

pub fn run() -> Result<ExitCode, Error> {
    let code = crate::lsp::serve()?;
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
}
