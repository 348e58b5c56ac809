//! The GnomeQQ engine.
#![warn(missing_docs, missing_debug_implementations)]

