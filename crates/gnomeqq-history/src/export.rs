//! Exports: JSON Lines for programs, plain text for people.

use std::io::Write;

use serde::Serialize;

use crate::model::{ConversationKey, Direction, OutboxState, StoredMessage};
use crate::store::{Trailing, messages_by_id_sql, read_message};
use crate::{Error, History, Result};

/// The conversation rows of one conversation key, one per account that holds it.
pub(crate) const EXPORT_CONVERSATION_ROWS_SQL: &str =
    "SELECT id FROM conversations WHERE kind = ?1 AND stable_id = ?2";

/// The (server time, id) keys of one conversation row in the timeline, oldest first.
pub(crate) const EXPORT_CONVERSATION_SQL: &str = "SELECT server_time, message_id FROM timeline \
     WHERE conversation_id = ?1 ORDER BY server_time, message_id";

/// Every message id, oldest first.
pub(crate) const EXPORT_ALL_SQL: &str = "SELECT id FROM messages ORDER BY server_time, id";

/// Messages read per statement while exporting.
const EXPORT_CHUNK: usize = 500;

/// One line of a JSON Lines export.
#[derive(Serialize)]
struct ExportLine<'a> {
    id: i64,
    account: &'a str,
    conversation: &'a ConversationKey,
    conversation_name: &'a str,
    direction: Direction,
    sender_id: &'a str,
    sender_name: &'a str,
    time: i64,
    msg_id: Option<i64>,
    text: &'a str,
    segments: serde_json::Value,
    outbox_state: Option<&'a OutboxState>,
}

impl History {
    /// Writes the messages of one conversation (or all), oldest first, as JSON Lines:
    /// one object per line with `id`, `account`, `conversation` (`kind`, `stable_id`),
    /// `conversation_name`, `direction`, `sender_id`, `sender_name`, `time` (Unix
    /// seconds), `msg_id`, `text`, `segments` (the stored JSON) and `outbox_state`.
    /// Returns how many messages were written.
    pub fn export_jsonl(
        &self,
        writer: &mut impl Write,
        conversation: Option<&ConversationKey>,
    ) -> Result<u64> {
        self.for_each_message(conversation, |message| {
            let segments = serde_json::from_str(&message.segments_json)
                .unwrap_or_else(|_| serde_json::Value::String(message.segments_json.clone()));
            let line = ExportLine {
                id: message.id,
                account: &message.account,
                conversation: &message.conversation,
                conversation_name: &message.conversation_name,
                direction: message.direction,
                sender_id: &message.sender_id,
                sender_name: &message.sender_name,
                time: message.server_time,
                msg_id: message.server_msg_id,
                text: &message.text,
                segments,
                outbox_state: message.outbox_state.as_ref(),
            };
            serde_json::to_writer(&mut *writer, &line).map_err(std::io::Error::from)?;
            writer.write_all(b"\n")
        })
    }

    /// Writes the messages of one conversation (or all), oldest first, as text for
    /// people: `[YYYY-MM-DD HH:MM:SS UTC] conversation | sender: text`, later lines of a
    /// message indented, and unfinished or failed outbox states in brackets. Returns how
    /// many messages were written.
    pub fn export_txt(
        &self,
        writer: &mut impl Write,
        conversation: Option<&ConversationKey>,
    ) -> Result<u64> {
        self.for_each_message(conversation, |message| {
            let time = format_utc(message.server_time);
            let text = message.text.replace('\n', "\n    ");
            let state = match &message.outbox_state {
                Some(OutboxState::Failed(reason)) => format!(" [failed: {reason}]"),
                Some(state @ (OutboxState::Queued | OutboxState::Unconfirmed)) => {
                    format!(" [{}]", state.as_str())
                }
                _ => String::new(),
            };
            writeln!(
                writer,
                "[{time}] {} | {}: {text}{state}",
                message.conversation_name, message.sender_name
            )
        })
    }

    /// Calls `write` for every message of `conversation` (or all), oldest first.
    fn for_each_message(
        &self,
        conversation: Option<&ConversationKey>,
        mut write: impl FnMut(&StoredMessage) -> std::io::Result<()>,
    ) -> Result<u64> {
        // The order comes from keys alone, then the rows are read by id in chunks, so no
        // sort ever holds the history's text.
        let ids: Vec<i64> = match conversation {
            Some(key) => self.conversation_ids(key)?,
            None => self
                .conn
                .prepare(EXPORT_ALL_SQL)?
                .query_map([], |row| row.get(0))?
                .collect::<rusqlite::Result<_>>()?,
        };
        let mut statement = self.conn.prepare_cached(&messages_by_id_sql())?;
        let mut count = 0;
        // Each chunk is a run of the sorted ids, so sorted by itself it keeps the order.
        for chunk in ids.chunks(EXPORT_CHUNK) {
            let ids: Vec<String> = chunk.iter().map(i64::to_string).collect();
            let mut rows = statement.query([format!("[{}]", ids.join(","))])?;
            while let Some(row) = rows.next()? {
                write(&read_message(row)?).map_err(Error::Export)?;
                count += 1;
            }
        }

        Ok(count)
    }

    /// Every message id of one conversation key (all its accounts' rows), oldest first:
    /// the timeline's keys and the messages it does not reach yet, from one snapshot.
    fn conversation_ids(&self, key: &ConversationKey) -> Result<Vec<i64>> {
        let snapshot = self.conn.unchecked_transaction()?;
        let trailing = Trailing::read(&snapshot)?;
        let rows: Vec<i64> = snapshot
            .prepare(EXPORT_CONVERSATION_ROWS_SQL)?
            .query_map(rusqlite::params![key.kind.as_str(), key.stable_id], |row| {
                row.get(0)
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut keys: Vec<(i64, i64)> = Vec::new();
        let mut timeline = snapshot.prepare(EXPORT_CONVERSATION_SQL)?;
        for conversation_id in rows {
            let indexed =
                timeline.query_map([conversation_id], |row| Ok((row.get(0)?, row.get(1)?)))?;
            for key in indexed {
                keys.push(key?);
            }
            keys.extend(
                trailing
                    .keys(conversation_id)
                    .map(|key| (key.server_time, key.id)),
            );
        }
        // Already in order for one account's row and no trailing messages; several rows
        // or trailing messages interleave.
        keys.sort_unstable();

        Ok(keys.into_iter().map(|(_, id)| id).collect())
    }
}

/// `YYYY-MM-DD HH:MM:SS UTC` for Unix seconds (proleptic Gregorian calendar), for any
/// `i64`: a server may send any time.
pub fn format_utc(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let second_of_day = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let (hour, minute, second) = (
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60,
    );

    format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02} UTC")
}

/// Year, month and day of a count of days since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);

    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::format_utc;

    #[test]
    fn utc_times_format_as_calendar_dates() {
        assert_eq!(format_utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_utc(1_796_380_503), "2026-12-04 10:35:03 UTC");
        assert_eq!(format_utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(format_utc(-1), "1969-12-31 23:59:59 UTC");
    }
}
