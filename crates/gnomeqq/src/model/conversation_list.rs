//! Every conversation of the account, most recently active first.

use std::collections::HashMap;

use gnomeqq_history::{ConversationKey, ConversationSummary};
use gtk::glib::subclass::prelude::*;
use gtk::prelude::*;
use gtk::{gio, glib};

use super::{Conversation, Message};
use crate::session::MessageInfo;

mod imp {
    use std::cell::{OnceCell, RefCell};

    use super::*;

    #[derive(Debug, Default, glib::Properties)]
    #[properties(wrapper_type = super::ConversationList)]
    pub struct ConversationList {
        /// The conversations, most recently active first.
        #[property(get)]
        store: OnceCell<gio::ListStore>,
        /// Unread messages over all conversations.
        #[property(get, set)]
        unread: std::cell::Cell<u32>,
        /// The conversations by key string.
        pub(super) by_key: RefCell<HashMap<String, Conversation>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for ConversationList {
        const NAME: &'static str = "GnomeqqConversationList";
        type Type = super::ConversationList;
    }

    #[glib::derived_properties]
    impl ObjectImpl for ConversationList {
        fn constructed(&self) {
            self.parent_constructed();
            let _ = self.store.set(gio::ListStore::new::<Conversation>());
        }
    }
}

glib::wrapper! {
    /// The sidebar's conversations.
    pub struct ConversationList(ObjectSubclass<imp::ConversationList>);
}

impl Default for ConversationList {
    fn default() -> Self {
        glib::Object::new()
    }
}

impl ConversationList {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets every conversation (a new login starts afresh).
    pub fn clear(&self) {
        self.imp().by_key.borrow_mut().clear();
        self.store().remove_all();
        self.set_unread(0);
    }

    /// The conversation with `key`, if listed.
    pub fn get(&self, key: &ConversationKey) -> Option<Conversation> {
        self.imp()
            .by_key
            .borrow()
            .get(&super::key_to_string(key))
            .cloned()
    }

    /// Lists the history's conversations (most recent first), after any already listed.
    pub fn add_history(&self, summaries: &[ConversationSummary]) {
        let added: Vec<Conversation> = summaries
            .iter()
            .filter(|summary| self.get(&summary.key).is_none())
            .map(|summary| {
                let conversation = Conversation::new(&summary.key, &summary.name);
                conversation.set_last_time(summary.last_time);
                self.remember(&conversation);
                conversation
            })
            .collect();
        let store = self.store();
        store.splice(store.n_items(), 0, &added);
    }

    /// The conversation with `key`, listed first with `name` when it is new.
    pub fn ensure(&self, key: &ConversationKey, name: &str) -> Conversation {
        if let Some(conversation) = self.get(key) {
            return conversation;
        }
        let conversation = Conversation::new(key, name);
        self.remember(&conversation);
        self.store().insert(0, &conversation);
        conversation
    }

    /// Files a message into its conversation and moves that conversation to the top. A
    /// message of the conversation being read (`reading`) is not counted as unread.
    pub fn apply_message(
        &self,
        info: &MessageInfo,
        reading: Option<&ConversationKey>,
    ) -> (Conversation, Message) {
        let conversation = self.ensure(&info.key, &info.conversation_name);
        let message = if info.own {
            conversation.take_echo(info)
        } else {
            conversation.push(info, reading == Some(&info.key))
        };
        self.reposition(&conversation);
        self.update_unread();
        (conversation, message)
    }

    /// Marks a conversation read.
    pub fn mark_read(&self, conversation: &Conversation) {
        conversation.mark_read();
        self.update_unread();
    }

    /// Moves a conversation to its place by last activity (it was just written in; a
    /// message delivered late with an older time does not jump the queue).
    pub fn reposition(&self, conversation: &Conversation) {
        let store = self.store();
        let Some(position) = store.find(conversation) else {
            return;
        };
        let time = conversation.last_time();
        let target = (0..store.n_items())
            .filter(|&index| index != position)
            .filter_map(|index| store.item(index).and_downcast::<Conversation>())
            .take_while(|other| other.last_time() > time)
            .count() as u32;
        if target != position {
            store.remove(position);
            store.insert(target, conversation);
        }
    }

    fn remember(&self, conversation: &Conversation) {
        self.imp()
            .by_key
            .borrow_mut()
            .insert(conversation.key(), conversation.clone());
    }

    fn update_unread(&self) {
        let total = self
            .imp()
            .by_key
            .borrow()
            .values()
            .fold(0u32, |sum, conversation| {
                sum.saturating_add(conversation.unread())
            });
        if total != self.unread() {
            self.set_unread(total);
        }
    }
}
