//! `pgrisk lsp`: a language server on stdio. Diagnostics as the user types (the buffer's
//! migration set is the context, as for `pgrisk lint <dir>`), hover with the rule's
//! documentation, quick fixes and ignore comments, the CLI's `pgrisk.toml`.

mod actions;
mod check;
mod document;
mod position;
mod server;
mod settings;
mod transport;

pub use server::DEBOUNCE;

/// Serves until the client says `exit`; the exit code the protocol asks for (0 after
/// `shutdown`, else 1).
pub fn serve() -> std::io::Result<i32> {
    let stdio = transport::Stdio::start();
    let code = server::serve(&stdio.incoming, stdio.outbox.clone());
    stdio.finish()?;
    Ok(code)
}
