//! Temporary databases and message builders shared by the tests.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use gnomeqq_history::{ConversationKey, ConversationKind, Direction, History, NewMessage};

/// The migrations as they shipped, in order: `MIGRATIONS[i]` made version `i + 1`.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/001_initial.sql"),
    include_str!("../../migrations/002_deferred_search.sql"),
    include_str!("../../migrations/003_send_schedule.sql"),
    include_str!("../../migrations/004_one_message_index.sql"),
    include_str!("../../migrations/005_timeline.sql"),
    include_str!("../../migrations/006_open_outbox.sql"),
];

/// A new file at `path` as version `version` of the store left it: its first `version`
/// migrations applied and `user_version` set, with no rows. Opened with plain SQLite, so
/// the test writes its rows as that version did before `History` opens it.
pub fn database_at_version(path: &Path, version: usize) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).unwrap();
    for sql in &MIGRATIONS[..version] {
        conn.execute_batch(sql).unwrap();
    }
    conn.pragma_update(None, "user_version", u32::try_from(version).unwrap())
        .unwrap();
    conn
}

/// A directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let unique = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "gnomeqq-history-test-{}-{unique}-{name}",
            std::process::id()
        ));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    pub fn db(&self) -> PathBuf {
        self.0.join("history.sqlite3")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub const ACCOUNT: &str = "2400000001";

pub fn group() -> ConversationKey {
    ConversationKey::new(ConversationKind::Group, "group:600001")
}

pub fn friend() -> ConversationKey {
    ConversationKey::new(ConversationKind::Friend, "qq:3100000001")
}

/// An inbound group message from Alice.
pub fn inbound(time: i64, msg_id: i64, text: &str) -> NewMessage {
    NewMessage {
        account: ACCOUNT.to_owned(),
        conversation: group(),
        conversation_name: "开发群".to_owned(),
        direction: Direction::In,
        sender_id: "qq:3100000002".to_owned(),
        sender_name: "Alice".to_owned(),
        server_time: time,
        server_msg_id: Some(msg_id),
        text: text.to_owned(),
        segments_json: serde_json::json!([{ "type": "text", "text": text }]).to_string(),
        outbox_state: None,
    }
}

/// A message we write to our friend Bob.
pub fn outbound(time: i64, text: &str) -> NewMessage {
    NewMessage {
        conversation: friend(),
        conversation_name: "Bob".to_owned(),
        direction: Direction::Out,
        sender_id: format!("qq:{ACCOUNT}"),
        sender_name: "Me".to_owned(),
        server_msg_id: None,
        ..inbound(time, 0, text)
    }
}

/// An in-memory history holding one inbound message per text, a second apart.
pub fn history_with(texts: &[&str]) -> History {
    let mut history = History::open_in_memory().unwrap();
    let batch: Vec<NewMessage> = texts
        .iter()
        .zip(1_i64..)
        .map(|(text, n)| inbound(1_800_000_000 + n, n, text))
        .collect();
    history.insert_inbound_batch(&batch).unwrap();
    history
}
