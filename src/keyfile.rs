//! Key files (token signing, personal data, audit seals): where each one
//! is, how a development one is made, and how a new one is written — in one
//! place, so that every key is written the same careful way.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::config::Environment;

/// One key file the server needs.
pub struct KeyFile<'a> {
    /// The file configured, if any.
    pub configured: Option<&'a Path>,
    /// Its name in the data folder when generated in development.
    pub development_name: &'static str,
    /// What it is, for the log: "token signing key".
    pub what: &'static str,
    /// Why start-up stops in production without it, and how to make one.
    pub required_in_production: &'static str,
}

impl KeyFile<'_> {
    /// The key's path: the configured one; in development, one generated
    /// once (by `generate`) into `data_dir`; in production, an error.
    pub fn path(
        &self,
        environment: Environment,
        data_dir: &Path,
        generate: impl FnOnce() -> anyhow::Result<Vec<u8>>,
    ) -> anyhow::Result<PathBuf> {
        match (self.configured, environment) {
            (Some(path), _) => Ok(path.to_owned()),
            (None, Environment::Development) => {
                let path = data_dir.join(self.development_name);
                if !path.exists() && write_new(&path, &generate()?)? {
                    tracing::info!(path = %path.display(), "generated a development {}", self.what);
                }
                Ok(path)
            }
            (None, Environment::Production) => bail!("{}", self.required_in_production),
        }
    }
}

/// Writes a new key readable by its owner only. Written aside then linked
/// into place, so that a concurrent reader never sees half a key and two
/// processes racing keep the first key. `false` when one was already there.
pub fn write_new(path: &Path, contents: &[u8]) -> anyhow::Result<bool> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    let aside = path.with_extension(format!("tmp-{}", uuid::Uuid::new_v4().simple()));
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&aside)
        .with_context(|| format!("creating {}", aside.display()))?;
    file.write_all(contents)?;
    file.sync_all()?;
    let linked = fs::hard_link(&aside, path);
    fs::remove_file(&aside)?;
    match linked {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e).with_context(|| format!("creating {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_private_and_the_first_one_stays() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        assert!(write_new(&path, b"first").unwrap());
        assert!(!write_new(&path, b"second").unwrap());
        assert_eq!(fs::read(&path).unwrap(), b"first");
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let leftovers = fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1, "nothing written aside is left");
    }

    #[test]
    fn production_requires_the_file() {
        let key = KeyFile {
            configured: None,
            development_name: "k",
            what: "test key",
            required_in_production: "PARCOURS_TEST_KEY_FILE is required in production",
        };
        let dir = tempfile::tempdir().unwrap();
        let refused = key
            .path(Environment::Production, dir.path(), || Ok(b"x".to_vec()))
            .unwrap_err();
        assert!(refused.to_string().contains("PARCOURS_TEST_KEY_FILE"));
        let made = key
            .path(Environment::Development, dir.path(), || Ok(b"x".to_vec()))
            .unwrap();
        assert_eq!(fs::read(made).unwrap(), b"x");
    }
}
