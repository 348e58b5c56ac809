//! The GnomeQQ sandbox: an axum server that speaks SmartQQ.
#![warn(missing_docs, missing_debug_implementations)]
