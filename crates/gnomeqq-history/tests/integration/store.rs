//! Opening, migrations, deduplication, the outbox and reading history back.

use gnomeqq_history::{
    ConversationKey, ConversationKind, Direction, Error, History, Inserted, NewMessage,
    OutboxState, SCHEMA_VERSION,
};

use crate::support::{
    TempDir, database_at_version, friend, group, history_with, inbound, outbound,
};

#[test]
fn migrations_bring_an_empty_database_to_the_latest_schema() {
    let dir = TempDir::new("migrations");

    let history = History::open(dir.db()).unwrap();

    assert_eq!(history.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(SCHEMA_VERSION, 6);
    drop(history);
    let conn = rusqlite::Connection::open(dir.db()).unwrap();
    let version: u32 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |row| row.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let mut names: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'index') \
             AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'messages_fts_%' ORDER BY name",
        )
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    names.sort();
    assert_eq!(
        names,
        [
            "accounts",
            "contacts",
            "conversation_totals",
            "conversations",
            "index_progress",
            "messages",
            "messages_dedupe",
            "messages_fts",
            "messages_open_outbox",
            "outbox_events",
            "outbox_events_by_message",
            "send_schedule",
            "timeline",
        ]
    );
}

#[test]
fn a_version_1_database_keeps_its_index_and_search_sees_every_later_message() {
    let dir = TempDir::new("from-v1");
    {
        // A database as version 1 left it: one message, indexed when it was written.
        let conn = database_at_version(&dir.db(), 1);
        conn.execute_batch(
            "INSERT INTO accounts (id, qq) VALUES (1, '2400000001');
             INSERT INTO conversations (id, account_id, kind, stable_id, name) VALUES (1, 1, 'friend', 'qq:1', 'Bob');
             INSERT INTO contacts (id, account_id, stable_id, name) VALUES (1, 1, 'qq:1', 'Bob');
             INSERT INTO messages (id, conversation_id, direction, sender_id, server_time, text, text_hash, segments_json)
                 VALUES (1, 1, 'in', 1, 1, '旧消息 old', 1, '[]');
             INSERT INTO messages_fts (rowid, body) VALUES (1, ' 旧  消  息  old');",
        )
        .unwrap();
    }
    let mut history = History::open(dir.db()).unwrap();
    history
        .insert_inbound_batch(&[inbound(2, 2, "新消息 new")])
        .unwrap();

    let old = history.search("旧消息", 10).unwrap();
    let new = history.search("新消息", 10).unwrap();

    assert_eq!(history.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(old.len(), 1, "the version 1 index was kept");
    assert_eq!(
        new.len(),
        1,
        "a message written before any bulk indexing is found"
    );
}

#[test]
fn a_version_3_database_moves_to_the_timeline_and_keeps_every_message() {
    let dir = TempDir::new("from-v3");
    {
        // A database as version 3 left it, with its two indexes: migrations 001-003 only.
        let conn = database_at_version(&dir.db(), 3);
        conn.execute_batch(
            "INSERT INTO accounts (id, qq) VALUES (1, '2400000001');
             INSERT INTO conversations (id, account_id, kind, stable_id, name)
                 VALUES (1, 1, 'group', 'group:600001', '开发群'), (2, 1, 'friend', 'qq:3100000001', 'Bob');
             INSERT INTO contacts (id, account_id, stable_id, name) VALUES (1, 1, 'qq:3100000002', 'Alice');",
        )
        .unwrap();
    }
    let texts: Vec<String> = (1..=30).map(|n| format!("第{n}条 message {n}")).collect();
    let batch: Vec<NewMessage> = texts
        .iter()
        .zip(1_i64..)
        .map(|(text, n)| inbound(1_000 + n, n, text))
        .collect();
    {
        // Rows written through version 3's indexes, half of them indexed for search, as
        // the engine's background task leaves them; one outbox row, which has no hash.
        let conn = rusqlite::Connection::open(dir.db()).unwrap();
        insert_as_older_versions_did(&conn, &batch);
        conn.execute_batch(
            "INSERT INTO messages (conversation_id, direction, sender_id, server_time, text, segments_json, outbox_state)
                 VALUES (2, 'out', 1, 2000, '旧的回复', '[]', 'queued');",
        )
        .unwrap();
        let mut index = conn
            .prepare("INSERT INTO messages_fts (rowid, body) VALUES (?1, ?2)")
            .unwrap();
        for (id, text) in (1_i64..=15).zip(&texts) {
            index
                .execute(rusqlite::params![id, gnomeqq_history::search_form(text)])
                .unwrap();
        }
        conn.execute("UPDATE search_progress SET indexed_up_to = 15", [])
            .unwrap();
    }

    let mut history = History::open(dir.db()).unwrap();

    assert_eq!(history.schema_version().unwrap(), SCHEMA_VERSION);
    let all = history.messages(None, None, 100).unwrap();
    assert_eq!(all.len(), 31, "no message lost");
    let listed = history.messages(Some(&group()), None, 100).unwrap();
    let listed: Vec<&str> = listed.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(listed, texts, "the group's messages, in time order");
    assert_eq!(
        history.messages(Some(&friend()), None, 10).unwrap()[0].text,
        "旧的回复"
    );
    // Every message written before the upgrade is refused a second time.
    let again = history.insert_inbound_batch(&batch).unwrap();
    let ids: Vec<i64> = (1..=30).collect();
    assert_eq!(
        again,
        ids.iter()
            .map(|&id| Inserted::Duplicate(id))
            .collect::<Vec<_>>()
    );
    // Indexed before the upgrade (message 3) and trailing the index (message 27).
    assert_eq!(history.search("第3条", 10).unwrap()[0].message.id, 3);
    assert_eq!(history.search("第27条", 10).unwrap()[0].message.id, 27);
    let fresh = history
        .insert_inbound_batch(&[inbound(5_000, 99, "升级以后 after")])
        .unwrap();
    assert!(matches!(fresh[..], [Inserted::New(_)]));
    assert_eq!(history.search("升级", 10).unwrap().len(), 1);
    drop(history);
    let conn = rusqlite::Connection::open(dir.db()).unwrap();
    let indexes: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages' \
             AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(indexes, ["messages_dedupe", "messages_open_outbox"]);
}

#[test]
fn a_version_4_database_builds_its_timeline_from_what_was_indexed() {
    let dir = TempDir::new("from-v4");
    let texts: Vec<String> = (1..=30).map(|n| format!("第{n}条 message {n}")).collect();
    let batch: Vec<NewMessage> = texts
        .iter()
        .zip(1_i64..)
        .map(|(text, n)| inbound(1_000 + n / 2, n, text))
        .collect();
    {
        // Version 4 as the store left it: 30 messages, the first 12 indexed for search.
        let conn = database_at_version(&dir.db(), 4);
        conn.execute_batch(
            "INSERT INTO accounts (id, qq) VALUES (1, '2400000001');
             INSERT INTO conversations (id, account_id, kind, stable_id, name)
                 VALUES (1, 1, 'group', 'group:600001', '开发群');
             INSERT INTO contacts (id, account_id, stable_id, name) VALUES (1, 1, 'qq:3100000002', 'Alice');",
        )
        .unwrap();
        insert_as_older_versions_did(&conn, &batch);
        conn.execute("UPDATE search_progress SET indexed_up_to = 12", [])
            .unwrap();
    }

    let mut history = History::open(dir.db()).unwrap();

    // Through a second connection, as the store offers no count of the timeline itself.
    let timeline_rows = || -> i64 {
        let conn = rusqlite::Connection::open(dir.db()).unwrap();
        conn.query_row("SELECT count(*) FROM timeline", [], |row| row.get(0))
            .unwrap()
    };
    assert_eq!(timeline_rows(), 12, "what was indexed, and no more");
    assert_eq!(history.unindexed().unwrap(), 18);
    let listed: Vec<String> = history
        .messages(Some(&group()), None, 100)
        .unwrap()
        .into_iter()
        .map(|message| message.text)
        .collect();
    assert_eq!(
        listed, texts,
        "the timeline and the trailing rows, in order"
    );
    let summaries = history.conversations().unwrap();
    assert_eq!(summaries.len(), 1);
    assert_eq!(summaries[0].message_count, 30);
    assert_eq!(summaries[0].last_time, 1_015);
    let again = history.insert_inbound_batch(&batch).unwrap();
    assert!(again.iter().all(|inserted| !inserted.is_new()));

    assert_eq!(history.index_pending(usize::MAX).unwrap(), 18);
    assert_eq!(timeline_rows(), 30);
    assert_eq!(history.conversations().unwrap(), summaries);
}

/// Every way of reading conversations back, as comparable values.
fn listings(history: &History) -> Vec<String> {
    let mut listings = Vec::new();
    for conversation in [Some(group()), Some(friend()), None] {
        for since in [None, Some(1_005), Some(1_013), Some(2_000)] {
            for limit in [1, 5, 17, 1_000] {
                let keys: Vec<(i64, i64)> = history
                    .messages(conversation.as_ref(), since, limit)
                    .unwrap()
                    .iter()
                    .map(|message| (message.server_time, message.id))
                    .collect();
                listings.push(format!("{conversation:?} {since:?} {limit}: {keys:?}"));
            }
        }
        let mut export = Vec::new();
        history
            .export_jsonl(&mut export, conversation.as_ref())
            .unwrap();
        listings.push(String::from_utf8(export).unwrap());
    }
    listings.push(format!("{:?}", history.conversations().unwrap()));
    listings.push(format!(
        "{:?}",
        history.newest_of_each_conversation().unwrap()
    ));
    listings
}

#[test]
fn listings_are_the_same_before_and_after_the_timeline_catches_up() {
    let mut history = History::open_in_memory().unwrap();
    let message = |n: i64, time: i64| {
        let mut message = inbound(time, n, &format!("消息 {n}"));
        if n % 3 == 0 {
            message.conversation = friend();
            message.conversation_name = "Bob".to_owned();
        }
        message
    };
    // In the timeline: three messages a second from 1,000 on, several in one second.
    let indexed: Vec<NewMessage> = (0..40).map(|n| message(n, 1_000 + n / 3)).collect();
    history.insert_inbound_batch(&indexed).unwrap();
    history.index_pending(usize::MAX).unwrap();
    // Not yet: more in the timeline's last second, and late ones from earlier seconds.
    let trailing: Vec<NewMessage> = (40..80)
        .map(|n| message(n, if n % 4 == 0 { 1_000 + n % 7 } else { 1_013 }))
        .collect();
    history.insert_inbound_batch(&trailing).unwrap();
    assert_eq!(history.unindexed().unwrap(), 40);

    let before = listings(&history);
    history.index_pending(usize::MAX).unwrap();
    assert_eq!(history.unindexed().unwrap(), 0);
    let after = listings(&history);

    for (before, after) in before.iter().zip(&after) {
        assert_eq!(before, after);
    }
    // And what both say: a conversation is in (time, id) order, with every message.
    let group_messages = history.messages(Some(&group()), None, 1_000).unwrap();
    let keys: Vec<(i64, i64)> = group_messages
        .iter()
        .map(|message| (message.server_time, message.id))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    assert_eq!(keys, sorted);
    assert_eq!(keys.len(), (0..80).filter(|n| n % 3 != 0).count());
    let newest_five = history.messages(None, None, 5).unwrap();
    assert!(
        newest_five
            .iter()
            .all(|message| message.server_time == 1_013)
    );
}

#[test]
fn the_newest_of_each_conversation_is_what_listing_each_gives_first() {
    let mut history = History::open_in_memory().unwrap();
    let mut discussion = inbound(1_003, 90, "讨论组");
    discussion.conversation = ConversationKey::new(ConversationKind::Discussion, "discussion:1");
    let mut to_bob = outbound(1_004, "给 Bob");
    to_bob.conversation_name = "Bob".to_owned();
    history
        .insert_inbound_batch(&[inbound(1_000, 1, "早"), inbound(1_002, 2, "同一秒 a")])
        .unwrap();
    history.insert_outbound(&to_bob).unwrap();
    history.index_pending(usize::MAX).unwrap();
    // Trailing: a second message in the group's last second, a late one, a new conversation.
    history
        .insert_inbound_batch(&[
            inbound(1_002, 3, "同一秒 b"),
            inbound(999, 4, "迟到"),
            discussion,
        ])
        .unwrap();

    let newest = history.newest_of_each_conversation().unwrap();

    let texts: Vec<&str> = newest.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(
        texts,
        ["给 Bob", "讨论组", "同一秒 b"],
        "most recently active first"
    );
    for message in &newest {
        let first = history
            .messages(Some(&message.conversation), None, 1)
            .unwrap();
        assert_eq!(first.as_slice(), std::slice::from_ref(message));
    }
    history.index_pending(usize::MAX).unwrap();
    assert_eq!(history.newest_of_each_conversation().unwrap(), newest);
    assert!(
        History::open_in_memory()
            .unwrap()
            .newest_of_each_conversation()
            .unwrap()
            .is_empty()
    );
}

/// Writes `batch` as inbound messages of conversation row 1 from contact row 1, with
/// plain SQL as an older version of the store left them (its dedupe key included).
fn insert_as_older_versions_did(conn: &rusqlite::Connection, batch: &[NewMessage]) {
    let mut insert = conn
        .prepare(
            "INSERT INTO messages (conversation_id, direction, sender_id, server_time, \
             server_msg_id, text, text_hash, segments_json) \
             VALUES (1, 'in', 1, ?1, ?2, ?3, ?4, '[]')",
        )
        .unwrap();
    for message in batch {
        insert
            .execute(rusqlite::params![
                message.server_time,
                message.server_msg_id,
                message.text,
                text_hash(&message.text)
            ])
            .unwrap();
    }
}

/// 64-bit FNV-1a of `text`, as the store keys server-delivered rows (`store::fnv1a`),
/// so rows written by hand here collide with the store's own.
fn text_hash(text: &str) -> i64 {
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    i64::from_ne_bytes(hash.to_ne_bytes())
}

#[test]
fn reopening_a_migrated_database_changes_nothing() {
    let dir = TempDir::new("remigrate");
    History::open(dir.db()).unwrap();

    let history = History::open(dir.db()).unwrap();

    assert_eq!(history.schema_version().unwrap(), SCHEMA_VERSION);
}

#[test]
fn a_database_from_a_newer_version_is_refused() {
    let dir = TempDir::new("newer");
    let conn = rusqlite::Connection::open(dir.db()).unwrap();
    conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(conn);

    let error = History::open(dir.db()).unwrap_err();

    assert!(matches!(error, Error::NewerSchema { found, .. } if found == SCHEMA_VERSION + 1));
}

#[test]
fn the_same_batch_twice_stores_one_copy() {
    let mut history = History::open_in_memory().unwrap();
    let batch = [
        inbound(100, 1, "你好"),
        inbound(101, 2, "在吗"),
        inbound(101, 3, "在吗"),
    ];

    let first = history.insert_inbound_batch(&batch).unwrap();
    let second = history.insert_inbound_batch(&batch).unwrap();

    assert!(first.iter().all(|inserted| inserted.is_new()));
    let expected: Vec<Inserted> = first.iter().map(|i| Inserted::Duplicate(i.id())).collect();
    assert_eq!(second, expected);
    assert_eq!(history.messages(None, None, 100).unwrap().len(), 3);
}

#[test]
fn a_copy_inside_one_batch_is_a_duplicate() {
    let mut history = History::open_in_memory().unwrap();

    let inserted = history
        .insert_inbound_batch(&[inbound(100, 1, "你好"), inbound(100, 1, "你好")])
        .unwrap();

    assert_eq!(inserted, [Inserted::New(1), Inserted::Duplicate(1)]);
}

#[test]
fn every_key_field_tells_messages_apart() {
    let mut history = History::open_in_memory().unwrap();
    let base = inbound(100, 1, "你好");
    let mut other_sender = base.clone();
    other_sender.sender_id = "qq:3100000009".into();
    let mut other_conversation = base.clone();
    other_conversation.conversation = friend();
    let mut no_msg_id = base.clone();
    no_msg_id.server_msg_id = None;

    let inserted = history
        .insert_inbound_batch(&[
            base.clone(),
            inbound(101, 1, "你好"),
            inbound(100, 2, "你好"),
            inbound(100, 1, "你好!"),
            other_sender,
            other_conversation,
            no_msg_id.clone(),
            no_msg_id,
        ])
        .unwrap();

    let new = inserted.iter().filter(|inserted| inserted.is_new()).count();
    assert_eq!(new, 7);
    assert!(
        !inserted[7].is_new(),
        "a message without msg_id is deduplicated too"
    );
}

#[test]
fn two_handles_on_one_file_store_one_copy() {
    let dir = TempDir::new("two-handles");
    let mut first = History::open(dir.db()).unwrap();
    let mut second = History::open(dir.db()).unwrap();
    let batch: Vec<_> = (0..50)
        .map(|n| inbound(1000 + n, n, "同一条消息"))
        .collect();

    let a = first.insert_inbound_batch(&batch).unwrap();
    let b = second.insert_inbound_batch(&batch).unwrap();

    assert!(a.iter().all(|inserted| inserted.is_new()));
    assert!(b.iter().all(|inserted| !inserted.is_new()));
    assert_eq!(first.messages(None, None, 1000).unwrap().len(), 50);
}

#[test]
fn concurrent_writers_store_one_copy() {
    let dir = TempDir::new("concurrent");
    History::open(dir.db()).unwrap();
    let batch: Vec<_> = (0..200).map(|n| inbound(1000 + n, n, "并发")).collect();

    let results: Vec<Vec<Inserted>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let path = dir.db();
                let batch = batch.clone();
                scope.spawn(move || {
                    let mut history = History::open(path).unwrap();
                    batch
                        .chunks(20)
                        .flat_map(|chunk| history.insert_inbound_batch(chunk).unwrap())
                        .collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().unwrap())
            .collect()
    });

    let new = results
        .iter()
        .flatten()
        .filter(|inserted| inserted.is_new())
        .count();
    assert_eq!(new, 200);
    assert_eq!(
        results[0].iter().map(|i| i.id()).collect::<Vec<_>>(),
        results[3].iter().map(|i| i.id()).collect::<Vec<_>>()
    );
}

#[test]
fn a_failed_batch_stores_nothing() {
    let mut history = History::open_in_memory().unwrap();
    let mut broken = inbound(101, 2, "坏的");
    broken.segments_json = "[{".into();

    let error = history
        .insert_inbound_batch(&[inbound(100, 1, "好的"), broken])
        .unwrap_err();

    assert!(matches!(error, Error::InvalidSegments(_)));
    assert!(history.messages(None, None, 10).unwrap().is_empty());
}

#[test]
fn outbound_messages_are_never_deduplicated() {
    let mut history = History::open_in_memory().unwrap();

    let first = history.insert_outbound(&outbound(100, "好")).unwrap();
    let second = history.insert_outbound(&outbound(100, "好")).unwrap();

    assert_ne!(first, second);
}

#[test]
fn outbox_state_changes_are_stored() {
    let mut history = History::open_in_memory().unwrap();
    let id = history.insert_outbound(&outbound(100, "晚上开会")).unwrap();

    history
        .set_outbox_state(id, &OutboxState::Accepted)
        .unwrap();
    history
        .set_outbox_state(id, &OutboxState::Failed("retcode 1202".into()))
        .unwrap();
    history
        .set_outbox_state(id, &OutboxState::Confirmed)
        .unwrap();

    let message = history.message(id).unwrap().unwrap();
    assert_eq!(message.outbox_state, Some(OutboxState::Confirmed));
    let states = outbox_states(&history, id);
    assert_eq!(
        states,
        [
            OutboxState::Queued,
            OutboxState::Accepted,
            OutboxState::Failed("retcode 1202".into()),
            OutboxState::Confirmed,
        ]
    );
}

#[test]
fn a_state_for_an_unknown_message_is_an_error() {
    let mut history = History::open_in_memory().unwrap();

    let error = history
        .set_outbox_state(42, &OutboxState::Accepted)
        .unwrap_err();

    assert!(matches!(error, Error::UnknownMessage(42)));
    assert!(history.outbox_events(42).unwrap().is_empty());
}

#[test]
fn history_is_oldest_first_and_since_keeps_later_messages() {
    let mut history = History::open_in_memory().unwrap();
    history
        .insert_inbound_batch(&[
            inbound(300, 3, "三"),
            inbound(100, 1, "一"),
            inbound(200, 2, "二"),
        ])
        .unwrap();
    history.insert_outbound(&outbound(250, "给 Bob")).unwrap();

    let all = history.messages(None, None, 10).unwrap();
    let in_group = history.messages(Some(&group()), Some(200), 10).unwrap();
    let newest_two = history.messages(Some(&group()), None, 2).unwrap();

    let texts = |messages: &[gnomeqq_history::StoredMessage]| {
        messages.iter().map(|m| m.text.clone()).collect::<Vec<_>>()
    };
    assert_eq!(texts(&all), ["一", "二", "给 Bob", "三"]);
    assert_eq!(texts(&in_group), ["二", "三"]);
    assert_eq!(texts(&newest_two), ["二", "三"]);
    assert_eq!(all[2].conversation, friend());
    assert_eq!(all[2].sender_name, "Me");
}

#[test]
fn a_conversation_held_by_two_accounts_lists_the_newest_of_both() {
    let mut history = History::open_in_memory().unwrap();
    let other_account = |time, msg_id, text| NewMessage {
        account: "2400000002".to_owned(),
        ..inbound(time, msg_id, text)
    };
    history
        .insert_inbound_batch(&[
            inbound(100, 1, "a1"),
            other_account(150, 2, "b1"),
            inbound(200, 3, "a2"),
            other_account(250, 4, "b2"),
            inbound(250, 5, "a3"),
        ])
        .unwrap();

    let newest = history.messages(Some(&group()), None, 4).unwrap();

    let texts: Vec<_> = newest.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, ["b1", "a2", "b2", "a3"]);
    let accounts: Vec<_> = newest.iter().map(|m| m.account.as_str()).collect();
    assert_eq!(
        accounts,
        ["2400000002", "2400000001", "2400000002", "2400000001"]
    );
}

#[test]
fn the_newest_of_all_conversations_are_merged_in_time_and_insertion_order() {
    let mut history = History::open_in_memory().unwrap();
    // Four conversations, their messages interleaved in time; the busiest is the least
    // recently active, and several messages share a second.
    let rooms = ["group:1", "group:2", "group:3", "group:4"];
    let mut batch = Vec::new();
    for n in 0..40_i64 {
        let room = rooms[usize::try_from(n % 4).unwrap()];
        let time = if room == "group:1" { n } else { 100 + n / 3 };
        let mut message = inbound(time, n, &format!("{room} #{n}"));
        message.conversation = ConversationKey::new(ConversationKind::Group, room);
        batch.push(message);
    }
    let inserted = history.insert_inbound_batch(&batch).unwrap();
    // Every message by (server time, id): the order the listing promises.
    let mut expected: Vec<(i64, i64)> = batch
        .iter()
        .zip(&inserted)
        .map(|(message, inserted)| (message.server_time, inserted.id()))
        .collect();
    expected.sort_unstable();

    for (limit, since) in [
        (1, None),
        (7, None),
        (12, Some(105)),
        (35, None),
        (5, Some(200)),
    ] {
        let listed: Vec<(i64, i64)> = history
            .messages(None, since, limit)
            .unwrap()
            .iter()
            .map(|m| (m.server_time, m.id))
            .collect();
        let kept: Vec<(i64, i64)> = expected
            .iter()
            .copied()
            .filter(|&(time, _)| since.is_none_or(|since| time >= since))
            .collect();
        let newest = &kept[kept.len().saturating_sub(limit)..];
        assert_eq!(listed, newest, "limit {limit}, since {since:?}");
    }
}

#[test]
fn conversations_are_listed_by_last_activity() {
    let mut history = history_with(&["一", "二"]);
    history
        .insert_outbound(&outbound(1_900_000_000, "最新"))
        .unwrap();

    let conversations = history.conversations().unwrap();

    assert_eq!(conversations.len(), 2);
    assert_eq!(conversations[0].key, friend());
    assert_eq!(conversations[0].name, "Bob");
    assert_eq!(conversations[1].key, group());
    assert_eq!(conversations[1].message_count, 2);
    assert_eq!(conversations[1].last_time, 1_800_000_002);
}

#[test]
fn the_latest_names_are_kept() {
    let mut history = History::open_in_memory().unwrap();
    let mut renamed = inbound(200, 2, "改名了");
    renamed.conversation_name = "新群名".into();
    renamed.sender_name = "Alice (card)".into();

    history
        .insert_inbound_batch(&[inbound(100, 1, "旧"), renamed])
        .unwrap();

    let messages = history.messages(None, None, 10).unwrap();
    assert!(messages.iter().all(|m| m.conversation_name == "新群名"));
    assert!(messages.iter().all(|m| m.sender_name == "Alice (card)"));
}

#[test]
fn a_database_survives_reopening() {
    let dir = TempDir::new("reopen");
    let mut history = History::open(dir.db()).unwrap();
    history
        .insert_inbound_batch(&[inbound(100, 1, "持久化 test")])
        .unwrap();
    let id = history.insert_outbound(&outbound(101, "回复")).unwrap();
    history
        .set_outbox_state(id, &OutboxState::Unconfirmed)
        .unwrap();
    drop(history);

    let mut history = History::open(dir.db()).unwrap();

    let messages = history.messages(None, None, 10).unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1].outbox_state, Some(OutboxState::Unconfirmed));
    assert_eq!(history.search("持久", 10).unwrap().len(), 1);
    let again = history
        .insert_inbound_batch(&[inbound(100, 1, "持久化 test")])
        .unwrap();
    assert_eq!(again, [Inserted::Duplicate(messages[0].id)]);
}

/// The outbox states message `id` went through, oldest first.
fn outbox_states(history: &History, id: i64) -> Vec<OutboxState> {
    history
        .outbox_events(id)
        .unwrap()
        .into_iter()
        .map(|event| event.state)
        .collect()
}

/// Unix seconds now, as the store stamps outbox events.
fn now_secs() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    i64::try_from(since.as_secs()).unwrap()
}

#[test]
fn a_failed_message_is_retried_in_its_own_row_and_its_echo_confirms_it_days_later() {
    let mut history = History::open_in_memory().unwrap();
    let days_ago = now_secs() - 3 * 86_400;
    let id = history
        .insert_outbound(&outbound(days_ago, "重发我 retry me"))
        .unwrap();
    history
        .set_outbox_state(id, &OutboxState::Failed("offline".to_owned()))
        .unwrap();
    let echo_window = now_secs() - 300;
    assert_eq!(
        history
            .confirm_echo("2400000001", &friend(), "重发我 retry me", echo_window)
            .unwrap(),
        None,
        "a failed message waits for no echo"
    );
    assert_eq!(
        history
            .failed_outbound(&friend(), "重发我 retry me", days_ago)
            .unwrap(),
        Some(id)
    );
    assert_eq!(
        history
            .failed_outbound(&group(), "重发我 retry me", days_ago)
            .unwrap(),
        None,
        "only in its own conversation"
    );

    let retried = history.retry_outbound(id).unwrap();

    assert_eq!(
        history
            .failed_outbound(&friend(), "重发我 retry me", days_ago)
            .unwrap(),
        None,
        "no longer failed"
    );

    assert_eq!(retried.id, id);
    assert_eq!(retried.text, "重发我 retry me");
    assert_eq!(retried.conversation, friend());
    assert_eq!(retried.outbox_state, Some(OutboxState::Queued));
    let states = outbox_states(&history, id);
    assert_eq!(
        states,
        [
            OutboxState::Queued,
            OutboxState::Failed("offline".to_owned()),
            OutboxState::Queued
        ]
    );
    history
        .set_outbox_state(id, &OutboxState::Accepted)
        .unwrap();
    // The echo of the new attempt comes now; the row was written three days ago.
    assert_eq!(
        history
            .confirm_echo("2400000001", &friend(), "重发我 retry me", echo_window)
            .unwrap(),
        Some(id)
    );
    assert_eq!(
        history.message(id).unwrap().unwrap().outbox_state,
        Some(OutboxState::Confirmed)
    );
    let listed = history.messages(Some(&friend()), None, 10).unwrap();
    assert_eq!(listed.len(), 1, "one row, not a second copy");
    assert_eq!(listed[0].server_time, days_ago, "it keeps its place");
}

#[test]
fn a_retry_finds_the_failed_row_of_the_message_shown_and_not_an_older_one_with_its_text() {
    let mut history = History::open_in_memory().unwrap();
    let now = now_secs();
    let failed = |history: &mut History, time: i64| {
        let id = history.insert_outbound(&outbound(time, "好的")).unwrap();
        history
            .set_outbox_state(id, &OutboxState::Failed("offline".to_owned()))
            .unwrap();
        id
    };
    let last_week = failed(&mut history, now - 7 * 86_400);
    let today = failed(&mut history, now);

    // Each message shown finds its own row: the first failed one written since it was.
    assert_eq!(
        history
            .failed_outbound(&friend(), "好的", now - 7 * 86_400)
            .unwrap(),
        Some(last_week)
    );
    assert_eq!(
        history.failed_outbound(&friend(), "好的", now).unwrap(),
        Some(today)
    );
    // A message shown later whose send failed before it was stored has no row.
    assert_eq!(
        history
            .failed_outbound(&friend(), "好的", now + 60)
            .unwrap(),
        None,
        "last week's failed message is not sent in its place"
    );
}

#[test]
fn only_a_failed_message_of_ours_can_be_retried() {
    let mut history = History::open_in_memory().unwrap();
    let queued = history.insert_outbound(&outbound(1_000, "排队")).unwrap();
    let unconfirmed = history.insert_outbound(&outbound(1_001, "未确认")).unwrap();
    history
        .set_outbox_state(unconfirmed, &OutboxState::Unconfirmed)
        .unwrap();
    let received = history
        .insert_inbound_batch(&[inbound(1_002, 1, "收到")])
        .unwrap()[0]
        .id();

    for id in [queued, unconfirmed, received] {
        assert!(
            matches!(history.retry_outbound(id), Err(Error::NotRetryable(found)) if found == id),
            "message {id}"
        );
    }
    assert!(matches!(
        history.retry_outbound(999),
        Err(Error::UnknownMessage(999))
    ));
    assert_eq!(
        history.message(unconfirmed).unwrap().unwrap().outbox_state,
        Some(OutboxState::Unconfirmed),
        "a refused retry changes nothing"
    );
}

#[test]
fn an_echo_confirms_our_queued_message_and_confirmed_is_final() {
    let mut history = History::open_in_memory().unwrap();
    let key = ConversationKey::new(ConversationKind::Group, "group:2100000003");
    let mut sent = NewMessage {
        account: "2400000001".to_owned(),
        conversation: key.clone(),
        conversation_name: "GnomeQQ 开发组".to_owned(),
        direction: Direction::Out,
        sender_id: "qq:2400000001".to_owned(),
        sender_name: "小明".to_owned(),
        server_time: 1_800_000_000,
        server_msg_id: None,
        text: "我也来".to_owned(),
        segments_json: "[]".to_owned(),
        outbox_state: Some(OutboxState::Queued),
    };
    let id = history.insert_outbound(&sent).unwrap();
    sent.text = "something else".to_owned();
    history.insert_outbound(&sent).unwrap();
    sent.text = "line\r\nnext\rlast".to_owned();
    let crlf = history.insert_outbound(&sent).unwrap();

    let crlf_echo = history
        .confirm_echo("2400000001", &key, "line\nnext\nlast", 1_800_000_000 - 300)
        .unwrap();
    let confirmed = history
        .confirm_echo("2400000001", &key, "我也来", 1_800_000_000 - 300)
        .unwrap();
    let again = history
        .confirm_echo("2400000001", &key, "我也来", 1_800_000_000 - 300)
        .unwrap();
    history
        .set_outbox_state(id, &OutboxState::Accepted)
        .unwrap();

    assert_eq!(confirmed, Some(id));
    assert_eq!(
        crlf_echo,
        Some(crlf),
        "the echo's LF matches the CR and CRLF we sent"
    );
    assert_eq!(again, None, "one echo confirms one message");
    assert_eq!(
        history.message(id).unwrap().unwrap().outbox_state,
        Some(OutboxState::Confirmed)
    );
}

#[test]
fn send_slots_are_paced_across_handles_on_one_file() {
    let dir = TempDir::new("send-schedule");
    let mut one = History::open(dir.db()).unwrap();
    let mut other = History::open(dir.db()).unwrap();

    let first = one.reserve_send("2400000001", 1000, 5_000).unwrap();
    let second = other.reserve_send("2400000001", 1000, 5_100).unwrap();
    let third = one.reserve_send("2400000001", 1000, 5_200).unwrap();
    let much_later = other.reserve_send("2400000001", 1000, 60_000).unwrap();
    let another_account = one.reserve_send("2400000002", 1000, 5_000).unwrap();

    assert_eq!((first, second, third), (5_000, 6_000, 7_000));
    assert_eq!(much_later, 60_000);
    assert_eq!(another_account, 5_000);
}
