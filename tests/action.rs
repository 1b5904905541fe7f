//! The GitHub Action (`action.yml`), run step by step as a runner would for a `pull_request`
//! event: a temporary repository with a base and a head commit, the event JSON, the
//! `GITHUB_*` variables, and the REST API played by a listener on 127.0.0.1 that keeps the
//! PR's comments, so creating and then updating the one pgrisk comment is observed.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use yaml_rust2::{Yaml, YamlLoader};

use crate::support::{self, git};

const TOKEN: &str = "ghs_test_token";

/// The tests share one install root; the action's first run installs into it.
static INSTALL: Mutex<()> = Mutex::new(());
const PR_NUMBER: u64 = 7;

fn action() -> Yaml {
    let text = std::fs::read_to_string(support::root().join("action.yml")).expect("action.yml");
    YamlLoader::load_from_str(&text)
        .expect("action.yml is YAML")
        .remove(0)
}

fn string(yaml: &Yaml) -> String {
    match yaml {
        Yaml::String(s) => s.clone(),
        Yaml::Integer(i) => i.to_string(),
        Yaml::Boolean(b) => b.to_string(),
        Yaml::Null | Yaml::BadValue => String::new(),
        other => panic!("not a scalar: {other:?}"),
    }
}

/// What `${{ ... }}` can see: the inputs, the event, the token and earlier steps' outputs.
struct Context {
    inputs: BTreeMap<String, String>,
    event: serde_json::Value,
    outputs: BTreeMap<String, BTreeMap<String, String>>,
}

impl Context {
    fn lookup(&self, expr: &str) -> String {
        let parts: Vec<&str> = expr.split('.').collect();
        match parts.as_slice() {
            ["inputs", name] => self
                .inputs
                .get(*name)
                .unwrap_or_else(|| panic!("action.yml uses undeclared input `{name}`"))
                .clone(),
            ["github", "token"] => TOKEN.to_owned(),
            ["github", "event", path @ ..] => path
                .iter()
                .try_fold(&self.event, |v, key| v.get(key))
                .map(|v| match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .unwrap_or_default(),
            ["steps", id, "outputs", name] => self
                .outputs
                .get(*id)
                .and_then(|o| o.get(*name))
                .cloned()
                .unwrap_or_default(),
            _ => panic!("the test runner does not know the expression `{expr}`"),
        }
    }

    fn expand(&self, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${{") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find("}}").expect("closed expression") + start;
            out.push_str(&self.lookup(rest[start + 3..end].trim()));
            rest = &rest[end + 2..];
        }
        out.push_str(rest);
        out
    }
}

/// The REST API's comment endpoints for one PR, with the requests it saw.
#[derive(Default)]
struct FakeGithub {
    comments: Vec<(u64, String)>,
    requests: Vec<(String, String, String, String)>, // method, path, authorization, body
}

fn serve(listener: TcpListener, state: Arc<Mutex<FakeGithub>>) {
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { return };
        let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).is_err() || request_line.is_empty() {
            continue;
        }
        let mut parts = request_line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_owned();
        let target = parts.next().unwrap_or_default().to_owned();
        let (mut length, mut authorization) = (0usize, String::new());
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).expect("header line");
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').unwrap_or((line, ""));
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap_or(0),
                "authorization" => authorization = value.trim().to_owned(),
                _ => {}
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).expect("request body");
        let body = String::from_utf8(body).expect("UTF-8 body");
        let path = target.split('?').next().unwrap_or_default().to_owned();
        let mut github = state.lock().expect("state");
        github
            .requests
            .push((method.clone(), target.clone(), authorization, body.clone()));
        let issue = format!("/repos/acme/shop/issues/{PR_NUMBER}/comments");
        let (status, response) = match (method.as_str(), path.as_str()) {
            ("GET", p) if p == issue => {
                let list: Vec<_> = github
                    .comments
                    .iter()
                    .map(|(id, body)| serde_json::json!({"id": id, "body": body}))
                    .collect();
                (200, serde_json::Value::Array(list))
            }
            ("POST", p) if p == issue => {
                let id = 1000 + github.comments.len() as u64;
                let text = json_body(&body);
                github.comments.push((id, text));
                (201, serde_json::json!({"id": id}))
            }
            ("PATCH", p) if p.starts_with("/repos/acme/shop/issues/comments/") => {
                let id: u64 = p.rsplit('/').next().unwrap().parse().expect("comment id");
                let text = json_body(&body);
                match github.comments.iter_mut().find(|(i, _)| *i == id) {
                    Some(comment) => {
                        comment.1 = text;
                        (200, serde_json::json!({"id": id}))
                    }
                    None => (404, serde_json::json!({"message": "Not Found"})),
                }
            }
            _ => (404, serde_json::json!({"message": "Not Found"})),
        };
        drop(github);
        let response = response.to_string();
        let reason = if status == 404 { "Not Found" } else { "OK" };
        let _ = write!(
            stream,
            "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{response}",
            response.len()
        );
    }
}

fn json_body(body: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(body).expect("JSON request body");
    value["body"].as_str().expect("body field").to_owned()
}

struct Run {
    /// stdout and stderr of every step, in order.
    log: String,
    /// The exit status of the first failing step, or 0.
    status: i32,
}

/// Runs the composite action's steps in order, as the runner does: `${{ }}` expanded in
/// `env:` and `working-directory`, the script in `bash -e -o pipefail`, GITHUB_OUTPUT and
/// GITHUB_PATH carried between steps; the first failing step ends the run.
fn run_action(with: &[(&str, &str)], env: &BTreeMap<String, String>, workspace: &Path) -> Run {
    let _install = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    let action = action();
    let mut cx = Context {
        inputs: BTreeMap::new(),
        event: serde_json::from_str(
            &std::fs::read_to_string(&env["GITHUB_EVENT_PATH"]).expect("event"),
        )
        .expect("event JSON"),
        outputs: BTreeMap::new(),
    };
    let given: BTreeMap<&str, &str> = with.iter().copied().collect();
    for (name, spec) in action["inputs"].as_hash().expect("inputs") {
        let name = string(name);
        let value = match given.get(name.as_str()) {
            Some(v) => (*v).to_owned(),
            None => cx.expand(&string(&spec["default"])),
        };
        cx.inputs.insert(name, value);
    }
    for name in given.keys() {
        assert!(cx.inputs.contains_key(*name), "no input `{name}`");
    }
    let temp = PathBuf::from(&env["RUNNER_TEMP"]);
    let mut path_entries: Vec<String> = Vec::new();
    let mut log = String::new();
    for (index, step) in action["runs"]["steps"]
        .as_vec()
        .expect("steps")
        .iter()
        .enumerate()
    {
        let script = string(&step["run"]);
        let output_file = temp.join(format!("output-{index}"));
        let path_file = temp.join(format!("path-{index}"));
        std::fs::write(&output_file, "").unwrap();
        std::fs::write(&path_file, "").unwrap();
        let script_file = temp.join(format!("step-{index}.sh"));
        std::fs::write(&script_file, &script).unwrap();
        let dir = match &step["working-directory"] {
            Yaml::BadValue => workspace.to_path_buf(),
            wd => workspace.join(cx.expand(&string(wd))),
        };
        let mut command = Command::new("bash");
        command
            .args(["--noprofile", "--norc", "-e", "-o", "pipefail"])
            .arg(&script_file)
            .current_dir(dir)
            .envs(env)
            .env("GITHUB_OUTPUT", &output_file)
            .env("GITHUB_PATH", &path_file);
        let system_path = std::env::var("PATH").unwrap_or_default();
        let mut search = path_entries.clone();
        search.push(system_path);
        command.env("PATH", search.join(":"));
        if let Some(step_env) = step["env"].as_hash() {
            for (key, value) in step_env {
                command.env(string(key), cx.expand(&string(value)));
            }
        }
        let out = command.output().expect("run step");
        log.push_str(&String::from_utf8_lossy(&out.stdout));
        log.push_str(&String::from_utf8_lossy(&out.stderr));
        let outputs = std::fs::read_to_string(&output_file).unwrap();
        if let Some(id) = step["id"].as_str() {
            let parsed = outputs
                .lines()
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            cx.outputs.insert(id.to_owned(), parsed);
        }
        let added = std::fs::read_to_string(&path_file).unwrap();
        path_entries.splice(0..0, added.lines().rev().map(str::to_owned));
        if !out.status.success() {
            return Run {
                log,
                status: out.status.code().unwrap_or(-1),
            };
        }
    }
    Run { log, status: 0 }
}

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn inputs_reach_scripts_only_through_env() {
    for step in action()["runs"]["steps"].as_vec().expect("steps") {
        let script = string(&step["run"]);
        assert!(
            !script.contains("${{"),
            "a `run:` script expands an expression; pass it through `env:` instead:\n{script}"
        );
        assert_eq!(string(&step["shell"]), "bash");
    }
}

#[test]
fn pull_request_run_annotates_comments_once_and_fails_on_errors() {
    let repo = tempfile::tempdir().expect("temp dir");
    let work = repo.path();
    git(work, &["init", "-q", "-b", "main"]);
    write(
        work,
        "migrations/0001_orders.sql",
        "CREATE TABLE orders (id bigint PRIMARY KEY, created_at timestamptz NOT NULL);\n",
    );
    // the blocking index in the base is deployed already: not the PR's finding
    write(
        work,
        "migrations/0002_orders_created.sql",
        "CREATE INDEX orders_created_idx ON orders (created_at);\n",
    );
    git(work, &["add", "."]);
    git(work, &["commit", "-q", "-m", "base"]);
    let base = git(work, &["rev-parse", "HEAD"]);
    write(
        work,
        "migrations/0003_orders_status.sql",
        "SET lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN status text;\nCREATE INDEX orders_status_idx ON orders (status);\n",
    );
    git(work, &["add", "."]);
    git(work, &["commit", "-q", "-m", "head"]);
    let head = git(work, &["rev-parse", "HEAD"]);

    let runner = tempfile::tempdir().expect("runner temp");
    let event = runner.path().join("event.json");
    std::fs::write(
        &event,
        serde_json::json!({
            "action": "synchronize",
            "number": PR_NUMBER,
            "pull_request": {"number": PR_NUMBER, "base": {"sha": base}, "head": {"sha": head}},
        })
        .to_string(),
    )
    .unwrap();

    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let api = format!("http://{}", listener.local_addr().unwrap());
    let github = Arc::new(Mutex::new(FakeGithub::default()));
    let state = Arc::clone(&github);
    std::thread::spawn(move || serve(listener, state));

    let install_root = support::tool_build_dir().join("action-root");
    let mut env: BTreeMap<String, String> = [
        ("GITHUB_ACTIONS", "true"),
        ("CI", "true"),
        ("GITHUB_EVENT_NAME", "pull_request"),
        ("GITHUB_REPOSITORY", "acme/shop"),
        ("GITHUB_SERVER_URL", "https://github.com"),
        ("GITHUB_API_URL", &api),
        ("GITHUB_SHA", &head),
        ("GITHUB_REF", "refs/pull/7/merge"),
        ("GITHUB_BASE_REF", "main"),
        ("GITHUB_HEAD_REF", "feature"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let paths = |p: &Path| p.display().to_string();
    env.insert("GITHUB_EVENT_PATH".into(), paths(&event));
    env.insert("GITHUB_WORKSPACE".into(), paths(work));
    env.insert("RUNNER_TEMP".into(), paths(runner.path()));
    env.insert("GITHUB_ACTION_PATH".into(), paths(&support::root()));
    env.insert("PGRISK_INSTALL_ROOT".into(), paths(&install_root));
    env.insert("HOME".into(), std::env::var("HOME").unwrap_or_default());
    env.extend(support::tool_build_env());

    let sarif = runner.path().join("pgrisk.sarif");
    let with = [("sarif-file", sarif.to_str().unwrap())];
    let first = run_action(&with, &env, work);
    assert_eq!(first.status, 1, "errors fail the job:\n{}", first.log);
    assert!(
        first.log.contains(
            "::error file=migrations/0003_orders_status.sql,line=3,endLine=3,col=1,endColumn=50,title=create-index-blocking::"
        ),
        "annotation on the PR's own file:\n{}",
        first.log
    );
    assert!(
        !first.log.contains("0002_orders_created.sql"),
        "the base's migration is context, not reported:\n{}",
        first.log
    );
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sarif).expect("SARIF written"))
            .expect("SARIF is JSON");
    assert_eq!(sarif["version"], "2.1.0");

    let second = run_action(&with, &env, work);
    assert_eq!(second.status, 1, "{}", second.log);
    assert!(
        second.log.contains("updated comment 1000"),
        "{}",
        second.log
    );

    let github = github.lock().unwrap();
    assert_eq!(github.comments.len(), 1, "one comment, updated in place");
    let body = &github.comments[0].1;
    assert!(body.starts_with("<!--"), "hidden marker first:\n{body}");
    assert!(body.contains("create-index-blocking"), "{body}");
    assert!(
        body.contains(&format!(
            "https://github.com/acme/shop/blob/{head}/migrations/0003_orders_status.sql#L3"
        )),
        "file:line links at the PR head:\n{body}"
    );
    let methods: Vec<&str> = github.requests.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(methods, ["GET", "POST", "GET", "PATCH"]);
    for (method, target, authorization, _) in &github.requests {
        assert_eq!(
            authorization,
            &format!("Bearer {TOKEN}"),
            "{method} {target}"
        );
    }
    assert!(
        github.requests[1]
            .1
            .ends_with("/repos/acme/shop/issues/7/comments")
    );
    assert_eq!(
        github.requests[3].1,
        "/repos/acme/shop/issues/comments/1000"
    );
}

#[test]
fn a_clean_pull_request_passes_and_a_wrong_version_fails_clearly() {
    let repo = tempfile::tempdir().expect("temp dir");
    let work = repo.path();
    git(work, &["init", "-q", "-b", "main"]);
    write(
        work,
        "db/0001_users.sql",
        "CREATE TABLE users (id bigint PRIMARY KEY);\n",
    );
    git(work, &["add", "."]);
    git(work, &["commit", "-q", "-m", "base"]);
    let runner = tempfile::tempdir().expect("runner temp");
    let event = runner.path().join("event.json");
    std::fs::write(&event, r#"{"ref": "refs/heads/main"}"#).unwrap();
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    let paths = |p: &Path| p.display().to_string();
    env.insert("GITHUB_EVENT_NAME".into(), "push".into());
    env.insert("GITHUB_EVENT_PATH".into(), paths(&event));
    env.insert("GITHUB_WORKSPACE".into(), paths(work));
    env.insert("RUNNER_TEMP".into(), paths(runner.path()));
    env.insert("GITHUB_ACTION_PATH".into(), paths(&support::root()));
    env.insert(
        "PGRISK_INSTALL_ROOT".into(),
        paths(&support::tool_build_dir().join("action-root")),
    );
    env.insert("HOME".into(), std::env::var("HOME").unwrap_or_default());
    env.extend(support::tool_build_env());

    // a push has no PR: no base, so every file is linted; no comment is attempted
    let clean = run_action(&[("paths", "db")], &env, work);
    assert_eq!(clean.status, 0, "{}", clean.log);
    assert!(!clean.log.contains("::error"), "{}", clean.log);

    let wrong = run_action(&[("paths", "db"), ("version", "99.0.0")], &env, work);
    assert_eq!(wrong.status, 2, "{}", wrong.log);
    assert!(
        wrong.log.contains("not 99.0.0: pin the ref"),
        "one clear line:\n{}",
        wrong.log
    );
}
