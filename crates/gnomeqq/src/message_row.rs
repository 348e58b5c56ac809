//! One message in the conversation view: the sender and time when a group starts, the
//! text, and the outbox state of our own messages with a retry for failed ones.

use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::prelude::*;
use gtk::{CompositeTemplate, glib};

use crate::i18n::gettext_f;
use crate::model::Message;

mod imp {
    use std::cell::RefCell;

    use super::*;

    #[derive(Debug, Default, CompositeTemplate)]
    #[template(file = "message_row.ui")]
    pub struct MessageRow {
        #[template_child]
        pub(super) bubble: TemplateChild<gtk::Box>,
        #[template_child]
        pub(super) header: TemplateChild<gtk::Box>,
        #[template_child]
        pub(super) sender_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub(super) time_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub(super) text_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub(super) state_icon: TemplateChild<gtk::Image>,
        #[template_child]
        pub(super) retry_button: TemplateChild<gtk::Button>,
        /// The message shown, and the handler watching its outbox state.
        pub(super) message: RefCell<Option<(Message, glib::SignalHandlerId)>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for MessageRow {
        const NAME: &'static str = "GnomeqqMessageRow";
        type Type = super::MessageRow;
        type ParentType = adw::Bin;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            klass.bind_template_callbacks();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[gtk::template_callbacks]
    impl MessageRow {
        /// Asks the conversation view to send the failed message again.
        #[template_callback]
        fn retry(&self) {
            let Some((message, _)) = &*self.message.borrow() else {
                return;
            };
            let target = message.local_id().to_variant();
            let _ = WidgetExt::activate_action(&*self.obj(), "conversation.retry", Some(&target));
        }
    }

    impl ObjectImpl for MessageRow {
        fn dispose(&self) {
            if let Some((message, handler)) = self.message.take() {
                message.disconnect(handler);
            }
        }
    }
    impl WidgetImpl for MessageRow {}
    impl BinImpl for MessageRow {}
}

glib::wrapper! {
    /// A row of the conversation view's list.
    pub struct MessageRow(ObjectSubclass<imp::MessageRow>)
        @extends gtk::Widget, adw::Bin,
        @implements gtk::Buildable, gtk::ConstraintTarget;
}

impl MessageRow {
    /// An empty row, for the list's factory.
    pub fn new() -> Self {
        glib::Object::new()
    }

    /// Shows `message` (rows are recycled: the previous message is let go).
    pub fn bind(&self, message: &Message) {
        let imp = self.imp();
        if let Some((previous, handler)) = imp.message.take() {
            previous.disconnect(handler);
        }
        imp.header.set_visible(message.starts_group());
        imp.sender_label.set_label(&message.sender_name());
        imp.time_label.set_label(&format_time(message.time()));
        imp.text_label.set_label(&shown_text(&message.text()));
        if message.own() {
            imp.bubble.add_css_class("own");
        } else {
            imp.bubble.remove_css_class("own");
        }
        let handler = message.connect_outbox_state_notify(glib::clone!(
            #[weak(rename_to = row)]
            self,
            move |message| row.show_outbox(message)
        ));
        self.show_outbox(message);
        imp.message.replace(Some((message.clone(), handler)));
    }

    /// Lets the message go when the row leaves the screen.
    pub fn unbind(&self) {
        if let Some((message, handler)) = self.imp().message.take() {
            message.disconnect(handler);
        }
    }

    fn show_outbox(&self, message: &Message) {
        let imp = self.imp();
        let (icon, tooltip) = match message.outbox_state().as_str() {
            "sending" => (Some("content-loading-symbolic"), gettext("Sending…")),
            "sent" => (Some("object-select-symbolic"), gettext("Sent")),
            "unconfirmed" => (
                Some("dialog-question-symbolic"),
                gettext("The server did not confirm this message; it may not have arrived"),
            ),
            "failed" => (
                Some("dialog-error-symbolic"),
                // Translators: the tooltip of a message that failed; {reason} says why.
                gettext_f("Not sent: {reason}", &[("reason", &message.failure())]),
            ),
            // Confirmed by the server's echo, or a message we received: nothing to say.
            _ => (None, String::new()),
        };
        imp.state_icon.set_visible(icon.is_some());
        if let Some(icon) = icon {
            imp.state_icon.set_icon_name(Some(icon));
            imp.state_icon.set_tooltip_text(Some(&tooltip));
        }
        imp.retry_button
            .set_visible(message.outbox_state() == "failed");
    }
}

impl Default for MessageRow {
    fn default() -> Self {
        Self::new()
    }
}

/// The most of one message a row lays out: a wrapping label re-measures all of its text
/// on every resize, and a server can send megabytes.
const SHOWN_CHARS: usize = 16_000;

/// The text a row shows: all of it, or its start and a note of how much was left out.
fn shown_text(text: &str) -> String {
    match text.char_indices().nth(SHOWN_CHARS) {
        None => text.to_owned(),
        Some((cut, _)) => {
            let left_out = text[cut..].chars().count();
            let mut shown = text[..cut].to_owned();
            shown.push_str("\n\n");
            // Translators: after the start of a very long message; {n} is a number.
            shown.push_str(&crate::i18n::ngettext_f(
                "[{n} more character not shown]",
                "[{n} more characters not shown]",
                u32::try_from(left_out).unwrap_or(u32::MAX),
                &[("n", &left_out.to_string())],
            ));
            shown
        }
    }
}

/// A message time in the local time zone: the hour for today, else the date and hour.
pub fn format_time(unix_seconds: i64) -> String {
    let Ok(time) = glib::DateTime::from_unix_local(unix_seconds) else {
        return String::new();
    };
    let today = glib::DateTime::now_local()
        .ok()
        .and_then(|now| now.format("%F").ok());
    let day = time.format("%F").ok();
    let format = if day.is_some() && day == today {
        // Translators: the time of a message sent today (strftime format).
        gettext("%H:%M")
    } else {
        // Translators: the date and time of an older message (strftime format).
        gettext("%Y-%m-%d %H:%M")
    };
    time.format(&format)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::{SHOWN_CHARS, shown_text};

    #[test]
    fn short_text_is_shown_whole_and_long_text_is_cut_on_a_character() {
        assert_eq!(shown_text("你好"), "你好");
        let long = "字".repeat(SHOWN_CHARS + 5);
        let shown = shown_text(&long);
        assert!(shown.starts_with(&"字".repeat(SHOWN_CHARS)));
        assert!(shown.ends_with("[5 more characters not shown]"));
        assert_eq!(
            shown_text(&"字".repeat(SHOWN_CHARS)),
            "字".repeat(SHOWN_CHARS)
        );
    }
}
