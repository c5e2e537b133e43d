"""Events, their RSVPs (with capacity and a waitlist) and who attended.

Every seat decision is made inside one write transaction whose first statement bumps the
event's `rsvp_sequence`: on SQLite the transaction holds the database's write lock, on
PostgreSQL that UPDATE locks the event's row, so two members racing for the last seat are
decided one after the other from committed rows, never from Python state.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from storage.audit import AuditRepository
from storage.backend import Database, Transaction
from storage.event_slots import insert_event_slots
from storage.events.models import (
    Attendance,
    AttendanceSource,
    Event,
    EventSearch,
    Rsvp,
    RsvpChange,
    RsvpStatus,
)
from storage.presets import Slot
from utils.limits import RSVP_STATUSES


def _like_pattern(text: str) -> str:
    """A LIKE pattern matching `text` literally (its own % and _ escaped)."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _search_where(search: EventSearch, now: datetime) -> tuple[str, list[object]]:
    clauses = ["guild_id = ?"]
    params: list[object] = [search.guild_id]
    if search.when == "upcoming":
        clauses.append("cancelled_at IS NULL AND starts_at > ?")
        params.append(now)
    elif search.when == "active":
        clauses.append("cancelled_at IS NULL AND starts_at <= ? AND ends_at > ?")
        params += [now, now]
    elif search.when == "past":
        clauses.append("(ends_at <= ? OR cancelled_at IS NOT NULL)")
        params.append(now)
    if search.text.strip():
        pattern = _like_pattern(search.text.strip())
        clauses.append(
            "(lower(title) LIKE ? ESCAPE '\\' OR lower(description) LIKE ? ESCAPE '\\' "
            "OR lower(location) LIKE ? ESCAPE '\\')"
        )
        params += [pattern, pattern, pattern]
    if search.starts_from is not None:
        clauses.append("starts_at >= ?")
        params.append(search.starts_from)
    if search.starts_to is not None:
        clauses.append("starts_at < ?")
        params.append(search.starts_to)
    return " AND ".join(clauses), params


class EventRepository:
    def __init__(self, db: Database, audit: AuditRepository) -> None:
        self._db = db
        self._audit = audit

    # ---- events ------------------------------------------------------------------------

    async def create(
        self,
        *,
        guild_id: int,
        channel_id: int,
        created_by: int,
        now: datetime,
        title: str,
        description: str,
        location: str,
        starts_at: datetime,
        ends_at: datetime,
        capacity: int | None,
        role_id: int | None,
        signup_cutoff_at: datetime | None,
        slots: Sequence[Slot] = (),
    ) -> Event:
        """`slots` (copied from a preset) are written with the event, so a slotted event never
        exists without them; the caller sets `capacity` to their sum."""
        async with self._db.transaction() as transaction:
            event_id = await transaction.fetch_value(
                "INSERT INTO event (guild_id, channel_id, created_by, created_at, title, description, location, "
                "starts_at, ends_at, capacity, role_id, signup_cutoff_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    guild_id,
                    channel_id,
                    created_by,
                    now,
                    title,
                    description,
                    location,
                    starts_at,
                    ends_at,
                    capacity,
                    role_id,
                    signup_cutoff_at,
                ),
            )
            await insert_event_slots(transaction, event_id, slots)
            await self._audit.record(
                transaction,
                guild_id=guild_id,
                actor_id=created_by,
                action="event.create",
                subject=f"event:{event_id}",
                before=None,
                after=title,
                now=now,
            )
        event = await self.get(event_id)
        assert event is not None
        return event

    async def get(self, event_id: int) -> Event | None:
        row = await self._db.fetch_one("SELECT * FROM event WHERE id = ?", (event_id,))
        return Event.from_row(row) if row else None

    async def get_in_guild(self, guild_id: int, event_id: int) -> Event | None:
        """The event, only if it belongs to `guild_id`: ids typed in one guild never reach another's."""
        row = await self._db.fetch_one("SELECT * FROM event WHERE id = ? AND guild_id = ?", (event_id, guild_id))
        return Event.from_row(row) if row else None

    async def delete_unposted(self, event_id: int) -> None:
        """Remove an event whose post could never be made, so nothing half-created stays."""
        await self._db.execute("DELETE FROM event WHERE id = ? AND message_id IS NULL", (event_id,))

    async def set_message(self, event_id: int, message_id: int) -> None:
        await self._db.execute("UPDATE event SET message_id = ? WHERE id = ?", (message_id, event_id))

    async def set_scheduled_event(self, event_id: int, scheduled_event_id: int | None) -> None:
        await self._db.execute("UPDATE event SET scheduled_event_id = ? WHERE id = ?", (scheduled_event_id, event_id))

    async def update_details(
        self,
        event: Event,
        *,
        actor_id: int,
        now: datetime,
        title: str,
        description: str,
        location: str,
        starts_at: datetime,
        ends_at: datetime,
    ) -> Event | None:
        """Change what the modal edits; audited. None when the event was cancelled meanwhile."""
        async with self._db.transaction() as transaction:
            changed = await transaction.execute(
                "UPDATE event SET title = ?, description = ?, location = ?, starts_at = ?, ends_at = ?, "
                "post_stale_since = coalesce(post_stale_since, ?) WHERE id = ? AND cancelled_at IS NULL",
                (title, description, location, starts_at, ends_at, now, event.id),
            )
            if not changed:
                return None
            await self._audit.record(
                transaction,
                guild_id=event.guild_id,
                actor_id=actor_id,
                action="event.edit",
                subject=f"event:{event.id}",
                before=f"{event.title} | {event.starts_at.isoformat()} – {event.ends_at.isoformat()}",
                after=f"{title} | {starts_at.isoformat()} – {ends_at.isoformat()}",
                now=now,
            )
        return await self.get(event.id)

    async def cancel(self, event: Event, *, actor_id: int, now: datetime) -> bool:
        """Cancel once; audited. False when it was already cancelled."""
        async with self._db.transaction() as transaction:
            changed = await transaction.execute(
                "UPDATE event SET cancelled_at = ?, cancelled_by = ?, post_stale_since = coalesce(post_stale_since, ?) "
                "WHERE id = ? AND cancelled_at IS NULL",
                (now, actor_id, now, event.id),
            )
            if not changed:
                return False
            await self._audit.record(
                transaction,
                guild_id=event.guild_id,
                actor_id=actor_id,
                action="event.cancel",
                subject=f"event:{event.id}",
                before=event.title,
                after=None,
                now=now,
            )
        return True

    async def search(self, search: EventSearch, *, now: datetime, limit: int, offset: int = 0) -> list[Event]:
        """Soonest first for upcoming and active events, most recent first for past ones."""
        where, params = _search_where(search, now)
        order = "starts_at DESC, id DESC" if search.when == "past" else "starts_at, id"
        # `where` and `order` are built from fixed fragments only; every value is a parameter.
        rows = await self._db.fetch_all(
            f"SELECT * FROM event WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",  # noqa: S608
            (*params, limit, offset),
        )
        return [Event.from_row(row) for row in rows]

    async def count_search(self, search: EventSearch, *, now: datetime) -> int:
        where, params = _search_where(search, now)
        return int(await self._db.fetch_value(f"SELECT count(*) FROM event WHERE {where}", params))  # noqa: S608

    async def list_for_autocomplete(self, guild_id: int, text: str, *, now: datetime, limit: int = 25) -> list[Event]:
        """Events of this guild whose title contains `text`: those not ended yet soonest first,
        then ended ones most recent first."""
        pattern = _like_pattern(text.strip())
        rows = await self._db.fetch_all(
            "SELECT * FROM event WHERE guild_id = ? AND lower(title) LIKE ? ESCAPE '\\' "
            "ORDER BY CASE WHEN ends_at > ? THEN 0 ELSE 1 END, "
            "CASE WHEN ends_at > ? THEN starts_at END, starts_at DESC, id LIMIT ?",
            (guild_id, pattern, now, now, limit),
        )
        return [Event.from_row(row) for row in rows]

    # ---- RSVPs -------------------------------------------------------------------------

    async def set_rsvp(
        self,
        event_id: int,
        user_id: int,
        wanted: RsvpStatus,
        *,
        now: datetime,
        set_by: int | None = None,
        over_capacity: bool = False,
    ) -> RsvpChange:
        """Record a member's answer, deciding a seat from committed rows.

        `going` takes a free seat or joins the waitlist at the back; leaving a seat promotes
        the first of the waitlist. `over_capacity` (an organizer's explicit choice) seats the
        member even when the event is full. The audit trail records hand-set RSVPs."""

        async def decide(transaction: Transaction) -> RsvpChange:
            sequence = await transaction.fetch_value(
                "UPDATE event SET rsvp_sequence = rsvp_sequence + 1, post_stale_since = coalesce(post_stale_since, ?) "
                "WHERE id = ? AND cancelled_at IS NULL RETURNING rsvp_sequence",
                (now, event_id),
            )
            if sequence is None:
                return RsvpChange(None, wanted, refused="cancelled")
            event = Event.from_row(await transaction.fetch_one("SELECT * FROM event WHERE id = ?", (event_id,)))
            before = await transaction.fetch_value(
                "SELECT status FROM event_rsvp WHERE event_id = ? AND user_id = ?", (event_id, user_id)
            )
            after: str = wanted
            if wanted == "going" and before in ("going", "waitlist"):
                after = before
            elif wanted == "going" and not over_capacity and event.capacity is not None:
                seated = await self._count_going(transaction, event_id)
                if seated >= event.capacity:
                    after = "waitlist"
            if after == before and set_by is None:
                # Same answer again: keep its place in the queue.
                position = (
                    await self._waitlist_position(transaction, event_id, user_id) if after == "waitlist" else None
                )
                return RsvpChange(before, after, position=position)
            await transaction.execute(
                "INSERT INTO event_rsvp (event_id, user_id, status, sequence, updated_at, set_by) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (event_id, user_id) DO UPDATE SET "
                "status = excluded.status, sequence = excluded.sequence, updated_at = excluded.updated_at, "
                "set_by = excluded.set_by",
                (event_id, user_id, after, sequence, now, set_by),
            )
            promoted: tuple[int, ...] = ()
            if before == "going" and after != "going":
                promoted = await self._promote(transaction, event, now)
            if set_by is not None:
                await self._audit.record(
                    transaction,
                    guild_id=event.guild_id,
                    actor_id=set_by,
                    action="event.rsvp",
                    subject=f"event:{event_id}:user:{user_id}",
                    before=before,
                    after=after,
                    now=now,
                )
            position = await self._waitlist_position(transaction, event_id, user_id) if after == "waitlist" else None
            return RsvpChange(before, after, promoted, position=position)

        # The hot path of a burst of clicks: the backend's batch write runs the whole decision
        # in one BEGIN IMMEDIATE transaction without a thread hop per statement (see
        # Database.write_batch); `decide` awaits only its transaction, so a retry is safe.
        return await self._db.write_batch(decide)

    async def _count_going(self, transaction: Transaction, event_id: int) -> int:
        return int(
            await transaction.fetch_value(
                "SELECT count(*) FROM event_rsvp WHERE event_id = ? AND status = 'going'", (event_id,)
            )
        )

    async def _waitlist_position(self, transaction: Transaction, event_id: int, user_id: int) -> int:
        return int(
            await transaction.fetch_value(
                "SELECT count(*) FROM event_rsvp WHERE event_id = ? AND status = 'waitlist' AND sequence <= "
                "(SELECT sequence FROM event_rsvp WHERE event_id = ? AND user_id = ?)",
                (event_id, event_id, user_id),
            )
        )

    async def _promote(self, transaction: Transaction, event: Event, now: datetime) -> tuple[int, ...]:
        """Seat the waitlist, first come first served, while seats are free."""
        if event.capacity is None:
            free = None
        else:
            free = event.capacity - await self._count_going(transaction, event.id)
            if free <= 0:
                return ()
        # Two statements: "no limit" is LIMIT -1 on SQLite, an error on PostgreSQL.
        if free is None:
            rows = await transaction.fetch_all(
                "SELECT user_id FROM event_rsvp WHERE event_id = ? AND status = 'waitlist' ORDER BY sequence",
                (event.id,),
            )
        else:
            rows = await transaction.fetch_all(
                "SELECT user_id FROM event_rsvp WHERE event_id = ? AND status = 'waitlist' ORDER BY sequence LIMIT ?",
                (event.id, free),
            )
        promoted = tuple(int(row["user_id"]) for row in rows)
        for user_id in promoted:
            await transaction.execute(
                "UPDATE event_rsvp SET status = 'going', updated_at = ? WHERE event_id = ? AND user_id = ?",
                (now, event.id, user_id),
            )
        return promoted

    async def get_rsvp(self, event_id: int, user_id: int) -> Rsvp | None:
        row = await self._db.fetch_one(
            "SELECT * FROM event_rsvp WHERE event_id = ? AND user_id = ?", (event_id, user_id)
        )
        return Rsvp.from_row(row) if row else None

    async def waitlist_position(self, event_id: int, user_id: int) -> int | None:
        """1 for the next member to be seated; None when the member is not on the waitlist."""
        mine = await self._db.fetch_value(
            "SELECT sequence FROM event_rsvp WHERE event_id = ? AND user_id = ? AND status = 'waitlist'",
            (event_id, user_id),
        )
        if mine is None:
            return None
        return int(
            await self._db.fetch_value(
                "SELECT count(*) FROM event_rsvp WHERE event_id = ? AND status = 'waitlist' AND sequence <= ?",
                (event_id, mine),
            )
        )

    async def list_rsvps(self, event_id: int, status: RsvpStatus | None = None) -> list[Rsvp]:
        """In click order (the waitlist's serving order)."""
        if status is None:
            rows = await self._db.fetch_all(
                "SELECT * FROM event_rsvp WHERE event_id = ? ORDER BY sequence", (event_id,)
            )
        else:
            rows = await self._db.fetch_all(
                "SELECT * FROM event_rsvp WHERE event_id = ? AND status = ? ORDER BY sequence", (event_id, status)
            )
        return [Rsvp.from_row(row) for row in rows]

    async def count_rsvps(self, event_id: int) -> dict[str, int]:
        rows = await self._db.fetch_all(
            "SELECT status, count(*) AS total FROM event_rsvp WHERE event_id = ? GROUP BY status", (event_id,)
        )
        counts = dict.fromkeys(RSVP_STATUSES, 0)
        counts.update({row["status"]: int(row["total"]) for row in rows})
        return counts

    # ---- attendance --------------------------------------------------------------------

    async def record_attendance(
        self,
        event_id: int,
        user_id: int,
        *,
        now: datetime,
        source: AttendanceSource,
        session_id: int | None = None,
    ) -> bool:
        """True when this is the member's first attendance of the event (a repeat changes nothing)."""
        inserted = await self._db.execute(
            "INSERT INTO event_attendance (event_id, user_id, attended_at, source, session_id) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (event_id, user_id) DO NOTHING",
            (event_id, user_id, now, source, session_id),
        )
        return inserted > 0

    async def list_attendance(self, event_id: int) -> list[Attendance]:
        rows = await self._db.fetch_all(
            "SELECT * FROM event_attendance WHERE event_id = ? ORDER BY attended_at, user_id", (event_id,)
        )
        return [Attendance.from_row(row) for row in rows]

    async def count_attendance(self, event_id: int) -> int:
        return int(await self._db.fetch_value("SELECT count(*) FROM event_attendance WHERE event_id = ?", (event_id,)))

    # ---- the coalesced post refresh ----------------------------------------------------

    async def list_stale_posts(self) -> list[Event]:
        """Events whose post shows less than their rows: rebuilt into refresh jobs at start-up."""
        rows = await self._db.fetch_all(
            "SELECT * FROM event WHERE post_stale_since IS NOT NULL AND message_id IS NOT NULL ORDER BY id"
        )
        return [Event.from_row(row) for row in rows]

    async def mark_post_stale(self, event_id: int, *, now: datetime) -> None:
        await self._db.execute(
            "UPDATE event SET post_stale_since = coalesce(post_stale_since, ?) WHERE id = ?", (now, event_id)
        )

    async def mark_post_refreshed(self, event_id: int, *, stale_since: datetime | None, now: datetime) -> None:
        """Clear the stale mark only if nothing changed since the refresh read the rows (a
        change during the edit keeps it, so the next refresh shows that too)."""
        await self._db.execute(
            "UPDATE event SET post_refreshed_at = ?, "
            "post_stale_since = CASE WHEN post_stale_since = ? THEN NULL ELSE post_stale_since END WHERE id = ?",
            (now, stale_since, event_id),
        )

    # ---- listing and management (/event list, attendees, edit and cancel notices) -----------

    async def count_going_by_event(self, event_ids: Sequence[int]) -> dict[int, int]:
        """Seated members of each event, for a page of `/event list` in one query."""
        if not event_ids:
            return {}
        placeholders = ", ".join("?" for _ in event_ids)
        # Only `?` placeholders are joined into the text; every id is a parameter.
        rows = await self._db.fetch_all(
            f"SELECT event_id, count(*) AS total FROM event_rsvp WHERE status = 'going' "  # noqa: S608
            f"AND event_id IN ({placeholders}) GROUP BY event_id",
            tuple(event_ids),
        )
        counts = dict.fromkeys(event_ids, 0)
        counts.update({int(row["event_id"]): int(row["total"]) for row in rows})
        return counts

    async def list_expected(self, event_id: int) -> list[int]:
        """Members told about a change of time or a cancellation: seated first, then the waitlist
        in serving order."""
        rows = await self._db.fetch_all(
            "SELECT user_id FROM event_rsvp WHERE event_id = ? AND status IN ('going', 'waitlist') "
            "ORDER BY CASE WHEN status = 'going' THEN 0 ELSE 1 END, sequence",
            (event_id,),
        )
        return [int(row["user_id"]) for row in rows]

    async def seat_over_capacity(self, event_id: int, user_id: int, *, now: datetime, set_by: int) -> RsvpChange:
        """An organizer seats a member although the event is full, a waitlisted one included
        (`set_rsvp` keeps a waitlisted member in the queue); audited."""
        async with self._db.transaction() as transaction:
            sequence = await transaction.fetch_value(
                "UPDATE event SET rsvp_sequence = rsvp_sequence + 1, post_stale_since = coalesce(post_stale_since, ?) "
                "WHERE id = ? AND cancelled_at IS NULL RETURNING rsvp_sequence",
                (now, event_id),
            )
            if sequence is None:
                return RsvpChange(None, "going", refused="cancelled")
            guild_id = await transaction.fetch_value("SELECT guild_id FROM event WHERE id = ?", (event_id,))
            before = await transaction.fetch_value(
                "SELECT status FROM event_rsvp WHERE event_id = ? AND user_id = ?", (event_id, user_id)
            )
            if before == "going":
                return RsvpChange(before, "going")
            await transaction.execute(
                "INSERT INTO event_rsvp (event_id, user_id, status, sequence, updated_at, set_by) "
                "VALUES (?, ?, 'going', ?, ?, ?) ON CONFLICT (event_id, user_id) DO UPDATE SET "
                "status = excluded.status, sequence = excluded.sequence, updated_at = excluded.updated_at, "
                "set_by = excluded.set_by",
                (event_id, user_id, sequence, now, set_by),
            )
            await self._audit.record(
                transaction,
                guild_id=int(guild_id),
                actor_id=set_by,
                action="event.rsvp",
                subject=f"event:{event_id}:user:{user_id}",
                before=before,
                after="going (over capacity)",
                now=now,
            )
        return RsvpChange(before, "going")
