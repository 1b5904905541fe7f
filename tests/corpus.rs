//! PostgreSQL's own regression SQL (`../shared/corpus/`): every file is linted in one run
//! of the binary, which must neither panic nor exit with an error; coverage is printed.

use crate::support;

#[derive(serde::Deserialize)]
struct Summary {
    files: usize,
    statements: usize,
    unparsed: usize,
}

#[derive(serde::Deserialize)]
struct Output {
    summary: Summary,
}

#[test]
fn every_corpus_file_lints_without_panic_or_error_exit() {
    let corpus = support::root().join("../shared/corpus");
    assert!(
        corpus.is_dir(),
        "{} is missing: the shared corpus must sit beside the checkout",
        corpus.display()
    );
    let dir = corpus.to_string_lossy().into_owned();
    let out = support::pgrisk(&["lint", &dir, "--format", "json", "--fail-on", "never"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let output: Output = serde_json::from_slice(&out.stdout).expect("JSON output");
    assert!(
        output.summary.files >= 200,
        "only {} files linted",
        output.summary.files
    );
    assert!(output.summary.statements > 10_000);
    eprintln!(
        "corpus: {} files, {} statements, {} not understood by sqlparser nor the reader",
        output.summary.files, output.summary.statements, output.summary.unparsed
    );
}
