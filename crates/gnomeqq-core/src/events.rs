//! What the engine tells the programs above it (CLI, GUI, bots): app-level events with
//! names already resolved, free of wire-protocol detail.

use serde::Serialize;
use smartqq_protocol::content::Segment;

/// A conversation, in this session's ids. The variant says which send path answers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Conversation {
    /// A friend, by uin.
    Friend {
        /// The friend's session uin.
        uin: u64,
    },
    /// A group, by gid.
    Group {
        /// The group's session gid.
        gid: u64,
    },
    /// A discussion.
    Discussion {
        /// The discussion id.
        did: u64,
    },
    /// A temporary session with someone met in a group or discussion.
    Temporary {
        /// The person's session uin.
        uin: u64,
        /// Whether the room is a group (`true`) or a discussion.
        via_group: bool,
        /// The gid or did of the room.
        room: u64,
    },
}

impl Conversation {
    /// `friend`, `group`, `discussion` or `temporary`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Friend { .. } => "friend",
            Self::Group { .. } => "group",
            Self::Discussion { .. } => "discussion",
            Self::Temporary { .. } => "temporary",
        }
    }
}

/// A message someone wrote, ready to show.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IncomingMessage {
    /// Where it was written, and where a reply goes.
    pub conversation: Conversation,
    /// The conversation's display name (friend name, group or discussion name).
    pub conversation_name: String,
    /// The sender's session uin.
    pub sender_uin: u64,
    /// The sender's display name: markname, group card or nickname, in that order.
    pub sender_name: String,
    /// The sender's QQ number, when the server gave it (discussions, temporary sessions).
    pub sender_qq: Option<u64>,
    /// The markname we gave the sender, when they are a friend. Unlike a nickname, nobody
    /// else can choose it, so bots may trust it to recognise people.
    pub sender_markname: Option<String>,
    /// Whether we wrote it ourselves (our own message echoed back by the server).
    pub own: bool,
    /// Unix seconds, server time.
    pub time: i64,
    /// The server's message counter.
    pub msg_id: u64,
    /// Decoded text, faces and image placeholders.
    pub segments: Vec<Segment>,
    /// The same as one line of text (faces as `[face:N]`).
    pub text: String,
    /// The history's key of its conversation, worked out once when the message arrived:
    /// the key it is stored under, so a view opened from the history and this message
    /// meet in one place even if the contact lists change in between. (A temporary
    /// session is keyed by the sender's QQ number when the server gave it.)
    pub history_key: gnomeqq_history::ConversationKey,
}

/// Steps of a QR login.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
#[non_exhaustive]
pub enum LoginStep {
    /// A QR code to show.
    QrReady {
        /// The PNG as served.
        #[serde(skip)]
        png: Vec<u8>,
        /// The text it encodes, to draw it in a terminal.
        text: Option<String>,
    },
    /// Waiting for the scan.
    Waiting,
    /// Scanned; waiting for confirmation on the phone.
    Scanned,
    /// The code expired; a new one follows.
    Expired,
    /// Confirmed; setting up the session.
    Connecting,
}

/// What a [`AppEvent::Notice`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum NoticeKind {
    /// The saved session could not be read; a new login follows.
    SavedSessionUnreadable,
    /// The saved session is corrupt or from another server; it was forgotten and a new
    /// login follows.
    SavedSessionUnusable,
    /// The saved session has expired at the server; a new login follows.
    SavedSessionExpired,
}

/// Everything the engine publishes.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum AppEvent {
    /// A login step.
    Login(LoginStep),
    /// Logged in, contacts loaded.
    Online {
        /// Our own nickname.
        nick: String,
        /// How many friends, groups and discussions were loaded.
        friends: usize,
        /// Groups.
        groups: usize,
        /// Discussions.
        discussions: usize,
    },
    /// A saved login was taken up again without a scan.
    Resumed,
    /// Something the user should know that needs no action (a saved session was unusable
    /// and a new scan follows, …).
    Notice {
        /// What happened, for programs that word it themselves (the GUI translates it).
        kind: NoticeKind,
        /// English text for people, with the detail.
        text: String,
    },
    /// The session stopped working; the engine is getting it back.
    Reconnecting {
        /// What happened, in English.
        reason: String,
    },
    /// The session works again.
    Reconnected {
        /// How: `relink`, `single sign-on` or `new login`.
        how: String,
    },
    /// A message arrived.
    Message(IncomingMessage),
    /// A friend's status changed.
    StatusChanged {
        /// The friend's display name.
        name: String,
        /// The new status (`online`, `away`, …).
        status: String,
    },
    /// The server ended the session because the account logged in elsewhere.
    Kicked {
        /// The server's reason, for people.
        reason: String,
    },
    /// The session stopped working (expired, refused); a new login is needed.
    SessionLost {
        /// What happened, in English, for logs and people.
        reason: String,
    },
    /// The poll loop ended (after a kick, a loss, or a stop).
    Stopped,
}
