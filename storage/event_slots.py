"""An event's slots (copied from a preset when the event is created) and who holds or waits
for each.

Seat decisions follow storage/events.py `set_rsvp`: each runs in one write transaction whose
first statement bumps the event's `rsvp_sequence`, which on SQLite holds the write lock and on
PostgreSQL locks the event's row, so two members racing for a slot's last seat are decided one
after the other from committed rows. The member's `event_rsvp` row is written in the same
transaction (seated: going, waiting: waitlist), so counts, reminders and exports that read RSVPs
see slot sign-ups without knowing about slots."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from storage.audit import AuditRepository
from storage.backend import Database, Row, Transaction
from storage.presets import Slot
from storage.rows import from_row

SlotStatus = Literal["seated", "waitlist"]
# What a member leaving their slot answers instead.
LeftAs = Literal["interested", "not_going"]


@dataclass(frozen=True, slots=True)
class SlotSignup:
    event_id: int
    user_id: int
    position: int
    status: str
    sequence: int
    updated_at: datetime
    set_by: int | None

    @classmethod
    def from_row(cls, row: Row) -> SlotSignup:
        return from_row(cls, row)


@dataclass(frozen=True, slots=True)
class SlotView:
    """A slot as the post shows it: its seated members and its waitlist, both in serving order."""

    slot: Slot
    seated: tuple[int, ...]
    waiting: tuple[int, ...]

    @property
    def full(self) -> bool:
        return len(self.seated) >= self.slot.seats


@dataclass(frozen=True, slots=True)
class SlotChange:
    """What one slot decision did. `refused` is set (and nothing written) when the event was
    cancelled, the slot is gone or full; `promoted` are the members seated from the waitlist of
    the slot this member left, in order."""

    before: SlotSignup | None
    after_position: int | None
    after_status: str | None
    rsvp_before: str | None = None
    promoted: tuple[int, ...] = ()
    refused: Literal["cancelled", "no_slot", "full"] | None = None
    # 1 for the next member to be seated, when waiting.
    queue_position: int | None = None

    @property
    def changed(self) -> bool:
        if self.refused is not None:
            return False
        if self.before is None:
            return True
        return (self.before.position, self.before.status) != (self.after_position, self.after_status)


async def insert_event_slots(transaction: Transaction, event_id: int, slots: Sequence[Slot]) -> None:
    """The event's own copy of a preset's slots, inside the transaction creating the event."""
    if not slots:
        return
    await transaction.execute_many(
        "INSERT INTO event_slot (event_id, position, name, seats, role_id) VALUES (?, ?, ?, ?, ?)",
        [(event_id, index, slot.name, slot.seats, slot.role_id) for index, slot in enumerate(slots)],
    )


class EventSlotRepository:
    def __init__(self, db: Database, audit: AuditRepository) -> None:
        self._db = db
        self._audit = audit

    # ---- reading -----------------------------------------------------------------------

    async def list_slots(self, event_id: int) -> list[Slot]:
        rows = await self._db.fetch_all(
            "SELECT position, name, seats, role_id FROM event_slot WHERE event_id = ? ORDER BY position", (event_id,)
        )
        return [Slot.from_row(row) for row in rows]

    async def get_slot(self, event_id: int, position: int) -> Slot | None:
        row = await self._db.fetch_one(
            "SELECT position, name, seats, role_id FROM event_slot WHERE event_id = ? AND position = ?",
            (event_id, position),
        )
        return Slot.from_row(row) if row else None

    async def has_slots(self, event_id: int) -> bool:
        found = await self._db.fetch_value("SELECT 1 FROM event_slot WHERE event_id = ? LIMIT 1", (event_id,))
        return found is not None

    async def get_signup(self, event_id: int, user_id: int) -> SlotSignup | None:
        row = await self._db.fetch_one(
            "SELECT * FROM event_slot_signup WHERE event_id = ? AND user_id = ?", (event_id, user_id)
        )
        return SlotSignup.from_row(row) if row else None

    async def list_signups(self, event_id: int) -> list[SlotSignup]:
        rows = await self._db.fetch_all(
            "SELECT * FROM event_slot_signup WHERE event_id = ? ORDER BY position, sequence", (event_id,)
        )
        return [SlotSignup.from_row(row) for row in rows]

    async def board(self, event_id: int) -> list[SlotView]:
        """Every slot with its members, for the post and the select (empty: no slots)."""
        signups = await self.list_signups(event_id)
        views = []
        for slot in await self.list_slots(event_id):
            mine = [s for s in signups if s.position == slot.position]
            views.append(
                SlotView(
                    slot,
                    tuple(s.user_id for s in mine if s.status == "seated"),
                    tuple(s.user_id for s in mine if s.status == "waitlist"),
                )
            )
        return views

    async def slot_names_by_user(self, event_id: int) -> dict[int, str]:
        """Each signed-up member's slot name (the attendee CSV's `slot` column)."""
        rows = await self._db.fetch_all(
            "SELECT u.user_id, s.name FROM event_slot_signup u JOIN event_slot s "
            "ON s.event_id = u.event_id AND s.position = u.position WHERE u.event_id = ?",
            (event_id,),
        )
        return {int(row["user_id"]): row["name"] for row in rows}

    # ---- decisions ---------------------------------------------------------------------

    async def take(
        self, event_id: int, user_id: int, position: int, *, now: datetime, set_by: int | None = None
    ) -> SlotChange:
        """Seat the member in the slot (switching from another one frees that seat), or refuse
        with `full`. `set_by`: an organizer moving them, audited."""

        async def decide(transaction: Transaction) -> SlotChange:
            return await self._decide(transaction, event_id, user_id, position, "seated", now=now, set_by=set_by)

        return await self._db.write_batch(decide)

    async def wait(self, event_id: int, user_id: int, position: int, *, now: datetime) -> SlotChange:
        """Join the slot's waitlist at the back (giving up a seat held elsewhere); a seat that
        freed meanwhile is taken right away."""

        async def decide(transaction: Transaction) -> SlotChange:
            return await self._decide(transaction, event_id, user_id, position, "waitlist", now=now, set_by=None)

        return await self._db.write_batch(decide)

    async def leave(
        self, event_id: int, user_id: int, answer: LeftAs, *, now: datetime, set_by: int | None = None
    ) -> SlotChange:
        """Leave the slot held or waited for, answering `answer`; a freed seat goes to the first
        of that slot's waitlist."""

        async def decide(transaction: Transaction) -> SlotChange:
            sequence = await self._bump(transaction, event_id, now)
            if sequence is None:
                return SlotChange(None, None, None, refused="cancelled")
            before = await self._signup(transaction, event_id, user_id)
            rsvp_before = await self._rsvp_status(transaction, event_id, user_id)
            if before is None and rsvp_before == answer:
                return SlotChange(None, None, None, rsvp_before=rsvp_before)
            if before is not None:
                await transaction.execute(
                    "DELETE FROM event_slot_signup WHERE event_id = ? AND user_id = ?", (event_id, user_id)
                )
            await self._set_rsvp(transaction, event_id, user_id, answer, sequence, now, set_by)
            promoted: tuple[int, ...] = ()
            if before is not None and before.status == "seated":
                promoted = await self._promote(transaction, event_id, before.position, sequence, now)
            if set_by is not None:
                await self._record(transaction, event_id, user_id, set_by, before, answer, now)
            return SlotChange(before, None, None, rsvp_before=rsvp_before, promoted=promoted)

        return await self._db.write_batch(decide)

    async def _decide(
        self,
        transaction: Transaction,
        event_id: int,
        user_id: int,
        position: int,
        wanted: SlotStatus,
        *,
        now: datetime,
        set_by: int | None,
    ) -> SlotChange:
        sequence = await self._bump(transaction, event_id, now)
        if sequence is None:
            return SlotChange(None, None, None, refused="cancelled")
        seats = await transaction.fetch_value(
            "SELECT seats FROM event_slot WHERE event_id = ? AND position = ?", (event_id, position)
        )
        before = await self._signup(transaction, event_id, user_id)
        rsvp_before = await self._rsvp_status(transaction, event_id, user_id)
        if seats is None:
            return SlotChange(before, None, None, rsvp_before=rsvp_before, refused="no_slot")
        if before is not None and before.position == position and (before.status == "seated" or wanted == "waitlist"):
            queue = await self._queue_position(transaction, before) if before.status == "waitlist" else None
            return SlotChange(before, position, before.status, rsvp_before=rsvp_before, queue_position=queue)
        seated = int(
            await transaction.fetch_value(
                "SELECT count(*) FROM event_slot_signup WHERE event_id = ? AND position = ? AND status = 'seated'",
                (event_id, position),
            )
        )
        status: SlotStatus = "seated" if seated < int(seats) else "waitlist"
        if status == "waitlist" and wanted == "seated":
            queue = (
                await self._queue_position(transaction, before)
                if before is not None and before.position == position
                else None
            )
            return SlotChange(before, None, None, rsvp_before=rsvp_before, refused="full", queue_position=queue)
        await transaction.execute(
            "INSERT INTO event_slot_signup (event_id, user_id, position, status, sequence, updated_at, set_by) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id, user_id) DO UPDATE SET "
            "position = excluded.position, status = excluded.status, sequence = excluded.sequence, "
            "updated_at = excluded.updated_at, set_by = excluded.set_by",
            (event_id, user_id, position, status, sequence, now, set_by),
        )
        await self._set_rsvp(
            transaction, event_id, user_id, "going" if status == "seated" else "waitlist", sequence, now, set_by
        )
        promoted: tuple[int, ...] = ()
        if before is not None and before.status == "seated" and before.position != position:
            promoted = await self._promote(transaction, event_id, before.position, sequence, now)
        if set_by is not None:
            await self._record(transaction, event_id, user_id, set_by, before, f"slot {position} {status}", now)
        after = SlotSignup(event_id, user_id, position, status, sequence, now, set_by)
        queue = await self._queue_position(transaction, after) if status == "waitlist" else None
        return SlotChange(before, position, status, rsvp_before=rsvp_before, promoted=promoted, queue_position=queue)

    @staticmethod
    async def _bump(transaction: Transaction, event_id: int, now: datetime) -> int | None:
        # First statement of every decision: takes the write lock (SQLite) or the event's row
        # lock (PostgreSQL), and gives this change its place in click order.
        sequence = await transaction.fetch_value(
            "UPDATE event SET rsvp_sequence = rsvp_sequence + 1, post_stale_since = coalesce(post_stale_since, ?) "
            "WHERE id = ? AND cancelled_at IS NULL RETURNING rsvp_sequence",
            (now, event_id),
        )
        return int(sequence) if sequence is not None else None

    @staticmethod
    async def _signup(transaction: Transaction, event_id: int, user_id: int) -> SlotSignup | None:
        row = await transaction.fetch_one(
            "SELECT * FROM event_slot_signup WHERE event_id = ? AND user_id = ?", (event_id, user_id)
        )
        return SlotSignup.from_row(row) if row else None

    @staticmethod
    async def _rsvp_status(transaction: Transaction, event_id: int, user_id: int) -> str | None:
        return await transaction.fetch_value(
            "SELECT status FROM event_rsvp WHERE event_id = ? AND user_id = ?", (event_id, user_id)
        )

    @staticmethod
    async def _set_rsvp(
        transaction: Transaction,
        event_id: int,
        user_id: int,
        status: str,
        sequence: int,
        now: datetime,
        set_by: int | None,
    ) -> None:
        await transaction.execute(
            "INSERT INTO event_rsvp (event_id, user_id, status, sequence, updated_at, set_by) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (event_id, user_id) DO UPDATE SET "
            "status = excluded.status, sequence = excluded.sequence, updated_at = excluded.updated_at, "
            "set_by = excluded.set_by",
            (event_id, user_id, status, sequence, now, set_by),
        )

    @staticmethod
    async def _queue_position(transaction: Transaction, signup: SlotSignup) -> int:
        return int(
            await transaction.fetch_value(
                "SELECT count(*) FROM event_slot_signup WHERE event_id = ? AND position = ? AND status = 'waitlist' "
                "AND sequence <= ?",
                (signup.event_id, signup.position, signup.sequence),
            )
        )

    async def _promote(
        self, transaction: Transaction, event_id: int, position: int, sequence: int, now: datetime
    ) -> tuple[int, ...]:
        """Seat the slot's waitlist, first come first served, while the slot has free seats."""
        seats = int(
            await transaction.fetch_value(
                "SELECT seats FROM event_slot WHERE event_id = ? AND position = ?", (event_id, position)
            )
        )
        seated = int(
            await transaction.fetch_value(
                "SELECT count(*) FROM event_slot_signup WHERE event_id = ? AND position = ? AND status = 'seated'",
                (event_id, position),
            )
        )
        free = seats - seated
        if free <= 0:
            return ()
        rows = await transaction.fetch_all(
            "SELECT user_id FROM event_slot_signup WHERE event_id = ? AND position = ? AND status = 'waitlist' "
            "ORDER BY sequence LIMIT ?",
            (event_id, position, free),
        )
        promoted = tuple(int(row["user_id"]) for row in rows)
        for user_id in promoted:
            await transaction.execute(
                "UPDATE event_slot_signup SET status = 'seated', updated_at = ? WHERE event_id = ? AND user_id = ?",
                (now, event_id, user_id),
            )
            await transaction.execute(
                "UPDATE event_rsvp SET status = 'going', updated_at = ? WHERE event_id = ? AND user_id = ?",
                (now, event_id, user_id),
            )
        return promoted

    async def _record(
        self,
        transaction: Transaction,
        event_id: int,
        user_id: int,
        actor_id: int,
        before: SlotSignup | None,
        after: str,
        now: datetime,
    ) -> None:
        guild_id = await transaction.fetch_value("SELECT guild_id FROM event WHERE id = ?", (event_id,))
        await self._audit.record(
            transaction,
            guild_id=int(guild_id),
            actor_id=actor_id,
            action="event.slot",
            subject=f"event:{event_id}:user:{user_id}",
            before=f"slot {before.position} {before.status}" if before is not None else None,
            after=after,
            now=now,
        )
