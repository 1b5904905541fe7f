//! The CLI's configuration for the editor: `pgrisk.toml` found from the workspace root (or
//! walking up from the file), then `PGRISK_*`; re-read when the file changes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::config::{self, Settings};

/// A config file as last seen: when it was modified and how long it was.
type Stamp = Option<(SystemTime, u64)>;

struct Loaded {
    /// `None` after a change notification: read again whatever the file's time says.
    stamp: Option<Stamp>,
    settings: Settings,
}

pub struct Configs {
    root: Option<PathBuf>,
    /// By config file (`None`: no file found, defaults and environment).
    loaded: HashMap<Option<PathBuf>, Loaded>,
    /// Errors to show the user, each once per change of the file.
    pub messages: Vec<String>,
}

impl Configs {
    pub fn new(root: Option<PathBuf>) -> Configs {
        Configs {
            root,
            loaded: HashMap::new(),
            messages: Vec::new(),
        }
    }

    /// The settings for files in `dir`: the file found from the workspace root, or from `dir`
    /// when there is no root, read again if it changed. A broken file keeps the settings it
    /// had (defaults if it never loaded) and queues the error.
    pub fn settings_for(&mut self, dir: Option<&Path>) -> Settings {
        let start = self.root.as_deref().or(dir);
        let path = start.and_then(config::find_config);
        let stamp = path.as_deref().map(stamp_of).unwrap_or_default();
        if let Some(loaded) = self.loaded.get(&path)
            && loaded.stamp == Some(stamp)
        {
            return loaded.settings.clone();
        }
        let previous = self.loaded.remove(&path).map(|l| l.settings);
        let settings = match load(path.as_deref()) {
            Ok(settings) => settings,
            Err(message) => {
                self.messages.push(format!(
                    "pgrisk: configuration not applied, keeping the previous settings: {message}"
                ));
                previous.unwrap_or_default()
            }
        };
        self.loaded.insert(
            path,
            Loaded {
                stamp: Some(stamp),
                settings: settings.clone(),
            },
        );
        settings
    }

    /// The client saw a config file change: read every file again at the next check.
    pub fn invalidate(&mut self) {
        self.loaded.values_mut().for_each(|l| l.stamp = None);
    }
}

fn stamp_of(path: &Path) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// defaults < pgrisk.toml < PGRISK_* (the editor has no flags).
fn load(path: Option<&Path>) -> Result<Settings, String> {
    let mut settings = Settings::default();
    if let Some(path) = path {
        let file = config::load_file(path).map_err(|e| e.to_string())?;
        settings.apply_file(file, path).map_err(|e| e.to_string())?;
    }
    settings
        .apply_env(|k| std::env::var(k).ok())
        .map_err(|e| e.to_string())?;
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_file_keeps_the_last_good_settings() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(config::FILE_NAME);
        std::fs::write(&file, "pg-version = 12\n").unwrap();
        let mut configs = Configs::new(Some(dir.path().to_owned()));
        assert_eq!(configs.settings_for(None).pg_version, 12);
        std::fs::write(&file, "pg-version = \"twelve\"\nlonger = 1\n").unwrap();
        assert_eq!(configs.settings_for(None).pg_version, 12);
        assert_eq!(configs.messages.len(), 1, "{:?}", configs.messages);
        assert!(configs.messages[0].contains("pgrisk.toml"));
        // shown once, not at every check
        configs.settings_for(None);
        assert_eq!(configs.messages.len(), 1);
        std::fs::write(&file, "pg-version = 14\n").unwrap();
        assert_eq!(configs.settings_for(None).pg_version, 14);
    }
}
