-- Messages the bot owes someone (a close report, a notice), kept until Discord took them, so a
-- failed post or a crash between the commit and the post is retried instead of lost.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    guild_id INTEGER,
    kind TEXT NOT NULL,
    subject_id INTEGER,
    payload TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'undeliverable')),
    attempts INTEGER NOT NULL DEFAULT 0,
    due_at TEXT NOT NULL,
    -- Set while one attempt is under way, so a scheduled run and an inline attempt never both post it.
    claimed_until TEXT,
    created_at TEXT NOT NULL,
    finished_at TEXT,
    delivered_to TEXT,
    last_error TEXT
);
CREATE INDEX outbox_pending_due ON outbox (due_at) WHERE status = 'pending';
