//! The GnomeQQ engine: runs an account (login, contact lists, the poll loop, sends),
//! resolves names, and publishes app-level [`AppEvent`]s to the CLI, the GUI and bots. It
//! also holds the bot's `#` command runner.
//!
//! The events speak of conversations, people and text, not of wire payloads, so a second
//! backend (OneBot) can feed the same programs later.
#![warn(missing_docs, missing_debug_implementations)]

pub mod account;
pub mod commands;
pub mod directory;
pub mod events;
mod inbox;
pub mod places;
mod records;
pub mod session_store;

pub use account::{Account, Connected, Error, PollEnd, Result, TargetKind, split_message};
pub use events::{AppEvent, Conversation, IncomingMessage, LoginStep, NoticeKind};
pub use session_store::{FileSessionStore, SecretServiceStore, SessionStore};
