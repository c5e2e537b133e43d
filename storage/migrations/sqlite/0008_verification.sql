-- Verification on join (SPEC section 6). No CHECKs here: the bounds live in utils/limits.py and
-- are enforced in code (tests/test_limits.py compares every CHECK with that file).

-- The roster: one entry per e-mail address per guild. `email` is stored trimmed and lower-cased,
-- so a lookup is an equality. Only a keyed hash of the token is kept (HMAC-SHA256 under the
-- install's key in bot_meta); the plain token is shown to the importing admin once.
CREATE TABLE roster_entry (
    id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    discord_username TEXT,
    token_hash TEXT NOT NULL,
    token_expires_at TEXT NOT NULL,
    token_used_at TEXT,
    -- The member the entry was linked to when its token was used.
    user_id INTEGER,
    verified_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (guild_id, email)
);
CREATE INDEX roster_entry_member ON roster_entry (guild_id, user_id);

-- Members who verified (with a token, or forced by an admin): a member who leaves and comes back
-- gets the member role again without a new token.
CREATE TABLE verified_member (
    guild_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    roster_entry_id INTEGER REFERENCES roster_entry (id) ON DELETE SET NULL,
    method TEXT NOT NULL,
    verified_at TEXT NOT NULL,
    verified_by INTEGER,
    PRIMARY KEY (guild_id, user_id)
);

-- A member who must verify by `due_at` or be kicked. The kick job claims the row
-- (`claimed_until`) before acting, so a restart neither forgets it nor kicks twice.
CREATE TABLE verify_deadline (
    id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    due_at TEXT NOT NULL,
    claimed_until TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (guild_id, user_id)
);
CREATE INDEX verify_deadline_due ON verify_deadline (guild_id, due_at);

-- Failed attempts, counted over a sliding window for the attempt limit. No token, no e-mail.
CREATE TABLE verify_attempt (
    id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    attempted_at TEXT NOT NULL
);
CREATE INDEX verify_attempt_member ON verify_attempt (guild_id, user_id, attempted_at);

-- Per-guild verification state: the Verify panel (a tracked post) and the permission problems
-- last told to the admins, so they are told once and again only when the problem changes.
CREATE TABLE verify_guild (
    guild_id INTEGER PRIMARY KEY,
    panel_channel_id INTEGER,
    panel_message_id INTEGER,
    permission_notice TEXT NOT NULL DEFAULT ''
);
