//! A friend, group or discussion of the contact list.

use gtk::glib;
use gtk::glib::subclass::prelude::*;

use crate::session::ContactInfo;

mod imp {
    use std::cell::RefCell;

    use gtk::glib::prelude::*;

    use super::*;

    #[derive(Debug, Default, glib::Properties)]
    #[properties(wrapper_type = super::Contact)]
    pub struct Contact {
        /// The conversation key, in its string form.
        #[property(get, set, construct_only)]
        key: RefCell<String>,
        /// The name to show.
        #[property(get, set, construct_only)]
        name: RefCell<String>,
        /// `friend`, `group` or `discussion`.
        #[property(get, set, construct_only)]
        kind: RefCell<String>,
        /// The friend's category; empty for rooms.
        #[property(get, set, construct_only)]
        category: RefCell<String>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for Contact {
        const NAME: &'static str = "GnomeqqContact";
        type Type = super::Contact;
    }

    #[glib::derived_properties]
    impl ObjectImpl for Contact {}
}

glib::wrapper! {
    /// A contact to open a conversation with.
    pub struct Contact(ObjectSubclass<imp::Contact>);
}

impl Contact {
    /// A contact from the engine's description.
    pub fn new(info: &ContactInfo) -> Self {
        glib::Object::builder()
            .property("key", super::key_to_string(&info.key))
            .property("name", &info.name)
            .property("kind", info.key.kind.as_str())
            .property("category", &info.category)
            .build()
    }

    /// The section the contact list files it under: the category for friends, else the
    /// kind.
    pub fn section(&self) -> String {
        match self.kind().as_str() {
            "friend" => self.category(),
            other => other.to_owned(),
        }
    }
}
