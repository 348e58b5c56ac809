//! Build-time settings, cargo-first: each can be set by the packager through the
//! environment at build time, and falls back to what a `cargo run` from the source tree
//! needs.

/// The application id (D-Bus name, desktop file, icon, settings).
pub const APP_ID: &str = match option_env!("APP_ID") {
    Some(id) => id,
    None => "org.gnomeqq.GnomeQQ",
};

/// The version shown in the about window.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The gettext domain of the app's translations.
pub const GETTEXT_PACKAGE: &str = "gnomeqq";

/// Where compiled translations are: the installed locale directory when a packager sets
/// `LOCALEDIR`, else the catalogs `build.rs` compiled from `po/` into the build directory.
pub const LOCALEDIR: &str = match option_env!("LOCALEDIR") {
    Some(dir) => dir,
    None => concat!(env!("OUT_DIR"), "/locale"),
};

/// Where the app's icon is found when it is not installed into the system icon theme.
pub const ICONS_DIR: &str = match option_env!("GNOMEQQ_ICONS_DIR") {
    Some(dir) => dir,
    None => concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/icons"),
};
