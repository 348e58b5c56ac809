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
    /// A history file left readable by others could not be made private.
    #[error("could not make {path} private")]
    MakePrivate {
        /// The file.
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

/// Opens (creating it and its directory when new) the history of account `qq`. What
/// people wrote is private: a new directory is 0700 and the database 0600 (SQLite gives
/// its WAL and shared-memory files the database's mode), and a database an earlier
/// version left readable by others is made private.
pub fn open_history(data_dir: &Path, qq: u64) -> Result<History, OpenHistoryError> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};

    let path = history_path(data_dir, qq);
    let create_error = |path: &Path| {
        let path = path.to_owned();
        move |source| OpenHistoryError::CreateDir { path, source }
    };
    if let Some(parent) = path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)
            .map_err(create_error(parent))?;
    }
    // Created empty before SQLite sees it, so it never exists with a wider mode.
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .map_err(create_error(&path))?;
    for file in [
        &path,
        &path.with_extension("sqlite3-wal"),
        &path.with_extension("sqlite3-shm"),
    ] {
        let Ok(metadata) = std::fs::metadata(file) else {
            continue;
        };
        if metadata.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600)).map_err(
                |source| OpenHistoryError::MakePrivate {
                    path: file.clone(),
                    source,
                },
            )?;
        }
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

    #[test]
    fn a_history_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;

        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        let dir = std::env::temp_dir().join(format!("gnomeqq-places-mode-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut history = open_history(&dir, 42).expect("a new history opens");
        history.index_pending(1).expect("a write makes the WAL");
        let path = history_path(&dir, 42);

        assert_eq!(mode(path.parent().unwrap()), 0o700);
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&path.with_extension("sqlite3-wal")), 0o600);
        drop(history);

        // One an earlier version left readable by others is made private when opened.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        drop(open_history(&dir, 42).expect("the history opens again"));
        assert_eq!(mode(&path), 0o600);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
