//! Sessions, locks, connections, replication and settings: what the server is doing now.
//! (Filled by the activity checks' reader.)

use super::{Read, Reader};

#[derive(Debug, Clone, Default)]
pub struct Activity {}

pub async fn read(_reader: &Reader<'_>) -> Read<Activity> {
    Ok(Activity {})
}
