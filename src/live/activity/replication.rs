//! Streaming replication as each side sees it, and replication slots.

use super::super::{Read, Reader, Skipped};
use super::by_version;

/// One standby streaming from this primary (`pg_stat_replication`).
#[derive(Debug, Clone)]
pub struct Replica {
    pub application: String,
    pub client: Option<String>,
    pub state: Option<String>,
    /// `replay_lag`; NULL once an idle standby has caught up.
    pub replay_lag_seconds: Option<f64>,
    /// WAL written here and not yet replayed there.
    pub replay_lag_bytes: Option<f64>,
}

/// This standby's receive and replay positions.
#[derive(Debug, Clone)]
pub struct StandbyReceiver {
    pub receive_lsn: Option<String>,
    pub replay_lsn: Option<String>,
    /// Received WAL not yet replayed.
    pub replay_behind_bytes: Option<f64>,
    /// `now() - pg_last_xact_replay_timestamp()`: the age of the last replayed commit.
    pub last_replay_age_seconds: Option<f64>,
    pub replay_paused: bool,
}

impl StandbyReceiver {
    /// Lag only counts while received WAL waits for replay: on an idle primary the last
    /// replayed commit grows old without any lag.
    pub fn lag_seconds(&self) -> f64 {
        match (self.replay_behind_bytes, self.last_replay_age_seconds) {
            (Some(behind), Some(age)) if behind > 0.0 => age.max(0.0),
            _ => 0.0,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Replication {
    Primary(Vec<Replica>),
    Standby(StandbyReceiver),
}

/// A replication slot (`pg_replication_slots`).
#[derive(Debug, Clone)]
pub struct Slot {
    pub name: String,
    /// `physical` or `logical`.
    pub kind: String,
    pub database: Option<String>,
    pub active: bool,
    /// WAL kept for the slot: from `restart_lsn` to the current (standby: received) position.
    pub retained_bytes: Option<f64>,
    /// `reserved`, `extended`, `unreserved`, `lost` (PG 13+).
    pub wal_status: Option<String>,
    /// `age(xmin)` / `age(catalog_xmin)`: the slot holds back vacuum as well.
    pub xmin_age: Option<i64>,
    pub catalog_xmin_age: Option<i64>,
}

pub async fn read(reader: &Reader<'_>) -> Read<Replication> {
    if reader.server.in_recovery {
        let rows = reader
            .rows(
                "standby replay (pg_last_wal_*)",
                "SELECT pg_last_wal_receive_lsn()::text, pg_last_wal_replay_lsn()::text, \
                        pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::float8, \
                        extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8, \
                        pg_is_wal_replay_paused()",
                &[],
            )
            .await?;
        let r = &rows[0];
        return Ok(Replication::Standby(StandbyReceiver {
            receive_lsn: r.get(0),
            replay_lsn: r.get(1),
            replay_behind_bytes: r.get(2),
            last_replay_age_seconds: r.get(3),
            replay_paused: r.get(4),
        }));
    }
    if !reader.server.sees_all_stats() {
        return Err(Skipped::new(
            "replication: pg_stat_replication hides the positions without pg_read_all_stats \
             (grant pg_monitor to the role pgrisk connects as)",
        ));
    }
    let rows = reader
        .rows(
            "replication (pg_stat_replication)",
            "SELECT coalesce(application_name, ''), client_addr::text, state, \
                    extract(epoch FROM replay_lag)::float8, \
                    pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::float8 \
               FROM pg_stat_replication",
            &[],
        )
        .await?;
    Ok(Replication::Primary(
        rows.iter()
            .map(|r| Replica {
                application: r.get(0),
                client: r.get(1),
                state: r.get(2),
                replay_lag_seconds: r.get(3),
                replay_lag_bytes: r.get(4),
            })
            .collect(),
    ))
}

const WAL_STATUS: &[(u32, &str)] = &[(130000, "wal_status"), (0, "NULL::text")];

pub async fn slots(reader: &Reader<'_>) -> Read<Vec<Slot>> {
    let sql = format!(
        "SELECT slot_name::text, slot_type, database::text, active, \
                pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() \
                                     THEN coalesce(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()) \
                                     ELSE pg_current_wal_lsn() END, restart_lsn)::float8, \
                {}, age(xmin)::int8, age(catalog_xmin)::int8 \
           FROM pg_replication_slots ORDER BY slot_name",
        by_version(reader.server, WAL_STATUS)
    );
    let rows = reader
        .rows("replication slots (pg_replication_slots)", &sql, &[])
        .await?;
    Ok(rows
        .iter()
        .map(|r| Slot {
            name: r.get(0),
            kind: r.get(1),
            database: r.get(2),
            active: r.get(3),
            retained_bytes: r.get(4),
            wal_status: r.get(5),
            xmin_age: r.get(6),
            catalog_xmin_age: r.get(7),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::StandbyReceiver;

    fn standby(behind: Option<f64>, age: Option<f64>) -> StandbyReceiver {
        StandbyReceiver {
            receive_lsn: None,
            replay_lsn: None,
            replay_behind_bytes: behind,
            last_replay_age_seconds: age,
            replay_paused: false,
        }
    }

    #[test]
    fn an_idle_primary_is_no_lag_and_waiting_wal_is() {
        // nothing received waits for replay: an old last commit is an idle primary
        assert_eq!(standby(Some(0.0), Some(600.0)).lag_seconds(), 0.0);
        assert_eq!(standby(Some(4096.0), Some(12.5)).lag_seconds(), 12.5);
        // never replayed a commit, or not streaming: nothing to measure
        assert_eq!(standby(Some(4096.0), None).lag_seconds(), 0.0);
        assert_eq!(standby(None, Some(30.0)).lag_seconds(), 0.0);
    }
}
