-- 006: our own messages still waiting for the server's echo, by conversation. The echo of
-- a message is matched to the row it stands for (`History::confirm_echo`); a retried
-- message keeps its row, and so its first server time, so the match can no longer be
-- narrowed to recent server times, and the time-led index cannot serve it. The rows
-- waiting are few at any moment (most are confirmed or failed), and inbound messages,
-- which have no outbox state, never enter this index.
CREATE INDEX messages_awaiting_echo ON messages (conversation_id)
WHERE outbox_state IN ('queued', 'accepted', 'unconfirmed');
