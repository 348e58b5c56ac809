//! The values the store takes and returns: conversations, new and stored messages,
//! outbox states, search hits.

use std::ops::Range;

use serde::Serialize;

/// What kind of conversation a message belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationKind {
    /// A friend.
    Friend,
    /// A group.
    Group,
    /// A discussion.
    Discussion,
    /// A temporary session with someone met in a group or discussion.
    Temporary,
}

impl ConversationKind {
    /// `friend`, `group`, `discussion` or `temporary`, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Friend => "friend",
            Self::Group => "group",
            Self::Discussion => "discussion",
            Self::Temporary => "temporary",
        }
    }

    /// The kind stored as `text`, if it is one.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "friend" => Some(Self::Friend),
            "group" => Some(Self::Group),
            "discussion" => Some(Self::Discussion),
            "temporary" => Some(Self::Temporary),
            _ => None,
        }
    }
}

/// A conversation, by the engine's stable id.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct ConversationKey {
    /// Friend, group, discussion or temporary session.
    pub kind: ConversationKind,
    /// An id that survives sessions, chosen by the engine (`qq:3100000001`, `group:600001`).
    pub stable_id: String,
}

impl ConversationKey {
    /// A key of `kind` with `stable_id`.
    pub fn new(kind: ConversationKind, stable_id: impl Into<String>) -> Self {
        Self {
            kind,
            stable_id: stable_id.into(),
        }
    }
}

/// Who wrote a message, seen from our account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Someone else wrote it.
    In,
    /// We wrote it (from this client's outbox, or echoed by the server).
    Out,
}

impl Direction {
    /// `in` or `out`, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::In => "in",
            Self::Out => "out",
        }
    }
}

/// Where an outgoing message stands (see DESIGN.md, "One outbound message").
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "state", content = "reason", rename_all = "snake_case")]
pub enum OutboxState {
    /// Waiting to be sent.
    Queued,
    /// The server answered retcode 0.
    Accepted,
    /// The server's answer was ambiguous; never resent automatically.
    Unconfirmed,
    /// Sending failed, with the reason in English.
    Failed(String),
    /// The server echoed the message back.
    Confirmed,
}

impl OutboxState {
    /// The stored name of the state, without the reason.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Accepted => "accepted",
            Self::Unconfirmed => "unconfirmed",
            Self::Failed(_) => "failed",
            Self::Confirmed => "confirmed",
        }
    }

    /// The failure reason, for [`OutboxState::Failed`].
    pub fn reason(&self) -> Option<&str> {
        match self {
            Self::Failed(reason) => Some(reason),
            _ => None,
        }
    }

    /// The state stored as `state` (and `reason`), if it is one.
    pub fn parse(state: &str, reason: Option<String>) -> Option<Self> {
        match state {
            "queued" => Some(Self::Queued),
            "accepted" => Some(Self::Accepted),
            "unconfirmed" => Some(Self::Unconfirmed),
            "failed" => Some(Self::Failed(reason.unwrap_or_default())),
            "confirmed" => Some(Self::Confirmed),
            _ => None,
        }
    }
}

/// A message to store.
#[derive(Clone, Debug, PartialEq)]
pub struct NewMessage {
    /// Our own QQ number, as text.
    pub account: String,
    /// Where it was written.
    pub conversation: ConversationKey,
    /// The conversation's display name now; replaces the stored one.
    pub conversation_name: String,
    /// In or out.
    pub direction: Direction,
    /// The sender's stable id (ours for outgoing messages).
    pub sender_id: String,
    /// The sender's display name now; replaces the stored one.
    pub sender_name: String,
    /// Unix seconds, server time (local time for an outgoing message not yet echoed).
    pub server_time: i64,
    /// The server's message counter, when there is one.
    pub server_msg_id: Option<i64>,
    /// The message as one line of text; what search finds.
    pub text: String,
    /// The decoded segments as JSON (an array, by the engine's convention).
    pub segments_json: String,
    /// For outgoing messages: the outbox state to start with (`Queued` when `None`).
    pub outbox_state: Option<OutboxState>,
}

/// What [`History::insert_inbound_batch`](crate::History::insert_inbound_batch) did with
/// one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Inserted {
    /// Stored now, under this id.
    New(i64),
    /// Already stored under this id; nothing was written.
    Duplicate(i64),
}

impl Inserted {
    /// The message's id, new or not.
    pub fn id(self) -> i64 {
        match self {
            Self::New(id) | Self::Duplicate(id) => id,
        }
    }

    /// Whether the message was stored now.
    pub fn is_new(self) -> bool {
        matches!(self, Self::New(_))
    }
}

/// A message read back from the store.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StoredMessage {
    /// The row id; grows with every insert.
    pub id: i64,
    /// Our own QQ number.
    pub account: String,
    /// Where it was written.
    pub conversation: ConversationKey,
    /// The conversation's latest display name.
    pub conversation_name: String,
    /// In or out.
    pub direction: Direction,
    /// The sender's stable id.
    pub sender_id: String,
    /// The sender's latest display name.
    pub sender_name: String,
    /// Unix seconds.
    pub server_time: i64,
    /// The server's message counter.
    pub server_msg_id: Option<i64>,
    /// The text.
    pub text: String,
    /// The segments as stored (JSON).
    pub segments_json: String,
    /// The latest outbox state, for messages written through the outbox.
    pub outbox_state: Option<OutboxState>,
}

/// One stored outbox state change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OutboxEvent {
    /// The state entered.
    pub state: OutboxState,
    /// When, in Unix milliseconds, local clock.
    pub at_ms: i64,
}

/// A conversation with its activity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConversationSummary {
    /// Our own QQ number.
    pub account: String,
    /// The conversation.
    pub key: ConversationKey,
    /// Its latest display name.
    pub name: String,
    /// Server time of its newest message.
    pub last_time: i64,
    /// How many messages it holds.
    pub message_count: u64,
}

/// A piece of a message's text around a match.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Snippet {
    /// The excerpt, with `…` where it was cut.
    pub text: String,
    /// Byte ranges of `text` that match query words, in order, for highlighting.
    pub highlights: Vec<Range<usize>>,
}

/// One search result.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SearchHit {
    /// The message.
    pub message: StoredMessage,
    /// BM25 score, negative like FTS5's `bm25()`: lower is a better match.
    pub rank: f64,
    /// The conversation's display name (also in `message`, kept here for listing).
    pub conversation_name: String,
    /// Where the query matched.
    pub snippet: Snippet,
}
