//! How the engine's messages become history rows: stable ids for conversations and
//! senders, so that the same person or room keeps one id across logins, whose uins and
//! gids change every time.
//!
//! Stable ids, in order of preference:
//! - `qq:N` — the real QQ number, where the server gives it (discussion members,
//!   temporary-session senders, the account itself);
//! - `group:CODE` — the group's internal code, which survives logins (spec §1);
//! - `discussion:DID` — discussion ids survive logins;
//! - `friend:CATEGORY/MARKNAME/NICK` — a fingerprint of what the friend list shows, for
//!   friends whose QQ number SmartQQ no longer reveals (2017-04 on);
//! - `member:CODE/NICK` — a group member seen only by nickname in one group.
//!
//! A fingerprint can collide (two friends with the same category, markname and nick) and
//! changes when the user renames; issue #4's identity table replaces it with a persistent
//! mapping. Until then such rows simply share or change an id: nothing is lost.

use gnomeqq_history::{ConversationKey, ConversationKind, Direction, NewMessage, OutboxState};
use smartqq_protocol::{DiscussionId, Gid, Uin};

use crate::directory::Directory;
use crate::events::{Conversation, IncomingMessage};

/// The stable key of a conversation; `peer_qq` is the other person's QQ number in a
/// temporary session, when known.
pub(crate) fn conversation_key(
    directory: &Directory,
    conversation: Conversation,
    peer_qq: Option<u64>,
) -> ConversationKey {
    match conversation {
        Conversation::Friend { uin } => {
            ConversationKey::new(ConversationKind::Friend, friend_id(directory, Uin(uin)))
        }
        Conversation::Group { gid } => {
            let code = directory.groups.get(&Gid(gid)).and_then(|g| g.code);
            let id = code.map_or_else(|| format!("gid:{gid}"), |code| format!("group:{code}"));
            ConversationKey::new(ConversationKind::Group, id)
        }
        Conversation::Discussion { did } => {
            ConversationKey::new(ConversationKind::Discussion, format!("discussion:{did}"))
        }
        Conversation::Temporary {
            uin,
            via_group,
            room,
        } => {
            let room = if via_group {
                directory.groups.get(&Gid(room))
            } else {
                directory.discussions.get(&DiscussionId(room))
            };
            let qq = peer_qq.or_else(|| room?.members.get(&Uin(uin))?.qq.map(|q| q.get()));
            let id = qq.map_or_else(|| format!("uin:{uin}"), |qq| format!("qq:{qq}"));
            ConversationKey::new(ConversationKind::Temporary, id)
        }
    }
}

/// The display name of a conversation, for rows we write ourselves.
pub(crate) fn conversation_name(directory: &Directory, conversation: Conversation) -> String {
    match conversation {
        Conversation::Friend { uin } | Conversation::Temporary { uin, .. } => {
            let room = match conversation {
                Conversation::Temporary {
                    via_group: true,
                    room,
                    ..
                } => directory.groups.get(&Gid(room)),
                Conversation::Temporary { room, .. } => {
                    directory.discussions.get(&DiscussionId(room))
                }
                _ => None,
            };
            directory.person_name(Uin(uin), room)
        }
        Conversation::Group { gid } => directory
            .groups
            .get(&Gid(gid))
            .map_or_else(|| format!("group {gid}"), |g| g.name.clone()),
        Conversation::Discussion { did } => directory
            .discussions
            .get(&DiscussionId(did))
            .map_or_else(|| format!("discussion {did}"), |d| d.name.clone()),
    }
}

/// The stable id of a message's sender.
pub(crate) fn sender_id(directory: &Directory, message: &IncomingMessage) -> String {
    if let Some(qq) = message.sender_qq {
        return format!("qq:{qq}");
    }
    let uin = Uin(message.sender_uin);
    if directory.is_own(uin) {
        return format!("qq:{uin}");
    }
    if directory.friends.contains_key(&uin) {
        return friend_id(directory, uin);
    }
    let room = match message.conversation {
        Conversation::Group { gid } => directory.groups.get(&Gid(gid)),
        Conversation::Discussion { did } => directory.discussions.get(&DiscussionId(did)),
        _ => None,
    };
    match (
        room.and_then(|r| r.code),
        room.and_then(|r| r.members.get(&uin)),
    ) {
        (Some(code), Some(member)) => format!("member:{code}/{}", member.nick),
        // Only this session knows who this is; marked so nobody mistakes it for stable.
        _ => format!("uin:{uin}"),
    }
}

fn friend_id(directory: &Directory, uin: Uin) -> String {
    if directory.is_own(uin) {
        return format!("qq:{uin}");
    }
    match directory.friends.get(&uin) {
        Some(friend) => format!(
            "friend:{}/{}/{}",
            friend.category,
            friend.markname.as_deref().unwrap_or(""),
            friend.nick
        ),
        None => format!("uin:{uin}"),
    }
}

/// A received (or echoed) message as a history row.
pub(crate) fn inbound_row(
    account: &str,
    directory: &Directory,
    message: &IncomingMessage,
) -> NewMessage {
    NewMessage {
        account: account.to_owned(),
        conversation: message.history_key.clone(),
        conversation_name: message.conversation_name.clone(),
        direction: if message.own {
            Direction::Out
        } else {
            Direction::In
        },
        sender_id: sender_id(directory, message),
        sender_name: message.sender_name.clone(),
        server_time: message.time,
        server_msg_id: i64::try_from(message.msg_id).ok(),
        text: message.text.clone(),
        segments_json: serde_json::to_string(&message.segments).unwrap_or_else(|_| "[]".to_owned()),
        outbox_state: None,
    }
}

/// One part we are about to send, as a history row in state `Queued`.
pub(crate) fn outbound_row(
    account: &str,
    key: ConversationKey,
    conversation_name: &str,
    own_name: &str,
    text: &str,
) -> NewMessage {
    let segments = [smartqq_protocol::content::Segment::Text(text.to_owned())];
    NewMessage {
        account: account.to_owned(),
        conversation: key,
        conversation_name: conversation_name.to_owned(),
        direction: Direction::Out,
        sender_id: format!("qq:{account}"),
        sender_name: own_name.to_owned(),
        server_time: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64),
        server_msg_id: None,
        text: text.to_owned(),
        segments_json: serde_json::to_string(&segments).unwrap_or_else(|_| "[]".to_owned()),
        outbox_state: Some(OutboxState::Queued),
    }
}

/// The outbox state a send outcome leads to (DESIGN.md, "One outbound message").
pub(crate) fn outbox_state(outcome: smartqq_protocol::retcode::SendOutcome) -> OutboxState {
    use smartqq_protocol::retcode::SendOutcome;

    match outcome {
        SendOutcome::Sent => OutboxState::Accepted,
        // An answer nobody could read may hide a delivery as well as a 1202 does.
        SendOutcome::Unconfirmed | SendOutcome::Unrecognised => OutboxState::Unconfirmed,
        other => OutboxState::Failed(format!("{other:?}")),
    }
}

/// Every conversation the directory can reach now, with its stable key.
fn reachable(directory: &Directory) -> Vec<(Conversation, ConversationKey)> {
    let mut all = Vec::new();
    for uin in directory.friends.keys() {
        let conversation = Conversation::Friend { uin: uin.get() };
        all.push((
            conversation,
            conversation_key(directory, conversation, None),
        ));
    }
    for gid in directory.groups.keys() {
        let conversation = Conversation::Group { gid: gid.get() };
        all.push((
            conversation,
            conversation_key(directory, conversation, None),
        ));
    }
    for did in directory.discussions.keys() {
        let conversation = Conversation::Discussion { did: did.get() };
        all.push((
            conversation,
            conversation_key(directory, conversation, None),
        ));
    }
    // Temporary sessions only with members whose QQ number is known: anything else has no
    // id that survives a login.
    let rooms = directory.rooms();
    for (via_group, room_id, room) in rooms {
        for member in room
            .members
            .values()
            .filter(|m| m.qq.is_some() && !directory.is_own(m.uin))
        {
            let conversation = Conversation::Temporary {
                uin: member.uin.get(),
                via_group,
                room: room_id,
            };
            let key = conversation_key(directory, conversation, member.qq.map(|q| q.get()));
            if !all.iter().any(|(_, k)| *k == key) {
                all.push((conversation, key));
            }
        }
    }
    all
}

/// What a stable id names in this session: exactly one conversation, or none. Two
/// conversations with one id (two friends alike in category, markname and nick) are never
/// guessed between: the caller gets both back and must ask the user.
pub(crate) fn resolve(
    directory: &Directory,
    kind: ConversationKind,
    stable_id: &str,
) -> Vec<Conversation> {
    reachable(directory)
        .into_iter()
        .filter(|(_, key)| key.kind == kind && key.stable_id == stable_id)
        .map(|(conversation, _)| conversation)
        .collect()
}
