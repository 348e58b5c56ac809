//! The search index is written in the background, after stored poll batches, not while
//! a batch is stored.

use std::time::{Duration, Instant};

use gnomeqq_history::{
    ConversationKey, ConversationKind, Direction, History, INDEX_LAG_BOUND, NewMessage,
};
use serde_json::json;

use crate::support::{GROUP, WAIT, ZHANG, inject, next_message, online, start_poll_loop};

/// A message already in the history before this session, in a conversation of its own.
fn earlier_message(n: i64) -> NewMessage {
    let text = format!("早先的消息 earlier {n}");
    NewMessage {
        account: "2400000001".to_owned(),
        conversation: ConversationKey::new(ConversationKind::Group, "group:earlier"),
        conversation_name: "旧群".to_owned(),
        direction: Direction::In,
        sender_id: "qq:3100000009".to_owned(),
        sender_name: "Old".to_owned(),
        server_time: 1_700_000_000 + n,
        server_msg_id: Some(n),
        segments_json: json!([{ "type": "text", "text": text }]).to_string(),
        text,
        outbox_state: None,
    }
}

#[tokio::test]
async fn messages_waiting_for_the_search_index_are_indexed_after_a_stored_batch() {
    let dir =
        std::env::temp_dir().join(format!("gnomeqq-core-history-index-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("history.sqlite3");
    // 1,500 messages stored in one go: fewer than the store's own bound, so the store
    // leaves all of them to whoever indexes in the background.
    let mut before = History::open(&path).unwrap();
    let earlier: Vec<NewMessage> = (1..=1_500).map(earlier_message).collect();
    before.insert_inbound_batch(&earlier).unwrap();
    const { assert!(1_500 < INDEX_LAG_BOUND) };
    assert_eq!(before.unindexed().unwrap(), 1_500);

    let mut session = online().await;
    assert!(
        session
            .account
            .attach_history(History::open(&path).unwrap())
    );
    let _poll = start_poll_loop(&session.account);
    inject(
        &session.server,
        json!({"kind": "group", "from": ZHANG, "group": GROUP, "text": "新消息 fresh"}),
    )
    .await;
    let message = next_message(&mut session.events).await;
    assert_eq!(message.text, "新消息 fresh");
    // Published under the key it was stored under.
    let stored = before
        .messages(Some(&message.history_key), None, 10)
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].text, message.text);

    // The batch was stored before it was published; the index follows it in chunks of
    // 1,000 until fewer wait.
    let deadline = Instant::now() + WAIT;
    let left = loop {
        let left = before.unindexed().unwrap();
        if left < 1_000 || Instant::now() > deadline {
            break left;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(left, 501, "one chunk of 1,000 was indexed, the rest waits");

    // What waits is still found: a search indexes it first.
    let hits = before.search("earlier 1500", 5).unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(before.search("新消息", 5).unwrap().len(), 1);
    assert_eq!(before.unindexed().unwrap(), 0);
    drop(before);
    let _ = std::fs::remove_dir_all(&dir);
}
