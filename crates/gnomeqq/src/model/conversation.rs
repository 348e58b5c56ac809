//! One conversation: its messages, unread count and last activity.

use gnomeqq_history::ConversationKey;
use gtk::glib::subclass::prelude::*;
use gtk::prelude::*;
use gtk::{gio, glib};

use super::Message;
use crate::session::{MessageInfo, Outbox};

/// How much of the last message the sidebar shows.
const PREVIEW_CHARS: usize = 80;

mod imp {
    use std::cell::{Cell, OnceCell, RefCell};

    use super::*;

    #[derive(Debug, Default, glib::Properties)]
    #[properties(wrapper_type = super::Conversation)]
    pub struct Conversation {
        /// The conversation key, in its string form.
        #[property(get, set, construct_only)]
        key: RefCell<String>,
        /// `friend`, `group`, `discussion` or `temporary`.
        #[property(get, set, construct_only)]
        kind: RefCell<String>,
        /// Its display name.
        #[property(get, set)]
        name: RefCell<String>,
        /// Unix seconds of its newest message; 0 without one.
        #[property(get, set)]
        last_time: Cell<i64>,
        /// Messages received since it was last read.
        #[property(get, set)]
        unread: Cell<u32>,
        /// The start of the newest message, on one line.
        #[property(get, set)]
        preview: RefCell<String>,
        /// Whether its history has been loaded into `messages`.
        #[property(get, set)]
        loaded: Cell<bool>,
        /// Whether its history is being read.
        #[property(get, set)]
        loading: Cell<bool>,
        /// What was typed in the composer and not sent, kept while another conversation is
        /// open.
        #[property(get, set)]
        draft: RefCell<String>,
        /// The messages, oldest first.
        #[property(get)]
        messages: OnceCell<gio::ListStore>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for Conversation {
        const NAME: &'static str = "GnomeqqConversation";
        type Type = super::Conversation;
    }

    #[glib::derived_properties]
    impl ObjectImpl for Conversation {
        fn constructed(&self) {
            self.parent_constructed();
            let _ = self.messages.set(gio::ListStore::new::<Message>());
        }
    }
}

glib::wrapper! {
    /// A conversation with a friend, a group, a discussion or a temporary contact.
    pub struct Conversation(ObjectSubclass<imp::Conversation>);
}

impl Conversation {
    /// An empty conversation.
    pub fn new(key: &ConversationKey, name: &str) -> Self {
        glib::Object::builder()
            .property("key", super::key_to_string(key))
            .property("kind", key.kind.as_str())
            .property("name", name)
            .build()
    }

    /// The key, as the engine and the history know it.
    pub fn conversation_key(&self) -> Option<ConversationKey> {
        super::key_from_string(&self.key())
    }

    fn last_message(&self) -> Option<Message> {
        let messages = self.messages();
        messages
            .item(messages.n_items().checked_sub(1)?)
            .and_downcast::<Message>()
    }

    /// Adds a message at the end; a received one counts as unread unless `read`.
    pub fn push(&self, info: &MessageInfo, read: bool) -> Message {
        let message = Message::new(info);
        let starts_group = self
            .last_message()
            .is_none_or(|last| !message.continues(&last));
        message.set_starts_group(starts_group);
        self.messages().append(&message);
        if !info.own && !read {
            self.set_unread(self.unread().saturating_add(1));
        }
        self.note_activity(info);
        message
    }

    /// Takes in our own message echoed by the server: it confirms the newest matching
    /// message this window sent (sent or unconfirmed) instead of showing it twice; an echo
    /// of a message sent elsewhere is added.
    pub fn take_echo(&self, info: &MessageInfo) -> Message {
        let messages = self.messages();
        // Echoes come back in the order the messages were sent: the oldest waiting first.
        let waiting = (0..messages.n_items()).find_map(|index| {
            let message = messages.item(index).and_downcast::<Message>()?;
            let awaiting = matches!(
                message.outbox_state().as_str(),
                "sent" | "unconfirmed" | "sending"
            );
            (message.own() && awaiting && message.text() == info.text).then_some(message)
        });
        match waiting {
            Some(message) => {
                message.set_outbox(&Outbox::Confirmed);
                message
            }
            None => self.push(info, true),
        }
    }

    /// Puts the history under the messages shown. A message shown live that the history
    /// also holds (everything is stored before it is shown) keeps its live object, with
    /// its outbox state still followed; live messages the history lacks stay at the end.
    pub fn load_history(&self, history: &[MessageInfo]) {
        let messages = self.messages();
        let mut live: Vec<Option<Message>> = (0..messages.n_items())
            .map(|index| messages.item(index).and_downcast::<Message>())
            .collect();
        let mut loaded: Vec<Message> = Vec::with_capacity(history.len() + live.len());
        let mut add = |message: Message| {
            let starts_group = loaded.last().is_none_or(|last| !message.continues(last));
            message.set_starts_group(starts_group);
            loaded.push(message);
        };
        for info in history {
            let shown = live
                .iter_mut()
                .find(|slot| slot.as_ref().is_some_and(|message| message.same_as(info)))
                .and_then(Option::take);
            add(shown.unwrap_or_else(|| Message::new(info)));
        }
        for message in live.into_iter().flatten() {
            add(message);
        }
        messages.splice(0, messages.n_items(), &loaded);
        if let Some(last) = history.last().filter(|last| last.time >= self.last_time()) {
            self.note_activity(last);
        }
        self.set_loading(false);
        self.set_loaded(true);
    }

    /// Lets go of the messages (they stay in the history and load again on the next
    /// open), unless one of ours is still being sent; whether it did.
    pub fn unload(&self) -> bool {
        let messages = self.messages();
        let sending = (0..messages.n_items())
            .filter_map(|index| messages.item(index).and_downcast::<Message>())
            .any(|message| message.outbox_state() == "sending");
        if sending || self.loading() {
            return false;
        }
        messages.remove_all();
        self.set_loaded(false);
        true
    }

    /// Marks everything read.
    pub fn mark_read(&self) {
        self.set_unread(0);
    }

    /// Shows `info` as the newest message (time and preview) without adding it.
    pub fn note_activity(&self, info: &MessageInfo) {
        self.set_last_time(self.last_time().max(info.time));
        let line: String = info
            .text
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .take(PREVIEW_CHARS)
            .collect();
        self.set_preview(line);
        if !info.conversation_name.is_empty() {
            self.set_name(info.conversation_name.as_str());
        }
    }
}
