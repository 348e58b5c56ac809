//! A conversation in the sidebar: avatar, name, time, last message and unread count.

use adw::subclass::prelude::*;
use gtk::prelude::*;
use gtk::{CompositeTemplate, glib};

use crate::i18n::ngettext_f;
use crate::model::Conversation;

mod imp {
    use std::cell::RefCell;

    use super::*;

    #[derive(Debug, Default, CompositeTemplate)]
    #[template(file = "conversation_row.ui")]
    pub struct ConversationRow {
        #[template_child]
        pub(super) avatar: TemplateChild<adw::Avatar>,
        #[template_child]
        pub(super) name_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub(super) time_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub(super) preview_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub(super) unread_label: TemplateChild<gtk::Label>,
        /// The conversation shown and the handlers watching it.
        pub(super) bound: RefCell<Option<(Conversation, Vec<glib::SignalHandlerId>)>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for ConversationRow {
        const NAME: &'static str = "GnomeqqConversationRow";
        type Type = super::ConversationRow;
        type ParentType = adw::Bin;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for ConversationRow {
        fn dispose(&self) {
            self.obj().unbind();
        }
    }
    impl WidgetImpl for ConversationRow {}
    impl BinImpl for ConversationRow {}
}

glib::wrapper! {
    /// A row of the sidebar's conversation list.
    pub struct ConversationRow(ObjectSubclass<imp::ConversationRow>)
        @extends gtk::Widget, adw::Bin,
        @implements gtk::Buildable, gtk::ConstraintTarget;
}

impl ConversationRow {
    /// An empty row, for the list's factory.
    pub fn new() -> Self {
        glib::Object::new()
    }

    /// Shows `conversation` and follows its changes until the next `bind` or `unbind`.
    pub fn bind(&self, conversation: &Conversation) {
        self.unbind();
        let update = glib::clone!(
            #[weak(rename_to = row)]
            self,
            move |conversation: &Conversation| row.show(conversation)
        );
        let handlers = vec![
            conversation.connect_name_notify(update.clone()),
            conversation.connect_preview_notify(update.clone()),
            conversation.connect_unread_notify(update.clone()),
            conversation.connect_last_time_notify(update),
        ];
        self.show(conversation);
        self.imp()
            .bound
            .replace(Some((conversation.clone(), handlers)));
    }

    /// Stops following the conversation shown.
    pub fn unbind(&self) {
        if let Some((conversation, handlers)) = self.imp().bound.take() {
            for handler in handlers {
                conversation.disconnect(handler);
            }
        }
    }

    fn show(&self, conversation: &Conversation) {
        let imp = self.imp();
        let name = conversation.name();
        imp.avatar.set_text(Some(&name));
        imp.name_label.set_label(&name);
        imp.preview_label.set_label(&conversation.preview());
        let time = conversation.last_time();
        imp.time_label.set_label(&if time > 0 {
            crate::message_row::format_time(time)
        } else {
            String::new()
        });
        let unread = conversation.unread();
        imp.unread_label.set_visible(unread > 0);
        imp.unread_label.set_label(&unread.to_string());
        // Translators: the unread-count badge of a conversation; {n} is the count.
        imp.unread_label.set_tooltip_text(Some(&ngettext_f(
            "{n} unread message",
            "{n} unread messages",
            unread,
            &[("n", &unread.to_string())],
        )));
    }
}

impl Default for ConversationRow {
    fn default() -> Self {
        Self::new()
    }
}
