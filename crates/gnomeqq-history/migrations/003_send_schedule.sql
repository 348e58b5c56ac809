-- 003: when each account may send next. Every process that sends for an account (a bot, a
-- `send` from the command line) reserves its slot here, so the pacing between sends holds
-- across processes, not only within one.
CREATE TABLE send_schedule (
    account_id INTEGER PRIMARY KEY REFERENCES accounts (id),
    -- Unix milliseconds of the latest reserved send.
    last_send_at_ms INTEGER NOT NULL
);
