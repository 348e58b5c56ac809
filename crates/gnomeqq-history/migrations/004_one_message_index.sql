-- 004: one index over messages instead of two. Version 1 kept a dedupe key led by time
-- (appended to, cheap to write) and a second index on (conversation_id, server_time) for
-- reading a conversation back; poll batches scatter over conversations, so that second
-- index cost a leaf page per message, and it made up most of a batch's write cost. The
-- dedupe key holds both of its columns, so led by the conversation it serves both jobs:
-- it refuses a second copy of a server-delivered message (same columns, so the same
-- rows are unique), and it hands a conversation's messages over in time order.
--
-- What no index serves any longer is "newest messages of all conversations" by time;
-- the store reads that as the newest of each conversation, merged (see `History::messages`).
-- Messages of the same second in one conversation are ordered by id with a small sort
-- of that second's rows: the rowid follows `text_hash` in this index, not `server_time`.
CREATE UNIQUE INDEX messages_by_conversation_key ON messages (
    conversation_id, server_time, sender_id, ifnull(server_msg_id, -1), text_hash
);

DROP INDEX messages_dedupe;
DROP INDEX messages_by_conversation;
