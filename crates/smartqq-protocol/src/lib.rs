//! SmartQQ wire format: typed ids, request and reply payloads, the content codec, hashes,
//! the `ptuiCB` parser, retcodes and the ptlogin password field. Pure: no I/O, no runtime.
//!
//! Both the client and the sandbox build on this crate, so a serde slip would pass on both
//! sides; every payload is therefore also pinned against JSON fixtures written from the
//! specification (`tests/fixtures/`).
#![warn(missing_docs, missing_debug_implementations)]

pub mod api;
pub mod content;
pub mod hash;
pub mod ids;
pub mod password;
pub mod poll;
pub mod ptui;
pub mod retcode;
pub mod tea;

pub use ids::{ClientId, DiscussionId, Gid, GroupCode, GroupNumber, QqNumber, Secret, Uin};
