//! Where GnomeQQ keeps things on disk and in the desktop session, shared by the CLI and the
//! GUI so both find the same history and the same saved login (DESIGN.md, "XDG
//! directories"): `<data>/<qq>/history.sqlite3` per account, and the saved session in the
//! Secret Service when one answers, else in a 0600 file under `<data>/sessions/`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use gnomeqq_history::History;

use crate::session_store::{FileSessionStore, SecretServiceStore, SessionStore};

/// How long the Secret Service may take to answer before the file store is used instead:
/// a desktop whose keyring hangs must not hang the start.
const SECRET_SERVICE_TIMEOUT: Duration = Duration::from_secs(3);

/// The data directory: `choice` when given (`--data-dir`), else the XDG data directory
/// (`~/.local/share/gnomeqq`); `None` when there is no home to put it in.
pub fn data_dir(choice: Option<&Path>) -> Option<PathBuf> {
    match choice {
        Some(dir) => Some(dir.to_owned()),
        None => directories::ProjectDirs::from("", "", "gnomeqq").map(|d| d.data_dir().to_owned()),
    }
}

/// The history database of one account.
pub fn history_path(data_dir: &Path, qq: u64) -> PathBuf {
    data_dir.join(qq.to_string()).join("history.sqlite3")
}

/// Why a history could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenHistoryError {
    /// Its directory could not be created.
    #[error("could not create {path}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The database refused to open or migrate.
    #[error("could not open {path}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: gnomeqq_history::Error,
    },
}

/// Opens (creating it and its directory when new) the history of account `qq`.
pub fn open_history(data_dir: &Path, qq: u64) -> Result<History, OpenHistoryError> {
    let path = history_path(data_dir, qq);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|source| OpenHistoryError::CreateDir {
            path: parent.to_owned(),
            source,
        })?;
    }
    History::open(&path).map_err(|source| OpenHistoryError::Open { path, source })
}

/// Where the session for `server` is kept: the Secret Service when the desktop session
/// runs one, else a 0600 file in `data_dir`; `None` with neither (nothing is saved).
pub async fn session_store(data_dir: Option<&Path>, server: &str) -> Option<Arc<dyn SessionStore>> {
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some() {
        let connecting = SecretServiceStore::connect(server);
        match tokio::time::timeout(SECRET_SERVICE_TIMEOUT, connecting).await {
            Ok(Ok(store)) => return Some(Arc::new(store)),
            Ok(Err(error)) => {
                tracing::debug!("No Secret Service, keeping the session in a file: {error}");
            }
            Err(_) => {
                tracing::debug!("The Secret Service did not answer, keeping the session in a file");
            }
        }
    }
    let dir = data_dir?;
    Some(Arc::new(FileSessionStore::for_server(dir, server)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_lives_in_a_directory_per_account() {
        let path = history_path(Path::new("/data"), 2_000_000_001);
        assert_eq!(path, Path::new("/data/2000000001/history.sqlite3"));
    }

    #[test]
    fn an_explicit_data_dir_wins() {
        assert_eq!(
            data_dir(Some(Path::new("/tmp/x"))),
            Some(PathBuf::from("/tmp/x"))
        );
    }

    #[test]
    fn open_history_creates_the_account_directory() {
        let dir = std::env::temp_dir().join(format!("gnomeqq-places-{}", std::process::id()));
        let history = open_history(&dir, 42).expect("a new history opens");
        assert_eq!(
            history.schema_version().ok(),
            Some(gnomeqq_history::SCHEMA_VERSION)
        );
        assert!(history_path(&dir, 42).exists());
        drop(history);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
