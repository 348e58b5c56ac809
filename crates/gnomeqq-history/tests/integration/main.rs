//! Integration tests of the history store, one module per area.

mod export;
mod search;
mod store;
mod support;
mod timeline;
