//! The GnomeQQ application: command-line options, app-wide actions and shortcuts, the
//! style sheet, and the window.

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::{gdk, gio, glib};

use crate::config;
use crate::session::SessionOptions;
use crate::window::Window;

mod imp {
    use std::cell::RefCell;

    use super::*;

    #[derive(Debug, Default)]
    pub struct Application {
        /// The options of the command line.
        pub(super) options: RefCell<SessionOptions>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for Application {
        const NAME: &'static str = "GnomeqqApplication";
        type Type = super::Application;
        type ParentType = adw::Application;
    }

    impl ObjectImpl for Application {
        fn constructed(&self) {
            self.parent_constructed();
            let app = self.obj();
            app.add_options();
            app.connect_handle_local_options(|app, options| app.take_options(options));
        }
    }

    impl ApplicationImpl for Application {
        fn startup(&self) {
            self.parent_startup();
            let app = self.obj();
            app.setup_actions();
            app.load_style();
        }

        fn activate(&self) {
            self.parent_activate();
            let app = self.obj();
            if let Some(window) = app.active_window() {
                GtkWindowExt::present(&window);
                return;
            }
            let window = Window::new(&*app, self.options.borrow().clone());
            GtkWindowExt::present(&window);
            window.start();
        }
    }

    impl GtkApplicationImpl for Application {}
    impl AdwApplicationImpl for Application {}
}

glib::wrapper! {
    /// The application.
    pub struct Application(ObjectSubclass<imp::Application>)
        @extends gio::Application, gtk::Application, adw::Application,
        @implements gio::ActionMap, gio::ActionGroup;
}

impl Application {
    /// The application, not yet running.
    pub fn new() -> Self {
        glib::Object::builder()
            .property("application-id", config::APP_ID)
            .property("flags", gio::ApplicationFlags::empty())
            .build()
    }

    /// The main window, once activated.
    pub fn main_window(&self) -> Option<Window> {
        self.windows()
            .into_iter()
            .find_map(|w| w.downcast::<Window>().ok())
    }

    fn add_options(&self) {
        self.add_main_option(
            "sandbox",
            glib::Char::from(b's'),
            glib::OptionFlags::NONE,
            glib::OptionArg::None,
            &gettext("Try GnomeQQ on its embedded sandbox, with a phone that confirms by itself"),
            None,
        );
        self.add_main_option(
            "server",
            glib::Char::from(0),
            glib::OptionFlags::NONE,
            glib::OptionArg::String,
            &gettext("Connect to the SmartQQ server at this URL instead of the real one"),
            Some("URL"),
        );
        self.add_main_option(
            "era",
            glib::Char::from(0),
            glib::OptionFlags::NONE,
            glib::OptionArg::String,
            &gettext("The protocol era: smartqq2018 (default) or legacy2015"),
            Some("ERA"),
        );
        self.add_main_option(
            "data-dir",
            glib::Char::from(0),
            glib::OptionFlags::NONE,
            glib::OptionArg::Filename,
            &gettext("Keep the history and saved logins in this directory"),
            Some("DIR"),
        );
    }

    /// Reads the options; a wrong one ends the program with status 2.
    fn take_options(&self, options: &glib::VariantDict) -> std::ops::ControlFlow<glib::ExitCode> {
        let mut chosen = SessionOptions {
            sandbox: options.contains("sandbox"),
            ..SessionOptions::default()
        };
        if let Some(server) = options.lookup::<String>("server").ok().flatten() {
            chosen.server = Some(server);
        }
        if let Some(era) = options.lookup::<String>("era").ok().flatten() {
            match era.as_str() {
                "smartqq2018" => chosen.era = smartqq_protocol::api::Era::Smartqq2018,
                "legacy2015" => chosen.era = smartqq_protocol::api::Era::Legacy2015,
                _ => {
                    eprintln!("{}", gettext("--era takes smartqq2018 or legacy2015"));
                    return std::ops::ControlFlow::Break(glib::ExitCode::from(2));
                }
            }
        }
        if let Some(dir) = options
            .lookup::<std::path::PathBuf>("data-dir")
            .ok()
            .flatten()
        {
            chosen.data_dir = Some(dir);
        }
        // A try-out (or a test) runs beside the everyday instance instead of handing its
        // options to it.
        if chosen.sandbox || chosen.server.is_some() || chosen.data_dir.is_some() {
            self.set_flags(self.flags() | gio::ApplicationFlags::NON_UNIQUE);
        }
        self.imp().options.replace(chosen);
        std::ops::ControlFlow::Continue(())
    }

    fn setup_actions(&self) {
        let quit = gio::ActionEntry::builder("quit")
            .activate(|app: &Self, _, _| app.quit())
            .build();
        let about = gio::ActionEntry::builder("about")
            .activate(|app: &Self, _, _| app.show_about())
            .build();
        let open = gio::ActionEntry::builder("open-conversation")
            .parameter_type(Some(glib::VariantTy::STRING))
            .activate(|app: &Self, _, target| {
                let Some(window) = app.main_window() else {
                    return;
                };
                GtkWindowExt::present(&window);
                if let Some(key) = target.and_then(String::from_variant) {
                    window.open_conversation_key(&key);
                }
            })
            .build();
        self.add_action_entries([quit, about, open]);
        self.set_accels_for_action("app.quit", &["<Primary>q"]);
        self.set_accels_for_action("window.close", &["<Primary>w"]);
        self.set_accels_for_action("win.search", &["<Primary>f"]);
        self.set_accels_for_action("win.go-back", &["<Alt>Left"]);
        self.set_accels_for_action("win.show-help-overlay", &["<Primary>question"]);
    }

    fn load_style(&self) {
        let Some(display) = gdk::Display::default() else {
            return;
        };
        let provider = gtk::CssProvider::new();
        provider.load_from_data(include_str!("style.css"));
        gtk::style_context_add_provider_for_display(
            &display,
            &provider,
            gtk::STYLE_PROVIDER_PRIORITY_APPLICATION,
        );
        gtk::IconTheme::for_display(&display).add_search_path(config::ICONS_DIR);
    }

    fn show_about(&self) {
        let about = adw::AboutWindow::builder()
            .application_name("GnomeQQ")
            .application_icon(config::APP_ID)
            .developer_name(gettext("The GnomeQQ developers"))
            .version(config::VERSION)
            .comments(gettext(
                "A native GNOME client for QQ, over the SmartQQ web protocol",
            ))
            .license_type(gtk::License::Gpl30)
            .translator_credits(gettext("translator-credits"))
            .modal(true)
            .build();
        if let Some(window) = self.active_window() {
            about.set_transient_for(Some(&window));
        }
        about.present();
    }
}

impl Default for Application {
    fn default() -> Self {
        Self::new()
    }
}
