-- Per-guild settings changed with /config. A missing row means every default applies.
CREATE TABLE guild_config (
    guild_id INTEGER PRIMARY KEY,
    admin_channel_id INTEGER,
    attendance_channel_id INTEGER,
    verification_channel_id INTEGER,
    log_channel_id INTEGER,
    organizer_role_id INTEGER,
    member_role_id INTEGER,
    timezone TEXT NOT NULL DEFAULT 'UTC',
    code_interval_seconds INTEGER NOT NULL DEFAULT 15 CHECK (code_interval_seconds >= 5),
    code_length INTEGER NOT NULL DEFAULT 4 CHECK (code_length BETWEEN 3 AND 8),
    grace_seconds INTEGER NOT NULL DEFAULT 3 CHECK (grace_seconds >= 0),
    late_after_minutes INTEGER NOT NULL DEFAULT 10 CHECK (late_after_minutes >= 0),
    verification_timeout_minutes INTEGER NOT NULL DEFAULT 5 CHECK (verification_timeout_minutes >= 1),
    reminder_offsets TEXT NOT NULL DEFAULT '60,10',
    updated_at TEXT,
    updated_by INTEGER
);

-- Process-level facts that must survive restarts (for example the synced command tree hash).
CREATE TABLE bot_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Who changed what; every correction and settings change lands here.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    actor_id INTEGER NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    before_value TEXT,
    after_value TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX audit_log_guild ON audit_log (guild_id, created_at);
