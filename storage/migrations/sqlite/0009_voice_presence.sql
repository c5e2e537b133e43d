-- Proof of presence (issue 15): a roll call may track a voice or stage channel, and who sat in
-- it is kept as intervals in rows, never only in memory. No CHECKs here: the bounds live in
-- utils/limits.py and are enforced in code (tests/test_limits.py compares every CHECK with that file).

-- The tracked voice or stage channel (NULL: a plain roll call), the share of the session a member
-- must sit in it not to have "left early", and whether `/here` from outside it is refused.
ALTER TABLE attendance_session ADD COLUMN voice_channel_id INTEGER;
ALTER TABLE attendance_session ADD COLUMN min_presence_percent INTEGER NOT NULL DEFAULT 50;
ALTER TABLE attendance_session ADD COLUMN strict_presence INTEGER NOT NULL DEFAULT 0;
-- Set when the bot shut down cleanly with the session open: the intervals were closed at that
-- instant, and the time until the next start-up is unknown rather than absent.
ALTER TABLE attendance_session ADD COLUMN presence_paused_at TEXT;

-- One row per stretch a member sat in the tracked channel; `left_at` is NULL while it lasts.
CREATE TABLE voice_presence (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES attendance_session (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL,
    joined_at TEXT NOT NULL,
    left_at TEXT
);
-- A member has at most one open interval per session: a repeated join event changes nothing.
CREATE UNIQUE INDEX voice_presence_one_open ON voice_presence (session_id, user_id) WHERE left_at IS NULL;
CREATE INDEX voice_presence_session ON voice_presence (session_id, user_id, joined_at);

-- Stretches of a session during which the bot was not running: neither presence nor absence.
CREATE TABLE voice_presence_gap (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES attendance_session (id) ON DELETE CASCADE,
    started_at TEXT NOT NULL,
    ended_at TEXT NOT NULL
);
CREATE INDEX voice_presence_gap_session ON voice_presence_gap (session_id);
