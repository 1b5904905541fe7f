//! `fixtures/lint/<rule>/**.sql`: each file is linted with only that rule enabled (and the
//! directory's `pgrisk.toml`, if any). The findings must sit exactly on the lines marked
//! `-- expect: <rule>` (or the line after `-- expect-next-line: <rule>`), and the human
//! render must equal the reviewed `<file>.out` beside it (`PGRISK_BLESS=1` rewrites it).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use pgrisk::render::Format;

use crate::support;

fn sql_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    files
}

/// (line, rule) pairs the file's markers expect.
fn expectations(text: &str) -> BTreeSet<(usize, String)> {
    let mut expected = BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        for (marker, offset) in [("-- expect-next-line:", 2), ("-- expect:", 1)] {
            if let Some(rest) = line.split(marker).nth(1) {
                for rule in rest.split(',').map(str::trim).filter(|r| !r.is_empty()) {
                    expected.insert((i + offset, rule.to_owned()));
                }
                break;
            }
        }
    }
    expected
}

/// Maps a finding's offset to the first line of the statement holding it (markers sit
/// there even when the finding points at an action further down); outside any statement
/// (an ignore comment) the finding's own line counts.
fn statement_first_lines(text: &str) -> impl Fn(usize, usize) -> usize {
    let file = pgrisk::source::SourceFile::load(pgrisk::source::discover::from_text(
        PathBuf::from("fixture.sql"),
        text.to_owned(),
        &Default::default(),
    ));
    let spans: Vec<(usize, usize, usize)> = file
        .statements
        .iter()
        .map(|s| (s.span.start, s.span.end, file.position(s.span.start).line))
        .collect();
    move |offset, own_line| {
        spans
            .iter()
            .find(|(start, end, _)| *start <= offset && offset < (*end).max(start + 1))
            .map_or(own_line, |(_, _, line)| *line)
    }
}

/// Compares the findings of file `index` of the report with the file's expect markers.
fn mismatch(
    text: &str,
    report: &pgrisk::diagnostic::Report,
    index: usize,
    shown: &Path,
) -> Option<String> {
    let starts = statement_first_lines(text);
    let actual: BTreeSet<(usize, String)> = report
        .diagnostics
        .iter()
        .filter(|d| d.file == Some(index))
        .map(|d| {
            (
                starts(d.span.start, d.start.map_or(0, |p| p.line)),
                d.rule.to_owned(),
            )
        })
        .collect();
    let expected = expectations(text);
    (actual != expected).then(|| {
        let missing: Vec<_> = expected.difference(&actual).collect();
        let extra: Vec<_> = actual.difference(&expected).collect();
        format!(
            "{}: missing {missing:?}, unexpected {extra:?}",
            shown.display()
        )
    })
}

#[test]
fn lint_fixtures_fire_exactly_where_marked_and_render_as_reviewed() {
    let root = support::root();
    let lint_dir = root.join("fixtures/lint");
    let mut failures = Vec::new();
    let mut checked = 0;
    for rule_dir in sql_files(&lint_dir).into_iter().filter(|p| p.is_dir()) {
        let rule = rule_dir.file_name().unwrap().to_string_lossy().into_owned();
        let mut dirs = vec![rule_dir.clone()];
        dirs.extend(sql_files(&rule_dir).into_iter().filter(|p| p.is_dir()));
        for dir in dirs {
            let settings = support::fixture_settings(&dir, &rule);
            let files: Vec<PathBuf> = sql_files(&dir)
                .into_iter()
                .filter(|p| p.extension().is_some_and(|e| e == "sql"))
                .collect();
            // `set-*` directories are one migration set, linted together in file order
            let is_set = dir
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("set-"));
            let groups: Vec<Vec<PathBuf>> = if is_set {
                vec![files]
            } else {
                files.into_iter().map(|f| vec![f]).collect()
            };
            for group in groups {
                let relative: Vec<PathBuf> = group
                    .iter()
                    .map(|f| f.strip_prefix(&root).unwrap().to_owned())
                    .collect();
                let report = support::lint_paths(&relative, &settings);
                for (index, file) in group.iter().enumerate() {
                    let text = std::fs::read_to_string(file).unwrap();
                    failures.extend(mismatch(&text, &report, index, &relative[index]));
                }
                let out = if is_set {
                    dir.join("set.out")
                } else {
                    let name = group[0]
                        .file_name()
                        .unwrap()
                        .to_string_lossy()
                        .replace(".sql", ".out");
                    group[0].with_file_name(name)
                };
                let render = support::render_to_string(&report, Format::Human);
                failures.extend(support::compare_or_bless(&out, &render));
                checked += 1;
            }
        }
        let top_bad = rule_dir.join("bad.sql");
        let marked = std::fs::read_to_string(&top_bad).map(|t| !expectations(&t).is_empty());
        if !matches!(marked, Ok(true)) {
            failures.push(format!(
                "{}: needs at least one expect marker",
                top_bad.display()
            ));
        }
    }
    assert!(checked > 0, "no fixtures found");
    assert!(
        failures.is_empty(),
        "{} fixture failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// `fixtures/queries/<rule>/`: `bad.sql` and `good.sql` checked as application queries
/// against the directory's `schema.sql`, with only that rule enabled.
#[test]
fn query_fixtures_fire_exactly_where_marked_and_render_as_reviewed() {
    let root = support::root();
    let mut failures = Vec::new();
    let mut checked = 0;
    for rule_dir in sql_files(&root.join("fixtures/queries"))
        .into_iter()
        .filter(|p| p.is_dir())
    {
        let rule = rule_dir.file_name().unwrap().to_string_lossy().into_owned();
        let settings = support::fixture_settings(&rule_dir, &rule);
        let schema = rule_dir
            .join("schema.sql")
            .strip_prefix(&root)
            .unwrap()
            .to_owned();
        for kind in ["bad", "good"] {
            let file = rule_dir.join(format!("{kind}.sql"));
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            let relative = file.strip_prefix(&root).unwrap().to_owned();
            let report = support::check_queries(
                std::slice::from_ref(&relative),
                std::slice::from_ref(&schema),
                &settings,
            );
            failures.extend(mismatch(&text, &report, 0, &relative));
            let render = support::render_to_string(&report, Format::Human);
            failures.extend(support::compare_or_bless(
                &file.with_extension("out"),
                &render,
            ));
            checked += 1;
        }
    }
    assert!(checked > 0, "no query fixtures found");
    assert!(
        failures.is_empty(),
        "{} fixture failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn expect_markers_are_read_from_trailing_and_previous_line_comments() {
    let text = "DROP TABLE t; -- expect: drop-table\n-- expect-next-line: unused-ignore\n-- pgrisk-ignore x\n";
    let e = expectations(text);
    assert!(e.contains(&(1, "drop-table".to_owned())));
    assert!(e.contains(&(3, "unused-ignore".to_owned())));
}
