-- Party presets: reusable slot templates (Tank 2, Healer 2, DPS 6) per guild, and the slots an
-- event copies from one. An event keeps its own copy, so editing or deleting a preset never
-- changes an event that was made from it.
CREATE TABLE preset (
    id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 50),
    description TEXT NOT NULL DEFAULT '' CHECK (length(description) BETWEEN 0 AND 1000),
    created_by INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
-- Names are unique per guild whatever their case; an expression index both dialects know.
CREATE UNIQUE INDEX preset_guild_name ON preset (guild_id, lower(name));

CREATE TABLE preset_slot (
    preset_id INTEGER NOT NULL REFERENCES preset (id) ON DELETE CASCADE,
    -- 0-based order as typed; also the slot's value in the select menu.
    position INTEGER NOT NULL,
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 40),
    seats INTEGER NOT NULL CHECK (seats BETWEEN 1 AND 100),
    -- Only members holding this role may take the slot; NULL: anyone the event admits.
    role_id INTEGER,
    PRIMARY KEY (preset_id, position)
);

CREATE TABLE event_slot (
    event_id INTEGER NOT NULL REFERENCES event (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 40),
    seats INTEGER NOT NULL CHECK (seats BETWEEN 1 AND 100),
    role_id INTEGER,
    PRIMARY KEY (event_id, position)
);

-- Who holds (or waits for) which slot. One row per member and event: the member's event_rsvp row
-- says going (seated) or waitlist (waiting) alongside it, written in the same transaction.
CREATE TABLE event_slot_signup (
    event_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    position INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('seated', 'waitlist')),
    -- event.rsvp_sequence at the change: a slot's waitlist is served in this order.
    sequence INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    set_by INTEGER,
    PRIMARY KEY (event_id, user_id),
    FOREIGN KEY (event_id, position) REFERENCES event_slot (event_id, position) ON DELETE CASCADE
);
CREATE INDEX event_slot_signup_queue ON event_slot_signup (event_id, position, status, sequence);
