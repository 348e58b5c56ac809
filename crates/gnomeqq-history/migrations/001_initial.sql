-- 001: accounts, contacts, conversations, messages, outbox events and the search index.
--
-- Ids chosen by the engine (`stable_id`, the account's QQ number) are strings; rows refer
-- to each other by integer keys so a million messages do not repeat those strings.

CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    -- Our own QQ number, as text.
    qq TEXT NOT NULL UNIQUE
);

-- People, by the engine's stable id (`qq:3100000001`, or a fingerprint when the QQ number
-- is unknown). `name` is the latest display name seen.
CREATE TABLE contacts (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    stable_id TEXT NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (account_id, stable_id)
);

CREATE TABLE conversations (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    kind TEXT NOT NULL CHECK (kind IN ('friend', 'group', 'discussion', 'temporary')),
    stable_id TEXT NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (account_id, kind, stable_id)
);

CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    sender_id INTEGER NOT NULL REFERENCES contacts (id),
    -- Unix seconds, server time (local time for outbox rows not yet echoed).
    server_time INTEGER NOT NULL,
    server_msg_id INTEGER,
    text TEXT NOT NULL,
    -- For rows delivered by the server: 64-bit FNV-1a of `text` as UTF-8, so the dedupe
    -- key does not hold a second copy of the text. NULL for rows written locally (the
    -- outbox), which are never deduplicated.
    text_hash INTEGER,
    segments_json TEXT NOT NULL,
    outbox_state TEXT
        CHECK (outbox_state IN ('queued', 'accepted', 'unconfirmed', 'failed', 'confirmed')),
    outbox_reason TEXT
);

-- A second copy of a server-delivered message cannot exist, whichever process writes it.
-- Outbox rows have a NULL text_hash, and NULLs never collide in a unique index, so they
-- are never taken for copies. Time comes first: new rows land at the end of the index,
-- and the index also serves "newest messages of all conversations".
CREATE UNIQUE INDEX messages_dedupe ON messages (
    server_time, conversation_id, sender_id, ifnull(server_msg_id, -1), text_hash
);

CREATE INDEX messages_by_conversation ON messages (conversation_id, server_time);

-- Every outbox state a message went through, oldest first.
CREATE TABLE outbox_events (
    id INTEGER PRIMARY KEY,
    message_id INTEGER NOT NULL REFERENCES messages (id),
    state TEXT NOT NULL
        CHECK (state IN ('queued', 'accepted', 'unconfirmed', 'failed', 'confirmed')),
    reason TEXT,
    at_ms INTEGER NOT NULL
);

CREATE INDEX outbox_events_by_message ON outbox_events (message_id, id);

-- Contentless full-text index over the *search form* of `messages.text` (see the crate
-- docs): every CJK character and emoji is its own token, Latin words stay whole. Rows are
-- written by the store in the same transaction as the message, with rowid = messages.id.
-- `So` is added to the token categories so emoji, which the search form isolates, are
-- indexed; the search form turns every other symbol into a space.
CREATE VIRTUAL TABLE messages_fts USING fts5 (
    body,
    content = '',
    contentless_delete = 1,
    tokenize = "unicode61 categories 'L* N* Co So'"
);
