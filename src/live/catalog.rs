//! Index, constraint, sequence and table statistics from the catalogs and `pg_stat_*_tables`.
//! (Filled by the catalog checks' reader.)

use super::{Read, Reader};

#[derive(Debug, Clone, Default)]
pub struct CatalogFacts {}

pub async fn read(_reader: &Reader<'_>) -> Read<CatalogFacts> {
    Ok(CatalogFacts {})
}
