-- Event lifecycle, first half: reminders, status flips, nudges and the missed-attendance notice.
-- Every scheduled thing of an event is a row here; its job only wakes the code that claims the row
-- (`UPDATE ... SET fired_at = ? WHERE id = ? AND fired_at IS NULL`), so a restart neither forgets
-- nor repeats one.
CREATE TABLE event_timer (
    id INTEGER PRIMARY KEY,
    event_id INTEGER NOT NULL REFERENCES event (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('reminder', 'nudge', 'start', 'end', 'missed')),
    -- Minutes before the start for a reminder or a nudge; 0 for the others.
    offset_minutes INTEGER NOT NULL DEFAULT 0,
    due_at TEXT NOT NULL,
    -- Set once, by the run that claimed the row; the row is never acted on again.
    fired_at TEXT,
    -- What that run did: "reminded 48, DMs closed 2", or why it was dropped.
    outcome TEXT,
    UNIQUE (event_id, kind, offset_minutes)
);
CREATE INDEX event_timer_pending ON event_timer (due_at) WHERE fired_at IS NULL;

-- An event's own reminder offsets (NULL: the guild's) and its nudge time, minutes before the start.
CREATE TABLE event_reminder_setting (
    event_id INTEGER PRIMARY KEY REFERENCES event (id) ON DELETE CASCADE,
    reminder_offsets TEXT,
    nudge_minutes INTEGER CHECK (nudge_minutes BETWEEN 1 AND 40320)
);

-- Members who turned their reminder DMs off (/me reminders off) in one server.
CREATE TABLE reminder_opt_out (
    guild_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    opted_out_at TEXT NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);

-- Off by default: after an event ends, Going members who did not attend get one DM.
ALTER TABLE guild_config ADD COLUMN missed_attendance_notice INTEGER NOT NULL DEFAULT 0;
