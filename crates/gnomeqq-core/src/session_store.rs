//! Where a login is kept between runs, so the next start resumes without a scan.
//!
//! The file store writes the saved session (tokens and cookies, never a password) to a file
//! of mode 0600 in a directory of mode 0700, through a temporary file and a rename, so a
//! crash leaves the old file or the new one, never half of one.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Reading or writing the file failed.
    #[error("could not {action} {path}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// Keeps one saved session (JSON text).
pub trait SessionStore: Send + Sync + fmt::Debug {
    /// The saved session, if any.
    fn load(&self) -> Result<Option<String>, StoreError>;
    /// Replaces the saved session.
    fn save(&self, json: &str) -> Result<(), StoreError>;
    /// Forgets the saved session.
    fn clear(&self) -> Result<(), StoreError>;
}

// TODO(#4): a Secret Service store (oo7) for desktops that run one; until then sessions
// live in the 0600 file below, which the issue allows when no Secret Service runs.

/// A session file of mode 0600.
#[derive(Clone, Debug)]
pub struct FileSessionStore {
    path: PathBuf,
}

impl FileSessionStore {
    /// A store at `path`; the file and its directory are created on the first save.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The file for a server, in a data directory: one file per server, so a sandbox
    /// session is never offered to another server.
    pub fn for_server(data_dir: &Path, server: &str) -> Self {
        let name: String = server
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        Self::new(data_dir.join("sessions").join(format!("{name}.json")))
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self, action: &'static str) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
        move |source| StoreError::Io {
            action,
            path: self.path.clone(),
            source,
        }
    }
}

impl SessionStore for FileSessionStore {
    fn load(&self) -> Result<Option<String>, StoreError> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => Ok(Some(text)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(self.io("read")(error)),
        }
    }

    fn save(&self, json: &str) -> Result<(), StoreError> {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};

        let directory = self.path.parent().unwrap_or(Path::new("."));
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(directory)
            .map_err(self.io("create the directory of"))?;
        // A name of its own per writer: two processes saving at once must not write into
        // one temporary file.
        let temporary = self.path.with_extension(format!(
            "json.{}.{}.tmp",
            std::process::id(),
            rand::random::<u32>()
        ));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temporary)
            .map_err(self.io("write"))?;
        file.write_all(json.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(self.io("write"))?;
        std::fs::rename(&temporary, &self.path).map_err(self.io("replace"))
    }

    fn clear(&self) -> Result<(), StoreError> {
        match std::fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(self.io("remove")(error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn temporary_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("gnomeqq-store-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_saved_session_is_private_and_reads_back() {
        let dir = temporary_dir("private");
        let store = FileSessionStore::for_server(&dir, "http://127.0.0.1:8650");

        store.save("{\"x\":1}").unwrap();
        let loaded = store.load().unwrap();

        assert_eq!(loaded.as_deref(), Some("{\"x\":1}"));
        let mode = std::fs::metadata(store.path())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
        assert!(
            store
                .path()
                .ends_with("sessions/http___127.0.0.1_8650.json")
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn clearing_forgets_and_a_missing_file_is_no_session() {
        let dir = temporary_dir("clear");
        let store = FileSessionStore::new(dir.join("s.json"));

        let before = store.load().unwrap();
        store.save("a").unwrap();
        store.clear().unwrap();
        store.clear().unwrap();

        assert_eq!(before, None);
        assert_eq!(store.load().unwrap(), None);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
