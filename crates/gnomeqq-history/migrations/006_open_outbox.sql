-- 006: our own messages whose send is not settled, by conversation: waiting for the
-- server's echo (queued, accepted, unconfirmed) or failed and open to a retry. A retried
-- message keeps its row, and so its first server time, so the echo can no longer be
-- matched among recent server times through the time-led index; and a retry looks for
-- the failed row by its text. Such rows are few at any moment (most sends end
-- confirmed), and received messages, which have no outbox state, never enter this index.
-- Queries name the same four states, which is what lets SQLite use a partial index.
CREATE INDEX messages_open_outbox ON messages (conversation_id)
WHERE outbox_state IN ('queued', 'accepted', 'unconfirmed', 'failed');
