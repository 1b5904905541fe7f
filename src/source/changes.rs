//! `--diff BASE` and `--staged`: of the discovered migrations, which to report (added or
//! changed) and which to replay first as the database that already exists (the unchanged ones,
//! deployed with BASE).
//!
//! The migration set is each directory argument, and the directory of each file argument
//! (pre-commit passes file names), discovered as usual so order and framework detection are
//! those of the directory. With file arguments only those files are reported; the rest of
//! their directory is context.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::discover::{self, DiscoverOptions, Discovered, MigrationFile};
use super::git::{GitError, IndexEntry, Repo, Side};

/// What the files are compared with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Compare {
    /// `--diff BASE`: the work tree against the merge base of BASE and HEAD.
    Since(String),
    /// `--staged`: the index against HEAD, files read from the index.
    Staged,
}

#[derive(Debug)]
pub struct Selection {
    /// Unchanged migrations in migration order: replayed before the changed ones, as
    /// existing tables.
    pub context: Vec<MigrationFile>,
    /// The changed files to report, with discovery's errors and warnings.
    pub changed: Discovered,
    /// What they were compared with, e.g. "since `main` (merge base 1a2b3c4)".
    pub against: String,
    /// For `-v`: deleted files, and changed files that sort before unchanged ones.
    pub notes: Vec<String>,
}

/// A place migrations are discovered from: a directory argument, or a file argument's directory.
struct Root {
    shown: PathBuf,
    rel: String,
}

/// The path arguments, placed in the work tree.
struct Arguments {
    roots: Vec<Root>,
    /// Directory arguments: every changed file under them is reported.
    dirs: Vec<String>,
    /// File arguments, as given and relative to the top: only these are reported.
    named: Vec<(PathBuf, String)>,
}

impl Arguments {
    fn place(repo: &Repo, paths: &[PathBuf]) -> Result<Arguments, GitError> {
        let mut arguments = Arguments {
            roots: Vec::new(),
            dirs: Vec::new(),
            named: Vec::new(),
        };
        for path in paths {
            let shown = directory_of(path);
            let rel = repo.relative(&shown)?;
            if path.is_dir() {
                arguments.dirs.push(rel.clone());
            } else {
                arguments.named.push((path.clone(), repo.relative(path)?));
            }
            if arguments.roots.iter().all(|r| r.rel != rel) {
                arguments.roots.push(Root { shown, rel });
            }
        }
        Ok(arguments)
    }

    /// What git commands are limited to; none means the whole repository.
    fn pathspecs(&self) -> Vec<String> {
        if self.roots.iter().any(|r| r.rel.is_empty()) {
            return Vec::new();
        }
        self.roots.iter().map(|r| r.rel.clone()).collect()
    }

    fn reported(&self, rel: &str) -> bool {
        self.named.iter().any(|(_, named)| named == rel)
            || self
                .dirs
                .iter()
                .any(|dir| dir.is_empty() || rel.starts_with(&format!("{dir}/")))
    }
}

/// A directory argument itself; a file argument's directory.
fn directory_of(path: &Path) -> PathBuf {
    match path.parent() {
        _ if path.is_dir() => path.to_path_buf(),
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

pub fn select(
    paths: &[PathBuf],
    compare: &Compare,
    opts: &DiscoverOptions,
) -> Result<Selection, GitError> {
    if paths.iter().any(|p| p.as_os_str() == "-") {
        return Err(GitError::Stdin);
    }
    let first = paths.first().map_or(Path::new("."), PathBuf::as_path);
    let repo = Repo::containing(&directory_of(first))?;
    let arguments = Arguments::place(&repo, paths)?;
    let pathspecs = arguments.pathspecs();
    let (base, side, against) = match compare {
        Compare::Since(name) => {
            let base = repo.merge_base(name)?;
            let short = &base.commit[..base.commit.len().min(12)];
            let against = if base.merge_base {
                format!("since `{name}` (merge base {short})")
            } else {
                format!("since `{name}` (commit {short}: no common history with HEAD)")
            };
            (Some(base.commit), Side::WorkTree, against)
        }
        Compare::Staged => (
            repo.head()?,
            Side::Index,
            "staged (index vs HEAD)".to_owned(),
        ),
    };
    let index = repo.index_files(&pathspecs)?;
    let unchanged = match &base {
        Some(commit) => repo.unchanged(commit, side, &pathspecs, &index)?,
        None => Default::default(),
    };
    let mut notes: Vec<String> = unchanged
        .deleted
        .iter()
        .map(|path| format!("{path}: deleted, not read"))
        .collect();
    let found = match side {
        Side::WorkTree => {
            let roots = arguments.roots.iter().map(|r| r.shown.clone());
            let named = arguments.named.iter().map(|(path, _)| path.clone());
            discover::discover(&roots.chain(named).collect::<Vec<_>>(), opts)
        }
        Side::Index => read_index(&repo, &index, &arguments, opts, &mut notes)?,
    };
    let Discovered {
        files,
        errors,
        warnings,
        ..
    } = found;
    let mut changed = Discovered {
        errors,
        warnings,
        ..Discovered::default()
    };
    let mut context = Vec::new();
    // each changed file, and how many context files come before it in migration order
    let mut positions = Vec::new();
    for file in files {
        // discovered under the arguments, so inside the work tree
        let rel = repo.relative(&file.path).unwrap_or_default();
        if arguments.reported(&rel) && !unchanged.paths.contains(&rel) {
            positions.push((file.path.clone(), context.len()));
            changed.files.push(file);
        } else {
            context.push(file);
        }
    }
    // context files after a changed one are deployed already, so they are replayed first too
    for (path, before) in positions {
        if let Some(first) = context.get(before) {
            let later = context.len() - before;
            notes.push(format!(
                "{}: sorts before {later} migration{} replayed before it as already deployed \
                 (first {})",
                path.display(),
                if later == 1 { "" } else { "s" },
                first.path.display()
            ));
        }
    }
    Ok(Selection {
        context,
        changed,
        against,
        notes,
    })
}

/// The migration set as the index has it: each root's files in run order, then the named
/// files the walk rules left out (named files are never filtered), read in one batch.
fn read_index(
    repo: &Repo,
    entries: &[IndexEntry],
    arguments: &Arguments,
    opts: &DiscoverOptions,
    notes: &mut Vec<String>,
) -> Result<Discovered, GitError> {
    let mut out = Discovered::default();
    let mut chosen: Vec<(PathBuf, &IndexEntry)> = Vec::new();
    let mut taken = HashSet::new();
    for root in &arguments.roots {
        let prefix = if root.rel.is_empty() {
            String::new()
        } else {
            format!("{}/", root.rel)
        };
        let under: Vec<&IndexEntry> = entries
            .iter()
            .filter(|e| e.path.starts_with(&prefix))
            .collect();
        let listed: Vec<String> = under
            .iter()
            .map(|e| e.path[prefix.len()..].to_owned())
            .collect();
        let by_path: HashMap<PathBuf, &IndexEntry> = listed
            .iter()
            .map(|rel| root.shown.join(rel))
            .zip(under)
            .collect();
        match discover::order_listed(&root.shown, &listed, opts) {
            Ok(order) => {
                for path in order {
                    let entry = by_path.get(&path).copied();
                    if let Some(entry) = entry.filter(|e| taken.insert(e.path.clone())) {
                        chosen.push((path, entry));
                    }
                }
            }
            Err(error) => out.errors.push(error),
        }
    }
    for (path, rel) in &arguments.named {
        match entries.iter().find(|e| &e.path == rel) {
            Some(entry) if taken.insert(rel.clone()) => chosen.push((path.clone(), entry)),
            Some(_) => {}
            None => notes.push(format!("{}: not in the index, not read", path.display())),
        }
    }
    let objects: Vec<&str> = chosen.iter().map(|(_, e)| e.object.as_str()).collect();
    let contents = repo.read_objects(&objects)?;
    for ((path, _), bytes) in chosen.into_iter().zip(contents) {
        discover::load_bytes(&path, bytes, opts, &mut out);
    }
    Ok(out)
}
