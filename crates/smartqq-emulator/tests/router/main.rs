//! Every sandbox endpoint through `router` + `oneshot`, with no socket: one module per area.

mod contacts;
mod control;
mod harness;
mod login;
mod sending;
mod session;
