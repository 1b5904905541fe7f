//! Git access for `--diff` and `--staged`: the base commit, which paths changed since it, and
//! the content of the index. Everything goes through the `git` command line with `-z` output,
//! so the user's own git (its version, configuration, shallow-clone state) decides, as it does
//! for `git diff` in a terminal.

use std::collections::HashSet;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Why git could not answer; each message is one line.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("git is not installed (or not on PATH); --diff and --staged need it")]
    NotInstalled,
    #[error("{}: not a git repository (--diff and --staged need one)", .dir.display())]
    NotARepository { dir: PathBuf },
    #[error("unknown git ref `{name}`")]
    UnknownRef { name: String },
    #[error(
        "{what} is not in this shallow clone: run `{fetch}` or use actions/checkout with fetch-depth: 0"
    )]
    Shallow { what: String, fetch: String },
    #[error("{}: outside the git repository {}", .path.display(), .top.display())]
    OutsideRepository { path: PathBuf, top: PathBuf },
    #[error("--diff and --staged read files through git, not from standard input (-)")]
    Stdin,
    #[error("`git {command}` failed: {message}")]
    Failed { command: String, message: String },
}

/// What a base commit is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The files on disk (`--diff`).
    WorkTree,
    /// What the next commit will contain (`--staged`).
    Index,
}

/// Paths (relative to the repository's top, `/`-separated) that are the same on both sides,
/// and those deleted since the base.
#[derive(Debug, Default)]
pub struct Unchanged {
    pub paths: HashSet<String>,
    pub deleted: Vec<String>,
}

/// The commit `--diff` compares with.
#[derive(Debug, Clone)]
pub struct BaseCommit {
    pub commit: String,
    /// The merge base of BASE and HEAD; `false` when BASE itself (no common history).
    pub merge_base: bool,
}

/// A regular file in the index.
#[derive(Debug, Clone)]
pub struct IndexEntry {
    /// Relative to the repository's top, `/`-separated.
    pub path: String,
    /// The blob's object name.
    pub object: String,
}

/// A work tree: its top directory and the directory pgrisk runs in.
#[derive(Debug)]
pub struct Repo {
    top: PathBuf,
    cwd: PathBuf,
}

impl Repo {
    /// The work tree that contains `dir`.
    pub fn containing(dir: &Path) -> Result<Repo, GitError> {
        let cwd = std::env::current_dir().map_err(|e| GitError::Failed {
            command: "rev-parse".into(),
            message: format!("no current directory: {e}"),
        })?;
        let dir = cwd.join(dir);
        let out = git(&dir, &["rev-parse", "--show-toplevel"])?;
        if !out.status.success() {
            let message = first_line(&out.stderr);
            return Err(if message.contains("not a git repository") {
                GitError::NotARepository { dir }
            } else {
                failed("rev-parse --show-toplevel", &out)
            });
        }
        let top = PathBuf::from(first_line(&out.stdout));
        let top = std::fs::canonicalize(&top).unwrap_or(top);
        Ok(Repo { top, cwd })
    }

    /// `path` relative to the top, `/`-separated ("" for the top itself). Directories are
    /// resolved through symbolic links; a file keeps its own name (git tracks the link).
    pub fn relative(&self, path: &Path) -> Result<String, GitError> {
        let absolute = self.cwd.join(path);
        let resolved = if absolute.is_dir() {
            std::fs::canonicalize(&absolute).ok()
        } else {
            absolute
                .parent()
                .zip(absolute.file_name())
                .and_then(|(dir, name)| std::fs::canonicalize(dir).ok().map(|dir| dir.join(name)))
        };
        let resolved = resolved.unwrap_or_else(|| normalize(&absolute));
        match resolved.strip_prefix(&self.top) {
            Ok(rel) => Ok(rel.to_string_lossy().replace('\\', "/")),
            Err(_) => Err(GitError::OutsideRepository {
                path: path.to_path_buf(),
                top: self.top.clone(),
            }),
        }
    }

    /// The commit `--diff BASE` compares with: the merge base of BASE and HEAD, as a pull
    /// request's diff shows only the branch's own changes; BASE itself when the two share no
    /// history (or HEAD has no commit yet). In a shallow clone a missing base is an error that
    /// says how to fetch it, since comparing with the wrong commit would report the wrong files.
    pub fn merge_base(&self, base: &str) -> Result<BaseCommit, GitError> {
        let unknown = || GitError::UnknownRef {
            name: base.to_owned(),
        };
        if base.is_empty() || base.starts_with('-') {
            return Err(unknown());
        }
        let Some(commit) = self.commit(base)? else {
            return Err(if self.is_shallow()? {
                self.shallow(format!("base `{base}`"), base)?
            } else {
                unknown()
            });
        };
        let merge = self.run(&["merge-base", &commit, "HEAD"])?;
        if merge.status.success() {
            return Ok(BaseCommit {
                commit: first_line(&merge.stdout),
                merge_base: true,
            });
        }
        if self.is_shallow()? {
            return Err(self.shallow(format!("the merge base of `{base}` and HEAD"), base)?);
        }
        Ok(BaseCommit {
            commit,
            merge_base: false,
        })
    }

    /// HEAD's commit, or `None` before the first commit.
    pub fn head(&self) -> Result<Option<String>, GitError> {
        self.commit("HEAD")
    }

    /// What is the same in `base` and on `side`, under `pathspecs` (all when empty), given the
    /// index's files there: a file git tracks that the diff does not name is unchanged (an
    /// untracked file is not in the index, so it is new). A file renamed without a change is
    /// unchanged; renamed with edits it is changed.
    pub fn unchanged(
        &self,
        base: &str,
        side: Side,
        pathspecs: &[String],
        index: &[IndexEntry],
    ) -> Result<Unchanged, GitError> {
        let mut paths: HashSet<String> = index.iter().map(|e| e.path.clone()).collect();
        let mut args = vec![
            "diff",
            "--name-status",
            "-z",
            "--find-renames",
            "--no-ext-diff",
            "--no-color",
        ];
        if side == Side::Index {
            args.push("--cached");
        }
        args.extend([base, "--"]);
        args.extend(pathspecs.iter().map(String::as_str));
        let diff = self.stdout(&args)?;
        let mut fields = diff.split_paths();
        let mut deleted = Vec::new();
        while let Some(status) = fields.next() {
            let path = fields.next().unwrap_or_default();
            match status.as_bytes().first() {
                // Rnnn and Cnnn name a source and a destination
                Some(b'R') => {
                    let destination = fields.next().unwrap_or_default();
                    paths.remove(&path);
                    deleted.push(path);
                    if status == "R100" {
                        paths.insert(destination);
                    } else {
                        paths.remove(&destination);
                    }
                }
                Some(b'C') => {
                    paths.remove(&fields.next().unwrap_or_default());
                }
                Some(b'D') => {
                    paths.remove(&path);
                    deleted.push(path);
                }
                _ => {
                    paths.remove(&path);
                }
            }
        }
        Ok(Unchanged { paths, deleted })
    }

    /// The regular files in the index under `pathspecs` (all when empty); conflicted entries,
    /// symbolic links and submodules are left out.
    pub fn index_files(&self, pathspecs: &[String]) -> Result<Vec<IndexEntry>, GitError> {
        let mut args = vec!["ls-files", "--stage", "-z", "--"];
        args.extend(pathspecs.iter().map(String::as_str));
        let listing = self.stdout(&args)?;
        // "<mode> <object> <stage>\t<path>"
        Ok(listing
            .split_paths()
            .filter_map(|line| {
                let (meta, path) = line.split_once('\t')?;
                let mut meta = meta.split(' ');
                let (mode, object, stage) = (meta.next()?, meta.next()?, meta.next()?);
                (matches!(mode, "100644" | "100755") && stage == "0").then(|| IndexEntry {
                    path: path.to_owned(),
                    object: object.to_owned(),
                })
            })
            .collect())
    }

    /// The contents of `objects`, in order, from one `git cat-file --batch`.
    pub fn read_objects(&self, objects: &[&str]) -> Result<Vec<Vec<u8>>, GitError> {
        let command = "cat-file --batch";
        let broken = |message: String| GitError::Failed {
            command: command.into(),
            message,
        };
        let mut child = git_command(&self.top, &["cat-file", "--batch"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(spawn_error)?;
        let requests: String = objects.iter().map(|o| format!("{o}\n")).collect();
        let mut stdin = child
            .stdin
            .take()
            .ok_or_else(|| broken("no stdin".into()))?;
        // written from a thread: git answers while it reads, and both pipes are bounded
        let writer = std::thread::spawn(move || stdin.write_all(requests.as_bytes()));
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| broken("no stdout".into()))?;
        let mut reader = BufReader::new(stdout);
        let mut contents = Vec::with_capacity(objects.len());
        for object in objects {
            let mut header = String::new();
            reader
                .read_line(&mut header)
                .map_err(|e| broken(e.to_string()))?;
            // "<object> <type> <size>", or "<object> missing"
            let size = header
                .split_whitespace()
                .nth(2)
                .and_then(|s| s.parse::<usize>().ok())
                .ok_or_else(|| broken(format!("object {object}: {}", header.trim())))?;
            let mut content = vec![0; size + 1];
            reader
                .read_exact(&mut content)
                .map_err(|e| broken(e.to_string()))?;
            content.pop();
            contents.push(content);
        }
        drop(reader);
        let _ = writer.join();
        let status = child.wait().map_err(|e| broken(e.to_string()))?;
        if !status.success() {
            let mut stderr = Vec::new();
            if let Some(mut pipe) = child.stderr.take() {
                let _ = pipe.read_to_end(&mut stderr);
            }
            return Err(broken(first_line(&stderr)));
        }
        Ok(contents)
    }

    fn commit(&self, name: &str) -> Result<Option<String>, GitError> {
        let spec = format!("{name}^{{commit}}");
        let out = self.run(&["rev-parse", "--verify", "--quiet", &spec])?;
        Ok(out.status.success().then(|| first_line(&out.stdout)))
    }

    fn is_shallow(&self) -> Result<bool, GitError> {
        Ok(self
            .stdout(&["rev-parse", "--is-shallow-repository"])?
            .trim()
            == "true")
    }

    /// The error for a base that a shallow clone lacks, with the fetch that brings it in.
    fn shallow(&self, what: String, base: &str) -> Result<GitError, GitError> {
        let remotes = self.stdout(&["remote"])?;
        let remotes: Vec<&str> = remotes.lines().collect();
        let remote = remotes.first().copied().unwrap_or("origin");
        let is_commit_name = base.len() >= 7 && base.bytes().all(|b| b.is_ascii_hexdigit());
        let fetch = match base.split_once('/') {
            Some((remote, branch)) if remotes.contains(&remote) => {
                format!("git fetch --deepen=50 {remote} {branch}")
            }
            _ if is_commit_name => format!("git fetch --deepen=50 {remote}"),
            _ => format!("git fetch --deepen=50 {remote} {base}"),
        };
        Ok(GitError::Shallow { what, fetch })
    }

    fn run(&self, args: &[&str]) -> Result<Output, GitError> {
        git(&self.top, args)
    }

    /// Standard output of a command that must succeed.
    fn stdout(&self, args: &[&str]) -> Result<String, GitError> {
        let out = self.run(args)?;
        if !out.status.success() {
            return Err(failed(&args.join(" "), &out));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

trait SplitPaths {
    /// The NUL-terminated fields of `-z` output.
    fn split_paths(&self) -> impl Iterator<Item = String>;
}

impl SplitPaths for String {
    fn split_paths(&self) -> impl Iterator<Item = String> {
        self.split('\0')
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
    }
}

fn git_command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new("git");
    command
        .arg("-C")
        .arg(dir)
        .args(args)
        // pathspecs are directory names, never patterns; messages are matched in English
        .env("GIT_LITERAL_PATHSPECS", "1")
        .env("LC_ALL", "C")
        .stdin(Stdio::null());
    command
}

fn git(dir: &Path, args: &[&str]) -> Result<Output, GitError> {
    git_command(dir, args).output().map_err(spawn_error)
}

fn spawn_error(error: io::Error) -> GitError {
    if error.kind() == io::ErrorKind::NotFound {
        GitError::NotInstalled
    } else {
        GitError::Failed {
            command: String::new(),
            message: error.to_string(),
        }
    }
}

fn failed(command: &str, out: &Output) -> GitError {
    GitError::Failed {
        command: command.to_owned(),
        message: first_line(&out.stderr),
    }
}

fn first_line(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    line.trim().trim_start_matches("fatal: ").to_owned()
}

/// `.` and `..` resolved without the file system, for paths that do not exist (any more).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}
