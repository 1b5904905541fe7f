//! `--format sarif|markdown|junit|github`: what code scanning, a PR comment and CI
//! dashboards read. SARIF goes through Microsoft's validator (`@microsoft/sarif-multitool`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use pgrisk::config::Settings;
use pgrisk::diagnostic::{QueryStat, Report};
use pgrisk::live::charts;
use pgrisk::render::{Format, RenderOptions, SourceLinks, markdown};
use pgrisk::rules::{self, Finding, Severity};
use pgrisk::source::Span;
use serde_json::Value;

use crate::support::{self, render_to_string};

/// Errors, warnings and infos in three files: a non-ASCII line (an emoji before the finding),
/// a finding over two lines, a file name with a space and a clean file.
fn mixed() -> Report {
    support::lint_paths(
        &[PathBuf::from("fixtures/render/migrations")],
        &Settings::default(),
    )
}

fn sarif(report: &Report) -> Value {
    serde_json::from_str(&render_to_string(report, Format::Sarif)).expect("SARIF is JSON")
}

fn results(log: &Value) -> &Vec<Value> {
    log["runs"][0]["results"].as_array().expect("results")
}

fn region(result: &Value) -> (u64, u64, u64, u64) {
    let r = &result["locations"][0]["physicalLocation"]["region"];
    let n = |k: &str| r[k].as_u64().unwrap_or_else(|| panic!("{k} in {r}"));
    (
        n("startLine"),
        n("startColumn"),
        n("endLine"),
        n("endColumn"),
    )
}

#[test]
fn sarif_describes_every_rule_and_each_finding() {
    let report = mixed();
    let log = sarif(&report);
    assert_eq!(log["version"], "2.1.0");
    assert!(log["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    let run = &log["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "pgrisk");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(driver["informationUri"], "https://github.com/pgrisk/pgrisk");
    let descriptors = driver["rules"].as_array().unwrap();
    assert_eq!(descriptors.len(), rules::ALL.len());
    for (descriptor, rule) in descriptors.iter().zip(rules::ALL) {
        assert_eq!(descriptor["id"], rule.name);
        assert_eq!(descriptor["shortDescription"]["text"], rule.summary);
        assert_eq!(descriptor["help"]["markdown"], rule.doc);
        assert_eq!(
            descriptor["helpUri"],
            format!(
                "https://github.com/pgrisk/pgrisk/blob/main/rules/{}.md",
                rule.name
            )
        );
        assert_eq!(descriptor["properties"]["category"], rule.category.name());
        assert_eq!(
            descriptor["properties"]["lock"].as_str(),
            rule.lock.map(|l| l.sql_name())
        );
        let full = descriptor["fullDescription"]["text"].as_str().unwrap();
        assert!(rule.doc.contains(full), "{}: {full}", rule.name);
    }
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);
    assert_eq!(run["columnKind"], "utf16CodeUnits");

    let results = results(&log);
    assert_eq!(results.len(), report.diagnostics.len());
    let mut levels = BTreeMap::new();
    for (result, d) in results.iter().zip(&report.diagnostics) {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(descriptors[index]["id"], result["ruleId"]);
        assert_eq!(result["ruleId"], d.rule);
        let text = result["message"]["text"].as_str().unwrap();
        assert!(text.starts_with(&d.message), "{text}");
        if let Some(help) = &d.help {
            assert!(text.ends_with(help.as_str()), "{text}");
        }
        *levels.entry(result["level"].as_str().unwrap()).or_insert(0) += 1;
        let artifact = &result["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(artifact["uriBaseId"], "%SRCROOT%");
        // rows without non-ASCII text before the finding: UTF-16 columns = char columns
        let (start, end) = (d.start.unwrap(), d.end.unwrap());
        let (line, _, end_line, _) = region(result);
        assert_eq!((line, end_line), (start.line as u64, end.line as u64));
    }
    let s = &report.summary;
    assert!(s.errors > 0 && s.warnings > 0 && s.infos > 0, "{s:?}");
    assert_eq!(
        levels,
        BTreeMap::from([
            ("error", s.errors),
            ("warning", s.warnings),
            ("note", s.infos)
        ])
    );

    // `/* 😀 ünïcode */ CREATE INDEX orders_statüs_idx ...`: 😀 is two UTF-16 code units,
    // ü and ï one each, so the finding starts one column later than in characters
    let on_emoji_line = results
        .iter()
        .zip(&report.diagnostics)
        .find(|(_, d)| d.rule == "create-index-blocking" && d.start.unwrap().line == 3)
        .expect("the index on the emoji line");
    assert_eq!(on_emoji_line.1.start.unwrap().column, 17);
    // the span ends before the `;`
    let line3 = "/* 😀 ünïcode */ CREATE INDEX orders_statüs_idx ON orders (status)";
    assert_eq!(
        region(on_emoji_line.0),
        (3, 18, 3, line3.encode_utf16().count() as u64 + 1)
    );
    let two_lines = results
        .iter()
        .find(|r| r["ruleId"] == "create-index-blocking" && region(r).0 == 4)
        .expect("the index over two lines");
    assert_eq!(region(two_lines), (4, 1, 5, 27));

    let uris: Vec<&str> = results
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert!(
        uris.contains(&"fixtures/render/migrations/0002_customer%20notes.sql"),
        "{uris:?}"
    );
}

/// The fingerprint of every finding, in report order.
fn fingerprints(text: &str) -> Vec<(String, String)> {
    let report = support::lint_text("db/0007.sql", text, &Settings::default());
    results(&sarif(&report))
        .iter()
        .map(|r| {
            (
                r["ruleId"].as_str().unwrap().to_owned(),
                r["partialFingerprints"]["pgriskFingerprint/v1"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect()
}

#[test]
fn sarif_fingerprints_follow_the_statement_not_its_line() {
    let index = "CREATE INDEX orders_status_idx ON orders (status);\n";
    let other = "CREATE INDEX orders_created_idx ON orders (created_at);\n";
    let body = format!("SET lock_timeout = '2s';\n{index}{index}{other}");
    let before = fingerprints(&body);
    assert_eq!(
        before
            .iter()
            .filter(|(r, _)| r == "create-index-blocking")
            .count(),
        3
    );
    // identical statements are told apart by their occurrence
    let unique: std::collections::BTreeSet<_> = before.iter().collect();
    assert_eq!(unique.len(), before.len(), "{before:?}");

    let moved = fingerprints(&format!(
        "-- a comment and blank lines added above\n\n\nSELECT 1;\n{body}"
    ));
    assert_eq!(moved, before);
    let reindented = fingerprints(&body.replace(" ON orders", "\n    ON   orders"));
    assert_eq!(
        reindented, before,
        "whitespace inside the statement is ignored"
    );

    let changed = fingerprints(&body.replace("orders_created_idx", "orders_created_at_idx"));
    assert_eq!(changed.len(), before.len());
    assert_eq!(changed[..4], before[..4], "the unchanged statements");
    assert_ne!(changed[4..], before[4..], "a different statement");
}

#[test]
fn sarif_finding_without_a_file_has_a_logical_location() {
    let mut report = mixed();
    let d = report
        .diagnostics
        .iter_mut()
        .find(|d| d.rule == "drop-column")
        .expect("drop-column");
    (d.file, d.start, d.end) = (None, None, None);
    let log = sarif(&report);
    let result = results(&log)
        .iter()
        .find(|r| r["ruleId"] == "drop-column")
        .unwrap();
    let location = &result["locations"][0];
    assert!(location.get("physicalLocation").is_none(), "{location}");
    assert_eq!(
        location["logicalLocations"][0]["fullyQualifiedName"],
        "public.orders"
    );
    assert_eq!(location["logicalLocations"][0]["name"], "orders");
    assert!(result["partialFingerprints"]["pgriskFingerprint/v1"].is_string());
}

#[test]
fn sarif_run_with_an_unreadable_input_is_not_successful() {
    let out = support::pgrisk(&[
        "lint",
        "fixtures/render/no-such-dir",
        "fixtures/render/migrations/0003_clean.sql",
        "--format",
        "sarif",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let log: Value = serde_json::from_slice(&out.stdout).expect("SARIF on stdout");
    let invocation = &log["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let note = invocation["toolExecutionNotifications"][0]["message"]["text"]
        .as_str()
        .unwrap();
    assert!(note.contains("no-such-dir"), "{note}");
}

/// Every (level, rule id, message) the validator reports for `file`.
fn validator_results(log: &Value, file: &Path) -> Vec<(String, String, String)> {
    let name = file.file_name().unwrap().to_str().unwrap();
    results(log)
        .iter()
        .filter(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .is_some_and(|u| u.ends_with(name))
        })
        .map(|r| {
            let field = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
            (field("level"), field("ruleId"), r["message"].to_string())
        })
        .collect()
}

#[test]
fn sarif_passes_the_official_validator() {
    let validator = support::test_tool(
        "PGRISK_SARIF_MULTITOOL",
        "sarif-multitool",
        "target/test-tools/npm/node_modules/.bin/sarif-multitool",
    );
    let dir = tempfile::tempdir().unwrap();
    let ours = dir.path().join("pgrisk.sarif");
    std::fs::write(&ours, render_to_string(&mixed(), Format::Sarif)).unwrap();
    // findings without a file, with notes and a target, as `live` writes them
    let database = dir.path().join("database.sarif");
    std::fs::write(
        &database,
        render_to_string(&database_report(), Format::Sarif),
    )
    .unwrap();
    // a control that must fail, so a validator that checks nothing cannot pass our file
    let mut broken = sarif(&mixed());
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        0.into();
    let control = dir.path().join("broken.sarif");
    std::fs::write(&control, broken.to_string()).unwrap();
    let verdict = dir.path().join("verdict.sarif");
    let out = Command::new(&validator)
        .arg("validate")
        .args([&ours, &database, &control])
        .arg("--output")
        .arg(&verdict)
        .args(["--log", "ForceOverwrite"])
        // .NET without ICU: nothing here depends on culture data
        .env("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT", "1")
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", validator.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let log: Value =
        serde_json::from_str(&std::fs::read_to_string(&verdict).expect("the verdict")).unwrap();
    assert_eq!(
        log["runs"][0]["invocations"][0]["executionSuccessful"], true,
        "{stdout}"
    );
    let failed = validator_results(&log, &control);
    assert!(
        failed
            .iter()
            .any(|(level, id, _)| level == "error" && id == "JSON1008"),
        "the validator did not catch startLine 0: {failed:?}"
    );
    for file in [&ours, &database] {
        let verdicts = validator_results(&log, file);
        let serious: Vec<_> = verdicts
            .iter()
            .filter(|(level, _, _)| level == "error" || level == "warning")
            .collect();
        assert!(
            serious.is_empty(),
            "{}: {serious:#?}\n{stdout}",
            file.display()
        );
    }
}

fn markdown_with(report: &Report, links: Option<SourceLinks>) -> String {
    let options = RenderOptions {
        links,
        ..support::plain_render_options()
    };
    support::render_with(report, Format::Markdown, &options)
}

#[test]
fn markdown_comment_counts_tabulates_and_details_each_finding() {
    let report = mixed();
    let links = SourceLinks {
        server: "https://github.com".to_owned(),
        repository: "acme/shop".to_owned(),
        commit: "0123abc".to_owned(),
    };
    let comment = markdown_with(&report, Some(links));
    let lines: Vec<&str> = comment.lines().collect();
    assert_eq!(lines[0], markdown::MARKER);
    let s = &report.summary;
    assert_eq!(
        lines[1],
        format!(
            "### pgrisk: {} errors, {} warnings, {} infos",
            s.errors, s.warnings, s.infos
        )
    );
    assert!(comment.contains("3 files checked (12 statements, 0 not understood)."));
    assert!(comment.contains("| severity | rule | where | finding |\n|---|---|---|---|\n"));
    let rows = lines.iter().filter(|l| l.starts_with("| ")).count();
    assert_eq!(rows, report.diagnostics.len() + 1, "header + a row each");
    assert!(
        comment.contains(
            "| ❌ error | [`create-index-blocking`](https://github.com/pgrisk/pgrisk/blob/main/rules/create-index-blocking.md) \
             | [fixtures/render/migrations/0001_orders.sql:4](https://github.com/acme/shop/blob/0123abc/fixtures/render/migrations/0001_orders.sql#L4-L5) \
             | `CREATE INDEX` on `orders` takes a SHARE lock: writes wait until the whole index is built |"
        ),
        "{comment}"
    );
    assert!(
        comment.contains("blob/0123abc/fixtures/render/migrations/0002_customer%20notes.sql#L3)")
    );
    assert_eq!(
        comment.matches("<details>").count(),
        report.diagnostics.len()
    );
    assert_eq!(
        comment.matches("</details>").count(),
        report.diagnostics.len()
    );
    assert!(comment.contains("**lock:** `SHARE` on `public.orders`: blocks writes"));
    assert!(
        comment.contains(
            "```sql\nCREATE INDEX orders_created_at_idx\n    ON orders (created_at)\n```"
        )
    );

    let plain = markdown_with(&report, None);
    assert!(plain.contains("| fixtures/render/migrations/0001_orders.sql:4 |"));
    assert!(!plain.contains(".sql#L"), "{plain}");
}

#[test]
fn markdown_links_come_from_the_github_environment() {
    let run = |sha_override: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_pgrisk"));
        command
            .args(["lint", "fixtures/render/migrations/0001_orders.sql"])
            .args(["--format", "markdown", "--no-config"])
            .current_dir(support::root())
            .env("GITHUB_SERVER_URL", "https://github.example.com")
            .env("GITHUB_REPOSITORY", "acme/shop")
            .env("GITHUB_SHA", "mergecommit")
            .env_remove("PGRISK_LINK_SHA");
        if let Some(sha) = sha_override {
            command.env("PGRISK_LINK_SHA", sha);
        }
        String::from_utf8(command.output().unwrap().stdout).unwrap()
    };
    let link = "https://github.example.com/acme/shop/blob/{}/fixtures/render/migrations/0001_orders.sql#L3)";
    assert!(run(None).contains(&link.replace("{}", "mergecommit")));
    assert!(run(Some("headcommit")).contains(&link.replace("{}", "headcommit")));
}

#[test]
fn markdown_stays_under_githubs_comment_limit() {
    // 200 files × 10 blocking index builds, each also without IF NOT EXISTS: 4,000+ findings
    let files: Vec<(String, String)> = (0..200)
        .map(|f| {
            let body: String = (0..10)
                .map(|i| format!("CREATE INDEX orders_{f}_{i}_idx ON orders (c{i});\n"))
                .collect();
            (format!("db/migrations/{f:04}_indexes.sql"), body)
        })
        .collect();
    let report = support::lint_texts(&files, &Settings::default());
    let total = report.diagnostics.len();
    assert!(total >= 4_000, "{total}");
    let comment = markdown_with(&report, None);
    assert!(comment.len() < 65_536, "{} bytes", comment.len());
    assert!(comment.chars().count() < 65_536);
    assert!(comment.starts_with(&format!("{}\n### pgrisk: ", markdown::MARKER)));
    assert!(comment.contains(&format!("### pgrisk: {} errors", report.summary.errors)));
    assert!(comment.contains("| severity | rule | where | finding |"));
    let rows = comment.lines().filter(|l| l.starts_with("| ")).count() - 1;
    let details = comment.matches("<details>").count();
    assert!(
        rows > 100 && details > 20 && details < rows,
        "{rows} {details}"
    );
    assert_eq!(comment.matches("</details>").count(), details);
    assert!(comment.contains(&format!(
        "_Details for the first {details} of {rows} findings"
    )));
    let left_out = format!("**… and {} more findings** not shown", total - rows);
    assert!(comment.contains(&left_out), "{left_out}");
    let rest = &report.diagnostics[rows..];
    for rule in ["create-index-blocking", "migration-not-rerunnable"] {
        let count = rest.iter().filter(|d| d.rule == rule).count();
        assert!(
            comment.contains(&format!("`{rule}` {count}")),
            "{rule} {count}"
        );
    }
}

#[test]
fn markdown_without_findings_is_a_short_comment() {
    let report = support::lint_paths(
        &[PathBuf::from("fixtures/render/migrations/0003_clean.sql")],
        &Settings::default(),
    );
    assert!(report.diagnostics.is_empty());
    let comment = markdown_with(&report, None);
    assert_eq!(
        comment,
        format!(
            "{}\n### pgrisk: no findings\n\n1 file checked (4 statements, 0 not understood).\n",
            markdown::MARKER
        )
    );
}

#[test]
fn junit_has_a_suite_per_file_and_a_failure_per_error_or_warning() {
    let mut report = mixed();
    // a file name that needs escaping in every attribute it appears in
    report.files[0].path = PathBuf::from("odd <&> \"name\".sql");
    let xml = render_to_string(&report, Format::Junit);
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let s = &report.summary;
    let failing = s.errors + s.warnings;
    let attr = |n: roxmltree::Node, k: &str| -> usize { n.attribute(k).unwrap().parse().unwrap() };
    assert_eq!(attr(root, "failures"), failing);
    // every finding is a test, and the clean file one more
    assert_eq!(attr(root, "tests"), report.diagnostics.len() + 1);

    let suites: Vec<_> = root.children().filter(|n| n.is_element()).collect();
    let names: Vec<&str> = suites
        .iter()
        .map(|n| n.attribute("name").unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "odd <&> \"name\".sql",
            "fixtures/render/migrations/0002_customer notes.sql",
            "fixtures/render/migrations/0003_clean.sql",
        ]
    );
    let mut failures_seen = 0;
    for suite in &suites {
        let cases: Vec<_> = suite
            .children()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        assert_eq!(attr(*suite, "tests"), cases.len());
        let failures: Vec<_> = cases
            .iter()
            .flat_map(|c| c.children().filter(|n| n.has_tag_name("failure")))
            .collect();
        assert_eq!(attr(*suite, "failures"), failures.len());
        for failure in &failures {
            let case = failure.parent().unwrap();
            let rule = failure.attribute("type").unwrap();
            assert!(case.attribute("name").unwrap().starts_with(rule));
            assert!(rules::find(rule).is_some(), "{rule}");
            assert_eq!(case.attribute("classname"), suite.attribute("name"));
            assert!(!failure.attribute("message").unwrap().is_empty());
        }
        failures_seen += failures.len();
    }
    assert_eq!(failures_seen, failing);

    let clean: Vec<_> = suites[2].children().filter(|n| n.is_element()).collect();
    assert_eq!(clean.len(), 1);
    assert_eq!(clean[0].attribute("name"), Some("no findings"));
    assert!(!clean[0].has_children(), "a passing testcase");

    let info = report
        .diagnostics
        .iter()
        .find(|d| d.severity == Severity::Info)
        .unwrap();
    let info_case = doc
        .descendants()
        .find(|n| {
            n.attribute("name")
                .is_some_and(|a| a.starts_with(info.rule))
        })
        .unwrap();
    let out = info_case
        .children()
        .find(|n| n.has_tag_name("system-out"))
        .expect("infos pass with their message");
    assert!(out.text().unwrap().starts_with(&info.message));
    let failure = doc
        .descendants()
        .find(|n| n.attribute("type") == Some("create-index-blocking"))
        .unwrap();
    assert!(
        failure
            .text()
            .unwrap()
            .contains("\nlock: SHARE (blocks writes")
    );
}

#[test]
fn github_annotations_give_columns_only_for_single_line_findings() {
    let github = render_to_string(&mixed(), Format::Github);
    let index_builds: Vec<&str> = github
        .lines()
        .filter(|l| l.contains("title=create-index-blocking"))
        .collect();
    assert_eq!(index_builds.len(), 2, "{github}");
    assert!(
        index_builds[0].contains("line=3,endLine=3,col=17,endColumn="),
        "{}",
        index_builds[0]
    );
    assert!(
        index_builds[1].contains("line=4,endLine=5,title="),
        "{}",
        index_builds[1]
    );
}

/// A report as `live` makes it: findings without a file that name objects (one with markup
/// in its name), evidence with units in the keys, a target and a note. The rules are
/// stand-ins: rendering only reads their names and severities.
fn database_report() -> Report {
    let rule = |name: &str| rules::find(name).unwrap_or_else(|| panic!("{name}"));
    let findings = vec![
        Finding::new(rule("drop-column"), Span::new(0, 0), "orders is large")
            .object("public.orders")
            .evidence("size_bytes", 3 * 1024 * 1024 * 1024_i64)
            .evidence("age_seconds", 5400)
            .help("look at it"),
        Finding::new(
            rule("add-column-rewrite"),
            Span::new(0, 0),
            "a table <b>named</b> oddly",
        )
        .object("public.<script>"),
        Finding::new(rule("char-column"), Span::new(0, 0), "an info").object("public.notes"),
    ];
    let mut report = Report {
        target: Some("host=/run/pg port=5432 dbname=shop (PostgreSQL 15.8)".into()),
        notes: vec!["invalid-index skipped: cancelled by statement_timeout".into()],
        ..Report::default()
    };
    report.add_database(findings, &Settings::default());
    report.finish();
    report
}

#[test]
fn database_findings_name_their_object_in_every_text_format() {
    let report = database_report();
    let order: Vec<&str> = report.diagnostics.iter().map(|d| d.rule).collect();
    assert_eq!(
        order,
        ["add-column-rewrite", "drop-column", "char-column"],
        "the most severe first"
    );

    let gnu = render_to_string(&report, Format::Gnu);
    assert!(
        gnu.contains("public.orders: warning: orders is large [drop-column]\n"),
        "{gnu}"
    );
    assert!(gnu.ends_with("pgrisk: note: invalid-index skipped: cancelled by statement_timeout\n"));

    let github = render_to_string(&report, Format::Github);
    assert!(
        github.contains(
            "::warning title=drop-column::public.orders: orders is large%0Ahelp: look at it\n"
        ),
        "{github}"
    );
    assert!(!github.contains("file="), "{github}");
    assert!(
        github.contains("::notice title=pgrisk::invalid-index skipped"),
        "{github}"
    );

    let human = render_to_string(&report, Format::Human);
    assert!(
        human.starts_with("checked: host=/run/pg port=5432 dbname=shop"),
        "{human}"
    );
    for expected in [
        "⚠ public.orders: orders is large",
        "size: 3 GB",
        "age: 1 h 30 min",
        "docs: pgrisk explain drop-column\n",
        "web: https://github.com/pgrisk/pgrisk/blob/main/rules/drop-column.md\n",
        "note: invalid-index skipped: cancelled by statement_timeout",
        "1 error, 1 warning, 1 info\n",
    ] {
        assert!(human.contains(expected), "{expected} in:\n{human}");
    }
    assert!(!human.contains("0 files"), "{human}");

    let md = render_to_string(&report, Format::Markdown);
    assert!(
        md.contains("| severity | rule | object | finding |"),
        "{md}"
    );
    assert!(md.contains("| public.&lt;script&gt; |"), "{md}");
    assert!(md.contains("- age: 1 h 30 min\n- size: 3 GB\n"), "{md}");
    assert!(
        md.contains("Checked host=/run/pg port=5432 dbname=shop"),
        "{md}"
    );
    assert!(
        md.contains("- invalid-index skipped: cancelled by statement_timeout\n"),
        "{md}"
    );
}

#[test]
fn junit_puts_database_findings_in_a_suite_named_after_the_target() {
    let report = database_report();
    let xml = render_to_string(&report, Format::Junit);
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    let suites: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    assert_eq!(suites.len(), 1, "{xml}");
    assert_eq!(suites[0].attribute("name"), report.target.as_deref());
    let cases: Vec<&str> = suites[0]
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .map(|n| n.attribute("name").unwrap())
        .collect();
    assert_eq!(
        cases,
        [
            "add-column-rewrite on public.<script>",
            "drop-column on public.orders",
            "char-column on public.notes"
        ]
    );
    let notes = suites[0]
        .children()
        .find(|n| n.has_tag_name("system-out"))
        .expect("the notes");
    assert!(notes.text().unwrap().contains("invalid-index skipped"));
}

#[test]
fn sarif_database_findings_have_logical_locations_and_notes() {
    let log = sarif(&database_report());
    let invocation = &log["runs"][0]["invocations"][0];
    assert_eq!(
        invocation["executionSuccessful"], true,
        "notes do not fail a run"
    );
    assert_eq!(
        invocation["toolExecutionNotifications"][0]["level"], "note",
        "{invocation}"
    );
    assert!(
        invocation["properties"]["target"]
            .as_str()
            .unwrap()
            .contains("dbname=shop")
    );
    for result in results(&log) {
        let location = &result["locations"][0];
        assert!(location.get("physicalLocation").is_none(), "{location}");
        assert!(
            location["logicalLocations"][0]["fullyQualifiedName"]
                .as_str()
                .unwrap()
                .starts_with("public.")
        );
    }
}

#[test]
fn html_shows_database_findings_by_severity_with_readable_evidence() {
    let mut report = database_report();
    let query = |id: &str, text: &str, calls: u64, mean_ms: f64| QueryStat {
        id: id.into(),
        query: text.into(),
        example: None,
        calls,
        total_ms: calls as f64 * mean_ms,
        mean_ms,
        max_ms: mean_ms * 3.0,
        rows: Some(calls),
    };
    let queries = vec![
        query(
            "1",
            "SELECT * FROM orders WHERE customer_id = $1",
            120_000,
            0.8,
        ),
        query(
            "2",
            "UPDATE \"<script>\" SET id = $1 WHERE id = $2",
            900,
            45.0,
        ),
        query(
            "3",
            "SELECT count(*) FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.created_at > now() - $1::interval",
            40,
            2_500.0,
        ),
    ];
    let connections: Vec<charts::ConnectionCount> = [
        ("web", "idle", 38),
        ("web", "active", 6),
        ("billing-worker", "idle in transaction", 3),
        ("billing-worker", "active", 2),
        ("psql", "active", 1),
    ]
    .iter()
    .map(|(a, s, n)| ((*a).to_owned(), (*s).to_owned(), *n))
    .collect();
    report.charts = vec![
        charts::top_queries_chart(&queries),
        charts::connections_chart(&connections),
    ];
    report.queries = Some(queries);
    let html = render_to_string(&report, Format::Html);
    let at = |needle: &str| {
        html.find(needle)
            .unwrap_or_else(|| panic!("{needle} in:\n{html}"))
    };
    assert!(at("<h2>Errors (1)</h2>") < at("<h2>Warnings (1)</h2>"));
    assert!(at("<h2>Warnings (1)</h2>") < at("<h2>Infos (1)</h2>"));
    at("<span class=\"where\">public.&lt;script&gt;</span>");
    at("a table &lt;b&gt;named&lt;/b&gt; oddly");
    at("<tr><th>size</th><td>3 GB</td></tr>");
    at("<tr><th>age</th><td>1 h 30 min</td></tr>");
    at("<li>invalid-index skipped: cancelled by statement_timeout</li>");
    at("dbname=shop (PostgreSQL 15.8)");
    assert!(!html.contains("<b>"), "markup from a message is text");
    // the slowest in total first: 100 s, 96 s, 40.5 s
    assert!(
        at(">SELECT count(*) FROM orders o JOIN cu…</text>")
            < at(">SELECT * FROM orders WHERE customer_i…</text>")
    );
    at("<title>UPDATE &quot;&lt;script&gt;&quot; SET id = $1 WHERE id = $2: 40.5 s</title>");
    at("<td><code>UPDATE &quot;&lt;script&gt;&quot; SET id = $1 WHERE id = $2</code></td>");
    at(">idle in transaction</text>");
    at(">1 min 40 s</text>");
    assert!(!html.contains("<script>"), "markup from a query is text");
    assert_eq!(html, render_to_string(&report, Format::Html));
}
