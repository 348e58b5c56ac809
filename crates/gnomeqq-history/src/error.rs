//! The crate's error type.

use std::path::PathBuf;

/// Errors returned by [`History`](crate::History) operations.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database file could not be opened or configured.
    #[error("could not open history database {}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
    /// A schema migration failed; the database stays at the previous version.
    #[error("could not apply history migration {version}")]
    Migrate {
        /// The migration's number.
        version: u32,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
    /// The file was written by a newer GnomeQQ with a schema this one does not know.
    #[error("history schema version {found} is newer than the supported {supported}")]
    NewerSchema {
        /// `PRAGMA user_version` of the file.
        found: u32,
        /// The newest version this crate knows.
        supported: u32,
    },
    /// A query or statement failed.
    #[error("history database query failed")]
    Sqlite(#[from] rusqlite::Error),
    /// `segments_json` of a new message is not JSON.
    #[error("segments of a new message are not valid JSON")]
    InvalidSegments(#[source] serde_json::Error),
    /// No message has this id.
    #[error("no message with id {0}")]
    UnknownMessage(i64),
    /// Only a message of ours that failed to send can be sent again.
    #[error("message {0} is not a failed message of ours")]
    NotRetryable(i64),
    /// Two different texts gave the same dedupe key (same conversation, sender, second,
    /// `msg_id` and 64-bit text hash); the second message was not stored.
    #[error("dedupe key collision in conversation row {conversation_id}")]
    DedupeKeyCollision {
        /// The conversation's row id.
        conversation_id: i64,
    },
    /// Writing an export failed.
    #[error("could not write history export")]
    Export(#[source] std::io::Error),
}

impl Error {
    /// Whether another connection held the database lock longer than the busy timeout.
    pub fn is_busy(&self) -> bool {
        let sqlite = match self {
            Self::Sqlite(error) | Self::Open { source: error, .. } => error,
            Self::Migrate { source, .. } => source,
            _ => return false,
        };
        sqlite.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
