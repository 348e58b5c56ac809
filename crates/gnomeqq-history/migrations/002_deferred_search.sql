-- 002: the search index may trail the messages table by a bounded number of rows, so that
-- storing a poll batch does not pay for a full-text index segment at every commit (FTS5
-- writes one per transaction). Writers index the trailing rows in bulk once enough have
-- gathered; a search first indexes whatever trails, so it always sees every message.
CREATE TABLE search_progress (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    -- Every message with an id at most this is in messages_fts.
    indexed_up_to INTEGER NOT NULL
);

-- Version 1 indexed every row as it was written.
INSERT INTO search_progress (id, indexed_up_to)
VALUES (0, (SELECT ifnull(max(id), 0) FROM messages));
