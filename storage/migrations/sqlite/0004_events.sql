-- Events members answer with RSVPs. Times are instants; the guild's zone only shapes how they
-- are typed and shown.
CREATE TABLE event (
    id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    message_id INTEGER,
    created_by INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 100),
    description TEXT NOT NULL DEFAULT '' CHECK (length(description) BETWEEN 0 AND 2000),
    location TEXT NOT NULL DEFAULT '' CHECK (length(location) BETWEEN 0 AND 100),
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    -- NULL: no limit (a CHECK passes on NULL).
    capacity INTEGER CHECK (capacity BETWEEN 1 AND 10000),
    role_id INTEGER,
    signup_cutoff_at TEXT,
    cancelled_at TEXT,
    cancelled_by INTEGER,
    -- Bumped by every RSVP in its own transaction: the RSVP's place in click order, and (as the
    -- first write of that transaction) the lock that serialises seat decisions on this event.
    rsvp_sequence INTEGER NOT NULL DEFAULT 0,
    -- Set when what the post shows changed; the coalesced refresh clears it once shown.
    post_stale_since TEXT,
    post_refreshed_at TEXT,
    CHECK (ends_at > starts_at)
);
CREATE INDEX event_guild_starts ON event (guild_id, starts_at);
CREATE INDEX event_post_stale ON event (post_stale_since) WHERE post_stale_since IS NOT NULL;

CREATE TABLE event_rsvp (
    event_id INTEGER NOT NULL REFERENCES event (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('going', 'waitlist', 'interested', 'not_going')),
    -- Click order (event.rsvp_sequence at the change): the waitlist is served in this order.
    sequence INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    -- The organizer who set this RSVP by hand, if one did.
    set_by INTEGER,
    PRIMARY KEY (event_id, user_id)
);
CREATE INDEX event_rsvp_queue ON event_rsvp (event_id, status, sequence);

-- Who was there, apart from who said they would come: a walk-in has no RSVP.
CREATE TABLE event_attendance (
    event_id INTEGER NOT NULL REFERENCES event (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL,
    attended_at TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('command', 'roll_call', 'organizer')),
    session_id INTEGER REFERENCES attendance_session (id) ON DELETE SET NULL,
    PRIMARY KEY (event_id, user_id)
);

-- A roll call may be tied to an event: each accepted answer also counts as attending it.
ALTER TABLE attendance_session ADD COLUMN event_id INTEGER REFERENCES event (id) ON DELETE SET NULL;
