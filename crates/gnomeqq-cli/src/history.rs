//! `history`, `search` and `export`: reading the message store, offline.
//!
//! Each account's messages live in `DATA_DIR/QQ/history.sqlite3`. These commands need no
//! server: they open the database of the one account in the data directory, or of
//! `--account QQ` when there are several.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};
use gnomeqq_history::{ConversationKey, History, StoredMessage, format_utc};

use crate::say;

/// Opens the history of `account`, or of the only account in `data_dir`.
pub fn open(data_dir: Option<&Path>, account: Option<u64>) -> anyhow::Result<History> {
    let data_dir = data_dir.context("no data directory: pass --data-dir")?;
    let qq = match account {
        Some(qq) => qq,
        None => {
            let mut accounts: Vec<u64> = std::fs::read_dir(data_dir)
                .map(|entries| {
                    entries
                        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
                        .filter(|qq| gnomeqq_core::places::history_path(data_dir, *qq).exists())
                        .collect()
                })
                .unwrap_or_default();
            accounts.sort_unstable();
            match accounts.as_slice() {
                [] => bail!(
                    "no history in {}: log in and receive messages first",
                    data_dir.display()
                ),
                [qq] => *qq,
                several => bail!(
                    "several accounts have a history ({}): choose one with --account",
                    several
                        .iter()
                        .map(u64::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }
        }
    };
    let path = gnomeqq_core::places::history_path(data_dir, qq);
    if !path.exists() {
        bail!("account {qq} has no history in {}", data_dir.display());
    }
    History::open(&path).with_context(|| format!("could not open {}", path.display()))
}

/// Finds a conversation by name or stable id.
pub fn find_conversation(history: &History, query: &str) -> anyhow::Result<ConversationKey> {
    let conversations = history.conversations()?;
    let matches: Vec<_> = conversations
        .iter()
        .filter(|c| c.name == query || c.key.stable_id == query)
        .collect();
    match matches.as_slice() {
        [one] => Ok(one.key.clone()),
        [] => bail!("no conversation named {query:?} in the history"),
        several => bail!(
            "{query:?} names several conversations ({}); use the stable id",
            several
                .iter()
                .map(|c| c.key.stable_id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// `--since`: `YYYY-MM-DD` (UTC midnight) or Unix seconds.
pub fn parse_since(text: &str) -> anyhow::Result<i64> {
    if let Ok(seconds) = text.parse::<i64>() {
        return Ok(seconds);
    }
    let parts: Vec<&str> = text.split('-').collect();
    let [year, month, day] = parts.as_slice() else {
        bail!("--since takes YYYY-MM-DD or Unix seconds, not {text:?}");
    };
    let (Ok(year), Ok(month), Ok(day)) =
        (year.parse::<i32>(), month.parse::<u8>(), day.parse::<u8>())
    else {
        bail!("--since takes YYYY-MM-DD or Unix seconds, not {text:?}");
    };
    // The calendar refuses the 30th of February as well as the 13th month and years
    // beyond ±9999.
    let date = time::Month::try_from(month)
        .and_then(|month| time::Date::from_calendar_date(year, month, day))
        .map_err(|_| anyhow::anyhow!("--since: no such date {text:?}"))?;
    Ok(date.midnight().assume_utc().unix_timestamp())
}

fn print_message(message: &StoredMessage) {
    let state = message
        .outbox_state
        .as_ref()
        .map(|s| format!(" [{}]", s.as_str()))
        .unwrap_or_default();
    say(&format!(
        "[{}] {} | {}: {}{state}",
        format_utc(message.server_time),
        message.conversation_name,
        message.sender_name,
        message.text.replace('\n', "\n    ")
    ));
}

/// `history [CONVERSATION] [--since DATE] [--json]`.
pub fn history(
    history: &History,
    conversation: Option<&str>,
    since: Option<&str>,
    limit: usize,
    json: bool,
) -> anyhow::Result<()> {
    let key = conversation
        .map(|c| find_conversation(history, c))
        .transpose()?;
    let since = since.map(parse_since).transpose()?;
    if key.is_none() && since.is_none() && !json {
        for summary in history.conversations()? {
            let count = match summary.message_count {
                1 => "1 message,".to_owned(),
                count => format!("{count} messages,"),
            };
            say(&format!(
                "{:<11} {:<28} {count:>16} last {}  ({})",
                summary.key.kind.as_str(),
                summary.name,
                format_utc(summary.last_time),
                summary.key.stable_id
            ));
        }
        return Ok(());
    }
    for message in history.messages(key.as_ref(), since, limit)? {
        if json {
            say(&serde_json::to_string(&message)?);
        } else {
            print_message(&message);
        }
    }
    Ok(())
}

/// `search QUERY [--limit N] [--json]`.
pub fn search(history: &History, query: &str, limit: usize, json: bool) -> anyhow::Result<()> {
    let hits = history.search(query, limit)?;
    for hit in &hits {
        if json {
            say(&serde_json::to_string(&serde_json::json!({
                "conversation": hit.conversation_name,
                "conversation_id": hit.message.conversation.stable_id,
                "time": hit.message.server_time,
                "from": hit.message.sender_name,
                "text": hit.message.text,
                "snippet": hit.snippet.text,
                "rank": hit.rank,
            }))?);
        } else {
            say(&format!(
                "[{}] {} | {}: {}",
                format_utc(hit.message.server_time),
                hit.conversation_name,
                hit.message.sender_name,
                hit.snippet.text.replace('\n', " ")
            ));
        }
    }
    if !json && hits.is_empty() {
        say("No messages match.");
    }
    Ok(())
}

/// `export [--format jsonl|txt] [CONVERSATION]` to stdout.
pub fn export(history: &History, conversation: Option<&str>, txt: bool) -> anyhow::Result<()> {
    let key = conversation
        .map(|c| find_conversation(history, c))
        .transpose()?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if txt {
        history.export_txt(&mut out, key.as_ref())?;
    } else {
        history.export_jsonl(&mut out, key.as_ref())?;
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_convert_both_ways() {
        assert_eq!(parse_since("1970-01-01").unwrap(), 0);
        assert_eq!(parse_since("2026-12-04").unwrap(), 1_796_342_400);
        assert_eq!(format_utc(1_796_342_400 + 3661), "2026-12-04 01:01:01 UTC");
        assert_eq!(parse_since("1500000000").unwrap(), 1_500_000_000);
    }

    #[test]
    fn bad_dates_are_refused_clearly() {
        for text in [
            "yesterday",
            "2026-13-01",
            "2026-12",
            "2026-12-40",
            "2026-02-30",
            "2026-00-10",
            "1000000000000000-01-01",
            "9223372036854775807-12-31",
            "-99999-01-01",
        ] {
            assert!(
                parse_since(text).unwrap_err().to_string().contains("since"),
                "{text}"
            );
        }
    }
}
