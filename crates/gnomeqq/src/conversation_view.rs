//! The open conversation: its messages in a recycling list, and the composer (Enter sends,
//! Shift+Enter breaks the line). Sending itself is the window's: it owns the session.

use adw::subclass::prelude::*;
use gtk::prelude::*;
use gtk::{CompositeTemplate, gdk, glib};

use crate::message_row::MessageRow;
use crate::model::{Conversation, Message};

/// How close to the end (in pixels) the list counts as following new messages.
const FOLLOW_MARGIN: f64 = 48.0;

mod imp {
    use std::cell::{Cell, RefCell};

    use super::*;

    #[derive(Debug, Default, CompositeTemplate)]
    #[template(file = "conversation_view.ui")]
    pub struct ConversationView {
        #[template_child]
        pub(super) header_bar: TemplateChild<adw::HeaderBar>,
        #[template_child]
        pub(super) back_button: TemplateChild<gtk::Button>,
        #[template_child]
        pub(super) window_title: TemplateChild<adw::WindowTitle>,
        #[template_child]
        pub(super) stack: TemplateChild<gtk::Stack>,
        #[template_child]
        pub(super) scroller: TemplateChild<gtk::ScrolledWindow>,
        #[template_child]
        pub(super) message_list: TemplateChild<gtk::ListView>,
        #[template_child]
        pub(super) composer_text: TemplateChild<gtk::TextView>,
        /// The conversation shown, and the handler following its new messages.
        pub(super) conversation: RefCell<Option<(Conversation, glib::SignalHandlerId)>>,
        /// Whether the list was at its end before the last change, so it follows along.
        pub(super) following: Cell<bool>,
        /// Whether an input method is composing (pinyin letters not yet turned into
        /// characters): Enter then belongs to it, not to sending.
        pub(super) composing: Cell<bool>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for ConversationView {
        const NAME: &'static str = "GnomeqqConversationView";
        type Type = super::ConversationView;
        type ParentType = adw::Bin;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            klass.install_action("conversation.send", None, |view, _, _| view.send());
            klass.install_action(
                "conversation.retry",
                Some(glib::VariantTy::UINT64),
                |view, _, target| {
                    if let Some(local_id) = target.and_then(u64::from_variant) {
                        view.retry(local_id);
                    }
                },
            );
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for ConversationView {
        fn constructed(&self) {
            self.parent_constructed();
            let view = self.obj();
            view.setup_list();
            view.setup_composer();
            self.following.set(true);
        }

        fn dispose(&self) {
            if let Some((conversation, handler)) = self.conversation.take() {
                conversation.messages().disconnect(handler);
            }
        }
    }
    impl WidgetImpl for ConversationView {}
    impl BinImpl for ConversationView {}
}

glib::wrapper! {
    /// The conversation pane of the main window.
    pub struct ConversationView(ObjectSubclass<imp::ConversationView>)
        @extends gtk::Widget, adw::Bin,
        @implements gtk::Buildable, gtk::ConstraintTarget;
}

impl ConversationView {
    /// An empty view.
    pub fn new() -> Self {
        glib::Object::new()
    }

    /// The conversation shown, if any.
    pub fn conversation(&self) -> Option<Conversation> {
        self.imp()
            .conversation
            .borrow()
            .as_ref()
            .map(|(c, _)| c.clone())
    }

    /// Shows `conversation` (or the empty page), scrolled to its newest message.
    pub fn set_conversation(&self, conversation: Option<&Conversation>) {
        let imp = self.imp();
        if let Some((previous, handler)) = imp.conversation.take() {
            previous.messages().disconnect(handler);
            // What was typed stays with its conversation.
            previous.set_draft(self.composer_text());
        }
        self.set_composer_text(&conversation.map(Conversation::draft).unwrap_or_default());
        let Some(conversation) = conversation else {
            imp.message_list.set_model(None::<&gtk::SelectionModel>);
            imp.window_title.set_title("");
            imp.stack.set_visible_child_name("empty");
            return;
        };
        imp.window_title.set_title(&conversation.name());
        imp.window_title
            .set_subtitle(&kind_label(&conversation.kind()));
        let messages = conversation.messages();
        imp.message_list
            .set_model(Some(&gtk::NoSelection::new(Some(messages.clone()))));
        let handler = messages.connect_items_changed(glib::clone!(
            #[weak(rename_to = view)]
            self,
            move |_, _, _, _| view.follow_end()
        ));
        imp.conversation
            .replace(Some((conversation.clone(), handler)));
        imp.stack.set_visible_child_name("conversation");
        imp.following.set(true);
        // Once the new list has been measured: scrolling a list that has not asks GTK for
        // a position it does not know yet.
        glib::idle_add_local_once(glib::clone!(
            #[weak(rename_to = view)]
            self,
            move || view.follow_end()
        ));
        imp.composer_text.grab_focus();
    }

    /// Lets the composer send, or not (the session is over until a new login).
    pub fn set_can_send(&self, can_send: bool) {
        self.action_set_enabled("conversation.send", can_send);
        self.imp().composer_text.set_editable(can_send);
    }

    /// Shows the back button (the window is folded to one pane).
    pub fn set_show_back(&self, show: bool) {
        let imp = self.imp();
        imp.back_button.set_visible(show);
        imp.header_bar.set_show_start_title_buttons(show);
    }

    /// The composer's text.
    pub fn composer_text(&self) -> String {
        let buffer = self.imp().composer_text.buffer();
        buffer
            .text(&buffer.start_iter(), &buffer.end_iter(), false)
            .to_string()
    }

    /// Replaces the composer's text (tests and drafts).
    pub fn set_composer_text(&self, text: &str) {
        self.imp().composer_text.buffer().set_text(text);
    }

    fn setup_list(&self) {
        let factory = gtk::SignalListItemFactory::new();
        factory.connect_setup(|_, item| {
            if let Some(item) = item.downcast_ref::<gtk::ListItem>() {
                item.set_activatable(false);
                item.set_child(Some(&MessageRow::new()));
            }
        });
        factory.connect_bind(|_, item| {
            let Some(item) = item.downcast_ref::<gtk::ListItem>() else {
                return;
            };
            let row = item.child().and_downcast::<MessageRow>();
            let message = item.item().and_downcast::<Message>();
            if let (Some(row), Some(message)) = (row, message) {
                row.bind(&message);
            }
        });
        factory.connect_unbind(|_, item| {
            let Some(item) = item.downcast_ref::<gtk::ListItem>() else {
                return;
            };
            if let Some(row) = item.child().and_downcast::<MessageRow>() {
                row.unbind();
            }
        });
        let imp = self.imp();
        imp.message_list.set_factory(Some(&factory));
        let adjustment = imp.scroller.vadjustment();
        adjustment.connect_value_changed(glib::clone!(
            #[weak(rename_to = view)]
            self,
            move |adjustment| {
                let at_end = adjustment.value() + adjustment.page_size()
                    >= adjustment.upper() - FOLLOW_MARGIN;
                view.imp().following.set(at_end);
            }
        ));
        // New rows grow the list after this change; follow once they are measured.
        adjustment.connect_upper_notify(glib::clone!(
            #[weak(rename_to = view)]
            self,
            move |adjustment| {
                if view.imp().following.get() {
                    adjustment.set_value(adjustment.upper() - adjustment.page_size());
                }
            }
        ));
    }

    fn setup_composer(&self) {
        let keys = gtk::EventControllerKey::new();
        keys.set_propagation_phase(gtk::PropagationPhase::Capture);
        keys.connect_key_pressed(glib::clone!(
            #[weak(rename_to = view)]
            self,
            #[upgrade_or]
            glib::Propagation::Proceed,
            move |_, key, _, modifiers| {
                let enter = matches!(
                    key,
                    gdk::Key::Return | gdk::Key::KP_Enter | gdk::Key::ISO_Enter
                );
                let composing = view.imp().composing.get();
                if enter && !composing && !modifiers.contains(gdk::ModifierType::SHIFT_MASK) {
                    view.send();
                    glib::Propagation::Stop
                } else {
                    glib::Propagation::Proceed
                }
            }
        ));
        let composer = &self.imp().composer_text;
        composer.add_controller(keys);
        composer.connect_preedit_changed(glib::clone!(
            #[weak(rename_to = view)]
            self,
            move |_, preedit| view.imp().composing.set(!preedit.is_empty())
        ));
    }

    fn follow_end(&self) {
        let imp = self.imp();
        if imp.following.get() {
            let adjustment = imp.scroller.vadjustment();
            adjustment.set_value(adjustment.upper() - adjustment.page_size());
        }
    }

    /// Hands the composer's text to the window to send, and empties the composer.
    fn send(&self) {
        if !self.imp().composer_text.is_editable() {
            return;
        }
        let text = self.composer_text();
        if text.trim().is_empty() {
            return;
        }
        let Some(conversation) = self.conversation() else {
            return;
        };
        self.set_composer_text("");
        self.imp().following.set(true);
        let target = (conversation.key(), text).to_variant();
        if let Err(error) = WidgetExt::activate_action(self, "win.send-message", Some(&target)) {
            tracing::error!("Could not reach the window's send action: {error}");
        }
    }

    fn retry(&self, local_id: u64) {
        let Some(conversation) = self.conversation() else {
            return;
        };
        let target = (conversation.key(), local_id).to_variant();
        if let Err(error) = WidgetExt::activate_action(self, "win.retry-message", Some(&target)) {
            tracing::error!("Could not reach the window's retry action: {error}");
        }
    }
}

impl Default for ConversationView {
    fn default() -> Self {
        Self::new()
    }
}

/// What a conversation is, for the header's subtitle.
pub fn kind_label(kind: &str) -> String {
    use gettextrs::gettext;

    match kind {
        "friend" => gettext("Friend"),
        "group" => gettext("Group"),
        "discussion" => gettext("Discussion"),
        "temporary" => gettext("Temporary Session"),
        _ => String::new(),
    }
}
