//! `pgrisk lsp` with real clients: Neovim's built-in LSP client (diagnostics in UTF-16, a
//! quick fix applied, an incremental edit), and raw JSON-RPC frames (malformed input,
//! hover, config reload, shutdown/exit).

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(60);

const CREATE_ORDERS: &str = "CREATE TABLE orders (id bigint PRIMARY KEY, note text);\n";
/// A finding after non-ASCII characters: 'é' is 2 bytes and 1 UTF-16 unit, the emoji 4 bytes
/// and 2 units, so `CREATE` is at UTF-16 column 14, character 13, byte 17.
const INDEX_ORDERS: &str = "-- an index on an existing table\n/* café 😀 */ CREATE INDEX orders_note_idx ON orders (note);\n";

fn migrations() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("0001_create_orders.sql"), CREATE_ORDERS).unwrap();
    std::fs::write(dir.path().join("0002_index_orders.sql"), INDEX_ORDERS).unwrap();
    dir
}

fn file_uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// `pgrisk lsp` driven frame by frame.
struct RawClient {
    child: Child,
    stdin: ChildStdin,
    received: Receiver<Value>,
    /// Messages read while waiting for another one.
    backlog: Vec<Value>,
}

impl RawClient {
    fn start(dir: &Path) -> RawClient {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pgrisk"))
            .arg("lsp")
            .current_dir(dir)
            .env_remove("PGRISK_PG_VERSION")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start pgrisk lsp");
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let (sender, received) = mpsc::channel();
        std::thread::spawn(move || {
            loop {
                let mut length = 0;
                let mut line = String::new();
                loop {
                    line.clear();
                    if stdout.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    match line.trim_end().split_once(": ") {
                        Some(("Content-Length", n)) => length = n.parse().unwrap(),
                        _ if line.trim_end().is_empty() => break,
                        _ => {}
                    }
                }
                let mut body = vec![0; length];
                stdout.read_exact(&mut body).unwrap();
                if sender.send(serde_json::from_slice(&body).unwrap()).is_err() {
                    return;
                }
            }
        });
        RawClient {
            child,
            stdin,
            received,
            backlog: Vec::new(),
        }
    }

    fn send_raw(&mut self, body: &[u8]) {
        write!(self.stdin, "Content-Length: {}\r\n\r\n", body.len()).unwrap();
        self.stdin.write_all(body).unwrap();
        self.stdin.flush().unwrap();
    }

    fn send(&mut self, message: Value) {
        self.send_raw(message.to_string().as_bytes());
    }

    fn request(&mut self, id: i64, method: &str, params: Value) -> Value {
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.wait_for(|m| m["id"] == json!(id) && m.get("method").is_none())
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// The first message (in arrival order, earlier ones kept for later waits) that matches.
    fn wait_for(&mut self, wanted: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.backlog.iter().position(&wanted) {
            return self.backlog.remove(i);
        }
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let message = self.received.recv_timeout(left).unwrap_or_else(|_| {
                panic!("no matching message in {WAIT:?}; got {:#?}", self.backlog)
            });
            if wanted(&message) {
                return message;
            }
            self.backlog.push(message);
        }
    }

    fn diagnostics_for(&mut self, uri: &str) -> Vec<Value> {
        let published = self.wait_for(|m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
        });
        published["params"]["diagnostics"]
            .as_array()
            .unwrap()
            .clone()
    }

    fn initialize(&mut self, root: &Path, capabilities: Value) -> Value {
        let result = self.request(
            1,
            "initialize",
            json!({"processId": null, "rootUri": file_uri(root), "capabilities": capabilities}),
        );
        self.notify("initialized", json!({}));
        result
    }

    /// `shutdown` then `exit`: the exit code.
    fn stop(mut self) -> Option<i32> {
        let done = self.request(999, "shutdown", Value::Null);
        assert_eq!(done["result"], Value::Null, "{done}");
        self.notify("exit", Value::Null);
        wait_with_timeout(&mut self.child)
    }
}

fn wait_with_timeout(child: &mut Child) -> Option<i32> {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    panic!("the process did not end within {WAIT:?}");
}

fn rules_of(diagnostics: &[Value]) -> Vec<&str> {
    diagnostics
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect()
}

#[test]
fn malformed_messages_get_errors_and_the_server_goes_on() {
    let dir = migrations();
    let mut client = RawClient::start(dir.path());
    // before initialize, requests are refused
    let early = client.request(7, "textDocument/hover", json!({}));
    assert_eq!(early["error"]["code"], -32002, "{early}");
    let init = client.initialize(dir.path(), json!({}));
    assert_eq!(init["result"]["capabilities"]["positionEncoding"], "utf-16");
    assert_eq!(
        init["result"]["capabilities"]["textDocumentSync"]["change"],
        2
    );

    client.send_raw(b"{\"jsonrpc\": \"2.0\", \"id\": 2, \"method\": ");
    let parse = client.wait_for(|m| m["error"]["code"] == -32700);
    assert_eq!(parse["id"], Value::Null, "{parse}");
    client.send(json!({"jsonrpc": "2.0", "id": 3, "params": 1}));
    let invalid = client.wait_for(|m| m["id"] == 3);
    assert_eq!(invalid["error"]["code"], -32600, "{invalid}");

    let unknown = client.request(4, "pgrisk/noSuchMethod", json!({}));
    assert_eq!(unknown["error"]["code"], -32601, "{unknown}");
    let bad_params = client.request(5, "textDocument/hover", json!({"textDocument": 5}));
    assert_eq!(bad_params["error"]["code"], -32602, "{bad_params}");
    assert!(
        bad_params["error"]["message"]
            .as_str()
            .unwrap()
            .contains("invalid params"),
        "{bad_params}"
    );
    // a notification with bad params cannot be answered; it is logged and nothing breaks
    client.notify("textDocument/didOpen", json!({"textDocument": "x"}));
    let logged = client.wait_for(|m| m["method"] == "window/logMessage");
    assert!(
        logged["params"]["message"]
            .as_str()
            .unwrap()
            .contains("didOpen")
    );

    // and a valid request is still answered
    let uri = file_uri(&dir.path().join("0002_index_orders.sql"));
    let hover = client.request(
        6,
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}}),
    );
    assert_eq!(hover["result"], Value::Null, "{hover}");
    assert_eq!(client.stop(), Some(0));
}

#[test]
fn exit_without_shutdown_is_exit_code_1() {
    let dir = migrations();
    let mut client = RawClient::start(dir.path());
    client.initialize(dir.path(), json!({}));
    client.notify("exit", Value::Null);
    assert_eq!(wait_with_timeout(&mut client.child), Some(1));
}

#[test]
fn hover_shows_the_rule_doc_and_config_changes_apply() {
    let dir = migrations();
    let mut client = RawClient::start(dir.path());
    let init = client.initialize(
        dir.path(),
        json!({"general": {"positionEncodings": ["utf-8", "utf-16"]}}),
    );
    assert_eq!(init["result"]["capabilities"]["positionEncoding"], "utf-8");
    let path = dir.path().join("0002_index_orders.sql");
    let uri = file_uri(&path);
    let open = |client: &mut RawClient| {
        client.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "sql", "version": 1, "text": INDEX_ORDERS}}),
        );
    };
    open(&mut client);
    let diagnostics = client.diagnostics_for(&uri);
    let index = diagnostics
        .iter()
        .find(|d| d["code"] == "create-index-blocking")
        .unwrap_or_else(|| panic!("{diagnostics:#?}"));
    // byte columns, as negotiated
    assert_eq!(index["range"]["start"], json!({"line": 1, "character": 17}));
    assert_eq!(index["source"], "pgrisk");
    assert_eq!(index["severity"], 1);

    let hover = client.request(
        2,
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": index["range"]["start"]}),
    );
    let doc = pgrisk::rules::find("create-index-blocking").unwrap().doc;
    assert_eq!(hover["result"]["contents"]["kind"], "markdown");
    assert!(
        hover["result"]["contents"]["value"]
            .as_str()
            .unwrap()
            .contains(doc),
        "{hover}"
    );

    let config = dir.path().join("pgrisk.toml");
    std::fs::write(&config, "ignore = [\"create-index-blocking\"]\n").unwrap();
    client.notify(
        "textDocument/didSave",
        json!({"textDocument": {"uri": uri}}),
    );
    let after = client.diagnostics_for(&uri);
    assert!(
        !rules_of(&after).contains(&"create-index-blocking"),
        "{after:#?}"
    );

    std::fs::write(&config, "ignore = [\"create-index-blockin\"]\n").unwrap();
    client.notify(
        "textDocument/didSave",
        json!({"textDocument": {"uri": uri}}),
    );
    let shown = client.wait_for(|m| m["method"] == "window/showMessage");
    let message = shown["params"]["message"].as_str().unwrap();
    assert!(
        message.contains("pgrisk.toml") && message.contains("did you mean"),
        "{message}"
    );
    // the previous settings stay
    let kept = client.diagnostics_for(&uri);
    assert_eq!(rules_of(&kept), rules_of(&after));

    // a document that is not SQL is left alone
    client.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": file_uri(&dir.path().join("notes.md")), "languageId": "markdown", "version": 1, "text": "DROP TABLE orders;"}}),
    );
    let hover = client.request(
        3,
        "textDocument/hover",
        json!({"textDocument": {"uri": file_uri(&dir.path().join("notes.md"))}, "position": {"line": 0, "character": 0}}),
    );
    assert_eq!(hover["result"], Value::Null);
    assert!(!client.backlog.iter().any(|m| {
        m["params"]["uri"]
            .as_str()
            .is_some_and(|u| u.ends_with("notes.md"))
    }));
    assert_eq!(client.stop(), Some(0));
}

/// Neovim's built-in client, headless, running `tests/lsp/neovim.lua`.
#[test]
fn neovim_sees_diagnostics_applies_a_fix_and_an_ignore() {
    if Command::new("nvim").arg("--version").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "nvim is missing; .ci/run installs it"
        );
        eprintln!("skipped: nvim is not installed (apt-get install neovim)");
        return;
    }
    let dir = migrations();
    let state = tempfile::tempdir().unwrap();
    let result = state.path().join("result.json");
    let script = crate::support::root().join("tests/lsp/neovim.lua");
    let mut nvim = Command::new("nvim")
        .args(["--headless", "--clean", "-u", "NONE", "-n", "-c"])
        .arg(format!("luafile {}", script.display()))
        .current_dir(dir.path())
        .env("PGRISK_BIN", env!("CARGO_BIN_EXE_pgrisk"))
        .env("MIGRATIONS", dir.path())
        .env("RESULT", &result)
        // its LSP log and state stay in the temp dir
        .env("XDG_CACHE_HOME", state.path())
        .env("XDG_STATE_HOME", state.path())
        .env("XDG_DATA_HOME", state.path())
        .env_remove("PGRISK_PG_VERSION")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("start nvim");
    let code = wait_with_timeout(&mut nvim);
    let seen: Value = serde_json::from_str(&std::fs::read_to_string(&result).unwrap()).unwrap();
    assert_eq!(code, Some(0), "{seen:#}");
    let version = &seen["nvim_version"];
    eprintln!(
        "Neovim {}.{}.{}",
        version["major"], version["minor"], version["patch"]
    );
    let diagnostics = |key: &str| seen[key].as_array().unwrap().clone();

    let opened = diagnostics("opened");
    let index = opened
        .iter()
        .find(|d| d["code"] == "create-index-blocking")
        .unwrap_or_else(|| panic!("{opened:#?}"));
    // UTF-16: 'é' one unit, the emoji two (bytes would say 17, characters 13)
    assert_eq!(index["range"]["start"], json!({"line": 1, "character": 14}));
    assert_eq!(index["range"]["end"], json!({"line": 1, "character": 59}));
    assert_eq!(index["source"], "pgrisk");
    let titles: Vec<&str> = seen["index_actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(
        titles.contains(&"Ignore create-index-blocking for this file"),
        "{titles:?}"
    );

    let fixed = seen["text_after_fix"].as_str().unwrap();
    assert_eq!(
        fixed.lines().nth(1),
        Some("/* café 😀 */ CREATE INDEX CONCURRENTLY orders_note_idx ON orders (note);")
    );
    assert!(!rules_of(&diagnostics("after_fix")).contains(&"create-index-blocking"));

    // the line Neovim appended reached the server as an incremental change
    let edited = diagnostics("after_edit");
    let required = edited
        .iter()
        .find(|d| d["code"] == "add-column-required")
        .unwrap_or_else(|| panic!("{edited:#?}"));
    assert_eq!(required["range"]["start"]["line"], 2);
    assert!(
        seen["text_after_ignore"].as_str().unwrap().ends_with(
            "\n  -- pgrisk-ignore add-column-required: <why this is safe>\n  ALTER TABLE orders ADD COLUMN total numeric NOT NULL;"
        ),
        "{seen:#}"
    );
    let ignored = rules_of(&diagnostics("after_ignore"))
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
    assert!(
        !ignored
            .iter()
            .any(|r| r == "add-column-required" || r == "unused-ignore"),
        "{ignored:?}"
    );
}

/// The time from a `didChange` on a 5 000-line migration (after 20 earlier migrations) to its
/// diagnostics, less the debounce. Run by `scripts/bench-lsp.sh` (release build); prints the
/// figures, asserts none (timings vary with the machine).
#[test]
#[ignore = "benchmark: scripts/bench-lsp.sh"]
fn bench_change_to_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    for n in 1..=20 {
        let table = if n == 1 {
            "orders".to_owned()
        } else {
            format!("t{n}")
        };
        std::fs::write(
            dir.path().join(format!("{n:04}_create.sql")),
            format!("CREATE TABLE {table} (id bigint PRIMARY KEY, note text);\n"),
        )
        .unwrap();
    }
    let mut text = String::new();
    for i in 0..1000 {
        text.push_str(&format!(
            "-- step {i}\nALTER TABLE orders ADD COLUMN c{i} integer;\nCREATE INDEX orders_c{i}_idx ON orders (c{i});\nUPDATE orders SET c{i} = 0 WHERE id < {i};\n\n"
        ));
    }
    assert_eq!(text.lines().count(), 5000);
    let path = dir.path().join("0021_big.sql");
    std::fs::write(&path, &text).unwrap();
    let uri = file_uri(&path);

    let mut client = RawClient::start(dir.path());
    client.initialize(dir.path(), json!({}));
    client.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "sql", "version": 0, "text": text}}),
    );
    let findings = client.diagnostics_for(&uri).len();
    let mut latencies = Vec::new();
    for version in 1..=20 {
        let start = Instant::now();
        client.notify(
            "textDocument/didChange",
            json!({
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"range": {"start": {"line": 0, "character": 9}, "end": {"line": 0, "character": 9}}, "text": " "}],
            }),
        );
        client.wait_for(|m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["version"] == version
        });
        latencies.push(start.elapsed().saturating_sub(pgrisk::lsp::DEBOUNCE));
    }
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "didChange → publishDiagnostics, less the {} ms debounce, 5000 lines after 20 files, {findings} findings, 20 runs: median {:.1} ms, p90 {:.1} ms, max {:.1} ms",
        pgrisk::lsp::DEBOUNCE.as_millis(),
        ms(latencies[10]),
        ms(latencies[18]),
        ms(latencies[19]),
    );
    assert_eq!(client.stop(), Some(0));
}

#[test]
fn open_buffers_replace_their_files_in_the_context() {
    let dir = tempfile::tempdir().unwrap();
    let create = "CREATE TABLE orders (id bigint PRIMARY KEY, note varchar(10));\n";
    let widen =
        "SET lock_timeout = '2s';\nALTER TABLE orders ALTER COLUMN note TYPE varchar(20);\n";
    std::fs::write(dir.path().join("0001_create.sql"), create).unwrap();
    std::fs::write(dir.path().join("0002_widen.sql"), widen).unwrap();
    let (first, second) = (
        file_uri(&dir.path().join("0001_create.sql")),
        file_uri(&dir.path().join("0002_widen.sql")),
    );
    let mut client = RawClient::start(dir.path());
    client.initialize(dir.path(), json!({}));
    let open = |client: &mut RawClient, uri: &str, text: &str| {
        client.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "sql", "version": 1, "text": text}}),
        );
    };
    open(&mut client, &second, widen);
    // widening a varchar of the earlier migration does not rewrite
    assert!(!rules_of(&client.diagnostics_for(&second)).contains(&"alter-column-type-rewrite"));

    // unsaved: the column is an integer in the editor
    open(
        &mut client,
        &first,
        &create.replace("varchar(10)", "integer"),
    );
    let rewrite = loop {
        let diagnostics = client.diagnostics_for(&second);
        if rules_of(&diagnostics).contains(&"alter-column-type-rewrite") {
            break diagnostics;
        }
    };
    assert_eq!(rewrite.len(), 1, "{rewrite:#?}");

    // typed back to varchar: checked once typing pauses for the debounce
    let typed = Instant::now();
    let integer = create.find("varchar(10)").unwrap() as u32;
    client.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": first, "version": 2},
            "contentChanges": [{"range": {"start": {"line": 0, "character": integer}, "end": {"line": 0, "character": integer + 7}}, "text": "varchar(10)"}],
        }),
    );
    let widened = client.wait_for(|m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == second
            && !m.to_string().contains("alter-column-type-rewrite")
    });
    assert!(typed.elapsed() >= pgrisk::lsp::DEBOUNCE, "{widened}");

    // closed: its diagnostics are cleared, the others see the file on disk again (older
    // publishes, all received by now, are dropped)
    client.backlog.clear();
    std::fs::write(
        dir.path().join("0001_create.sql"),
        create.replace("varchar(10)", "integer"),
    )
    .unwrap();
    client.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": first}}),
    );
    assert!(client.diagnostics_for(&first).is_empty());
    assert!(rules_of(&client.diagnostics_for(&second)).contains(&"alter-column-type-rewrite"));
    assert_eq!(client.stop(), Some(0));
}
