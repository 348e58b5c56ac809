//! Where a login is kept between runs, so the next start resumes without a scan.
//!
//! Where a desktop runs a Secret Service, sessions go there ([`SecretServiceStore`]);
//! elsewhere the file store writes the saved session (tokens and cookies, never a password) to a file
//! of mode 0600 in a directory of mode 0700, through a temporary file and a rename, so a
//! crash leaves the old file or the new one, never half of one.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::pin::Pin;

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The Secret Service refused or is not there.
    #[error("the Secret Service failed: {0}")]
    SecretService(String),
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

/// What a store's operations return.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Keeps one saved session (JSON text).
pub trait SessionStore: Send + Sync + fmt::Debug {
    /// The saved session, if any.
    fn load(&self) -> StoreFuture<'_, Option<String>>;
    /// Replaces the saved session.
    fn save<'a>(&'a self, json: &'a str) -> StoreFuture<'a, ()>;
    /// Forgets the saved session.
    fn clear(&self) -> StoreFuture<'_, ()>;
}

/// The Secret Service (GNOME Keyring, KWallet, …), through oo7: where a desktop keeps
/// credentials. One item per server, found by its attributes.
pub struct SecretServiceStore {
    keyring: oo7::Keyring,
    server: String,
}

impl fmt::Debug for SecretServiceStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretServiceStore")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl SecretServiceStore {
    /// Connects to the session's Secret Service and unlocks its collection; fails when
    /// none runs (no session bus, no service, or it stays locked).
    pub async fn connect(server: &str) -> Result<Self, StoreError> {
        let keyring = oo7::Keyring::new().await.map_err(secret_service)?;
        keyring.unlock().await.map_err(secret_service)?;
        Ok(Self {
            keyring,
            server: server.to_owned(),
        })
    }

    fn attributes(&self) -> HashMap<&str, &str> {
        HashMap::from([
            ("application", "gnomeqq"),
            ("kind", "saved-session"),
            ("server", self.server.as_str()),
        ])
    }
}

fn secret_service(error: oo7::Error) -> StoreError {
    StoreError::SecretService(error.to_string())
}

impl SessionStore for SecretServiceStore {
    fn load(&self) -> StoreFuture<'_, Option<String>> {
        Box::pin(async move {
            let items = self
                .keyring
                .search_items(&self.attributes())
                .await
                .map_err(secret_service)?;
            let Some(item) = items.first() else {
                return Ok(None);
            };
            let secret = item.secret().await.map_err(secret_service)?;
            let text = String::from_utf8(secret.as_bytes().to_vec()).map_err(|_| {
                StoreError::SecretService("the stored session is not text".to_owned())
            })?;
            Ok(Some(text))
        })
    }

    fn save<'a>(&'a self, json: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let label = format!("GnomeQQ session ({})", self.server);
            self.keyring
                .create_item(&label, &self.attributes(), json, true)
                .await
                .map_err(secret_service)
        })
    }

    fn clear(&self) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            self.keyring
                .delete(&self.attributes())
                .await
                .map_err(secret_service)
        })
    }
}

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
    fn load(&self) -> StoreFuture<'_, Option<String>> {
        Box::pin(async move { self.load_now() })
    }

    fn save<'a>(&'a self, json: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move { self.save_now(json) })
    }

    fn clear(&self) -> StoreFuture<'_, ()> {
        Box::pin(async move { self.clear_now() })
    }
}

impl FileSessionStore {
    fn load_now(&self) -> Result<Option<String>, StoreError> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => Ok(Some(text)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(self.io("read")(error)),
        }
    }

    fn save_now(&self, json: &str) -> Result<(), StoreError> {
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

    fn clear_now(&self) -> Result<(), StoreError> {
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

        store.save_now("{\"x\":1}").unwrap();
        let loaded = store.load_now().unwrap();

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

        let before = store.load_now().unwrap();
        store.save_now("a").unwrap();
        store.clear_now().unwrap();
        store.clear_now().unwrap();

        assert_eq!(before, None);
        assert_eq!(store.load_now().unwrap(), None);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
