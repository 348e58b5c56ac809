//! Integration tests of the SmartQQ client against the sandbox, served on 127.0.0.1.
//!
//! One binary, a module per area. Every test starts its own sandbox (stopped when its
//! handle drops), drives the phone, the other people and the server's faults through the
//! control API under `/sandbox/`, and bounds every wait.

mod hygiene;
mod login;
mod password;
mod receive;
mod send;
mod support;
