//! The errors that stop a command (exit code 2). Findings and unparsed statements are not errors.

use crate::config::ConfigError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Usage(String),
    #[error("cannot write output: {0}")]
    Output(#[from] std::io::Error),
    #[error(transparent)]
    Cluster(#[from] crate::pg::cluster::ClusterError),
    #[error(transparent)]
    Connect(#[from] crate::pg::connect::ConnectError),
    #[error(transparent)]
    Trace(#[from] crate::trace::TraceError),
    #[error(transparent)]
    Git(#[from] crate::source::git::GitError),
    #[error(transparent)]
    Audit(#[from] crate::live::AuditError),
    #[error("interrupted")]
    Interrupted,
}
