//! Integration tests, one binary (ripgrep's layout): each module is a family.

mod support;

mod action; // action.yml run step by step for a pull_request event, REST API on 127.0.0.1
mod cli; // the binary: exit codes, formats, hostile input
mod corpus; // PostgreSQL's regression SQL: no panic, coverage counted
mod diff; // --diff and --staged against real git repositories
mod fix; // lint --fix: safe fixes keep their promise, on real PostgreSQL too
mod fixtures; // fixtures/lint: expect markers and reviewed renders
mod formats; // sarif (official validator), markdown, junit, github annotations
mod layouts; // fixtures/layouts: one small project per migration runner
mod live; // pgrisk live against real servers: pathologies, read-only proof, standby, TLS
mod lsp; // the language server with real clients: Neovim, raw JSON-RPC frames
mod precommit; // .pre-commit-hooks.yaml with the real pre-commit
mod rule_docs; // rules/*.md ↔ the registry, and executable doc examples
mod trace; // real servers: disposable clusters, lock ground truth, --dsn rollback
