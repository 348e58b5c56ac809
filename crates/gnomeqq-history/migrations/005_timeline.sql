-- 005: storing a poll batch only appends; each conversation's order is kept apart and
-- built in bulk, like the search index.
--
-- Version 4's one index on messages was led by the conversation. A poll batch scatters
-- over conversations, so each of its messages dirtied a leaf page of that index of its
-- own, and every dirty page is written to the WAL at commit and again at the checkpoint:
-- with twenty messages over 168 conversations that was most of a batch's cost. Led by
-- time, the dedupe key is appended to instead (one or two leaves per batch), at the
-- price of no longer listing a conversation; the timeline below does that.
CREATE UNIQUE INDEX messages_dedupe ON messages (
    server_time, conversation_id, sender_id, ifnull(server_msg_id, -1), text_hash
);

-- Every message id by conversation, in time order (ties by id, which is the order they
-- were stored in). Written in bulk, a thousand rows sorted by key per transaction, so
-- each leaf is written once per thousand messages rather than once per message.
CREATE TABLE timeline (
    conversation_id INTEGER NOT NULL,
    server_time INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, server_time, message_id)
) WITHOUT ROWID;

-- Each conversation's latest server time and number of messages, over the rows in the
-- timeline, so the conversation list does not count a million messages.
CREATE TABLE conversation_totals (
    conversation_id INTEGER PRIMARY KEY REFERENCES conversations (id),
    last_time INTEGER NOT NULL,
    message_count INTEGER NOT NULL
);

-- One mark for everything derived from messages: the search index, the timeline and the
-- totals hold exactly the messages with an id up to `indexed_up_to`. Those above it
-- trail (a bounded number, see `INDEX_LAG_BOUND`), and readers take them from the
-- messages table itself, in the same read transaction.
ALTER TABLE search_progress RENAME TO index_progress;

INSERT INTO timeline (conversation_id, server_time, message_id)
SELECT conversation_id, server_time, id FROM messages
WHERE id <= (SELECT indexed_up_to FROM index_progress WHERE id = 0);

INSERT INTO conversation_totals (conversation_id, last_time, message_count)
SELECT conversation_id, max(server_time), count(*) FROM messages
WHERE id <= (SELECT indexed_up_to FROM index_progress WHERE id = 0)
GROUP BY conversation_id;

DROP INDEX messages_by_conversation_key;
