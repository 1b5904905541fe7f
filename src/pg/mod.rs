//! PostgreSQL plumbing shared by the commands that talk to a server: the disposable
//! cluster and connections to a user's server (with the password kept out of messages).

pub mod cluster;
pub mod connect;
