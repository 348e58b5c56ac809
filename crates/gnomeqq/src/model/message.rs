//! One message of a conversation.

use std::sync::atomic::{AtomicU64, Ordering};

use gtk::glib;
use gtk::glib::prelude::*;
use gtk::glib::subclass::prelude::*;

use crate::session::{MessageInfo, Outbox};

/// Two messages of one sender further apart than this start a new group in the view.
const GROUP_GAP_SECS: u64 = 5 * 60;

/// How far apart the window's and the history's times of one of our messages may be (the
/// send queue and its pacing sit between them).
const OWN_TIME_SLACK_SECS: u64 = 10 * 60;

/// The next message's `local-id`.
static NEXT_LOCAL_ID: AtomicU64 = AtomicU64::new(1);

mod imp {
    use std::cell::{Cell, RefCell};

    use super::*;

    #[derive(Debug, Default, glib::Properties)]
    #[properties(wrapper_type = super::Message)]
    pub struct Message {
        /// Who wrote it: markname, group card or nickname.
        #[property(get, set, construct_only)]
        sender_name: RefCell<String>,
        /// The text, faces drawn.
        #[property(get, set, construct_only)]
        text: RefCell<String>,
        /// Unix seconds.
        #[property(get, set, construct_only)]
        time: Cell<i64>,
        /// We wrote it.
        #[property(get, set, construct_only)]
        own: Cell<bool>,
        /// Our messages' outbox state: `sending`, `sent`, `confirmed`, `unconfirmed` or
        /// `failed`; empty for received ones.
        #[property(get, set)]
        outbox_state: RefCell<String>,
        /// Why a send failed, in English, for the tooltip.
        #[property(get, set)]
        failure: RefCell<String>,
        /// Whether the view shows the sender's name above it (a new sender, or a pause).
        #[property(get, set)]
        starts_group: Cell<bool>,
        /// A number no other message of this process has, for actions that name one.
        #[property(get)]
        local_id: Cell<u64>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for Message {
        const NAME: &'static str = "GnomeqqMessage";
        type Type = super::Message;
    }

    #[glib::derived_properties]
    impl ObjectImpl for Message {
        fn constructed(&self) {
            self.parent_constructed();
            self.local_id
                .set(NEXT_LOCAL_ID.fetch_add(1, Ordering::Relaxed));
        }
    }
}

glib::wrapper! {
    /// A message as the conversation view shows it.
    pub struct Message(ObjectSubclass<imp::Message>);
}

impl Message {
    /// A message from the engine's description.
    pub fn new(info: &MessageInfo) -> Self {
        let message: Self = glib::Object::builder()
            .property("sender-name", &info.sender_name)
            .property("text", &info.text)
            .property("time", info.time)
            .property("own", info.own)
            .build();
        if let Some(outbox) = &info.outbox {
            message.set_outbox(outbox);
        }
        message
    }

    /// Records where our message stands.
    pub fn set_outbox(&self, outbox: &Outbox) {
        self.set_outbox_state(outbox.as_str());
        let reason = match outbox {
            Outbox::Failed(reason) => reason.as_str(),
            _ => "",
        };
        self.set_failure(reason);
    }

    /// Whether this message continues `previous` (same sender, no long pause), so the view
    /// leaves out the name.
    pub fn continues(&self, previous: &Self) -> bool {
        previous.own() == self.own()
            && previous.sender_name() == self.sender_name()
            && self.time().abs_diff(previous.time()) <= GROUP_GAP_SECS
    }

    /// Whether this is the same message as `info` (a live message that the history also
    /// returns). Our own are stored with the time they were handed to the engine, a little
    /// after the window showed them, so their times need only be close.
    pub fn same_as(&self, info: &MessageInfo) -> bool {
        let close_in_time = if self.own() {
            self.time().abs_diff(info.time) <= OWN_TIME_SLACK_SECS
        } else {
            self.time() == info.time
        };
        close_in_time
            && self.own() == info.own
            && self.text() == info.text
            && (self.own() || self.sender_name() == info.sender_name)
    }
}
