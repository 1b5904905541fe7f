//! The charts of the HTML report of `pgrisk live`: table and index sizes from the sizes
//! reader, top queries by total time (the report's `queries`), connections by application
//! and state. A chart with nothing to draw is left out: what was not read is in the notes.

use super::Snapshot;
use super::sizes::TableSize;
use crate::diagnostic::{Bar, Chart, QueryStat, Unit};

/// Bars per chart: the largest, the slowest, the busiest.
const TOP: usize = 15;

/// Client backends of one application in one state: `(application_name, state, sessions)`,
/// `pg_stat_activity` grouped.
pub type ConnectionCount = (String, String, u64);

/// Every chart there is data for, in the order the page shows them.
pub fn build(
    snapshot: &Snapshot,
    queries: &[QueryStat],
    connections: &[ConnectionCount],
) -> Vec<Chart> {
    let tables = snapshot.sizes.as_ref().map_or(&[][..], |s| &s.tables[..]);
    [
        sizes_chart(tables),
        top_queries_chart(queries),
        connections_chart(connections),
    ]
    .into_iter()
    .filter(|c| !c.bars.is_empty())
    .collect()
}

/// The [`TOP`] tables by total size, stacked: heap, indexes, TOAST.
pub fn sizes_chart(tables: &[TableSize]) -> Chart {
    let mut largest: Vec<&TableSize> = tables.iter().collect();
    largest.sort_by(|a, b| {
        b.total_bytes()
            .cmp(&a.total_bytes())
            .then_with(|| a.key().cmp(&b.key()))
    });
    let bars = largest
        .into_iter()
        .take(TOP)
        .map(|t| Bar {
            label: t.key(),
            parts: vec![
                ("table".to_owned(), t.table_bytes as f64),
                ("indexes".to_owned(), t.index_bytes as f64),
                ("toast".to_owned(), t.toast_bytes as f64),
            ],
        })
        .collect();
    Chart {
        title: "Table and index sizes".to_owned(),
        unit: Unit::Bytes,
        bars,
    }
}

/// The [`TOP`] query groups by total execution time.
pub fn top_queries_chart(queries: &[QueryStat]) -> Chart {
    let mut slowest: Vec<&QueryStat> = queries.iter().collect();
    slowest.sort_by(|a, b| b.total_ms.total_cmp(&a.total_ms).then(a.id.cmp(&b.id)));
    let bars = slowest
        .into_iter()
        .take(TOP)
        .map(|q| Bar {
            label: q.query.clone(),
            parts: vec![("total time".to_owned(), q.total_ms)],
        })
        .collect();
    Chart {
        title: "Top queries by total time".to_owned(),
        unit: Unit::Milliseconds,
        bars,
    }
}

/// Sessions per application (the [`TOP`] with most), stacked by state.
pub fn connections_chart(connections: &[ConnectionCount]) -> Chart {
    let mut applications: Vec<(String, Vec<(String, f64)>)> = Vec::new();
    for (application, state, sessions) in connections {
        let name = if application.is_empty() {
            "(no application_name)".to_owned()
        } else {
            application.clone()
        };
        let index = match applications.iter().position(|(a, _)| *a == name) {
            Some(i) => i,
            None => {
                applications.push((name, Vec::new()));
                applications.len() - 1
            }
        };
        let state = if state.is_empty() {
            "(no state)"
        } else {
            state
        };
        let parts = &mut applications[index].1;
        match parts.iter_mut().find(|(s, _)| s == state) {
            Some((_, n)) => *n += *sessions as f64,
            None => parts.push((state.to_owned(), *sessions as f64)),
        }
    }
    let total = |parts: &[(String, f64)]| parts.iter().map(|(_, n)| n).sum::<f64>();
    applications.sort_by(|a, b| total(&b.1).total_cmp(&total(&a.1)).then(a.0.cmp(&b.0)));
    let bars = applications
        .into_iter()
        .take(TOP)
        .map(|(label, mut parts)| {
            // the same state order in every bar, so the colours line up with the legend
            parts.sort_by(|a, b| state_rank(&a.0).cmp(&state_rank(&b.0)).then(a.0.cmp(&b.0)));
            Bar { label, parts }
        })
        .collect();
    Chart {
        title: "Connections by application and state".to_owned(),
        unit: Unit::Count,
        bars,
    }
}

/// `pg_stat_activity` states, busiest first; others after them.
const STATES: [&str; 6] = [
    "active",
    "idle in transaction",
    "idle in transaction (aborted)",
    "fastpath function call",
    "disabled",
    "idle",
];

fn state_rank(state: &str) -> usize {
    STATES
        .iter()
        .position(|s| *s == state)
        .unwrap_or(STATES.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(name: &str, table_bytes: i64, index_bytes: i64) -> TableSize {
        TableSize {
            schema: "public".into(),
            name: name.into(),
            kind: "r".into(),
            rows: None,
            table_bytes,
            index_bytes,
            toast_bytes: 0,
            columns: Vec::new(),
            indexes: Vec::new(),
        }
    }

    #[test]
    fn sizes_keep_the_largest_tables_by_total() {
        let mut tables: Vec<TableSize> =
            (0..20).map(|i| table(&format!("t{i:02}"), i, 0)).collect();
        tables.push(table("big", 10, 1000));
        let chart = sizes_chart(&tables);
        assert_eq!(chart.bars.len(), TOP);
        assert_eq!(chart.bars[0].label, "public.big");
        assert_eq!(
            chart.bars[0].parts,
            [
                ("table".into(), 10.0),
                ("indexes".into(), 1000.0),
                ("toast".into(), 0.0)
            ]
        );
        assert_eq!(chart.bars[1].label, "public.t19");
        assert_eq!(chart.bars[TOP - 1].label, "public.t06");
    }

    #[test]
    fn top_queries_are_the_slowest_by_total_time() {
        let query = |id: &str, total_ms: f64| QueryStat {
            id: id.into(),
            query: format!("SELECT {id}"),
            example: None,
            calls: 1,
            total_ms,
            mean_ms: total_ms,
            max_ms: total_ms,
            rows: None,
        };
        let chart = top_queries_chart(&[query("a", 5.0), query("b", 50.0), query("c", 0.5)]);
        let labels: Vec<&str> = chart.bars.iter().map(|b| b.label.as_str()).collect();
        assert_eq!(labels, ["SELECT b", "SELECT a", "SELECT c"]);
        assert_eq!(chart.unit, Unit::Milliseconds);
    }

    #[test]
    fn connections_stack_states_per_application() {
        let row = |application: &str, state: &str, sessions: u64| -> ConnectionCount {
            (application.into(), state.into(), sessions)
        };
        let chart = connections_chart(&[
            row("web", "idle", 40),
            row("worker", "active", 3),
            row("web", "active", 5),
            row("", "active", 1),
            row("web", "idle in transaction", 2),
        ]);
        let labels: Vec<&str> = chart.bars.iter().map(|b| b.label.as_str()).collect();
        assert_eq!(labels, ["web", "worker", "(no application_name)"]);
        assert_eq!(
            chart.bars[0].parts,
            [
                ("active".into(), 5.0),
                ("idle in transaction".into(), 2.0),
                ("idle".into(), 40.0)
            ]
        );
    }
}
