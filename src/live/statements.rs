//! `pg_stat_statements`, read once, with the column names of the installed extension version.
//! (Filled by the statements reader.)

use super::{Read, Reader};

#[derive(Debug, Clone, Default)]
pub struct Statements {}

pub async fn read(_reader: &Reader<'_>) -> Read<Statements> {
    Ok(Statements {})
}
