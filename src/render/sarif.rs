//! `--format sarif`: SARIF 2.1.0 (OASIS), the format code scanning uploads read.
//! https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html
//!
//! One run; `tool.driver.rules` lists every rule (so `ruleIndex` is the index in
//! `rules::ALL`). Columns are UTF-16 code units, the spec's default `columnKind`, computed
//! from each finding's byte span. `partialFingerprints` hash what was flagged, not where,
//! so a finding keeps its identity when lines are added above it.

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::{Component, Path};

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{encode_segment, relative_uri, rule_doc_url};
use crate::diagnostic::{Diagnostic, Report};
use crate::rules::{self, Rule, Severity};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The key of our fingerprint in `partialFingerprints`; bump the version if its input changes.
pub const FINGERPRINT_KEY: &str = "pgriskFingerprint/v1";
const SOURCE_ROOT: &str = "%SRCROOT%";

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool<'a>,
    invocations: [Invocation<'a>; 1],
    column_kind: &'static str,
    results: Vec<SarifResult<'a>>,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    information_uri: &'static str,
    rules: Vec<ReportingDescriptor<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReportingDescriptor<'a> {
    id: &'a str,
    short_description: Text<'a>,
    full_description: Text<'a>,
    help: Help<'a>,
    help_uri: String,
    default_configuration: Configuration,
    properties: RuleProperties<'a>,
}

#[derive(Serialize)]
struct Text<'a> {
    text: &'a str,
}

#[derive(Serialize)]
struct Help<'a> {
    text: &'a str,
    markdown: &'a str,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties<'a> {
    category: &'a str,
    /// GitHub shows `tags` as filters in the code scanning view.
    tags: [&'a str; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    lock: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation<'a> {
    execution_successful: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification>,
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<InvocationProperties<'a>>,
}

/// What was checked when it is not files (`live`: the server, without password).
#[derive(Serialize)]
struct InvocationProperties<'a> {
    target: &'a str,
}

#[derive(Serialize)]
struct Notification {
    level: &'static str,
    message: OwnedText,
}

#[derive(Serialize)]
struct OwnedText {
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    /// Index in `tool.driver.rules` (every registered rule is there).
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_index: Option<usize>,
    level: &'static str,
    message: OwnedText,
    locations: [Location; 1],
    partial_fingerprints: HashMap<&'static str, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<ResultProperties<'a>>,
}

#[derive(Serialize)]
struct ResultProperties<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    object: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lock: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    #[serde(skip_serializing_if = "Option::is_none")]
    physical_location: Option<PhysicalLocation>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    logical_locations: Vec<LogicalLocation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
    start_column: usize,
    end_line: usize,
    end_column: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation {
    name: String,
    fully_qualified_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
}

/// What a finding's object is, for `logicalLocation.kind`. SARIF's own kinds are for code
/// (`function`, `module`, …) and none fits a table; the spec allows other values then.
/// Objects that are not relations say what they are with a leading word (`pid 4242`).
const NAMED_KINDS: &[(&str, &str)] = &[
    ("cluster", "cluster"),
    ("cron job ", "cronJob"),
    ("database ", "database"),
    ("pid ", "session"),
    ("role ", "role"),
    ("slot ", "replicationSlot"),
    ("standby ", "standby"),
    ("this standby", "standby"),
];

/// Rules whose schema-qualified object is a relation of a known kind, sorted by rule.
const RELATION_KINDS: &[(&str, &str)] = &[
    ("dead-tuples", "table"),
    ("duplicate-index", "index"),
    ("invalid-index", "index"),
    ("seq-scan-heavy", "table"),
    ("sequence-exhaustion", "sequence"),
    ("soft-delete-ghosts", "table"),
    ("table-without-primary-key", "table"),
    ("unused-index", "index"),
];

/// The kind of `object` in a finding of `rule`: by its leading word, by the rule, or
/// `relation` for another schema-qualified name; `None` when nothing says.
fn object_kind(rule: &str, object: &str) -> Option<&'static str> {
    let named = NAMED_KINDS
        .iter()
        .find(|(prefix, _)| object.starts_with(prefix))
        .map(|(_, kind)| *kind);
    let by_rule = || {
        RELATION_KINDS
            .binary_search_by(|(r, _)| r.cmp(&rule))
            .ok()
            .map(|i| RELATION_KINDS[i].1)
    };
    named
        .or_else(by_rule)
        .or_else(|| object.contains('.').then_some("relation"))
}

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let fingerprints = fingerprints(report);
    let results = report
        .diagnostics
        .iter()
        .zip(fingerprints)
        .map(|(d, fingerprint)| result(report, d, fingerprint))
        .collect();
    let failed = !report.input_errors.is_empty();
    // unreadable inputs fail the run; notes (checks skipped and why) do not
    let notifications = report
        .input_errors
        .iter()
        .map(|e| ("error", e))
        .chain(report.notes.iter().map(|n| ("note", n)))
        .map(|(level, text)| Notification {
            level,
            message: OwnedText { text: text.clone() },
        })
        .collect::<Vec<_>>();
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "pgrisk",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    information_uri: env!("CARGO_PKG_REPOSITORY"),
                    rules: rules::ALL.iter().map(|r| descriptor(r)).collect(),
                },
            },
            invocations: [Invocation {
                execution_successful: !failed,
                tool_execution_notifications: notifications,
                properties: report
                    .target
                    .as_deref()
                    .map(|target| InvocationProperties { target }),
            }],
            column_kind: "utf16CodeUnits",
            results,
        }],
    };
    serde_json::to_writer_pretty(&mut *out, &log).map_err(io::Error::other)?;
    writeln!(out)
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn descriptor(rule: &Rule) -> ReportingDescriptor<'_> {
    ReportingDescriptor {
        id: rule.name,
        short_description: Text { text: rule.summary },
        full_description: Text {
            text: what_it_flags(rule.doc).unwrap_or(rule.summary),
        },
        help: Help {
            text: rule.doc,
            markdown: rule.doc,
        },
        help_uri: rule_doc_url(rule.name),
        default_configuration: Configuration {
            level: level(rule.severity),
        },
        properties: RuleProperties {
            category: rule.category.name(),
            tags: [rule.category.name()],
            lock: rule.lock.map(|l| l.sql_name()),
        },
    }
}

/// The first paragraph under the doc's `## What it flags` heading.
fn what_it_flags(doc: &str) -> Option<&str> {
    let (_, after) = doc.split_once("## What it flags\n")?;
    let paragraph = after.split("\n\n").next()?.trim();
    (!paragraph.is_empty() && !paragraph.starts_with('#')).then_some(paragraph)
}

fn result<'a>(report: &'a Report, d: &'a Diagnostic, fingerprint: String) -> SarifResult<'a> {
    let rule_index = rules::ALL.iter().position(|r| r.name == d.rule);
    let mut message = d.message.clone();
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    let location = match report.path_of(d) {
        Some(file) => Location {
            physical_location: Some(PhysicalLocation {
                artifact_location: artifact_location(&file.path),
                region: region(&file.text, d),
            }),
            logical_locations: Vec::new(),
        },
        None => Location {
            physical_location: None,
            logical_locations: d
                .object
                .iter()
                .map(|o| LogicalLocation {
                    name: o.rsplit('.').next().unwrap_or(o).to_owned(),
                    fully_qualified_name: o.clone(),
                    kind: object_kind(d.rule, o),
                })
                .collect(),
        },
    };
    let lock = d.lock.map(|l| l.sql_name());
    SarifResult {
        rule_id: d.rule,
        rule_index,
        level: level(d.severity),
        message: OwnedText { text: message },
        locations: [location],
        partial_fingerprints: HashMap::from([(FINGERPRINT_KEY, fingerprint)]),
        properties: (d.object.is_some() || lock.is_some()).then_some(ResultProperties {
            object: d.object.as_deref(),
            lock,
        }),
    }
}

/// A relative path against `%SRCROOT%` (where code scanning checks out the repository); an
/// absolute one as a `file:` URI.
fn artifact_location(path: &Path) -> ArtifactLocation {
    match relative_uri(path) {
        Some(uri) => ArtifactLocation {
            uri,
            uri_base_id: Some(SOURCE_ROOT),
        },
        None => {
            let absolute: Vec<String> = path
                .components()
                .filter_map(|c| match c {
                    Component::Normal(segment) => Some(encode_segment(segment)),
                    _ => None,
                })
                .collect();
            ArtifactLocation {
                uri: format!("file:///{}", absolute.join("/")),
                uri_base_id: None,
            }
        }
    }
}

/// 1-based lines and UTF-16 columns of the finding's span (end exclusive, as in SARIF).
fn region(text: &str, d: &Diagnostic) -> Option<Region> {
    let (start, end) = (d.start?, d.end?);
    Some(Region {
        start_line: start.line,
        start_column: utf16_column(text, d.span.start),
        end_line: end.line,
        end_column: utf16_column(text, d.span.end),
    })
}

fn utf16_column(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    text[line_start..offset].encode_utf16().count() + 1
}

/// Per diagnostic: hash of rule, path and whitespace-normalized flagged text, plus the
/// occurrence index among diagnostics with the same three (report order is file order, so
/// the index does not change when unrelated lines are added). Findings without a file hash
/// the object and message instead.
fn fingerprints(report: &Report) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    report
        .diagnostics
        .iter()
        .map(|d| {
            let identity = match report.path_of(d) {
                Some(file) => {
                    let flagged = file.text.get(d.span.start..d.span.end).unwrap_or_default();
                    let normalized = flagged.split_whitespace().collect::<Vec<_>>().join(" ");
                    format!("{}\0{}\0{normalized}", d.rule, file.path.display())
                }
                None => format!(
                    "{}\0{}\0{}",
                    d.rule,
                    d.object.as_deref().unwrap_or_default(),
                    d.message
                ),
            };
            let occurrence = seen.entry(identity.clone()).or_default();
            let hash = Sha256::new()
                .chain_update(identity.as_bytes())
                .chain_update(occurrence.to_string().as_bytes())
                .finalize();
            *occurrence += 1;
            hash[..16].iter().map(|b| format!("{b:02x}")).collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_kinds_come_from_the_object_or_the_rule() {
        assert!(RELATION_KINDS.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(object_kind("unused-index", "public.a_idx"), Some("index"));
        assert_eq!(object_kind("blocked-sessions", "pid 42"), Some("session"));
        assert_eq!(
            object_kind("blocked-sessions", "public.orders"),
            Some("relation")
        );
        assert_eq!(
            object_kind("replication-slot-inactive", "slot s1"),
            Some("replicationSlot")
        );
        assert_eq!(object_kind("order-by-random", "orders"), None);
    }

    #[test]
    fn columns_count_utf16_code_units() {
        let text = "a\n😀é x";
        assert_eq!(utf16_column(text, 2), 1);
        // 😀 is two UTF-16 units, é one
        assert_eq!(utf16_column(text, text.find('x').unwrap()), 5);
    }

    #[test]
    fn full_description_is_the_first_paragraph_of_what_it_flags() {
        let doc = "# r\n\n## What it flags\nOne\nparagraph.\n\nMore.\n";
        assert_eq!(what_it_flags(doc), Some("One\nparagraph."));
        assert_eq!(what_it_flags("# r\n"), None);
    }
}
