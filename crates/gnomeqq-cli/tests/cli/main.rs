//! End-to-end tests of the `gnomeqq-cli` binary. Every test starts its own sandbox with
//! `gnomeqq-cli sandbox` on 127.0.0.1 and points the client commands at it with
//! `--server`; `HOME` and the XDG directories point into a private temp directory.

mod bot;
mod commands;
mod demo;
mod history;
mod logs;
mod support;

/// Friend 张伟, markname 老张.
const LAO_ZHANG: u64 = 3_100_000_001;
/// Friend Bob, no markname.
const BOB: u64 = 3_100_000_002;
/// Group "GnomeQQ 开发组".
const DEV_GROUP: u64 = 600_001;
/// Discussion "Weekend trip 周末出游".
const TRIP_DISCUSSION: u64 = 3_600_000_004;
/// 陈静, not a friend; card 静静 in the dev group.
const JINGJING: u64 = 3_300_000_001;
