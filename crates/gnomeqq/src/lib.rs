//! GnomeQQ for GNOME: the GTK4 / libadwaita app.
//!
//! `model` holds GObjects apart from the views; each view is a `.rs` beside its `.ui`
//! template. The network runs on one tokio runtime (`runtime`) and reaches the GLib main
//! loop only as `session::ClientEvent`s through a channel: GObjects never cross to tokio.

pub mod application;
mod conversation_row;
pub mod conversation_view;
mod faces;
pub mod i18n;
pub mod login_page;
mod message_row;
pub mod model;
pub mod runtime;
pub mod session;
pub mod window;

mod config;

pub use application::Application;
pub use window::Window;

use gtk::glib;
use gtk::prelude::*;

/// Runs the app with the process's arguments; the exit status.
pub fn run() -> glib::ExitCode {
    smartqq_emulator::logging::install("gnomeqq=info,warn");
    i18n::init();
    glib::set_application_name("GnomeQQ");
    Application::new().run()
}
