-- Recurring events. A series is a rule in the guild's wall-clock time (the zone is kept on the
-- series, so 19:00 stays 19:00 across a change of clocks); each occurrence is an ordinary event
-- row with its place in the series. Only the latest occurrence drives the next one.
CREATE TABLE event_series (
    id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    rule TEXT NOT NULL CHECK (rule IN ('daily', 'weekly', 'weekdays', 'every_n_days')),
    -- Days between occurrences for 'every_n_days' (NULL otherwise).
    every_days INTEGER CHECK (every_days BETWEEN 1 AND 365),
    -- Last day (in the zone, YYYY-MM-DD) an occurrence may start on; NULL: no end date.
    until_day TEXT,
    -- Occurrences in all, the first included (iCalendar's COUNT); NULL: no limit.
    max_count INTEGER CHECK (max_count BETWEEN 1 AND 500),
    timezone TEXT NOT NULL,
    -- The wall-clock start (HH:MM) every occurrence is placed at, and its length in seconds.
    local_start TEXT NOT NULL,
    duration_seconds INTEGER NOT NULL,
    -- Minutes before the start when sign-ups close, carried to every occurrence; NULL: at the start.
    cutoff_minutes INTEGER,
    created_by INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    -- The occurrence the next one follows; moved by the transaction that creates the next one.
    last_event_id INTEGER,
    last_index INTEGER NOT NULL DEFAULT 1,
    -- The day (in the zone, YYYY-MM-DD) the rule gave the latest occurrence: an organizer's edit of
    -- that occurrence's time does not move the rule.
    last_day TEXT NOT NULL,
    -- Set once no more occurrences will come: 'count', 'until' or 'cancelled'.
    finished_at TEXT,
    finished_reason TEXT CHECK (finished_reason IN ('count', 'until', 'cancelled')),
    finished_by INTEGER
);
CREATE INDEX event_series_open ON event_series (finished_at);

ALTER TABLE event ADD COLUMN series_id INTEGER REFERENCES event_series (id) ON DELETE SET NULL;
-- 1 for the first occurrence of its series.
ALTER TABLE event ADD COLUMN series_index INTEGER;
-- The guild scheduled event mirroring this event on Discord, when the bot could create one.
ALTER TABLE event ADD COLUMN scheduled_event_id INTEGER;
-- One row per place in a series: the job that creates the next occurrence can never make it twice.
CREATE UNIQUE INDEX event_series_place ON event (series_id, series_index) WHERE series_id IS NOT NULL;

-- After an event ends, members who attended rate it; one row per member, edited in place.
CREATE TABLE event_review (
    event_id INTEGER NOT NULL REFERENCES event (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL,
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment TEXT NOT NULL DEFAULT '' CHECK (length(comment) BETWEEN 0 AND 500),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (event_id, user_id)
);
