//! The registry, `rules/*.md`, `src/rules/**` and `fixtures/lint/` must agree, and every
//! doc's `sql bad` example must fire its rule while its `sql good` example must not.

use std::collections::BTreeSet;

use pgrisk::config::Settings;
use pgrisk::rules::{self, Category, Check, Rule};

use crate::support;

const SECTIONS: &[&str] = &[
    "## What it flags",
    "## Why it is risky",
    "## Do instead",
    "## Examples",
    "## Options",
    "## References",
];

fn names_in(dir: &str, suffix: &str) -> BTreeSet<String> {
    std::fs::read_dir(support::root().join(dir))
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(suffix).map(str::to_owned))
        .collect()
}

fn check_all(failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "{} problem(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn registry_is_sorted_unique_and_kebab_case() {
    let names: Vec<_> = rules::ALL.iter().map(|r| r.name).collect();
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        names, sorted,
        "rules::ALL must be sorted by name without duplicates"
    );
    for name in names {
        assert!(
            name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
            "{name} is not kebab-case"
        );
        for prefix in ["require-", "prefer-", "ban-", "avoid-", "use-", "do-not-"] {
            assert!(
                !name.starts_with(prefix),
                "{name}: name the risk, not the remedy"
            );
        }
    }
}

#[test]
fn every_doc_and_fixture_dir_names_a_rule_and_every_rule_has_both() {
    let registered: BTreeSet<String> = rules::ALL.iter().map(|r| r.name.to_owned()).collect();
    let mut docs = names_in("rules", ".md");
    docs.remove("README");
    let mut fixtures = names_in("fixtures/lint", "");
    fixtures.extend(names_in("fixtures/queries", ""));
    fixtures.extend(names_in("fixtures/live", ""));
    fixtures.extend(
        rules::ALL
            .iter()
            .filter(|r| matches!(r.check, Check::Preflight))
            .map(|r| r.name.to_owned()),
    );
    let sources: BTreeSet<String> = [
        "src/rules/migration",
        "src/rules/query",
        "src/rules/database",
    ]
    .into_iter()
    .flat_map(|dir| names_in(dir, ".rs"))
    .filter(|n| n != "mod")
    .map(|n| n.replace('_', "-"))
    .collect();
    let mut failures = Vec::new();
    for (what, set) in [
        ("rules/*.md", &docs),
        ("fixtures/lint/", &fixtures),
        ("src/rules/{migration,query,database}/*.rs", &sources),
    ] {
        for name in set.difference(&registered) {
            failures.push(format!("{what}: `{name}` is not a registered rule"));
        }
        for name in registered.difference(set) {
            failures.push(format!("{what}: nothing for rule `{name}`"));
        }
    }
    // a preflight rule judges the live server's locks: no file can make it fire, so its
    // examples are a live test (tests/live/preflight.rs), not fixtures
    for rule in rules::ALL
        .iter()
        .filter(|r| !matches!(r.check, Check::Preflight))
    {
        let family = match rule.category {
            Category::Query => "queries",
            Category::Database => "live",
            _ => "lint",
        };
        for file in ["bad.sql", "good.sql"] {
            if !support::root()
                .join("fixtures")
                .join(family)
                .join(rule.name)
                .join(file)
                .is_file()
            {
                failures.push(format!("fixtures/{family}/{}/{file} is missing", rule.name));
            }
        }
    }
    check_all(failures);
}

fn metadata_row(rule: &Rule) -> String {
    let lock = rule.lock.map_or("—", |l| l.sql_name());
    format!(
        "| {} | {} | {} |",
        rule.severity.name(),
        rule.category.name(),
        lock
    )
}

#[test]
fn docs_have_title_metadata_and_sections_in_order() {
    let mut failures = Vec::new();
    for rule in rules::ALL {
        let doc = rule.doc;
        let name = rule.name;
        if doc.lines().next() != Some(&format!("# {name}")) {
            failures.push(format!("{name}: first line must be `# {name}`"));
        }
        if !doc.lines().any(|l| l.trim() == metadata_row(rule)) {
            failures.push(format!(
                "{name}: metadata row must be `{}`",
                metadata_row(rule)
            ));
        }
        let mut at = 0;
        for section in SECTIONS {
            match doc[at..].find(&format!("\n{section}\n")) {
                Some(i) => at += i + section.len(),
                None => failures.push(format!(
                    "{name}: section `{section}` missing or out of order"
                )),
            }
        }
    }
    check_all(failures);
}

#[test]
fn doc_examples_behave_and_bad_examples_take_the_declared_lock() {
    let mut failures = Vec::new();
    // a database rule's examples are its live fixtures, and a preflight rule's a live test,
    // run on a real server (tests/live)
    for rule in rules::ALL
        .iter()
        .filter(|r| r.category != Category::Database && !matches!(r.check, Check::Preflight))
    {
        let examples = support::examples(rule.doc);
        if !examples.iter().any(|e| e.0 == "bad") || !examples.iter().any(|e| e.0 == "good") {
            failures.push(format!(
                "{}: needs a `sql bad` and a `sql good` example",
                rule.name
            ));
            continue;
        }
        let mut locks = Vec::new();
        let schema = examples
            .iter()
            .find(|e| e.0 == "schema")
            .map(|e| e.2.clone());
        if rule.category == Category::Query && schema.is_none() {
            failures.push(format!(
                "{}: a query rule's doc needs a `sql schema` block",
                rule.name
            ));
            continue;
        }
        for (kind, version, body) in examples.iter().filter(|e| e.0 != "schema") {
            let settings = Settings {
                pg_version: version.unwrap_or(16),
                select: vec![rule.name.to_owned()],
                ..Settings::default()
            };
            let report = match &schema {
                Some(schema) => support::check_query_text(body, schema, &settings),
                None => support::lint_text("example.sql", body, &settings),
            };
            let fired = report
                .diagnostics
                .iter()
                .filter(|d| d.rule == rule.name)
                .count();
            match (kind.as_str(), fired) {
                ("bad", 0) => failures.push(format!(
                    "{}: `sql bad` example does not fire:\n{body}",
                    rule.name
                )),
                ("good", n) if n > 0 => failures.push(format!(
                    "{}: `sql good` example fires {n}x:\n{body}",
                    rule.name
                )),
                _ => {}
            }
            if kind == "bad" {
                locks.extend(report.diagnostics.iter().filter_map(|d| d.lock));
            }
        }
        if let Some(declared) = rule.lock
            && !locks.contains(&declared)
        {
            failures.push(format!(
                "{}: declares {declared} but its bad examples report {locks:?}",
                rule.name
            ));
        }
    }
    check_all(failures);
}
