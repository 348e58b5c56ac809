//! GnomeQQ's message history: one SQLite database per account holding accounts, contacts,
//! conversations, messages with their outbox states, and a full-text index that finds
//! Chinese substrings.
//!
//! The store knows nothing of the SmartQQ protocol or of the engine: every id is a plain
//! string or integer chosen by the caller (`qq:3100000001`, `group:600001`, a
//! fingerprint). `gnomeqq-core` turns its events into [`NewMessage`]s.
//!
//! # Storage
//!
//! [`History::open`] creates the file if needed, switches it to WAL with
//! `synchronous=NORMAL` (a commit is durable against a process crash; a power cut may
//! lose the last commits, never corrupt the file), turns foreign keys on, waits up to
//! five seconds for another writer, and applies the numbered migrations in
//! `migrations/NNN_name.sql` that `PRAGMA user_version` says are missing.
//!
//! # No second copy of an inbound message
//!
//! Messages delivered by the server are written with
//! [`History::insert_inbound_batch`], one transaction per batch. A unique index over
//! (server time, conversation, sender, server `msg_id`, hash of the text) covers every
//! server-delivered row; it is the only index on messages, and being led by time it is
//! appended to (migration 005). Rows are written with `INSERT … ON CONFLICT DO
//! NOTHING`, so a redelivered message comes back as [`Inserted::Duplicate`] with the id
//! of the first copy, even when two processes write the same file. The conversation
//! implies the account. The text enters the key as a 64-bit FNV-1a hash so the index
//! does not hold a second copy of every text; the first copy's text is compared on
//! conflict, and a hash collision between two different texts with the same sender,
//! second and `msg_id` is reported as [`Error::DedupeKeyCollision`] rather than lost.
//! Messages from the local outbox ([`History::insert_outbound`]) store no hash, and
//! SQLite never counts NULLs as equal in a unique index, so sending the same text twice
//! is allowed.
//!
//! # Conversations in order: the timeline
//!
//! A poll batch scatters over conversations. An index led by the conversation had each
//! message of a batch dirty a page of its own, written to the WAL at commit and again at
//! the checkpoint, and that was most of what storing a batch cost. So a conversation's
//! order lives apart, in the `timeline` table ((conversation, time, id), without rowid),
//! with each conversation's last time and message count in `conversation_totals`. Both
//! are written in bulk together with the search index (below), a thousand messages
//! sorted by key per transaction, and all three hold exactly the messages up to one mark
//! (`index_progress`). Readers take the messages above the mark (a bounded number) from
//! the messages table by id, in the same read transaction as the timeline, so a listing
//! always holds every stored message once.
//!
//! This rests on three rules the store keeps: ids only grow, no message is ever deleted,
//! and a message's conversation and server time never change once it is stored (outbox
//! states do, and nothing derived depends on them). A later feature that deletes or
//! re-times messages has to update the timeline and the totals in the same transaction.
//!
//! # Chinese full-text search
//!
//! SQLite's FTS5 offers two built-in tokenizers and neither fits:
//! `unicode61` splits on spaces and punctuation, so a Chinese sentence with no spaces is
//! one token and `中文` finds nothing inside it; `trigram` finds substrings but nothing
//! shorter than three characters, while most Chinese words have one or two. A custom
//! tokenizer in C (or through `unsafe` FFI) is out of reach of a crate that forbids
//! `unsafe`.
//!
//! So the index is fed a *search form* of each text ([`search_form`]): every CJK
//! ideograph, kana, hangul syllable and emoji becomes a token of its own (spaces around
//! it), Latin letters and digits stay whole words, and every other character (punctuation,
//! symbols, full-width spaces) becomes a space. Full-width ASCII is folded to ASCII.
//! The `unicode61` tokenizer then indexes it, folding case and diacritics.
//!
//! A query goes through the same function ([`fts_query`]): each whitespace-separated
//! word of the user's input becomes one FTS5 *phrase* of its tokens, so `中文` must
//! appear as the two adjacent characters `中` `文` (not `中` … `文` apart), and a word
//! ending in a Latin letter or digit becomes a prefix phrase (`gnome` finds `GnomeQQ`).
//! Words are joined by implicit AND. Because every phrase is written in double quotes
//! from tokens that contain no quote, nothing a user types (`"`, `*`, `NEAR`, `AND`,
//! `-`, `:`, parentheses) can form FTS5 syntax or raise a syntax error; input with no
//! letters, digits, CJK or emoji finds nothing.
//!
//! Against a bigram index this costs nothing in recall (every substring of CJK text is
//! a phrase of single characters) and keeps the index small; the price is that a phrase
//! of very common characters reads their long doclists. The benchmark in
//! `docs/BENCHMARKS.md` measures that over a million messages.
//!
//! Ranking is BM25 over the most recent [`SEARCH_WINDOW`] matches: FTS5 walks the
//! index newest first and stops there, and the store scores those candidates itself
//! from their text (how often each query word occurs as a token sequence, and the
//! message's length in tokens). FTS5's own `bm25()` is not used because it first
//! counts *every* match of each phrase to weigh it, which for a character found in a
//! third of all messages costs tens of milliseconds per query (measured in the
//! benchmark); in a chat history the recent matches are the ones people look for, and
//! older ones are reached by narrowing the query.
//!
//! Full-text rows live in a contentless FTS5 table (`content=''`, with
//! `contentless_delete=1` so a later migration may delete) whose rowid is the message
//! id. FTS5 writes an index segment per transaction, which made storing a poll batch of
//! twenty messages three times dearer than storing the rows alone, so the index trails
//! the table (migration 002; the mark is `index_progress` since migration 005). Storing a
//! batch only appends the messages; [`History::index_pending`] indexes the trailing rows
//! in bulk (search index, timeline and totals), in its own transaction, and the engine
//! runs it in the background once a thousand messages wait.
//! A writer indexes in its own transaction only when [`INDEX_LAG_BOUND`] messages wait
//! (nobody ran `index_pending`), so the lag stays bounded. Every search first indexes
//! whatever trails, and therefore always sees every stored message. Search snippets are
//! cut from the original text, not from the search form.
//!
//! Known limit: scripts written without spaces other than CJK (Thai, Lao, Khmer) are
//! indexed as whole runs, so only a prefix of a run is found.
#![warn(missing_docs, missing_debug_implementations)]

mod error;
mod export;
mod model;
mod schema;
mod search;
mod store;

pub use error::{Error, Result};
pub use export::format_utc;
pub use model::{
    ConversationKey, ConversationKind, ConversationSummary, Direction, Inserted, NewMessage,
    OutboxEvent, OutboxState, SearchHit, Snippet, StoredMessage,
};
pub use schema::SCHEMA_VERSION;
pub use search::{SEARCH_WINDOW, fts_query, search_form};
pub use store::{History, INDEX_LAG_BOUND};
