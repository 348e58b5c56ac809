//! The main window: the login page until the account is online, then the sidebar of
//! conversations and contacts beside the open conversation. It owns the session: engine
//! events arrive here through a channel and update the models.

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gnomeqq_core::NoticeKind;
use gnomeqq_history::ConversationKey;
use gtk::{CompositeTemplate, gio, glib};

use crate::conversation_row::ConversationRow;
use crate::conversation_view::{ConversationView, kind_label};
use crate::i18n::gettext_f;
use crate::login_page::LoginPage;
use crate::model::{
    Contact, Conversation, ConversationList, Message, key_from_string, key_to_string,
};
use crate::runtime::spawn_tokio;
use crate::session::{Attempt, ClientEvent, MessageInfo, Outbox, Session, SessionOptions};
use gnomeqq_core::account::MAX_PART_BYTES;
use gnomeqq_core::split_message;

/// The generation of the session a window starts with (`stop_session` counts up first).
const FIRST_GENERATION: u64 = 1;

/// How many engine events are handled before the main loop gets a turn.
const EVENT_SLICE: u32 = 32;

/// How many conversations keep their messages in memory after they were left: a long
/// history in each of fifty conversations must not all stay loaded.
const KEPT_CONVERSATIONS: usize = 5;

/// The most of a message a notification shows.
const NOTIFICATION_CHARS: usize = 200;

mod imp {
    use std::cell::{Cell, OnceCell, RefCell};

    use super::*;

    #[derive(Debug, Default, CompositeTemplate)]
    #[template(file = "window.ui")]
    pub struct Window {
        #[template_child]
        pub(super) toast_overlay: TemplateChild<adw::ToastOverlay>,
        #[template_child]
        pub(super) main_stack: TemplateChild<gtk::Stack>,
        #[template_child]
        pub(super) login_page: TemplateChild<LoginPage>,
        #[template_child]
        pub(super) notice_revealer: TemplateChild<gtk::Revealer>,
        #[template_child]
        pub(super) notice_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub(super) notice_button: TemplateChild<gtk::Button>,
        #[template_child]
        pub(super) leaflet: TemplateChild<adw::Leaflet>,
        #[template_child]
        pub(super) sidebar: TemplateChild<gtk::Box>,
        #[template_child]
        pub(super) sidebar_title: TemplateChild<adw::WindowTitle>,
        #[template_child]
        pub(super) search_bar: TemplateChild<gtk::SearchBar>,
        #[template_child]
        pub(super) search_entry: TemplateChild<gtk::SearchEntry>,
        #[template_child]
        pub(super) search_button: TemplateChild<gtk::ToggleButton>,
        #[template_child]
        pub(super) sidebar_stack: TemplateChild<adw::ViewStack>,
        #[template_child]
        pub(super) conversation_list: TemplateChild<gtk::ListView>,
        #[template_child]
        pub(super) contact_list: TemplateChild<gtk::ListBox>,
        #[template_child]
        pub(super) conversation_view: TemplateChild<ConversationView>,

        /// How this window connects (changed by "Try the Sandbox").
        pub(super) options: RefCell<SessionOptions>,
        /// How the window was opened, to go back to after a log-out.
        pub(super) first_options: RefCell<SessionOptions>,
        /// Grows at every (re)start: work begun for an older session checks it after each
        /// await and drops its result, so a late answer never lands in the new one.
        pub(super) generation: Cell<u64>,
        /// The login running on tokio, stopped when the window starts over or closes.
        pub(super) login_task: RefCell<Option<tokio::task::AbortHandle>>,
        /// Whether that login is a password login (a QR login gives way to one).
        pub(super) password_running: Cell<bool>,
        /// The conversations opened last, most recent first: only these keep their
        /// messages in memory (the others reload from the history when opened).
        pub(super) recently_open: RefCell<std::collections::VecDeque<Conversation>>,
        /// The notifications on screen, withdrawn when the session ends.
        pub(super) notifications: RefCell<std::collections::HashSet<String>>,
        /// The running session, once started.
        pub(super) session: RefCell<Option<Session>>,
        /// The task receiving the session's events.
        pub(super) events_task: RefCell<Option<glib::JoinHandle<()>>>,
        /// Every conversation.
        pub(super) conversations: ConversationList,
        /// Every contact, in sections.
        pub(super) contacts: OnceCell<gio::ListStore>,
        /// The search filter of both sidebar lists.
        pub(super) filter: OnceCell<gtk::CustomFilter>,
        /// The conversations' selection (to highlight the open one).
        pub(super) selection: OnceCell<gtk::SingleSelection>,
        /// Whether the account is online.
        pub(super) online: Cell<bool>,
        /// Our nickname, the sender name of what we write.
        pub(super) own_name: RefCell<String>,
        /// The QQ number whose password login waits for its captcha.
        pub(super) password_pending: Cell<Option<u64>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for Window {
        const NAME: &'static str = "GnomeqqWindow";
        type Type = super::Window;
        type ParentType = adw::ApplicationWindow;

        fn class_init(klass: &mut Self::Class) {
            LoginPage::ensure_type();
            ConversationView::ensure_type();
            klass.bind_template();

            klass.install_action(
                "win.send-message",
                Some(&<(String, String)>::static_variant_type()),
                |window, _, target| {
                    if let Some((key, text)) = target.and_then(<(String, String)>::from_variant) {
                        window.send_message(&key, text);
                    }
                },
            );
            klass.install_action(
                "win.retry-message",
                Some(&<(String, u64)>::static_variant_type()),
                |window, _, target| {
                    if let Some((key, local_id)) = target.and_then(<(String, u64)>::from_variant) {
                        window.retry_message(&key, local_id);
                    }
                },
            );
            klass.install_action(
                "win.open-conversation",
                Some(glib::VariantTy::STRING),
                |window, _, target| {
                    if let Some(key) = target.and_then(String::from_variant) {
                        window.open_conversation_key(&key);
                    }
                },
            );
            klass.install_action("win.go-back", None, |window, _, _| {
                window
                    .imp()
                    .leaflet
                    .navigate(adw::NavigationDirection::Back);
            });
            klass.install_action("win.search", None, |window, _, _| {
                let imp = window.imp();
                if imp.online.get() {
                    imp.leaflet.set_visible_child(&*imp.sidebar);
                    imp.search_button.set_active(true);
                    imp.search_entry.grab_focus();
                }
            });
            klass.install_action("win.try-sandbox", None, |window, _, _| {
                window.imp().options.borrow_mut().sandbox = true;
                window.start();
            });
            klass.install_action("win.qr-login", None, |window, _, _| window.connect(false));
            klass.install_action("win.resume-login", None, |window, _, _| {
                window.connect(true)
            });
            klass.install_action("win.password-login", None, |window, _, _| {
                window.password_login()
            });
            klass.install_action("win.log-in-again", None, |window, _, _| window.start());
            klass.install_action("win.log-out", None, |window, _, _| window.log_out());
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for Window {
        fn constructed(&self) {
            self.parent_constructed();
            let window = self.obj();
            window.setup_sidebar();
            window.setup_behaviour();
        }

        fn dispose(&self) {
            self.obj().stop_session();
        }
    }

    impl WidgetImpl for Window {}
    impl WindowImpl for Window {}
    impl ApplicationWindowImpl for Window {}
    impl AdwApplicationWindowImpl for Window {}
}

glib::wrapper! {
    /// The GnomeQQ window.
    pub struct Window(ObjectSubclass<imp::Window>)
        @extends gtk::Widget, gtk::Window, gtk::ApplicationWindow, adw::ApplicationWindow,
        @implements gio::ActionMap, gio::ActionGroup, gtk::Root, gtk::Native,
            gtk::Buildable, gtk::ConstraintTarget, gtk::ShortcutManager;
}

impl Window {
    /// A window of `application` that connects as `options` say; call [`Window::start`].
    pub fn new(application: &impl IsA<gtk::Application>, options: SessionOptions) -> Self {
        let window: Self = glib::Object::builder()
            .property("application", application)
            .build();
        window.imp().first_options.replace(options.clone());
        window.imp().options.replace(options);
        window
    }

    /// The conversations (for tests and the notification actions).
    pub fn conversations(&self) -> ConversationList {
        self.imp().conversations.clone()
    }

    /// The conversation view.
    pub fn conversation_view(&self) -> ConversationView {
        self.imp().conversation_view.get()
    }

    /// Whether the account is online.
    pub fn is_online(&self) -> bool {
        self.imp().online.get()
    }

    /// Whether the login page is showing a QR code to scan.
    pub fn shows_qr_code(&self) -> bool {
        let imp = self.imp();
        imp.main_stack.visible_child_name().as_deref() == Some("login")
            && imp.login_page.shows_qr_code()
    }

    /// Whether the window is crossfading between the login page and the conversations.
    pub fn is_changing_page(&self) -> bool {
        self.imp().main_stack.is_transition_running()
    }

    /// The login page.
    pub fn login_page(&self) -> LoginPage {
        self.imp().login_page.get()
    }

    /// The persistent notice above the conversations, when one is shown, and whether it
    /// offers a new login.
    pub fn notice(&self) -> Option<(String, bool)> {
        let imp = self.imp();
        imp.notice_revealer.reveals_child().then(|| {
            (
                imp.notice_label.label().to_string(),
                imp.notice_button.is_visible(),
            )
        })
    }

    /// The embedded sandbox's URL, when this window runs one.
    pub fn sandbox_url(&self) -> Option<String> {
        self.imp().session.borrow().as_ref()?.sandbox_url()
    }

    /// (Re)starts the session: the login page, then online.
    pub fn start(&self) {
        let imp = self.imp();
        self.stop_session();
        let generation = imp.generation.get();
        imp.online.set(false);
        imp.password_pending.set(None);
        imp.conversation_view.set_conversation(None);
        imp.conversations.clear();
        imp.recently_open.borrow_mut().clear();
        if let Some(contacts) = imp.contacts.get() {
            contacts.remove_all();
        }
        imp.notice_revealer.set_reveal_child(false);
        imp.main_stack.set_visible_child_name("login");
        imp.login_page.reset(&gettext("Connecting…"));
        imp.login_page.set_busy(true);
        let options = imp.options.borrow().clone();
        let starting = spawn_tokio(Session::start(options));
        imp.login_task.replace(Some(starting.abort_handle()));
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = window)]
            self,
            async move {
                let started = starting.await;
                if window.imp().generation.get() != generation {
                    if let Ok(Ok((session, _))) = started {
                        session.close();
                    }
                    return;
                }
                let (session, events) = match started {
                    Ok(Ok(started)) => started,
                    Ok(Err(error)) => {
                        window.login_failed(&error);
                        return;
                    }
                    Err(error) => {
                        window.login_failed(&anyhow::Error::new(error));
                        return;
                    }
                };
                let imp = window.imp();
                imp.login_page
                    .set_password_login_available(session.password_login_exists());
                imp.session.replace(Some(session.clone()));
                let task = glib::spawn_future_local(glib::clone!(
                    #[weak]
                    window,
                    async move {
                        let mut handled = 0u32;
                        while let Ok(event) = events.recv().await {
                            window.handle_event(event);
                            handled = handled.wrapping_add(1);
                            // A backlog (messages kept while offline) arrives all at once:
                            // let the window draw and answer input between slices of it.
                            if handled.is_multiple_of(EVENT_SLICE) {
                                glib::timeout_future(std::time::Duration::ZERO).await;
                            }
                        }
                    }
                ));
                imp.events_task.replace(Some(task));
                let saved = spawn_tokio({
                    let session = session.clone();
                    async move { session.saved_account().await }
                })
                .await
                .ok()
                .flatten();
                if window.imp().generation.get() != generation {
                    return;
                }
                imp.login_page.set_busy(false);
                // At launch a saved login resumes by itself, as people expect of a chat
                // client; after a kick or a failed login it waits for a click, so the
                // person chooses it over a new QR login.
                match saved {
                    Some(qq) if generation != FIRST_GENERATION => imp.login_page.show_saved(qq),
                    _ => window.connect(true),
                }
            }
        ));
    }

    /// Ends the running session and everything begun for it: its login, its events and
    /// its notifications; work still in flight for it finds the generation moved on.
    fn stop_session(&self) {
        let imp = self.imp();
        imp.generation.set(imp.generation.get().wrapping_add(1));
        if let Some(login) = imp.login_task.take() {
            login.abort();
        }
        if let Some(task) = imp.events_task.take() {
            task.abort();
        }
        if let Some(session) = imp.session.take() {
            session.close();
        }
        if let Some(application) = self.application() {
            for id in imp.notifications.take() {
                application.withdraw_notification(&id);
            }
        }
    }

    /// Logs in: the saved login when `resume` (else a QR code), or a new QR login. A click
    /// while a login runs is ignored.
    fn connect(&self, resume: bool) {
        let imp = self.imp();
        let Some(session) = imp.session.borrow().clone() else {
            // The session never started (the sandbox could not listen, …): start over.
            self.start();
            return;
        };
        if imp
            .login_task
            .borrow()
            .as_ref()
            .is_some_and(|task| !task.is_finished())
        {
            return;
        }
        imp.login_page.reset(&gettext("Connecting…"));
        imp.login_page.set_busy(true);
        let generation = imp.generation.get();
        let login = spawn_tokio(async move { session.connect(resume).await });
        imp.login_task.replace(Some(login.abort_handle()));
        imp.password_running.set(false);
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = window)]
            self,
            async move {
                let outcome = login.await;
                if window.imp().generation.get() != generation {
                    return;
                }
                window.imp().login_page.set_busy(false);
                match outcome {
                    Ok(Ok(())) => {}
                    Ok(Err(error)) => window.login_failed(&error),
                    Err(error) if error.is_cancelled() => {}
                    Err(error) => window.login_failed(&anyhow::Error::new(error)),
                }
            }
        ));
    }

    fn password_login(&self) {
        let imp = self.imp();
        let Some(session) = imp.session.borrow().clone() else {
            return;
        };
        let running = imp
            .login_task
            .borrow()
            .as_ref()
            .is_some_and(|task| !task.is_finished());
        if running && imp.password_running.get() {
            return;
        }
        let form = imp.login_page.password_form();
        let Some(qq) = form.qq else {
            imp.login_page.show_error(&gettext("Type your QQ number"));
            return;
        };
        if form.password.is_empty() {
            imp.login_page.show_error(&gettext("Type your password"));
            return;
        }
        // The captcha answer belongs to the check of this number; a changed number starts over.
        let captcha = form
            .captcha
            .filter(|_| imp.password_pending.get() == Some(qq));
        // The person chose the password over the QR code on screen: that login gives way.
        if let Some(qr_login) = imp.login_task.take() {
            qr_login.abort();
        }
        imp.login_page.reset(&gettext("Logging in…"));
        imp.login_page.set_busy(true);
        let generation = imp.generation.get();
        let password = form.password;
        let login = spawn_tokio(async move {
            if captcha.is_none()
                && let Some(png) = session.password_check(qq).await?
            {
                return Ok(Some(png));
            }
            session.password_login(password, captcha).await?;
            anyhow::Ok(None)
        });
        imp.login_task.replace(Some(login.abort_handle()));
        imp.password_running.set(true);
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = window)]
            self,
            async move {
                let outcome = login.await;
                let imp = window.imp();
                if imp.generation.get() != generation {
                    return;
                }
                imp.login_page.set_busy(false);
                match outcome {
                    Ok(Ok(Some(captcha_png))) => {
                        imp.password_pending.set(Some(qq));
                        imp.login_page.show_error(&gettext(
                            "Type the code in the picture, then log in again",
                        ));
                        imp.login_page.show_captcha(&captcha_png);
                    }
                    Ok(Ok(None)) => {
                        imp.password_pending.set(None);
                        imp.login_page.clear_password();
                    }
                    Ok(Err(error)) => {
                        imp.password_pending.set(None);
                        imp.login_page.clear_password();
                        window.login_failed(&error);
                    }
                    Err(error) if error.is_cancelled() => {}
                    Err(error) => window.login_failed(&anyhow::Error::new(error)),
                }
            }
        ));
    }

    fn login_failed(&self, error: &anyhow::Error) {
        tracing::warn!("Login failed: {error:#}");
        self.imp().login_page.set_busy(false);
        self.imp().login_page.show_error(&login_failure_text(error));
    }

    fn log_out(&self) {
        let Some(session) = self.imp().session.borrow().clone() else {
            return;
        };
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = window)]
            self,
            async move {
                let _ = spawn_tokio(async move { session.log_out().await }).await;
                // Back to how the window was opened ("Try the Sandbox" lasts one session).
                let first = window.imp().first_options.borrow().clone();
                window.imp().options.replace(first);
                window.start();
            }
        ));
    }

    /// Applies one engine event to the models and the window.
    pub fn handle_event(&self, event: ClientEvent) {
        let imp = self.imp();
        match event {
            ClientEvent::SandboxReady { url } => {
                tracing::info!("Sandbox listening on {url}");
            }
            ClientEvent::Login(step) => imp.login_page.set_step(&step),
            ClientEvent::Notice(kind, detail) => {
                tracing::info!("{detail}");
                self.toast(&glib::markup_escape_text(&notice_text(kind, &detail)));
            }
            ClientEvent::Online {
                qq,
                nick,
                contacts,
                conversations,
                last_messages,
            } => {
                imp.online.set(true);
                imp.own_name.replace(nick.clone());
                // Translators: the sidebar's subtitle: our nickname and QQ number.
                imp.sidebar_title.set_subtitle(&gettext_f(
                    "{nick} ({number})",
                    &[("nick", &nick), ("number", &qq.to_string())],
                ));
                imp.conversations.add_history(&conversations);
                for last in &last_messages {
                    if let Some(conversation) = imp.conversations.get(&last.key) {
                        conversation.note_activity(last);
                    }
                }
                if let Some(store) = imp.contacts.get() {
                    let contacts: Vec<Contact> = contacts.iter().map(Contact::new).collect();
                    store.splice(0, store.n_items(), &contacts);
                }
                imp.notice_revealer.set_reveal_child(false);
                imp.conversation_view.set_can_send(true);
                imp.main_stack.set_visible_child_name("session");
            }
            ClientEvent::Message(info) => self.receive(&info),
            ClientEvent::Reconnecting => {
                self.show_notice(&gettext("The connection broke; reconnecting…"), false);
            }
            ClientEvent::Reconnected => {
                imp.notice_revealer.set_reveal_child(false);
                self.toast(&gettext("Connected again"));
            }
            ClientEvent::Kicked(reason) => {
                imp.online.set(false);
                tracing::info!("Kicked: {reason}");
                self.show_notice(
                    &gettext("This account logged in elsewhere, so this session was ended"),
                    true,
                );
            }
            ClientEvent::SessionLost(reason) => {
                imp.online.set(false);
                tracing::info!("Session lost: {reason}");
                self.show_notice(
                    &gettext("The session expired and could not be renewed"),
                    true,
                );
            }
        }
    }

    /// A persistent notice above the conversations; `log_in` offers a new login (the
    /// session is over: the composer stops taking messages until then).
    fn show_notice(&self, text: &str, log_in: bool) {
        let imp = self.imp();
        imp.notice_label.set_label(text);
        imp.notice_button.set_visible(log_in);
        imp.notice_revealer.set_reveal_child(true);
        imp.conversation_view.set_can_send(!log_in);
    }

    fn toast(&self, text: &str) {
        self.imp().toast_overlay.add_toast(adw::Toast::new(text));
    }

    fn receive(&self, info: &MessageInfo) {
        let reading = self.reading();
        let (conversation, _) = self
            .imp()
            .conversations
            .apply_message(info, reading.as_ref());
        self.select_open_conversation();
        if !info.own && reading.as_ref() != Some(&info.key) {
            self.notify(&conversation, info);
        }
    }

    /// The conversation the user is reading: open, in view and the window focused.
    fn reading(&self) -> Option<ConversationKey> {
        let imp = self.imp();
        let in_view = !imp.leaflet.is_folded()
            || imp.leaflet.visible_child().as_ref()
                == Some(imp.conversation_view.upcast_ref::<gtk::Widget>());
        if !self.is_active() || !in_view {
            return None;
        }
        imp.conversation_view.conversation()?.conversation_key()
    }

    fn notify(&self, conversation: &Conversation, info: &MessageInfo) {
        if self.is_active() {
            return;
        }
        let Some(application) = self.application() else {
            return;
        };
        let notification = gio::Notification::new(&conversation.name());
        let mut text: String = info.text.chars().take(NOTIFICATION_CHARS).collect();
        if text.len() < info.text.len() {
            text.push('…');
        }
        let body = if conversation.kind() == "friend" {
            text
        } else {
            // Translators: a notification of a group message: who wrote, and what.
            gettext_f(
                "{sender}: {text}",
                &[("sender", &info.sender_name), ("text", &text)],
            )
        };
        notification.set_body(Some(&body));
        notification.set_default_action_and_target_value(
            "app.open-conversation",
            Some(&conversation.key().to_variant()),
        );
        let id = notification_id(&conversation.key());
        application.send_notification(Some(&id), &notification);
        self.imp().notifications.borrow_mut().insert(id);
    }

    /// Opens the conversation with key string `key` (from the sidebar, a contact or a
    /// notification).
    pub fn open_conversation_key(&self, key: &str) {
        let Some(key) = key_from_string(key) else {
            tracing::warn!("Ignoring a malformed conversation key");
            return;
        };
        let imp = self.imp();
        let name = imp
            .contacts
            .get()
            .and_then(|contacts| {
                (0..contacts.n_items())
                    .filter_map(|i| contacts.item(i).and_downcast::<Contact>())
                    .find(|contact| contact.key() == key_to_string(&key))
            })
            .map(|contact| contact.name())
            .unwrap_or_default();
        let conversation = imp.conversations.ensure(&key, &name);
        self.open_conversation(&conversation);
    }

    /// Shows `conversation`, loading its history the first time, and marks it read.
    pub fn open_conversation(&self, conversation: &Conversation) {
        let imp = self.imp();
        imp.conversation_view.set_conversation(Some(conversation));
        imp.leaflet.set_visible_child(&*imp.conversation_view);
        self.select_open_conversation();
        self.mark_read(conversation);
        self.keep_loaded(conversation);
        if conversation.loaded() || conversation.loading() {
            return;
        }
        let (Some(session), Some(key)) = (
            imp.session.borrow().clone(),
            conversation.conversation_key(),
        ) else {
            return;
        };
        conversation.set_loading(true);
        glib::spawn_future_local(glib::clone!(
            #[weak]
            conversation,
            async move {
                match spawn_tokio(async move { session.history(key).await }).await {
                    Ok(Ok(history)) => conversation.load_history(&history),
                    Ok(Err(error)) => {
                        tracing::warn!("Could not read the history: {error:#}");
                        // Opening it again tries again.
                        conversation.set_loading(false);
                    }
                    Err(error) => {
                        tracing::warn!("The history task failed: {error}");
                        conversation.set_loading(false);
                    }
                }
            }
        ));
    }

    /// Notes `conversation` as just opened and lets the conversations opened longest ago
    /// go of their messages, keeping [`KEPT_CONVERSATIONS`].
    fn keep_loaded(&self, conversation: &Conversation) {
        let mut recent = self.imp().recently_open.borrow_mut();
        recent.retain(|other| other != conversation);
        recent.push_front(conversation.clone());
        let mut kept = std::collections::VecDeque::with_capacity(KEPT_CONVERSATIONS + 1);
        for (index, other) in recent.drain(..).enumerate() {
            // One still sending keeps its messages (and its place) until it is done.
            if index < KEPT_CONVERSATIONS || !other.unload() {
                kept.push_back(other);
            }
        }
        *recent = kept;
    }

    /// Highlights the open conversation in the sidebar (moving rows drops the highlight).
    fn select_open_conversation(&self) {
        let imp = self.imp();
        let (Some(selection), Some(open)) =
            (imp.selection.get(), imp.conversation_view.conversation())
        else {
            return;
        };
        let position = (0..selection.n_items())
            .find(|&i| selection.item(i).as_ref() == Some(open.upcast_ref::<glib::Object>()));
        if let Some(position) = position.filter(|&p| p != selection.selected()) {
            selection.set_selected(position);
        }
    }

    fn mark_read(&self, conversation: &Conversation) {
        self.imp().conversations.mark_read(conversation);
        if let Some(application) = self.application() {
            application.withdraw_notification(&notification_id(&conversation.key()));
        }
    }

    fn send_message(&self, key: &str, text: String) {
        let imp = self.imp();
        let Some(parsed) = key_from_string(key) else {
            return;
        };
        let Some(conversation) = imp.conversations.get(&parsed) else {
            return;
        };
        // The engine sends a long text in parts, each echoed on its own: split it here
        // so each part is one message with its own state, confirmation and retry.
        for part in split_message(&text, MAX_PART_BYTES) {
            let info = MessageInfo {
                key: parsed.clone(),
                conversation_name: String::new(),
                sender_name: imp.own_name.borrow().clone(),
                own: true,
                time: glib::real_time() / 1_000_000,
                text: part.clone(),
                outbox: Some(Outbox::Sending),
            };
            let message = conversation.push(&info, true);
            self.deliver(&conversation, &message, part, Attempt::First);
        }
        imp.conversations.reposition(&conversation);
        self.select_open_conversation();
    }

    fn retry_message(&self, key: &str, local_id: u64) {
        let Some(conversation) =
            key_from_string(key).and_then(|k| self.imp().conversations.get(&k))
        else {
            return;
        };
        let messages = conversation.messages();
        let message = (0..messages.n_items())
            .filter_map(|i| messages.item(i).and_downcast::<Message>())
            .find(|message| message.local_id() == local_id && message.outbox_state() == "failed");
        if let Some(message) = message {
            message.set_outbox(&Outbox::Sending);
            let attempt = Attempt::Retry {
                written: message.time(),
            };
            self.deliver(&conversation, &message, message.text(), attempt);
        }
    }

    /// Sends `text` and shows where it stands on `message`.
    fn deliver(
        &self,
        conversation: &Conversation,
        message: &Message,
        text: String,
        attempt: Attempt,
    ) {
        let session = self.imp().session.borrow().clone();
        let (Some(session), Some(key)) = (session, conversation.conversation_key()) else {
            message.set_outbox(&Outbox::Failed(gettext("not logged in")));
            return;
        };
        // Queued now, in the order of the calls; only the wait runs on.
        let sending = spawn_tokio(session.send(key, text, attempt));
        glib::spawn_future_local(glib::clone!(
            #[weak]
            message,
            async move {
                let outbox = sending.await.unwrap_or_else(|error| {
                    tracing::error!("The send task failed: {error}");
                    Outbox::Failed(gettext("the send stopped unexpectedly"))
                });
                // The server's echo may have confirmed it while the send was answered.
                if message.outbox_state() != "confirmed" {
                    message.set_outbox(&outbox);
                }
            }
        ));
    }

    fn setup_sidebar(&self) {
        let imp = self.imp();
        let filter = gtk::CustomFilter::new(glib::clone!(
            #[weak(rename_to = window)]
            self,
            #[upgrade_or]
            true,
            move |item| window.matches_search(item)
        ));
        imp.search_entry.connect_search_changed(glib::clone!(
            #[weak]
            filter,
            move |_| filter.changed(gtk::FilterChange::Different)
        ));

        // Conversations, most recent first.
        let filtered =
            gtk::FilterListModel::new(Some(imp.conversations.store()), Some(filter.clone()));
        let selection = gtk::SingleSelection::new(Some(filtered));
        selection.set_autoselect(false);
        selection.set_can_unselect(true);
        let factory = gtk::SignalListItemFactory::new();
        factory.connect_setup(|_, item| {
            if let Some(item) = item.downcast_ref::<gtk::ListItem>() {
                item.set_child(Some(&ConversationRow::new()));
            }
        });
        factory.connect_bind(|_, item| {
            let Some(item) = item.downcast_ref::<gtk::ListItem>() else {
                return;
            };
            let row = item.child().and_downcast::<ConversationRow>();
            if let (Some(row), Some(conversation)) =
                (row, item.item().and_downcast::<Conversation>())
            {
                row.bind(&conversation);
            }
        });
        factory.connect_unbind(|_, item| {
            let Some(item) = item.downcast_ref::<gtk::ListItem>() else {
                return;
            };
            if let Some(row) = item.child().and_downcast::<ConversationRow>() {
                row.unbind();
            }
        });
        imp.conversation_list.set_factory(Some(&factory));
        imp.conversation_list.set_model(Some(&selection));
        imp.conversation_list.connect_activate(glib::clone!(
            #[weak(rename_to = window)]
            self,
            move |list, position| {
                let conversation = list
                    .model()
                    .and_then(|model| model.item(position))
                    .and_downcast::<Conversation>();
                if let Some(conversation) = conversation {
                    window.open_conversation(&conversation);
                }
            }
        ));
        let _ = imp.selection.set(selection);

        // Contacts: friends by category, then groups and discussions.
        let contacts = gio::ListStore::new::<Contact>();
        let filtered_contacts =
            gtk::FilterListModel::new(Some(contacts.clone()), Some(filter.clone()));
        imp.contact_list
            .bind_model(Some(&filtered_contacts), |item| {
                let Some(contact) = item.downcast_ref::<Contact>() else {
                    return gtk::ListBoxRow::new().upcast();
                };
                let row = adw::ActionRow::builder()
                    .title(glib::markup_escape_text(&contact.name()).as_str())
                    .activatable(true)
                    .action_name("win.open-conversation")
                    .action_target(&contact.key().to_variant())
                    .build();
                let avatar = adw::Avatar::new(32, Some(&contact.name()), true);
                row.add_prefix(&avatar);
                row.upcast()
            });
        imp.contact_list.set_header_func(glib::clone!(
            #[weak]
            filtered_contacts,
            move |row, before| {
                let section_of = |row: &gtk::ListBoxRow| {
                    u32::try_from(row.index())
                        .ok()
                        .and_then(|index| filtered_contacts.item(index))
                        .and_downcast::<Contact>()
                        .map(|contact| section_title(&contact))
                };
                let section = section_of(row);
                if section.is_some() && section != before.and_then(section_of) {
                    let label = gtk::Label::builder()
                        .label(section.unwrap_or_default())
                        .xalign(0.0)
                        .css_classes(["heading", "contact-section"])
                        .build();
                    row.set_header(Some(&label));
                } else {
                    row.set_header(None::<&gtk::Widget>);
                }
            }
        ));
        let _ = imp.contacts.set(contacts);
        let _ = imp.filter.set(filter);
    }

    fn matches_search(&self, item: &glib::Object) -> bool {
        let query = self.imp().search_entry.text().trim().to_lowercase();
        if query.is_empty() {
            return true;
        }
        if let Some(conversation) = item.downcast_ref::<Conversation>() {
            return conversation.name().to_lowercase().contains(&query)
                || conversation.preview().to_lowercase().contains(&query);
        }
        if let Some(contact) = item.downcast_ref::<Contact>() {
            return contact.name().to_lowercase().contains(&query);
        }
        false
    }

    fn setup_behaviour(&self) {
        let imp = self.imp();
        imp.search_bar.set_key_capture_widget(Some(&*imp.sidebar));
        // Folded, the conversation pane gets a back button and the window buttons.
        imp.leaflet.connect_folded_notify(glib::clone!(
            #[weak(rename_to = window)]
            self,
            move |leaflet| window
                .imp()
                .conversation_view
                .set_show_back(leaflet.is_folded())
        ));
        // Focusing the window reads the open conversation.
        self.connect_is_active_notify(|window| {
            let conversation = window.imp().conversation_view.conversation();
            if let Some(conversation) = conversation.filter(|_| window.reading().is_some()) {
                window.mark_read(&conversation);
            }
        });
        let shortcuts = gtk::Builder::from_string(include_str!("shortcuts.ui"));
        if let Some(overlay) = shortcuts.object::<gtk::ShortcutsWindow>("help_overlay") {
            self.set_help_overlay(Some(&overlay));
        }
    }
}

/// The header of a contact section.
fn section_title(contact: &Contact) -> String {
    match contact.kind().as_str() {
        "friend" => contact.category(),
        "group" => gettext("Groups"),
        "discussion" => gettext("Discussions"),
        other => kind_label(other),
    }
}

/// Why a login failed, in the user's language where the cause is known.
fn login_failure_text(error: &anyhow::Error) -> String {
    use smartqq_client::Error as ClientError;

    let client_error = error.chain().find_map(|cause| {
        cause.downcast_ref::<ClientError>().or_else(|| {
            match cause.downcast_ref::<gnomeqq_core::Error>() {
                Some(gnomeqq_core::Error::Client(inner)) => Some(inner),
                _ => None,
            }
        })
    });
    match client_error {
        Some(ClientError::Transport { .. }) => gettext("Could not reach the server"),
        Some(ClientError::QrExpired(_)) => {
            gettext("The QR codes expired without a scan; log in again to get a new one")
        }
        Some(ClientError::QrRefused { .. }) => gettext("The login was refused on the phone"),
        Some(ClientError::WrongPassword(_)) => gettext("Wrong QQ number or password"),
        Some(ClientError::WrongCaptcha(_)) => gettext("The code in the picture was not right"),
        Some(ClientError::PasswordRefused { .. }) => {
            gettext("This account cannot log in with a password now; use the QR code")
        }
        // Anything else: the detail in English, which at least can be looked up.
        _ => gettext_f(
            // Translators: {reason} is the cause, in English, as the network library words it.
            "Could not log in: {reason}",
            &[("reason", &format!("{error:#}"))],
        ),
    }
}

/// A notice in the user's language.
fn notice_text(kind: NoticeKind, detail: &str) -> String {
    match kind {
        NoticeKind::SavedSessionUnreadable => {
            gettext("The saved login could not be read; log in with a QR code")
        }
        NoticeKind::SavedSessionUnusable => {
            gettext("The saved login could not be used; log in with a QR code")
        }
        NoticeKind::SavedSessionExpired => {
            gettext("The saved login has expired; log in with a QR code")
        }
        // A notice this version does not know yet: the engine's English is better than nothing.
        _ => detail.to_owned(),
    }
}

/// The id of a conversation's notification, so reading it withdraws it.
fn notification_id(key: &str) -> String {
    format!("conversation-{key}")
}
