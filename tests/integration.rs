//! Integration tests, one binary (ripgrep's layout): each module is a family.

mod support;

mod cli; // the binary: exit codes, formats, hostile input
mod corpus; // PostgreSQL's regression SQL: no panic, coverage counted
mod fixtures; // fixtures/lint: expect markers and reviewed renders
mod layouts; // fixtures/layouts: one small project per migration runner
mod lsp; // the language server with real clients: Neovim, raw JSON-RPC frames
mod rule_docs; // rules/*.md ↔ the registry, and executable doc examples
mod trace; // real servers: disposable clusters, lock ground truth, --dsn rollback
