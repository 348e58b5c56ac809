//! [`History`]: opening the database, writing messages and outbox states, reading
//! conversations back.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::types::Type;
use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};

use crate::model::{
    ConversationKey, ConversationKind, ConversationSummary, Direction, Inserted, NewMessage,
    OutboxEvent, OutboxState, StoredMessage,
};
use crate::{Error, Result, schema, search};

/// How long a write waits for another connection's transaction before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// WAL pages written before SQLite copies them into the database (SQLite's default is
/// 1,000). A checkpoint syncs the file; doing it every ~40 MiB of WAL rather than every
/// 4 MiB keeps small poll batches cheap.
const WAL_CHECKPOINT_PAGES: i64 = 10_000;

/// Bytes the WAL file is truncated to after a checkpoint.
const WAL_SIZE_LIMIT: i64 = 64 * 1024 * 1024;

/// Page cache per connection, as SQLite's negative KiB (default 2 MiB): index pages of
/// recent messages and the search index stay in memory.
const CACHE_KIB: i64 = -16 * 1024;

/// Prepared statements kept per connection; more than the store uses, so none is
/// prepared twice.
const STATEMENT_CACHE: usize = 48;

/// The columns [`read_message`] expects, in order, over the joined tables
/// `m` (messages), `c` (conversations), `a` (accounts) and `p` (contacts).
pub(crate) const MESSAGE_COLUMNS: &str = "m.id, a.qq, c.kind, c.stable_id, c.name, \
     m.direction, p.stable_id, p.name, m.server_time, m.server_msg_id, m.text, \
     m.segments_json, m.outbox_state, m.outbox_reason";

/// The joins [`MESSAGE_COLUMNS`] reads from.
pub(crate) const MESSAGE_JOINS: &str = "messages m \
     JOIN conversations c ON c.id = m.conversation_id \
     JOIN accounts a ON a.id = c.account_id \
     JOIN contacts p ON p.id = m.sender_id";

/// The conversation rows of a conversation key, one per account that holds it, with
/// their last server time as far as the timeline reaches. The accounts (a handful) are
/// named so that the conversations' unique key, led by the account, finds the rows
/// instead of a scan.
const CONVERSATION_ROWS_SQL: &str = "SELECT c.id, t.last_time FROM conversations c \
     LEFT JOIN conversation_totals t ON t.conversation_id = c.id \
     WHERE c.account_id IN (SELECT id FROM accounts) AND c.kind = ?1 AND c.stable_id = ?2";

/// Every conversation row with its last server time as far as the timeline reaches.
const ALL_CONVERSATION_ROWS_SQL: &str = "SELECT c.id, t.last_time FROM conversations c \
     LEFT JOIN conversation_totals t ON t.conversation_id = c.id";

/// The newest `?3` (server time, id) pairs of conversation row `?1` at or after server
/// time `?2` in the timeline, newest first, in the timeline's own order.
const NEWEST_KEYS_SQL: &str = "SELECT server_time, message_id FROM timeline \
     WHERE conversation_id = ?1 AND server_time >= ?2 \
     ORDER BY server_time DESC, message_id DESC LIMIT ?3";

/// Each conversation row's newest (server time, id) in the timeline: its last time from
/// the totals, and the highest id of that second, one step into the timeline each.
const NEWEST_OF_EACH_SQL: &str = "SELECT c.id, t.last_time, \
     (SELECT max(message_id) FROM timeline \
      WHERE conversation_id = c.id AND server_time = t.last_time) \
     FROM conversations c LEFT JOIN conversation_totals t ON t.conversation_id = c.id";

/// The keys of the messages the timeline does not hold yet: a range of the rowid.
const TRAILING_KEYS_SQL: &str = "SELECT conversation_id, server_time, id FROM messages \
     WHERE id > (SELECT indexed_up_to FROM index_progress WHERE id = 0) ORDER BY id";

/// The messages whose ids are in the JSON array `?1`, oldest first.
pub(crate) fn messages_by_id_sql() -> String {
    format!(
        "SELECT {MESSAGE_COLUMNS} FROM {MESSAGE_JOINS} \
         WHERE m.id IN (SELECT value FROM json_each(?1)) ORDER BY m.server_time, m.id"
    )
}

/// Each conversation row with its account, key, name, and last server time and message
/// count as far as the timeline reaches (NULL when it holds none of its messages yet).
const CONVERSATIONS_SQL: &str = "SELECT c.id, a.qq, c.kind, c.stable_id, c.name, \
     t.last_time, t.message_count \
     FROM conversations c JOIN accounts a ON a.id = c.account_id \
     LEFT JOIN conversation_totals t ON t.conversation_id = c.id";

/// The first copy of a server-delivered message, by its dedupe key.
const FIRST_COPY_SQL: &str = "SELECT id, text FROM messages WHERE conversation_id = ?2 \
     AND server_time = ?1 AND sender_id = ?3 AND ifnull(server_msg_id, -1) = ifnull(?4, -1) \
     AND text_hash = ?5";

/// The rows of our own messages whose send is not settled, as migration 006's partial
/// index names them: a query must say it in these words for SQLite to use the index.
const OPEN_OUTBOX: &str = "m.outbox_state IN ('queued', 'accepted', 'unconfirmed', 'failed')";

/// The newest outbox row of a conversation waiting for the echo of text `?4`, written or
/// sent again at or after `?5` (Unix seconds): its server time is when it was written,
/// its latest outbox event (Unix milliseconds) when it was last queued.
fn echo_sql() -> String {
    format!(
        "SELECT m.id FROM messages m \
         JOIN conversations c ON c.id = m.conversation_id \
         JOIN accounts a ON a.id = c.account_id \
         WHERE a.qq = ?1 AND c.kind = ?2 AND c.stable_id = ?3 \
           AND {OPEN_OUTBOX} AND m.outbox_state <> 'failed' \
           AND m.direction = 'out' AND m.text_hash IS NULL \
           AND replace(replace(m.text, char(13) || char(10), char(10)), char(13), char(10)) = ?4 \
           AND (m.server_time >= ?5 OR (SELECT max(e.at_ms) FROM outbox_events e \
                WHERE e.message_id = m.id) >= ?5 * 1000) \
         ORDER BY m.id DESC LIMIT 1"
    )
}

/// The first failed message of ours with text `?3` in a conversation key written at or
/// after `?4` (Unix seconds).
fn failed_outbound_sql() -> String {
    format!(
        "SELECT m.id FROM messages m JOIN conversations c ON c.id = m.conversation_id \
         WHERE c.account_id IN (SELECT id FROM accounts) AND c.kind = ?1 AND c.stable_id = ?2 \
           AND {OPEN_OUTBOX} AND m.outbox_state = 'failed' AND m.text = ?3 \
           AND m.server_time >= ?4 \
         ORDER BY m.id LIMIT 1"
    )
}

/// The message history of one or more accounts, in one SQLite file.
#[derive(Debug)]
pub struct History {
    pub(crate) conn: Connection,
}

impl History {
    /// Opens (creating if needed) the database at `path`, in WAL mode, and brings its
    /// schema up to date.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let open_error = |source| Error::Open {
            path: path.to_owned(),
            source,
        };
        let conn = Connection::open(path).map_err(open_error)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_error)?;
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))
            .map_err(open_error)?;
        conn.pragma_update(None, "wal_autocheckpoint", WAL_CHECKPOINT_PAGES)
            .map_err(open_error)?;
        conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)
            .map_err(open_error)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_error)?;

        Self::configure(conn)
    }

    /// Opens a private database in memory, for tests and throw-away sessions.
    pub fn open_in_memory() -> Result<Self> {
        let conn = Connection::open_in_memory().map_err(|source| Error::Open {
            path: ":memory:".into(),
            source,
        })?;

        Self::configure(conn)
    }

    fn configure(mut conn: Connection) -> Result<Self> {
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.pragma_update(None, "cache_size", CACHE_KIB)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        schema::migrate(&mut conn)?;

        Ok(Self { conn })
    }

    /// The schema version of the open file (`PRAGMA user_version`).
    pub fn schema_version(&self) -> Result<u32> {
        Ok(schema::version(&self.conn)?)
    }

    /// Stores messages delivered by the server, in one transaction. Each comes back as
    /// [`Inserted::New`] or, when the same message (same conversation, sender, server
    /// time, `msg_id` and text) is already stored, [`Inserted::Duplicate`] with the
    /// first copy's id. Nothing is stored when an error is returned.
    pub fn insert_inbound_batch(&mut self, messages: &[NewMessage]) -> Result<Vec<Inserted>> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut writer = Writer::new(&tx);
        let mut inserted = Vec::with_capacity(messages.len());
        for message in messages {
            inserted.push(writer.insert(message, true)?);
        }
        catch_up_indexes(&tx, INDEX_LAG_BOUND, u64::MAX)?;
        tx.commit()?;

        Ok(inserted)
    }

    /// Stores a message written by us, before it is sent, and records its first outbox
    /// state (`Queued` unless the message says otherwise). Returns its id.
    pub fn insert_outbound(&mut self, message: &NewMessage) -> Result<i64> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let state = message.outbox_state.clone().unwrap_or(OutboxState::Queued);
        let message = NewMessage {
            outbox_state: Some(state.clone()),
            ..message.clone()
        };
        let id = Writer::new(&tx).insert(&message, false)?.id();
        insert_outbox_event(&tx, id, &state)?;
        catch_up_indexes(&tx, INDEX_LAG_BOUND, u64::MAX)?;
        tx.commit()?;

        Ok(id)
    }

    /// Reserves the account's next send: the later of `now_ms` and the previous reserved
    /// send plus `pacing_ms`, in Unix milliseconds. The caller waits until then. One
    /// IMMEDIATE transaction, so processes sharing the file queue up in the order they ask.
    pub fn reserve_send(&mut self, account: &str, pacing_ms: i64, now_ms: i64) -> Result<i64> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let account_id = Writer::new(&tx).account(account)?;
        let last: Option<i64> = tx
            .prepare_cached("SELECT last_send_at_ms FROM send_schedule WHERE account_id = ?1")?
            .query_row(params![account_id], |row| row.get(0))
            .optional()?;
        let at = last.map_or(now_ms, |last| now_ms.max(last.saturating_add(pacing_ms)));
        tx.prepare_cached(
            "INSERT INTO send_schedule (account_id, last_send_at_ms) VALUES (?1, ?2) \
             ON CONFLICT (account_id) DO UPDATE SET last_send_at_ms = excluded.last_send_at_ms",
        )?
        .execute(params![account_id, at])?;
        tx.commit()?;
        Ok(at)
    }

    /// Records a new outbox state for message `id`: the message row keeps the latest,
    /// and the change is appended to its outbox events with the local time. A confirmed
    /// message stays confirmed: later states are ignored.
    pub fn set_outbox_state(&mut self, id: i64, state: &OutboxState) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current: Option<Option<String>> = tx
            .prepare_cached("SELECT outbox_state FROM messages WHERE id = ?1")?
            .query_row(params![id], |row| row.get(0))
            .optional()?;
        let Some(current) = current else {
            return Err(Error::UnknownMessage(id));
        };
        // Confirmed is final: the server's echo may overtake the answer to the send itself,
        // and that late answer must not turn a confirmed message back into an accepted one.
        if current.as_deref() == Some("confirmed") {
            return Ok(());
        }
        tx.prepare_cached(
            "UPDATE messages SET outbox_state = ?2, outbox_reason = ?3 WHERE id = ?1",
        )?
        .execute(params![id, state.as_str(), state.reason()])?;
        insert_outbox_event(&tx, id, state)?;
        tx.commit()?;

        Ok(())
    }

    /// The first message of ours in `conversation` with exactly this `text` whose send
    /// failed, written at or after `written_since` (Unix seconds), if any: what a Retry
    /// for a message shown at `written_since` refers to (a message is stored when it is
    /// handed to the engine, a little after it is shown). An older failed message with
    /// the same text is not it: the one shown may have failed before it was stored.
    pub fn failed_outbound(
        &self,
        conversation: &ConversationKey,
        text: &str,
        written_since: i64,
    ) -> Result<Option<i64>> {
        Ok(self
            .conn
            .prepare_cached(&failed_outbound_sql())?
            .query_row(
                params![
                    conversation.kind.as_str(),
                    conversation.stable_id,
                    text,
                    written_since
                ],
                |row| row.get(0),
            )
            .optional()?)
    }

    /// Queues a message of ours that failed to send for another attempt, in its own row:
    /// it keeps its place in the conversation and its outbox history, and the echo of
    /// the new attempt confirms it. Returns the message, for the caller to send. Only a
    /// failed message can be retried: one whose send may have arrived (unconfirmed) would
    /// reach the recipient twice.
    pub fn retry_outbound(&mut self, id: i64) -> Result<StoredMessage> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let message = tx
            .prepare_cached(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM {MESSAGE_JOINS} WHERE m.id = ?1"
            ))?
            .query_row([id], read_message)
            .optional()?
            .ok_or(Error::UnknownMessage(id))?;
        if !matches!(message.outbox_state, Some(OutboxState::Failed(_))) {
            return Err(Error::NotRetryable(id));
        }
        tx.prepare_cached(
            "UPDATE messages SET outbox_state = 'queued', outbox_reason = NULL WHERE id = ?1",
        )?
        .execute(params![id])?;
        insert_outbox_event(&tx, id, &OutboxState::Queued)?;
        tx.commit()?;

        Ok(StoredMessage {
            outbox_state: Some(OutboxState::Queued),
            ..message
        })
    }

    /// Confirms the outbox row an echo of our own message stands for: the newest row we
    /// wrote in `conversation` with this `text` (the echo has CR and CRLF turned into LF, as
    /// the server delivers text; the row keeps what was sent), not yet confirmed or failed, written at or
    /// after `not_before` (Unix seconds). Returns its id, or `None` when no row waits for
    /// this echo (a message we wrote on another device), which the caller then stores.
    pub fn confirm_echo(
        &mut self,
        account: &str,
        conversation: &ConversationKey,
        text: &str,
        not_before: i64,
    ) -> Result<Option<i64>> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let id: Option<i64> = tx
            .prepare_cached(&echo_sql())?
            .query_row(
                params![
                    account,
                    conversation.kind.as_str(),
                    conversation.stable_id,
                    text,
                    not_before
                ],
                |row| row.get(0),
            )
            .optional()?;
        if let Some(id) = id {
            tx.prepare_cached("UPDATE messages SET outbox_state = 'confirmed', outbox_reason = NULL WHERE id = ?1")?
                .execute(params![id])?;
            insert_outbox_event(&tx, id, &OutboxState::Confirmed)?;
        }
        tx.commit()?;
        Ok(id)
    }

    /// Every outbox state message `id` went through, oldest first.
    pub fn outbox_events(&self, id: i64) -> Result<Vec<OutboxEvent>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT state, reason, at_ms FROM outbox_events WHERE message_id = ?1 ORDER BY id",
        )?;
        let events = statement.query_map([id], |row| {
            let state = read_outbox_state(row, 0, 1)?.unwrap_or(OutboxState::Queued);
            Ok(OutboxEvent {
                state,
                at_ms: row.get(2)?,
            })
        })?;

        Ok(events.collect::<rusqlite::Result<_>>()?)
    }

    /// The message with this id.
    pub fn message(&self, id: i64) -> Result<Option<StoredMessage>> {
        let sql = format!("SELECT {MESSAGE_COLUMNS} FROM {MESSAGE_JOINS} WHERE m.id = ?1");
        let mut statement = self.conn.prepare_cached(&sql)?;

        Ok(statement.query_row([id], read_message).optional()?)
    }

    /// The newest `limit` messages at or after server time `since` (all times when
    /// `None`), of one conversation or of all, returned oldest first. Messages of the
    /// same second keep their insertion order.
    pub fn messages(
        &self,
        conversation: Option<&ConversationKey>,
        since: Option<i64>,
        limit: usize,
    ) -> Result<Vec<StoredMessage>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        // One read transaction, so the timeline and the messages it does not reach yet are
        // one snapshot and hold every message exactly once.
        let snapshot = self.conn.unchecked_transaction()?;
        let trailing = Trailing::read(&snapshot)?;
        // Several conversation rows match one key only when one file holds several
        // accounts; all of them when no conversation is asked for.
        let read_row = |row: &Row<'_>| Ok((row.get(0)?, row.get(1)?));
        let mut conversations: Vec<(i64, Option<i64>)> = match conversation {
            Some(key) => snapshot
                .prepare_cached(CONVERSATION_ROWS_SQL)?
                .query_map(params![key.kind.as_str(), key.stable_id], read_row)?
                .collect::<rusqlite::Result<_>>()?,
            None => snapshot
                .prepare_cached(ALL_CONVERSATION_ROWS_SQL)?
                .query_map([], read_row)?
                .collect::<rusqlite::Result<_>>()?,
        };
        for (conversation_id, last) in &mut conversations {
            *last = (*last).max(trailing.last_time(*conversation_id));
        }
        // Most recently active first; conversations without messages (None) last.
        conversations.sort_unstable_by_key(|&(_, last)| std::cmp::Reverse(last));

        // The newest of all conversations is the newest of each, merged: one timeline
        // search per conversation row, each stopping at `limit` and, once `limit`
        // candidates are known, at the oldest of them (`floor`). Most recently active
        // first, so the floor rises soon and the conversations whose last message is
        // older than it are not searched. `conversation_id = ?` (not `IN`) is what lets
        // SQLite take the timeline's order and stop early.
        let sql_limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut floor = since.unwrap_or(i64::MIN);
        let mut newest: Vec<(i64, i64)> = Vec::new();
        let mut keys = snapshot.prepare_cached(NEWEST_KEYS_SQL)?;
        for (conversation_id, last) in conversations {
            // No messages, or none at or after the floor: neither has any conversation
            // after this one.
            if last.is_none_or(|last| last < floor) {
                break;
            }
            let rows = keys.query_map(params![conversation_id, floor, sql_limit], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })?;
            for row in rows {
                newest.push(row?);
            }
            newest.extend(
                trailing
                    .keys(conversation_id)
                    .filter(|key| key.server_time >= floor)
                    .map(|key| (key.server_time, key.id)),
            );
            if newest.len() >= limit {
                newest.sort_unstable_by(|a, b| b.cmp(a));
                newest.truncate(limit);
                floor = newest[limit - 1].0;
            }
        }
        drop(keys);

        // The rows themselves, by id, in one statement: the ids go in as a JSON array.
        let ids: Vec<String> = newest.iter().map(|&(_, id)| id.to_string()).collect();
        let ids = format!("[{}]", ids.join(","));
        let rows = snapshot
            .prepare_cached(&messages_by_id_sql())?
            .query_map(params![ids], read_message)?
            .collect::<rusqlite::Result<_>>()?;

        Ok(rows)
    }

    /// Every conversation that holds messages, most recently active first.
    pub fn conversations(&self) -> Result<Vec<ConversationSummary>> {
        // One snapshot of the totals and the messages they do not count yet.
        let snapshot = self.conn.unchecked_transaction()?;
        let trailing = Trailing::read(&snapshot)?;
        let mut statement = snapshot.prepare_cached(CONVERSATIONS_SQL)?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                ConversationSummary {
                    account: row.get(1)?,
                    key: ConversationKey {
                        kind: read_kind(row, 2)?,
                        stable_id: row.get(3)?,
                    },
                    name: row.get(4)?,
                    last_time: row.get::<_, Option<i64>>(5)?.unwrap_or(i64::MIN),
                    message_count: row.get::<_, Option<i64>>(6)?.unwrap_or(0).unsigned_abs(),
                },
            ))
        })?;
        let mut summaries = Vec::new();
        for row in rows {
            let (conversation_id, mut summary) = row?;
            summary.message_count += trailing.count(conversation_id);
            if summary.message_count == 0 {
                continue;
            }
            if let Some(last_time) = trailing.last_time(conversation_id) {
                summary.last_time = summary.last_time.max(last_time);
            }
            summaries.push((conversation_id, summary));
        }
        // Most recently active first; the later row first between equals.
        summaries
            .sort_unstable_by(|(a_id, a), (b_id, b)| (b.last_time, b_id).cmp(&(a.last_time, a_id)));

        Ok(summaries.into_iter().map(|(_, summary)| summary).collect())
    }

    /// The newest message of every conversation that holds any, the most recently active
    /// conversation first: what a conversation list shows as previews. One snapshot, one
    /// read of the trailing messages and one step into the timeline per conversation,
    /// where asking [`History::messages`] for each would read the trailing ones each time.
    pub fn newest_of_each_conversation(&self) -> Result<Vec<StoredMessage>> {
        let snapshot = self.conn.unchecked_transaction()?;
        let trailing = Trailing::read(&snapshot)?;
        let indexed: Vec<(i64, Option<(i64, i64)>)> = snapshot
            .prepare_cached(NEWEST_OF_EACH_SQL)?
            .query_map([], |row| {
                let newest = match (row.get(1)?, row.get(2)?) {
                    (Some(time), Some(id)) => Some((time, id)),
                    _ => None,
                };
                Ok((row.get(0)?, newest))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut newest: Vec<(i64, i64)> = indexed
            .into_iter()
            .filter_map(|(conversation_id, indexed)| {
                let trailing = trailing
                    .keys(conversation_id)
                    .map(|key| (key.server_time, key.id))
                    .max();
                indexed.max(trailing)
            })
            .collect();
        newest.sort_unstable_by(|a, b| b.cmp(a));

        let ids: Vec<String> = newest.iter().map(|&(_, id)| id.to_string()).collect();
        let mut messages: Vec<StoredMessage> = snapshot
            .prepare_cached(&messages_by_id_sql())?
            .query_map(params![format!("[{}]", ids.join(","))], read_message)?
            .collect::<rusqlite::Result<_>>()?;
        // Read oldest first; the most recently active conversation comes first.
        messages.reverse();

        Ok(messages)
    }

    /// Adds the oldest `max_rows` messages that the indexes do not hold yet to the search
    /// index, the timeline and the conversation totals, in one transaction; returns how
    /// many. Storing a batch only appends messages, so that a poll batch pays for none of
    /// them; the engine calls this in the background, in chunks large enough that FTS5
    /// writes few segments (it writes one per transaction) and each timeline page is
    /// written once for many messages. Rows left unindexed are still found: a search
    /// indexes whatever trails first, and listings read it from the messages table.
    pub fn index_pending(&mut self, max_rows: usize) -> Result<usize> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let max_rows = u64::try_from(max_rows).unwrap_or(u64::MAX);
        let count = catch_up_indexes(&tx, 1, max_rows)?;
        tx.commit()?;

        Ok(usize::try_from(count).unwrap_or(usize::MAX))
    }

    /// How many stored messages the indexes (search, timeline) do not hold yet (at most
    /// [`INDEX_LAG_BOUND`] plus one batch).
    pub fn unindexed(&self) -> Result<u64> {
        Ok(index_lag(&self.conn)?.0)
    }

    /// Merges the full-text index into one segment and refreshes the query planner's
    /// statistics. Worth running when the application is idle or closing after many
    /// inserts; never needed for correctness.
    pub fn optimize(&mut self) -> Result<()> {
        self.conn.execute_batch(
            "INSERT INTO messages_fts (messages_fts) VALUES ('optimize'); PRAGMA optimize;",
        )?;

        Ok(())
    }
}

/// How many messages may wait for the indexes before a writer indexes them itself,
/// inside the batch's transaction. Indexing is meant to happen off the insert path
/// ([`History::index_pending`], which the engine runs in the background); this bound
/// only keeps the lag, and so the catch-up a search may have to do and the trailing rows
/// a listing reads, finite when nobody runs it (a bulk import, a process without the
/// engine).
pub const INDEX_LAG_BOUND: u64 = 10_000;

/// Messages the indexes do not hold yet, and the id they reach.
fn index_lag(conn: &Connection) -> Result<(u64, i64)> {
    let (indexed_up_to, newest): (i64, i64) = conn
        .prepare_cached(
            "SELECT indexed_up_to, (SELECT ifnull(max(id), 0) FROM messages) \
             FROM index_progress WHERE id = 0",
        )?
        .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))?;

    Ok((
        newest.saturating_sub(indexed_up_to).unsigned_abs(),
        indexed_up_to,
    ))
}

/// Adds the oldest `max_rows` messages the indexes do not hold yet to the search index,
/// the timeline and the conversation totals, when at least `at_least` wait (1: any).
/// Returns how many were indexed. Must run inside a write transaction: ids above
/// `indexed_up_to` are then exactly the unindexed rows, since rows are never deleted
/// and writers are serialised.
pub(crate) fn catch_up_indexes(tx: &Connection, at_least: u64, max_rows: u64) -> Result<u64> {
    let (lag, indexed_up_to) = index_lag(tx)?;
    if lag == 0 || lag < at_least {
        return Ok(0);
    }
    let mut select = tx.prepare_cached(
        "SELECT id, conversation_id, server_time, text FROM messages \
         WHERE id > ?1 ORDER BY id LIMIT ?2",
    )?;
    let mut index_text =
        tx.prepare_cached("INSERT INTO messages_fts (rowid, body) VALUES (?1, ?2)")?;
    let limit = i64::try_from(max_rows).unwrap_or(i64::MAX);
    let mut rows = select.query(params![indexed_up_to, limit])?;
    let mut last = indexed_up_to;
    let mut timeline: Vec<TimelineKey> = Vec::new();
    while let Some(row) = rows.next()? {
        last = row.get(0)?;
        timeline.push(TimelineKey {
            conversation_id: row.get(1)?,
            server_time: row.get(2)?,
            id: last,
        });
        let text = row.get_ref(3)?.as_str().map_err(rusqlite::Error::from)?;
        index_text.execute(params![last, search::search_form(text)])?;
    }

    // In key order, so consecutive rows go to the same leaf of the timeline.
    timeline.sort_unstable();
    let mut add_to_timeline = tx.prepare_cached(
        "INSERT INTO timeline (conversation_id, server_time, message_id) VALUES (?1, ?2, ?3)",
    )?;
    let mut add_to_totals = tx.prepare_cached(
        "INSERT INTO conversation_totals (conversation_id, last_time, message_count) \
         VALUES (?1, ?2, ?3) ON CONFLICT (conversation_id) DO UPDATE SET \
         last_time = max(last_time, excluded.last_time), \
         message_count = message_count + excluded.message_count",
    )?;
    for run in timeline.chunk_by(|a, b| a.conversation_id == b.conversation_id) {
        for key in run {
            add_to_timeline.execute(params![key.conversation_id, key.server_time, key.id])?;
        }
        let last_time = run.iter().map(|key| key.server_time).max();
        let count = i64::try_from(run.len()).unwrap_or(i64::MAX);
        add_to_totals.execute(params![run[0].conversation_id, last_time, count])?;
    }
    tx.prepare_cached("UPDATE index_progress SET indexed_up_to = ?1 WHERE id = 0")?
        .execute(params![last])?;

    Ok(u64::try_from(timeline.len()).unwrap_or(u64::MAX))
}

/// A message's place in its conversation: the timeline's key, ordered as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct TimelineKey {
    pub(crate) conversation_id: i64,
    pub(crate) server_time: i64,
    pub(crate) id: i64,
}

/// The keys of the messages the timeline does not hold yet, in id order. Read inside
/// the same read transaction as the timeline, so together they hold every message once.
pub(crate) fn trailing_keys(conn: &Connection) -> Result<Vec<TimelineKey>> {
    let mut statement = conn.prepare_cached(TRAILING_KEYS_SQL)?;
    let keys = statement.query_map([], |row| {
        Ok(TimelineKey {
            conversation_id: row.get(0)?,
            server_time: row.get(1)?,
            id: row.get(2)?,
        })
    })?;

    Ok(keys.collect::<rusqlite::Result<_>>()?)
}

/// The messages the timeline and the totals do not hold yet, by conversation.
pub(crate) struct Trailing {
    by_conversation: HashMap<i64, Vec<TimelineKey>>,
}

impl Trailing {
    /// Reads them; call inside the read transaction that also reads the timeline.
    pub(crate) fn read(conn: &Connection) -> Result<Self> {
        let mut by_conversation: HashMap<i64, Vec<TimelineKey>> = HashMap::new();
        for key in trailing_keys(conn)? {
            by_conversation
                .entry(key.conversation_id)
                .or_default()
                .push(key);
        }

        Ok(Self { by_conversation })
    }

    /// The trailing messages of conversation row `conversation_id`, in id order.
    pub(crate) fn keys(&self, conversation_id: i64) -> impl Iterator<Item = &TimelineKey> {
        self.by_conversation
            .get(&conversation_id)
            .into_iter()
            .flatten()
    }

    fn last_time(&self, conversation_id: i64) -> Option<i64> {
        self.keys(conversation_id).map(|key| key.server_time).max()
    }

    fn count(&self, conversation_id: i64) -> u64 {
        u64::try_from(self.keys(conversation_id).count()).unwrap_or(u64::MAX)
    }
}

/// Writes messages inside one transaction, remembering the account, conversation and
/// contact rows it has seen so a batch looks each up once. The memory lives no longer
/// than the transaction, so it never holds ids of rows a rollback removed.
struct Writer<'a> {
    tx: &'a Transaction<'a>,
    accounts: HashMap<String, i64>,
    conversations: HashMap<(i64, ConversationKind, String), (i64, String)>,
    contacts: HashMap<(i64, String), (i64, String)>,
}

impl<'a> Writer<'a> {
    fn new(tx: &'a Transaction<'a>) -> Self {
        Self {
            tx,
            accounts: HashMap::new(),
            conversations: HashMap::new(),
            contacts: HashMap::new(),
        }
    }

    /// Writes one message and its search row. Server-delivered messages (`from_server`)
    /// get a text hash and so are deduplicated; local ones get none and never are.
    fn insert(&mut self, message: &NewMessage, from_server: bool) -> Result<Inserted> {
        serde_json::from_str::<serde::de::IgnoredAny>(&message.segments_json)
            .map_err(Error::InvalidSegments)?;
        let account_id = self.account(&message.account)?;
        let conversation_id = self.conversation(account_id, message)?;
        let sender_id = self.contact(account_id, &message.sender_id, &message.sender_name)?;
        let text_hash = from_server.then(|| fnv1a(message.text.as_bytes()));
        let state = message.outbox_state.as_ref();

        // `execute` and the connection's last rowid rather than `RETURNING id`: SQLite
        // runs a `RETURNING` statement through an ephemeral table of its own, a fresh
        // in-memory B-tree per row, which cost a tenth of a poll batch (profiled).
        let stored = self
            .tx
            .prepare_cached(
                "INSERT INTO messages (conversation_id, direction, sender_id, server_time, \
                 server_msg_id, text, text_hash, segments_json, outbox_state, outbox_reason) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
                 ON CONFLICT DO NOTHING",
            )?
            .execute(params![
                conversation_id,
                message.direction.as_str(),
                sender_id,
                message.server_time,
                message.server_msg_id,
                message.text,
                text_hash,
                message.segments_json,
                state.map(OutboxState::as_str),
                state.and_then(OutboxState::reason),
            ])?;
        let new_id = (stored == 1).then(|| self.tx.last_insert_rowid());

        if let Some(id) = new_id {
            // The search row and the timeline entry are written later, in bulk: see
            // `catch_up_indexes`.
            return Ok(Inserted::New(id));
        }

        let first: Option<(i64, String)> = self
            .tx
            .prepare_cached(FIRST_COPY_SQL)?
            .query_row(
                params![
                    message.server_time,
                    conversation_id,
                    sender_id,
                    message.server_msg_id,
                    text_hash
                ],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        match first {
            Some((id, text)) if text == message.text => Ok(Inserted::Duplicate(id)),
            _ => Err(Error::DedupeKeyCollision { conversation_id }),
        }
    }

    fn account(&mut self, qq: &str) -> Result<i64> {
        if let Some(&id) = self.accounts.get(qq) {
            return Ok(id);
        }

        let found = self
            .tx
            .prepare_cached("SELECT id FROM accounts WHERE qq = ?1")?
            .query_row([qq], |row| row.get(0))
            .optional()?;
        let id = match found {
            Some(id) => id,
            None => self
                .tx
                .prepare_cached("INSERT INTO accounts (qq) VALUES (?1) RETURNING id")?
                .query_row([qq], |row| row.get(0))?,
        };
        self.accounts.insert(qq.to_owned(), id);

        Ok(id)
    }

    fn conversation(&mut self, account_id: i64, message: &NewMessage) -> Result<i64> {
        let key = &message.conversation;
        let name = &message.conversation_name;
        let memo_key = (account_id, key.kind, key.stable_id.clone());
        let found = match self.conversations.get(&memo_key) {
            Some(known) => Some(known.clone()),
            None => self
                .tx
                .prepare_cached(
                    "SELECT id, name FROM conversations \
                     WHERE account_id = ?1 AND kind = ?2 AND stable_id = ?3",
                )?
                .query_row(
                    params![account_id, key.kind.as_str(), key.stable_id],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()?,
        };

        let id = match found {
            Some((id, stored)) if stored == *name => id,
            Some((id, _)) => {
                self.tx
                    .prepare_cached("UPDATE conversations SET name = ?2 WHERE id = ?1")?
                    .execute(params![id, name])?;
                id
            }
            None => self
                .tx
                .prepare_cached(
                    "INSERT INTO conversations (account_id, kind, stable_id, name) \
                     VALUES (?1, ?2, ?3, ?4) RETURNING id",
                )?
                .query_row(
                    params![account_id, key.kind.as_str(), key.stable_id, name],
                    |row| row.get(0),
                )?,
        };
        self.conversations.insert(memo_key, (id, name.clone()));

        Ok(id)
    }

    fn contact(&mut self, account_id: i64, stable_id: &str, name: &str) -> Result<i64> {
        let memo_key = (account_id, stable_id.to_owned());
        let found = match self.contacts.get(&memo_key) {
            Some(known) => Some(known.clone()),
            None => self
                .tx
                .prepare_cached(
                    "SELECT id, name FROM contacts WHERE account_id = ?1 AND stable_id = ?2",
                )?
                .query_row(params![account_id, stable_id], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })
                .optional()?,
        };

        let id = match found {
            Some((id, stored)) if stored == name => id,
            Some((id, _)) => {
                self.tx
                    .prepare_cached("UPDATE contacts SET name = ?2 WHERE id = ?1")?
                    .execute(params![id, name])?;
                id
            }
            None => self
                .tx
                .prepare_cached(
                    "INSERT INTO contacts (account_id, stable_id, name) VALUES (?1, ?2, ?3) \
                     RETURNING id",
                )?
                .query_row(params![account_id, stable_id, name], |row| row.get(0))?,
        };
        self.contacts.insert(memo_key, (id, name.to_owned()));

        Ok(id)
    }
}

fn insert_outbox_event(tx: &Transaction<'_>, id: i64, state: &OutboxState) -> Result<()> {
    let at_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
        });
    tx.prepare_cached(
        "INSERT INTO outbox_events (message_id, state, reason, at_ms) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![id, state.as_str(), state.reason(), at_ms])?;

    Ok(())
}

/// 64-bit FNV-1a, as a signed SQLite integer. Stable across versions and platforms,
/// unlike `std`'s hasher, because the value is stored.
fn fnv1a(bytes: &[u8]) -> i64 {
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });

    i64::from_ne_bytes(hash.to_ne_bytes())
}

/// Reads a row of [`MESSAGE_COLUMNS`].
pub(crate) fn read_message(row: &Row<'_>) -> rusqlite::Result<StoredMessage> {
    let direction = match row.get_ref(5)?.as_str()? {
        "out" => Direction::Out,
        _ => Direction::In,
    };

    Ok(StoredMessage {
        id: row.get(0)?,
        account: row.get(1)?,
        conversation: ConversationKey {
            kind: read_kind(row, 2)?,
            stable_id: row.get(3)?,
        },
        conversation_name: row.get(4)?,
        direction,
        sender_id: row.get(6)?,
        sender_name: row.get(7)?,
        server_time: row.get(8)?,
        server_msg_id: row.get(9)?,
        text: row.get(10)?,
        segments_json: row.get(11)?,
        outbox_state: read_outbox_state(row, 12, 13)?,
    })
}

fn read_kind(row: &Row<'_>, index: usize) -> rusqlite::Result<ConversationKind> {
    let text = row.get_ref(index)?.as_str()?;
    ConversationKind::parse(text).ok_or_else(|| invalid_column(index, "conversation kind"))
}

fn read_outbox_state(
    row: &Row<'_>,
    state: usize,
    reason: usize,
) -> rusqlite::Result<Option<OutboxState>> {
    let Some(name) = row.get::<_, Option<String>>(state)? else {
        return Ok(None);
    };
    let reason = row.get(reason)?;

    OutboxState::parse(&name, reason)
        .map(Some)
        .ok_or_else(|| invalid_column(state, "outbox state"))
}

fn invalid_column(index: usize, what: &'static str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(index, Type::Text, format!("unknown {what}").into())
}

#[cfg(test)]
mod tests {
    use super::{
        ALL_CONVERSATION_ROWS_SQL, CONVERSATION_ROWS_SQL, CONVERSATIONS_SQL, FIRST_COPY_SQL,
        History, NEWEST_KEYS_SQL, NEWEST_OF_EACH_SQL, TRAILING_KEYS_SQL, echo_sql,
        failed_outbound_sql, fnv1a, messages_by_id_sql,
    };
    use crate::export::{EXPORT_ALL_SQL, EXPORT_CONVERSATION_ROWS_SQL, EXPORT_CONVERSATION_SQL};
    use crate::search::CANDIDATES_SQL;

    /// The one index on messages since migration 005, led by time.
    const INDEX: &str = "messages_dedupe";

    /// `EXPLAIN QUERY PLAN` of `sql` on a fresh database, one step per line.
    fn plan(sql: &str) -> String {
        let history = History::open_in_memory().unwrap();
        let mut statement = history
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap();
        // The plan does not depend on the values, but rusqlite wants one for each.
        let nulls = std::iter::repeat_n(rusqlite::types::Null, statement.parameter_count());
        let steps: Vec<String> = statement
            .query_map(rusqlite::params_from_iter(nulls), |row| row.get(3))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        steps.join("\n")
    }

    /// Asserts that no step of `plan` reads a whole table: every `SCAN` is of an index
    /// or of something that is not a stored table.
    fn assert_no_table_scan(plan: &str, allowed_scans: &[&str]) {
        for step in plan.lines().filter(|step| step.starts_with("SCAN ")) {
            assert!(
                allowed_scans
                    .iter()
                    .any(|allowed| step.starts_with(allowed)),
                "unexpected scan `{step}` in plan:\n{plan}"
            );
        }
    }

    #[test]
    fn a_conversations_newest_come_from_the_timeline_in_its_order() {
        let plan = plan(NEWEST_KEYS_SQL);

        assert_eq!(
            plan, "SEARCH timeline USING PRIMARY KEY (conversation_id=? AND server_time>?)",
            "the timeline's own order, with no sort"
        );
    }

    #[test]
    fn the_newest_of_each_conversation_is_one_step_into_the_timeline_each() {
        let plan = plan(NEWEST_OF_EACH_SQL);

        assert!(
            plan.contains(
                "SEARCH timeline USING PRIMARY KEY (conversation_id=? AND server_time=?)"
            ),
            "{plan}"
        );
        assert_no_table_scan(&plan, &["SCAN c"]);
    }

    #[test]
    fn the_messages_the_timeline_lacks_are_a_range_of_the_rowid() {
        let plan = plan(TRAILING_KEYS_SQL);

        assert!(
            plan.starts_with("SEARCH messages USING INTEGER PRIMARY KEY (rowid>?)"),
            "{plan}"
        );
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
        assert_no_table_scan(&plan, &[]);
    }

    #[test]
    fn listed_messages_are_loaded_by_id() {
        let plan = plan(&messages_by_id_sql());

        assert!(
            plan.contains("SEARCH m USING INTEGER PRIMARY KEY (rowid=?)"),
            "{plan}"
        );
        assert_no_table_scan(&plan, &["SCAN json_each"]);
        // A conversation's last time: one row of its totals.
        let last_time = "SEARCH t USING INTEGER PRIMARY KEY (rowid=?) LEFT-JOIN";
        let rows = self::plan(CONVERSATION_ROWS_SQL);
        assert!(
            rows.contains(
                "SEARCH c USING COVERING INDEX sqlite_autoindex_conversations_1 \
                 (account_id=? AND kind=? AND stable_id=?)"
            ),
            "{rows}"
        );
        assert!(rows.contains(last_time), "{rows}");
        assert_no_table_scan(&rows, &[]);
        // Every conversation row, for the listing of all conversations: a small table.
        let all = self::plan(ALL_CONVERSATION_ROWS_SQL);
        assert!(all.contains(last_time), "{all}");
        assert_no_table_scan(&all, &["SCAN c"]);
    }

    #[test]
    fn the_conversation_list_reads_totals_not_messages() {
        let plan = plan(CONVERSATIONS_SQL);

        assert!(!plan.contains("messages"), "{plan}");
        assert!(
            plan.contains("SEARCH t USING INTEGER PRIMARY KEY (rowid=?) LEFT-JOIN"),
            "{plan}"
        );
        assert_no_table_scan(&plan, &["SCAN c"]);
    }

    #[test]
    fn a_duplicates_first_copy_is_found_by_the_whole_key() {
        let plan = plan(FIRST_COPY_SQL);

        assert_eq!(
            plan,
            format!(
                "SEARCH messages USING INDEX {INDEX} (server_time=? AND conversation_id=? \
                 AND sender_id=? AND <expr>=? AND text_hash=?)"
            )
        );
    }

    #[test]
    fn an_echo_and_a_retry_look_only_among_their_conversations_open_sends() {
        let echo = plan(&echo_sql());
        let retry = plan(&failed_outbound_sql());

        for plan in [&echo, &retry] {
            assert!(
                plan.contains("SEARCH m USING INDEX messages_open_outbox (conversation_id=?)"),
                "{plan}"
            );
            assert_no_table_scan(plan, &[]);
        }
        assert!(
            echo.contains("SEARCH e USING INDEX outbox_events_by_message (message_id=?)"),
            "{echo}"
        );
    }

    #[test]
    fn exports_sort_keys_from_the_index_not_whole_rows() {
        let one = plan(EXPORT_CONVERSATION_SQL);
        let rows = plan(EXPORT_CONVERSATION_ROWS_SQL);
        let all = plan(EXPORT_ALL_SQL);

        assert_eq!(
            one, "SEARCH timeline USING PRIMARY KEY (conversation_id=?)",
            "the timeline's own order, with no sort"
        );
        assert_no_table_scan(&rows, &["SCAN conversations USING COVERING INDEX"]);
        // The whole history is read, from the index alone.
        assert!(
            all.starts_with(&format!("SCAN messages USING COVERING INDEX {INDEX}")),
            "{all}"
        );
    }

    #[test]
    fn search_candidates_are_loaded_by_id() {
        let plan = plan(CANDIDATES_SQL);

        assert!(
            plan.contains("SEARCH messages USING INTEGER PRIMARY KEY (rowid=?)"),
            "{plan}"
        );
        assert_no_table_scan(&plan, &["SCAN messages_fts VIRTUAL TABLE"]);
    }

    #[test]
    fn fnv1a_matches_the_reference_values() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325_u64 as i64);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c_u64 as i64);
    }
}
