//! Numbered migrations from `migrations/`, applied in order and tracked with
//! `PRAGMA user_version`.

use rusqlite::{Connection, TransactionBehavior};

use crate::{Error, Result};

/// The migrations, in order: `MIGRATIONS[i]` brings the schema to version `i + 1`.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/001_initial.sql"),
    include_str!("../migrations/002_deferred_search.sql"),
    include_str!("../migrations/003_send_schedule.sql"),
    include_str!("../migrations/004_one_message_index.sql"),
    include_str!("../migrations/005_timeline.sql"),
    include_str!("../migrations/006_open_outbox.sql"),
];

/// The schema version after all migrations; `PRAGMA user_version` of an up-to-date file.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// The schema version stored in the file.
pub(crate) fn version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
}

/// Applies the migrations the file lacks. Each runs in its own immediate transaction,
/// which also re-reads the version, so two processes opening a new file at once do not
/// both create the tables.
pub(crate) fn migrate(conn: &mut Connection) -> Result<()> {
    for (index, sql) in MIGRATIONS.iter().enumerate() {
        let target = index as u32 + 1;
        let migrate_error = |source| Error::Migrate {
            version: target,
            source,
        };
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(migrate_error)?;
        let found = version(&tx).map_err(migrate_error)?;
        if found > SCHEMA_VERSION {
            return Err(Error::NewerSchema {
                found,
                supported: SCHEMA_VERSION,
            });
        }
        if found >= target {
            continue;
        }

        tx.execute_batch(sql).map_err(migrate_error)?;
        tx.pragma_update(None, "user_version", target)
            .map_err(migrate_error)?;
        tx.commit().map_err(migrate_error)?;
        tracing::info!(version = target, "History database migrated");
    }

    Ok(())
}
