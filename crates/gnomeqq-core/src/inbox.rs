//! The inbox's memory of what it has shown, so a message the server delivers twice
//! (FAULTS: duplicate delivery) is shown once.

use std::collections::{HashSet, VecDeque};
use std::hash::{DefaultHasher, Hash, Hasher};

use crate::events::IncomingMessage;

/// The last [`SeenMessages::CAPACITY`] messages, by a key of their identity.
#[derive(Debug, Default)]
pub(crate) struct SeenMessages {
    keys: HashSet<u64>,
    order: VecDeque<u64>,
}

impl SeenMessages {
    /// Enough for many minutes of a busy account, a few hundred KiB at most.
    const CAPACITY: usize = 4096;

    /// Whether this message is new; remembers it either way.
    pub(crate) fn first_time(&mut self, message: &IncomingMessage) -> bool {
        let key = identity(message);
        if !self.keys.insert(key) {
            return false;
        }
        self.order.push_back(key);
        if self.order.len() > Self::CAPACITY
            && let Some(oldest) = self.order.pop_front()
        {
            self.keys.remove(&oldest);
        }
        true
    }
}

/// Server counter, sender, time and content together: the same message delivered twice
/// agrees on all of them, while two messages never do.
fn identity(message: &IncomingMessage) -> u64 {
    let mut hasher = DefaultHasher::new();
    message.conversation.hash(&mut hasher);
    message.sender_uin.hash(&mut hasher);
    message.msg_id.hash(&mut hasher);
    message.time.hash(&mut hasher);
    message.text.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Conversation;

    fn message(msg_id: u64, text: &str) -> IncomingMessage {
        IncomingMessage {
            conversation: Conversation::Friend { uin: 1 },
            conversation_name: "Bob".to_owned(),
            sender_uin: 1,
            sender_name: "Bob".to_owned(),
            sender_qq: None,
            sender_markname: None,
            own: false,
            time: 1_500_000_000,
            msg_id,
            segments: Vec::new(),
            text: text.to_owned(),
            history_key: gnomeqq_history::ConversationKey::new(
                gnomeqq_history::ConversationKind::Friend,
                "qq:1",
            ),
        }
    }

    #[test]
    fn a_second_delivery_is_not_new_but_another_message_is() {
        let mut seen = SeenMessages::default();

        let first = seen.first_time(&message(1, "hi"));
        let again = seen.first_time(&message(1, "hi"));
        let other = seen.first_time(&message(2, "hi"));

        assert!(first && !again && other);
    }

    #[test]
    fn memory_is_bounded() {
        let mut seen = SeenMessages::default();

        for id in 0..(SeenMessages::CAPACITY as u64 + 100) {
            seen.first_time(&message(id, "x"));
        }

        assert_eq!(seen.keys.len(), SeenMessages::CAPACITY);
        assert!(
            seen.first_time(&message(0, "x")),
            "the oldest was forgotten"
        );
    }
}
