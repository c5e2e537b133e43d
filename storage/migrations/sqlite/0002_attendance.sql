-- Live roll calls. The secret never leaves the database: codes are derived from it.
CREATE TABLE attendance_session (
    id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    message_id INTEGER,
    opened_by INTEGER NOT NULL,
    opened_at TEXT NOT NULL,
    closes_at TEXT,
    closed_at TEXT,
    closed_by INTEGER,
    secret BLOB NOT NULL,
    interval_seconds INTEGER NOT NULL CHECK (interval_seconds >= 5),
    code_length INTEGER NOT NULL CHECK (code_length BETWEEN 3 AND 8),
    grace_seconds INTEGER NOT NULL CHECK (grace_seconds >= 0),
    late_after_minutes INTEGER NOT NULL CHECK (late_after_minutes >= 0),
    expected_role_id INTEGER,
    shown_window INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed'))
);
-- One open roll call per channel, so one server can run several classes at once.
CREATE UNIQUE INDEX attendance_session_one_open_per_channel ON attendance_session (channel_id) WHERE status = 'open';
CREATE INDEX attendance_session_guild_recent ON attendance_session (guild_id, id);
CREATE INDEX attendance_session_closing ON attendance_session (status, closes_at);

-- One row per member per session; the latest submission wins.
CREATE TABLE attendance_record (
    session_id INTEGER NOT NULL REFERENCES attendance_session (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('present', 'late', 'absent', 'excused')),
    submitted_at TEXT,
    user_name TEXT NOT NULL,
    display_name TEXT NOT NULL,
    corrected_by INTEGER,
    corrected_at TEXT,
    PRIMARY KEY (session_id, user_id)
);

-- Wrong or expired codes per member per session; five lock the member out.
CREATE TABLE attendance_failure (
    session_id INTEGER NOT NULL REFERENCES attendance_session (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    locked_at TEXT,
    PRIMARY KEY (session_id, user_id)
);
