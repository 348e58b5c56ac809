//! Integration tests of the GnomeQQ engine against the sandbox, served on 127.0.0.1.
//!
//! One binary, a module per area. Every test starts its own sandbox (stopped when its
//! handle drops), acts as the phone, the other people and the troubled server through the
//! control API under `/sandbox/`, and bounds every wait.

mod find;
mod history_index;
mod login;
mod poll_loop;
mod receive;
mod secret_service;
mod send;
mod session;
mod support;
