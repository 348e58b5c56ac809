//! The app's data as GObjects, apart from the views that show them. These use only GLib
//! and GIO, so the tests run them without a display.

mod contact;
mod conversation;
mod conversation_list;
mod message;

pub use contact::Contact;
pub use conversation::Conversation;
pub use conversation_list::ConversationList;
pub use message::Message;

use gnomeqq_history::{ConversationKey, ConversationKind};

/// The one-string form of a conversation key, as GObject properties and actions carry it:
/// `kind/stable_id` (stable ids contain `:` but never start with a kind and a `/`).
pub fn key_to_string(key: &ConversationKey) -> String {
    format!("{}/{}", key.kind.as_str(), key.stable_id)
}

/// The key a string of [`key_to_string`] names, if it is one.
pub fn key_from_string(text: &str) -> Option<ConversationKey> {
    let (kind, stable_id) = text.split_once('/')?;
    let kind = ConversationKind::parse(kind)?;
    (!stable_id.is_empty()).then(|| ConversationKey::new(kind, stable_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_survive_their_string_form() {
        let key = ConversationKey::new(ConversationKind::Friend, "friend:abc/def");
        assert_eq!(key_from_string(&key_to_string(&key)), Some(key));
    }

    #[test]
    fn malformed_keys_are_refused() {
        assert_eq!(key_from_string("friend"), None);
        assert_eq!(key_from_string("planet/qq:1"), None);
        assert_eq!(key_from_string("group/"), None);
    }
}
