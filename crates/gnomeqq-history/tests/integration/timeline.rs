//! The timeline (migration 005): every listing, the conversation list and exports hold
//! each stored message exactly once, in (server time, id) order, whatever part of the
//! history the timeline has caught up with, on odd data, after a migration from version
//! 4, and while other handles write the same file.
//!
//! The expected answers come from the messages table itself, read through a plain
//! SQLite connection that knows nothing of the timeline, or from a formula of the
//! message number where another thread is writing.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use gnomeqq_history::{
    ConversationKey, ConversationKind, ConversationSummary, Direction, History, INDEX_LAG_BOUND,
    NewMessage, OutboxState, SCHEMA_VERSION,
};
use rusqlite::{Connection, OptionalExtension};

use crate::support::{ACCOUNT, TempDir, database_at_version, friend, group, inbound, outbound};

/// A second account sharing the file.
const OTHER_ACCOUNT: &str = "2400000002";

fn discussion() -> ConversationKey {
    ConversationKey::new(ConversationKind::Discussion, "discussion:700001")
}

fn temporary() -> ConversationKey {
    ConversationKey::new(ConversationKind::Temporary, "temp:3100000009")
}

/// A key no message is ever written to.
fn nobody() -> ConversationKey {
    ConversationKey::new(ConversationKind::Friend, "qq:3199999999")
}

/// A deterministic pseudo-random sequence, so a failure replays.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[usize::try_from(self.below(items.len() as u64)).unwrap()]
    }
}

/// An inbound message of `account` in `conversation`.
fn message_in(
    account: &str,
    conversation: &ConversationKey,
    time: i64,
    msg_id: i64,
    text: &str,
) -> NewMessage {
    NewMessage {
        account: account.to_owned(),
        conversation: conversation.clone(),
        conversation_name: format!("{} {}", conversation.kind.as_str(), conversation.stable_id),
        ..inbound(time, msg_id, text)
    }
}

/// A message we write from `account` in `conversation`.
fn message_out(account: &str, conversation: &ConversationKey, time: i64, text: &str) -> NewMessage {
    NewMessage {
        account: account.to_owned(),
        conversation: conversation.clone(),
        conversation_name: format!("{} {}", conversation.kind.as_str(), conversation.stable_id),
        sender_id: format!("qq:{account}"),
        ..outbound(time, text)
    }
}

/// The answers the store should give, read from the messages table alone.
struct Oracle(Connection);

impl Oracle {
    fn open(path: &Path) -> Self {
        Self(Connection::open(path).unwrap())
    }

    /// `History::messages`, by hand: (server time, id), oldest first.
    fn messages(
        &self,
        conversation: Option<&ConversationKey>,
        since: Option<i64>,
        limit: usize,
    ) -> Vec<(i64, i64)> {
        let (kind, stable_id) = match conversation {
            Some(key) => (Some(key.kind.as_str()), Some(key.stable_id.as_str())),
            None => (None, None),
        };
        let mut keys: Vec<(i64, i64)> = self
            .0
            .prepare(
                "SELECT m.server_time, m.id FROM messages m \
                 JOIN conversations c ON c.id = m.conversation_id \
                 WHERE (?1 IS NULL OR (c.kind = ?1 AND c.stable_id = ?2)) \
                 AND m.server_time >= ?3 \
                 ORDER BY m.server_time DESC, m.id DESC LIMIT ?4",
            )
            .unwrap()
            .query_map(
                rusqlite::params![
                    kind,
                    stable_id,
                    since.unwrap_or(i64::MIN),
                    i64::try_from(limit).unwrap_or(i64::MAX)
                ],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        keys.reverse();
        keys
    }

    /// `History::conversations`, by hand.
    fn conversations(&self) -> Vec<ConversationSummary> {
        self.0
            .prepare(
                "SELECT a.qq, c.kind, c.stable_id, c.name, max(m.server_time), count(*) \
                 FROM messages m JOIN conversations c ON c.id = m.conversation_id \
                 JOIN accounts a ON a.id = c.account_id \
                 GROUP BY c.id ORDER BY max(m.server_time) DESC, c.id DESC",
            )
            .unwrap()
            .query_map([], |row| {
                Ok(ConversationSummary {
                    account: row.get(0)?,
                    key: ConversationKey {
                        kind: ConversationKind::parse(&row.get::<_, String>(1)?).unwrap(),
                        stable_id: row.get(2)?,
                    },
                    name: row.get(3)?,
                    last_time: row.get(4)?,
                    message_count: row.get::<_, i64>(5)?.unsigned_abs(),
                })
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// What the timeline and the totals should hold: every message up to the mark.
    fn assert_timeline_matches_the_mark(&self) {
        let mark: i64 = self
            .0
            .query_row(
                "SELECT indexed_up_to FROM index_progress WHERE id = 0",
                [],
                |row| row.get(0),
            )
            .unwrap();
        let query = |sql: &str| -> Vec<(i64, i64, i64)> {
            self.0
                .prepare(sql)
                .unwrap()
                .query_map([mark], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        assert_eq!(
            query(
                "SELECT conversation_id, server_time, message_id FROM timeline \
                 WHERE ?1 = ?1 ORDER BY 1, 2, 3"
            ),
            query(
                "SELECT conversation_id, server_time, id FROM messages WHERE id <= ?1 \
                 ORDER BY 1, 2, 3"
            ),
            "the timeline holds exactly the messages up to the mark {mark}"
        );
        assert_eq!(
            query(
                "SELECT conversation_id, last_time, message_count FROM conversation_totals \
                 WHERE ?1 = ?1 ORDER BY 1"
            ),
            query(
                "SELECT conversation_id, max(server_time), count(*) FROM messages \
                 WHERE id <= ?1 GROUP BY conversation_id ORDER BY 1"
            ),
            "the totals count exactly the messages up to the mark {mark}"
        );
    }
}

/// Message ids of a JSON Lines export, in the order written.
fn export_ids(history: &History, conversation: Option<&ConversationKey>) -> Vec<i64> {
    let mut out = Vec::new();
    let written = history.export_jsonl(&mut out, conversation).unwrap();
    let ids: Vec<i64> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line).unwrap()["id"]
                .as_i64()
                .unwrap()
        })
        .collect();
    assert_eq!(
        written,
        ids.len() as u64,
        "the count returned is what was written"
    );
    ids
}

/// Every listing, the conversation list and every export agree with the messages table.
fn assert_agrees_with_the_table(history: &History, oracle: &Oracle, context: &str) {
    let conversations = [
        None,
        Some(group()),
        Some(friend()),
        Some(discussion()),
        Some(temporary()),
        Some(nobody()),
    ];
    let sinces = [
        None,
        Some(i64::MIN),
        Some(1_000),
        Some(1_050),
        Some(i64::MAX),
    ];
    for conversation in &conversations {
        for since in sinces {
            for limit in [1, 2, 40, usize::MAX] {
                let listed = history
                    .messages(conversation.as_ref(), since, limit)
                    .unwrap();
                let keys: Vec<(i64, i64)> = listed
                    .iter()
                    .map(|message| (message.server_time, message.id))
                    .collect();
                assert_eq!(
                    keys,
                    oracle.messages(conversation.as_ref(), since, limit),
                    "{context}: messages({conversation:?}, {since:?}, {limit})"
                );
                if let Some(key) = conversation {
                    assert!(listed.iter().all(|message| message.conversation == *key));
                }
            }
            assert!(
                history
                    .messages(conversation.as_ref(), since, 0)
                    .unwrap()
                    .is_empty()
            );
        }
        let everything: Vec<i64> = oracle
            .messages(conversation.as_ref(), None, usize::MAX)
            .into_iter()
            .map(|(_, id)| id)
            .collect();
        assert_eq!(
            export_ids(history, conversation.as_ref()),
            everything,
            "{context}: export of {conversation:?}"
        );
        let mut text = Vec::new();
        let lines = history
            .export_txt(&mut text, conversation.as_ref())
            .unwrap();
        assert_eq!(lines, everything.len() as u64);
    }
    assert_eq!(
        history.conversations().unwrap(),
        oracle.conversations(),
        "{context}: conversations()"
    );
}

/// Server times to draw from: ties, the extremes, and late arrivals.
const TIMES: &[i64] = &[
    i64::MIN,
    i64::MIN + 1,
    -7,
    0,
    1_000,
    1_000,
    1_000,
    1_001,
    1_049,
    1_050,
    1_050,
    1_051,
    2_000,
    i64::MAX - 1,
    i64::MAX,
    i64::MAX,
];

#[test]
fn every_mix_of_writes_and_partial_catch_ups_lists_each_message_once_in_order() {
    let dir = TempDir::new("timeline-model");
    let mut history = History::open(dir.db()).unwrap();
    let oracle = Oracle::open(&dir.db());
    let mut rng = Lcg(0x5eed_0005);
    let keys = [group(), friend(), discussion(), temporary()];
    let accounts = [ACCOUNT, OTHER_ACCOUNT];
    let mut sent_inbound: Vec<NewMessage> = Vec::new();
    let mut sent_outbound: Vec<(i64, NewMessage)> = Vec::new();
    let mut next_msg_id = 1;

    assert_agrees_with_the_table(&history, &oracle, "empty");
    for step in 0..150 {
        let op = rng.below(100);
        let what = if op < 40 {
            let size = 1 + rng.below(30);
            let mut batch = Vec::new();
            let mut expect_new = Vec::new();
            for _ in 0..size {
                if !sent_inbound.is_empty() && rng.below(10) == 0 {
                    // A redelivery: the first copy's id comes back.
                    batch.push(rng.pick(&sent_inbound).clone());
                    expect_new.push(false);
                    continue;
                }
                let time = *rng.pick(TIMES);
                let time = if rng.below(3) == 0 {
                    1_000 + i64::try_from(rng.below(60)).unwrap()
                } else {
                    time
                };
                let account = *rng.pick::<&str>(&accounts);
                let message = message_in(
                    account,
                    rng.pick(&keys),
                    time,
                    next_msg_id,
                    &format!("消息 word{next_msg_id} 第{next_msg_id}条"),
                );
                next_msg_id += 1;
                sent_inbound.push(message.clone());
                batch.push(message);
                expect_new.push(true);
            }
            let inserted = history.insert_inbound_batch(&batch).unwrap();
            let new: Vec<bool> = inserted.iter().map(|inserted| inserted.is_new()).collect();
            assert_eq!(new, expect_new);
            format!("inbound batch of {size}")
        } else if op < 55 {
            let account = *rng.pick::<&str>(&accounts);
            let message = message_out(
                account,
                rng.pick(&keys),
                *rng.pick(TIMES),
                &format!("回复 reply{step}"),
            );
            let id = history.insert_outbound(&message).unwrap();
            sent_outbound.push((id, message));
            "outbound".to_owned()
        } else if op < 65 && !sent_outbound.is_empty() {
            let (id, message) = rng.pick(&sent_outbound).clone();
            let not_before = *rng.pick(TIMES);
            let confirmed = history
                .confirm_echo(
                    &message.account,
                    &message.conversation,
                    &message.text,
                    not_before,
                )
                .unwrap();
            if let Some(confirmed) = confirmed {
                assert_eq!(confirmed, id, "each outbound text is unique");
                assert_eq!(
                    history.message(id).unwrap().unwrap().outbox_state,
                    Some(OutboxState::Confirmed)
                );
            }
            format!("echo of {id}")
        } else if op < 75 && !sent_outbound.is_empty() {
            let (id, _) = rng.pick(&sent_outbound).clone();
            let state = rng
                .pick(&[
                    OutboxState::Accepted,
                    OutboxState::Unconfirmed,
                    OutboxState::Failed("timeout".to_owned()),
                    OutboxState::Confirmed,
                ])
                .clone();
            history.set_outbox_state(id, &state).unwrap();
            format!("state of {id}")
        } else if op < 95 {
            let rows = usize::try_from(rng.below(25)).unwrap();
            let before = history.unindexed().unwrap();
            let indexed = history.index_pending(rows).unwrap();
            assert_eq!(indexed as u64, before.min(rows as u64));
            assert_eq!(history.unindexed().unwrap(), before - indexed as u64);
            format!("index_pending({rows})")
        } else if !sent_inbound.is_empty() {
            // A search catches everything up first, and finds what was stored last.
            let newest = sent_inbound.last().unwrap();
            let word = format!("第{}条", newest.server_msg_id.unwrap());
            let hits = history.search(&word, 10).unwrap();
            assert!(
                hits.iter().any(|hit| hit.message.text == newest.text),
                "search for {word}"
            );
            assert_eq!(history.unindexed().unwrap(), 0);
            "search".to_owned()
        } else {
            "nothing".to_owned()
        };

        // Each listing reads the rows as they are now, outbox states included.
        for message in history.messages(None, None, usize::MAX).unwrap() {
            assert_eq!(history.message(message.id).unwrap(), Some(message));
        }
        assert_agrees_with_the_table(&history, &oracle, &format!("step {step}: {what}"));
        oracle.assert_timeline_matches_the_mark();
    }
    history.index_pending(usize::MAX).unwrap();
    assert_agrees_with_the_table(&history, &oracle, "all caught up");
    oracle.assert_timeline_matches_the_mark();
}

#[test]
fn conversations_with_no_messages_are_left_out_of_every_listing() {
    let dir = TempDir::new("timeline-empty-conversations");
    let mut history = History::open(dir.db()).unwrap();
    let oracle = Oracle::open(&dir.db());
    history
        .insert_inbound_batch(&[
            message_in(ACCOUNT, &group(), 1_000, 1, "一"),
            message_in(OTHER_ACCOUNT, &friend(), 5, 2, "二"),
        ])
        .unwrap();
    // Conversation rows that hold no message (the store never leaves one, but a file
    // may hold them): one per account, of a key with no message at all, and one more of
    // a key that another account's row holds messages of.
    oracle
        .0
        .execute_batch(
            "INSERT INTO conversations (account_id, kind, stable_id, name) \
             SELECT id, 'discussion', 'discussion:700001', 'empty' FROM accounts;
             INSERT INTO conversations (account_id, kind, stable_id, name) \
             SELECT id, 'friend', 'qq:3100000001', 'Bob' FROM accounts WHERE qq = '2400000001';",
        )
        .unwrap();

    assert_agrees_with_the_table(&history, &oracle, "before catching up");
    assert!(
        history
            .messages(Some(&discussion()), None, 10)
            .unwrap()
            .is_empty()
    );
    assert_eq!(history.conversations().unwrap().len(), 2);
    history.index_pending(usize::MAX).unwrap();
    assert_agrees_with_the_table(&history, &oracle, "after catching up");
}

#[test]
fn a_writer_that_reaches_the_lag_bound_catches_up_itself_and_loses_nothing() {
    let dir = TempDir::new("timeline-lag-bound");
    let mut history = History::open(dir.db()).unwrap();
    let oracle = Oracle::open(&dir.db());
    let keys = [group(), friend(), discussion()];
    let bound = i64::try_from(INDEX_LAG_BOUND).unwrap();
    // Times scattered over 97 seconds, so the trailing rows interleave with the timeline.
    let message = |n: i64| {
        message_in(
            if n % 5 == 0 { OTHER_ACCOUNT } else { ACCOUNT },
            &keys[usize::try_from(n % 3).unwrap()],
            1_000 + (n * 7_919) % 97,
            n,
            &format!("消息{n}"),
        )
    };
    let batch = |range: std::ops::Range<i64>| -> Vec<NewMessage> { range.map(message).collect() };

    // One short of the bound: everything trails.
    history.insert_inbound_batch(&batch(1..bound - 5)).unwrap();
    let id = history
        .insert_outbound(&message_out(ACCOUNT, &friend(), 1_010, "差一点"))
        .unwrap();
    assert_eq!(id, bound - 5);
    assert_eq!(history.unindexed().unwrap(), INDEX_LAG_BOUND - 5);
    assert_agrees_with_the_table(&history, &oracle, "just under the bound");

    // The batch that reaches it is indexed with everything before it.
    history
        .insert_inbound_batch(&batch(bound..bound + 5))
        .unwrap();
    assert_eq!(history.unindexed().unwrap(), 0);
    oracle.assert_timeline_matches_the_mark();
    assert_agrees_with_the_table(&history, &oracle, "caught up by the writer");

    // An outbound message that reaches it does the same.
    history
        .insert_inbound_batch(&batch(bound + 5..2 * bound + 4))
        .unwrap();
    assert_eq!(history.unindexed().unwrap(), INDEX_LAG_BOUND - 1);
    history
        .insert_outbound(&message_out(ACCOUNT, &group(), i64::MIN, "最早"))
        .unwrap();
    assert_eq!(history.unindexed().unwrap(), 0);
    oracle.assert_timeline_matches_the_mark();
    assert_agrees_with_the_table(&history, &oracle, "caught up by an outbound message");
}

/// Builds a file as version 4 left it: two accounts holding the same group, a friend,
/// an empty discussion, ties, the extreme times, outbox rows (no hash) in every state,
/// and the search index up to `indexed_up_to`. Returns the inbound messages written.
fn version_4_file(path: &Path, indexed_up_to: i64) -> Vec<NewMessage> {
    let conn = database_at_version(path, 4);
    conn.execute_batch(
        "INSERT INTO accounts (id, qq) VALUES (1, '2400000001'), (2, '2400000002');
         INSERT INTO conversations (id, account_id, kind, stable_id, name) VALUES
             (1, 1, 'group', 'group:600001', '开发群'),
             (2, 2, 'group', 'group:600001', '开发群'),
             (3, 1, 'friend', 'qq:3100000001', 'Bob'),
             (4, 1, 'discussion', 'discussion:700001', '空的');
         INSERT INTO contacts (id, account_id, stable_id, name) VALUES
             (1, 1, 'qq:3100000002', 'Alice'),
             (2, 2, 'qq:3100000002', 'Alice'),
             (3, 1, 'qq:2400000001', 'Me');",
    )
    .unwrap();
    let times = [
        1_000,
        1_000,
        i64::MAX,
        1_000,
        i64::MIN,
        999,
        1_001,
        i64::MAX,
        1_000,
        i64::MIN,
        0,
        1_001,
    ];
    let mut written = Vec::new();
    let mut insert = conn
        .prepare(
            "INSERT INTO messages (conversation_id, direction, sender_id, server_time, \
             server_msg_id, text, text_hash, segments_json, outbox_state, outbox_reason) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, '[]', ?8, ?9)",
        )
        .unwrap();
    let outbox_states = [
        (Some("queued"), None),
        (Some("accepted"), None),
        (Some("unconfirmed"), None),
        (Some("failed"), Some("timeout")),
        (Some("confirmed"), None),
    ];
    for n in 0..60_i64 {
        let time = times[usize::try_from(n).unwrap() % times.len()];
        let text = format!("旧消息{n} old{n}");
        let id = if n % 6 == 5 {
            // Ours, to Bob or to the group, in one of the outbox states.
            let (state, reason) = outbox_states[usize::try_from(n / 6).unwrap() % 5];
            let conversation = if n % 12 == 5 { 3 } else { 1 };
            insert
                .execute(rusqlite::params![
                    conversation,
                    "out",
                    3,
                    time,
                    None::<i64>,
                    text,
                    None::<i64>,
                    state,
                    reason
                ])
                .unwrap();
            conn.last_insert_rowid()
        } else {
            let account = if n % 3 == 0 { 2 } else { 1 };
            let conversation = match n % 4 {
                0 if account == 1 => 3,
                _ => account,
            };
            insert
                .execute(rusqlite::params![
                    conversation,
                    "in",
                    account,
                    time,
                    n,
                    text,
                    text_hash(&text),
                    None::<&str>,
                    None::<&str>
                ])
                .unwrap();
            let key = if conversation == 3 { friend() } else { group() };
            let mut message = message_in(
                if account == 2 { OTHER_ACCOUNT } else { ACCOUNT },
                &key,
                time,
                n,
                &text,
            );
            message.conversation_name = if conversation == 3 {
                "Bob"
            } else {
                "开发群"
            }
            .to_owned();
            message.segments_json = "[]".to_owned();
            written.push(message);
            conn.last_insert_rowid()
        };
        if id <= indexed_up_to {
            conn.execute(
                "INSERT INTO messages_fts (rowid, body) VALUES (?1, ?2)",
                rusqlite::params![id, gnomeqq_history::search_form(&text)],
            )
            .unwrap();
        }
    }
    conn.execute(
        "UPDATE search_progress SET indexed_up_to = ?1",
        [indexed_up_to],
    )
    .unwrap();
    written
}

/// 64-bit FNV-1a of `text`, as the store keys server-delivered rows.
fn text_hash(text: &str) -> i64 {
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    i64::from_ne_bytes(hash.to_ne_bytes())
}

#[test]
fn a_version_4_file_with_two_accounts_ties_and_extreme_times_lists_every_message_once() {
    for indexed_up_to in [0, 23, 60] {
        let dir = TempDir::new("timeline-from-v4");
        let written = version_4_file(&dir.db(), indexed_up_to);

        let mut history = History::open(dir.db()).unwrap();
        let oracle = Oracle::open(&dir.db());
        let context = format!("indexed up to {indexed_up_to}");

        assert_eq!(history.schema_version().unwrap(), SCHEMA_VERSION);
        assert_eq!(
            history.unindexed().unwrap(),
            u64::try_from(60 - indexed_up_to).unwrap()
        );
        oracle.assert_timeline_matches_the_mark();
        assert_agrees_with_the_table(&history, &oracle, &context);
        assert_eq!(history.conversations().unwrap().len(), 3, "{context}");
        let extremes = history
            .messages(Some(&group()), Some(i64::MAX), 100)
            .unwrap();
        assert!(!extremes.is_empty());
        assert!(
            extremes
                .iter()
                .all(|message| message.server_time == i64::MAX)
        );
        // Every inbound message written by version 4 is refused a second time.
        let again = history.insert_inbound_batch(&written).unwrap();
        assert!(again.iter().all(|inserted| !inserted.is_new()), "{context}");
        // Search sees messages below and above the old mark.
        for n in [0, 59] {
            let hits = history.search(&format!("old{n}"), 10).unwrap();
            assert!(
                hits.iter()
                    .any(|hit| hit.message.text == format!("旧消息{n} old{n}")),
                "{context}: search for old{n}"
            );
        }
        assert_eq!(history.unindexed().unwrap(), 0);
        oracle.assert_timeline_matches_the_mark();
        assert_agrees_with_the_table(&history, &oracle, &format!("{context}, searched"));

        // The outbox keeps working on rows written before the upgrade.
        let queued: i64 = oracle
            .0
            .query_row(
                "SELECT id FROM messages WHERE outbox_state = 'queued' AND conversation_id = 1",
                [],
                |row| row.get(0),
            )
            .optional()
            .unwrap()
            .unwrap_or_else(|| panic!("{context}: a queued group message"));
        let text = history.message(queued).unwrap().unwrap().text;
        assert_eq!(
            history
                .confirm_echo(ACCOUNT, &group(), &text, i64::MIN)
                .unwrap(),
            Some(queued)
        );
        let new_id = history
            .insert_outbound(&message_out(OTHER_ACCOUNT, &group(), 1_000, "升级以后"))
            .unwrap();
        history
            .set_outbox_state(new_id, &OutboxState::Failed("offline".to_owned()))
            .unwrap();
        history
            .insert_inbound_batch(&[
                message_in(ACCOUNT, &friend(), i64::MIN, 1_000, "新的 new"),
                message_in(OTHER_ACCOUNT, &group(), 1_000, 1_001, "同一秒 same second"),
            ])
            .unwrap();
        assert_agrees_with_the_table(&history, &oracle, &format!("{context}, written"));
        history.index_pending(usize::MAX).unwrap();
        oracle.assert_timeline_matches_the_mark();
        assert_agrees_with_the_table(&history, &oracle, &format!("{context}, caught up"));
        let listed = history.messages(Some(&group()), None, usize::MAX).unwrap();
        assert!(listed.iter().any(|message| message.id == new_id
            && message.direction == Direction::Out
            && message.outbox_state == Some(OutboxState::Failed("offline".to_owned()))));
    }
}

// --- Two handles on one file -------------------------------------------------------

/// Messages the writer thread stores, numbered from 1: message `n` gets id `n`.
const WRITTEN: i64 = 2_000;
/// Messages per poll batch.
const BATCH: i64 = 20;

/// The account and conversation of message `n`: five conversation rows, one key held
/// by both accounts.
fn planned_place(n: i64) -> (&'static str, ConversationKey) {
    match n % 7 {
        0 | 1 => (ACCOUNT, group()),
        2 => (OTHER_ACCOUNT, group()),
        3 | 4 => (ACCOUNT, friend()),
        5 => (OTHER_ACCOUNT, discussion()),
        _ => (ACCOUNT, temporary()),
    }
}

/// Message `n`'s server time: scattered over a few minutes, so late ones land among
/// earlier ones, with many ties, and now and then one of the extremes.
fn planned_time(n: i64) -> i64 {
    match n % 101 {
        0 => i64::MIN,
        50 => i64::MAX,
        _ => 1_000 + (n * 7_919) % 131,
    }
}

fn planned(n: i64) -> NewMessage {
    let (account, key) = planned_place(n);
    if n % 97 == 0 {
        message_out(account, &key, planned_time(n), &format!("回复{n}"))
    } else {
        message_in(
            account,
            &key,
            planned_time(n),
            n,
            &format!("消息{n} word{n}"),
        )
    }
}

/// What `messages(conversation, since, limit)` holds once messages 1..=`stored` are
/// stored: (server time, id), oldest first.
fn planned_listing(
    stored: i64,
    conversation: Option<&ConversationKey>,
    since: Option<i64>,
    limit: usize,
) -> Vec<(i64, i64)> {
    let mut keys: Vec<(i64, i64)> = (1..=stored)
        .filter(|&n| conversation.is_none_or(|key| planned_place(n).1 == *key))
        .map(|n| (planned_time(n), n))
        .filter(|&(time, _)| since.is_none_or(|since| time >= since))
        .collect();
    keys.sort_unstable();
    keys.split_off(keys.len().saturating_sub(limit))
}

/// What `conversations()` returns once messages 1..=`stored` are stored.
fn planned_conversations(
    stored: i64,
    conversation_ids: &[(String, ConversationKey, i64)],
) -> Vec<ConversationSummary> {
    let mut summaries: Vec<(i64, ConversationSummary)> = conversation_ids
        .iter()
        .filter_map(|(account, key, row)| {
            let times: Vec<i64> = (1..=stored)
                .filter(|&n| {
                    let (a, k) = planned_place(n);
                    a == account && k == *key
                })
                .map(planned_time)
                .collect();
            let last_time = *times.iter().max()?;
            Some((
                *row,
                ConversationSummary {
                    account: account.clone(),
                    key: key.clone(),
                    name: format!("{} {}", key.kind.as_str(), key.stable_id),
                    last_time,
                    message_count: times.len() as u64,
                },
            ))
        })
        .collect();
    summaries.sort_by(|(a_row, a), (b_row, b)| (b.last_time, b_row).cmp(&(a.last_time, a_row)));
    summaries.into_iter().map(|(_, summary)| summary).collect()
}

/// Messages stored so far, as a plain connection sees them (ids have no gaps: the
/// writer stores only new messages, and nothing is deleted).
fn stored(conn: &Connection) -> i64 {
    conn.query_row("SELECT ifnull(max(id), 0) FROM messages", [], |row| {
        row.get(0)
    })
    .unwrap()
}

/// Asserts that `got` is what some snapshot taken between `low` and `high` stored
/// messages holds, by `expected(stored)`.
fn assert_some_snapshot<T: PartialEq + std::fmt::Debug>(
    what: &str,
    low: i64,
    high: i64,
    got: &T,
    expected: impl Fn(i64) -> T,
) {
    assert!(
        (low..=high).any(|n| expected(n) == *got),
        "{what}: no snapshot between {low} and {high} stored messages holds {got:?}"
    );
}

#[test]
fn listings_on_one_handle_hold_each_message_once_while_another_handle_writes_and_indexes() {
    let dir = TempDir::new("timeline-two-handles");
    // Create the file and every conversation row first (as the writer will name them),
    // so the rows are known and message `n` gets id `n`.
    drop(History::open(dir.db()).unwrap());
    let oracle = Connection::open(dir.db()).unwrap();
    {
        let mut create = oracle
            .prepare(
                "INSERT INTO conversations (account_id, kind, stable_id, name) \
                 SELECT id, ?2, ?3, ?4 FROM accounts WHERE qq = ?1 \
                 ON CONFLICT DO NOTHING",
            )
            .unwrap();
        oracle
            .execute_batch(&format!(
                "INSERT INTO accounts (qq) VALUES ('{ACCOUNT}'), ('{OTHER_ACCOUNT}')"
            ))
            .unwrap();
        for n in 0..7 {
            let (account, key) = planned_place(n);
            let name = format!("{} {}", key.kind.as_str(), key.stable_id);
            create
                .execute(rusqlite::params![
                    account,
                    key.kind.as_str(),
                    key.stable_id,
                    name
                ])
                .unwrap();
        }
    }
    let rows: Vec<(String, ConversationKey, i64)> = oracle
        .prepare(
            "SELECT a.qq, c.kind, c.stable_id, c.id FROM conversations c \
             JOIN accounts a ON a.id = c.account_id",
        )
        .unwrap()
        .query_map([], |row| {
            Ok((
                row.get(0)?,
                ConversationKey {
                    kind: ConversationKind::parse(&row.get::<_, String>(1)?).unwrap(),
                    stable_id: row.get(2)?,
                },
                row.get(3)?,
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows.len(), 5);
    let done = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(240);

    let writer = {
        let path = dir.db();
        let done = Arc::clone(&done);
        let reads = Arc::clone(&reads);
        std::thread::spawn(move || {
            let mut history = History::open(&path).unwrap();
            let mut pending: Vec<NewMessage> = Vec::new();
            for n in 1..=WRITTEN {
                let message = planned(n);
                if message.direction == Direction::Out {
                    if !pending.is_empty() {
                        history.insert_inbound_batch(&pending).unwrap();
                        pending.clear();
                    }
                    assert_eq!(history.insert_outbound(&message).unwrap(), n);
                } else {
                    pending.push(message);
                }
                if pending.len() as i64 == BATCH {
                    let inserted = history.insert_inbound_batch(&pending).unwrap();
                    assert!(inserted.iter().all(|inserted| inserted.is_new()));
                    pending.clear();
                    let batches = n / BATCH;
                    // The background task, in chunks of varied size.
                    if batches % 3 == 0 {
                        history
                            .index_pending(usize::try_from(batches % 7 * 40).unwrap())
                            .unwrap();
                    }
                    // Let the reader keep up, so reads fall among the writes.
                    while reads.load(Ordering::Relaxed) < usize::try_from(batches / 2).unwrap()
                        && Instant::now() < deadline
                    {
                        std::thread::yield_now();
                    }
                }
            }
            if !pending.is_empty() {
                history.insert_inbound_batch(&pending).unwrap();
            }
            done.store(true, Ordering::SeqCst);
        })
    };
    // Search's catch-up is a writer too.
    let searcher = {
        let path = dir.db();
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            let history = History::open(&path).unwrap();
            let mut searches = 0;
            while !done.load(Ordering::SeqCst) {
                history.search("word1", 5).unwrap();
                searches += 1;
            }
            searches
        })
    };

    let history = History::open(dir.db()).unwrap();
    let mut iterations = 0;
    loop {
        let finished = done.load(Ordering::SeqCst);
        let low = stored(&oracle);

        let all = history.messages(None, None, usize::MAX).unwrap();
        let conversations = history.conversations().unwrap();
        let mut listings = Vec::new();
        for conversation in [None, Some(group()), Some(friend()), Some(temporary())] {
            for (since, limit) in [(None, 30), (Some(1_100), 7), (Some(i64::MAX), 3)] {
                listings.push((
                    conversation.clone(),
                    since,
                    limit,
                    history
                        .messages(conversation.as_ref(), since, limit)
                        .unwrap(),
                ));
            }
        }
        let exports = [
            (None, export_ids(&history, None)),
            (Some(group()), export_ids(&history, Some(&group()))),
            (
                Some(discussion()),
                export_ids(&history, Some(&discussion())),
            ),
        ];

        let high = stored(&oracle);
        let keys = |messages: &[gnomeqq_history::StoredMessage]| -> Vec<(i64, i64)> {
            messages.iter().map(|m| (m.server_time, m.id)).collect()
        };
        assert_some_snapshot("messages(None, None, all)", low, high, &keys(&all), |n| {
            planned_listing(n, None, None, usize::MAX)
        });
        assert_some_snapshot("conversations()", low, high, &conversations, |n| {
            planned_conversations(n, &rows)
        });
        for (conversation, since, limit, listed) in &listings {
            assert_some_snapshot(
                &format!("messages({conversation:?}, {since:?}, {limit})"),
                low,
                high,
                &keys(listed),
                |n| planned_listing(n, conversation.as_ref(), *since, *limit),
            );
        }
        for (conversation, ids) in &exports {
            assert_some_snapshot(
                &format!("export of {conversation:?}"),
                low,
                high,
                ids,
                |n| {
                    planned_listing(n, conversation.as_ref(), None, usize::MAX)
                        .into_iter()
                        .map(|(_, id)| id)
                        .collect()
                },
            );
        }

        iterations += 1;
        reads.fetch_add(1, Ordering::Relaxed);
        if finished {
            break;
        }
        assert!(Instant::now() < deadline, "the writer finishes in time");
    }
    writer.join().unwrap();
    let searches = searcher.join().unwrap();
    assert_eq!(stored(&oracle), WRITTEN);
    assert!(
        iterations > 10,
        "the reader ran among the writes ({iterations})"
    );
    assert!(searches > 0);
    let mut history = history;
    history.index_pending(usize::MAX).unwrap();
    Oracle(oracle).assert_timeline_matches_the_mark();
}
