"""An event's scheduled moments (reminders, nudge, start, end, the missed-attendance notice),
its own reminder settings, and the members who turned reminder DMs off.

Each moment is one `event_timer` row. A run acts only after claiming its row with
`UPDATE ... SET fired_at = ? WHERE id = ? AND fired_at IS NULL`: exactly one run sees a changed
row, so neither a restart nor two processes ever act on a moment twice. A claim happens before
the DMs go out, which makes a crash mid-run lose the rest of that run rather than repeat it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from storage.backend import Database, Row, Transaction
from storage.rows import from_row
from utils.limits import EVENT_TIMER_KINDS

TimerKind = Literal["reminder", "nudge", "start", "end", "missed"]
TIMER_KINDS: tuple[TimerKind, ...] = EVENT_TIMER_KINDS  # type: ignore[assignment]
# Moments that only make sense before the start: past it, a late run drops them.
BEFORE_START: frozenset[str] = frozenset({"reminder", "nudge"})
# Moments that are told to members once and never again, even when the event moves.
ONCE_EVER: frozenset[str] = frozenset({"nudge", "missed"})


@dataclass(frozen=True, slots=True)
class EventTimer:
    id: int
    event_id: int
    kind: str
    offset_minutes: int
    due_at: datetime
    fired_at: datetime | None
    outcome: str | None

    @classmethod
    def from_row(cls, row: Row) -> EventTimer:
        return from_row(cls, row)


@dataclass(frozen=True, slots=True)
class ReminderSetting:
    """An event's own reminder offsets (None: the guild's) and nudge time (None: no nudge)."""

    event_id: int
    reminder_offsets: tuple[int, ...] | None
    nudge_minutes: int | None


@dataclass(frozen=True, slots=True)
class PlannedTimer:
    kind: TimerKind
    offset_minutes: int
    due_at: datetime


@dataclass(frozen=True, slots=True)
class Replan:
    """What `replan` left: the rows still to run (to schedule) and the ids it removed (to unschedule)."""

    pending: tuple[EventTimer, ...]
    removed: tuple[int, ...]


def offsets_text(offsets: Sequence[int]) -> str:
    return ",".join(str(minutes) for minutes in offsets)


def plan_timers(
    *,
    starts_at: datetime,
    ends_at: datetime,
    reminder_offsets: Sequence[int],
    nudge_minutes: int | None,
) -> list[PlannedTimer]:
    """Every moment of an event, in time order."""
    planned = [
        PlannedTimer("reminder", minutes, starts_at - timedelta(minutes=minutes)) for minutes in set(reminder_offsets)
    ]
    if nudge_minutes is not None:
        planned.append(PlannedTimer("nudge", nudge_minutes, starts_at - timedelta(minutes=nudge_minutes)))
    planned += [
        PlannedTimer("start", 0, starts_at),
        PlannedTimer("end", 0, ends_at),
        PlannedTimer("missed", 0, ends_at),
    ]
    return sorted(planned, key=lambda timer: (timer.due_at, TIMER_KINDS.index(timer.kind)))


class EventReminderRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # ---- the event's own settings ------------------------------------------------------

    async def get_setting(self, event_id: int) -> ReminderSetting:
        row = await self._db.fetch_one("SELECT * FROM event_reminder_setting WHERE event_id = ?", (event_id,))
        if row is None:
            return ReminderSetting(event_id, None, None)
        raw = row["reminder_offsets"]
        offsets = None if raw is None else tuple(int(part) for part in raw.split(",") if part)
        nudge = row["nudge_minutes"]
        return ReminderSetting(event_id, offsets, None if nudge is None else int(nudge))

    async def set_setting(self, setting: ReminderSetting) -> None:
        offsets = None if setting.reminder_offsets is None else offsets_text(setting.reminder_offsets)
        await self._db.execute(
            "INSERT INTO event_reminder_setting (event_id, reminder_offsets, nudge_minutes) VALUES (?, ?, ?) "
            "ON CONFLICT (event_id) DO UPDATE SET reminder_offsets = excluded.reminder_offsets, "
            "nudge_minutes = excluded.nudge_minutes",
            (setting.event_id, offsets, setting.nudge_minutes),
        )

    # ---- timers ------------------------------------------------------------------------

    async def get(self, timer_id: int) -> EventTimer | None:
        row = await self._db.fetch_one("SELECT * FROM event_timer WHERE id = ?", (timer_id,))
        return EventTimer.from_row(row) if row else None

    async def list_for_event(self, event_id: int) -> list[EventTimer]:
        rows = await self._db.fetch_all("SELECT * FROM event_timer WHERE event_id = ? ORDER BY due_at, id", (event_id,))
        return [EventTimer.from_row(row) for row in rows]

    async def list_pending(self) -> list[tuple[EventTimer, int]]:
        """Every moment not run yet, with its event's guild: rebuilt into jobs at start-up by the
        process serving that guild."""
        rows = await self._db.fetch_all(
            "SELECT event_timer.*, event.guild_id AS event_guild_id FROM event_timer "
            "JOIN event ON event.id = event_timer.event_id WHERE event_timer.fired_at IS NULL "
            "ORDER BY event_timer.due_at, event_timer.id"
        )
        return [(EventTimer.from_row(row), int(row["event_guild_id"])) for row in rows]

    async def replan(self, event_id: int, planned: Sequence[PlannedTimer], *, now: datetime) -> Replan:
        """Make the event's rows follow `planned` (after a create or an edit), in one transaction.

        A moment not run yet takes its new time. A reminder planned for a time already past is
        left out, so creating or moving an event never sends a reminder that was never due. A
        reminder, start or end already run is run again when it moved into the future (the
        members are reminded of the new time); a nudge or missed notice already run never is.
        A moment no longer planned (an offset removed) is deleted unless it already ran."""
        async with self._db.transaction() as transaction:
            rows = await transaction.fetch_all("SELECT * FROM event_timer WHERE event_id = ?", (event_id,))
            existing = {(row["kind"], int(row["offset_minutes"])): EventTimer.from_row(row) for row in rows}
            removed: list[int] = []
            wanted = {(timer.kind, timer.offset_minutes): timer for timer in planned}
            for key, timer in existing.items():
                if key not in wanted and timer.fired_at is None:
                    await transaction.execute("DELETE FROM event_timer WHERE id = ?", (timer.id,))
                    removed.append(timer.id)
            for key, plan in wanted.items():
                current = existing.get(key)
                passed = plan.kind in BEFORE_START and plan.due_at <= now
                if current is None:
                    if not passed:
                        await self._insert(transaction, event_id, plan)
                    continue
                if current.fired_at is None:
                    if passed:
                        await transaction.execute("DELETE FROM event_timer WHERE id = ?", (current.id,))
                        removed.append(current.id)
                    elif current.due_at != plan.due_at:
                        await transaction.execute(
                            "UPDATE event_timer SET due_at = ? WHERE id = ? AND fired_at IS NULL",
                            (plan.due_at, current.id),
                        )
                    continue
                rearm = plan.kind not in ONCE_EVER and current.due_at != plan.due_at and plan.due_at > now
                if rearm:
                    await transaction.execute(
                        "UPDATE event_timer SET due_at = ?, fired_at = NULL, outcome = NULL WHERE id = ?",
                        (plan.due_at, current.id),
                    )
            pending = await transaction.fetch_all(
                "SELECT * FROM event_timer WHERE event_id = ? AND fired_at IS NULL ORDER BY due_at, id", (event_id,)
            )
        return Replan(tuple(EventTimer.from_row(row) for row in pending), tuple(removed))

    @staticmethod
    async def _insert(transaction: Transaction, event_id: int, plan: PlannedTimer) -> None:
        await transaction.execute(
            "INSERT INTO event_timer (event_id, kind, offset_minutes, due_at) VALUES (?, ?, ?, ?)",
            (event_id, plan.kind, plan.offset_minutes, plan.due_at),
        )

    async def drop_pending(self, event_id: int, *, now: datetime, reason: str) -> list[int]:
        """A cancelled event: every moment not run yet is closed without running; their ids."""
        async with self._db.transaction() as transaction:
            rows = await transaction.fetch_all(
                "UPDATE event_timer SET fired_at = ?, outcome = ? WHERE event_id = ? AND fired_at IS NULL RETURNING id",
                (now, reason, event_id),
            )
        return [int(row["id"]) for row in rows]

    async def claim(self, timer_id: int, *, now: datetime) -> bool:
        """Take the row for this run: True for exactly one caller, and only once it is due."""
        changed = await self._db.execute(
            "UPDATE event_timer SET fired_at = ? WHERE id = ? AND fired_at IS NULL AND due_at <= ?",
            (now, timer_id, now),
        )
        return changed == 1

    async def record_outcome(self, timer_id: int, outcome: str) -> None:
        await self._db.execute("UPDATE event_timer SET outcome = ? WHERE id = ?", (outcome, timer_id))

    # ---- who hears --------------------------------------------------------------------

    async def list_going_to_remind(self, event_id: int, guild_id: int) -> list[int]:
        """Going members in seat order, without those who turned reminder DMs off."""
        rows = await self._db.fetch_all(
            "SELECT r.user_id FROM event_rsvp r WHERE r.event_id = ? AND r.status = 'going' AND NOT EXISTS "
            "(SELECT 1 FROM reminder_opt_out o WHERE o.guild_id = ? AND o.user_id = r.user_id) ORDER BY r.sequence",
            (event_id, guild_id),
        )
        return [int(row["user_id"]) for row in rows]

    async def list_answered(self, event_id: int) -> set[int]:
        """Members with any RSVP (a nudge goes to those without one)."""
        rows = await self._db.fetch_all("SELECT user_id FROM event_rsvp WHERE event_id = ?", (event_id,))
        return {int(row["user_id"]) for row in rows}

    async def list_going_absent(self, event_id: int) -> list[int]:
        """Going members with no attendance recorded, in seat order."""
        rows = await self._db.fetch_all(
            "SELECT r.user_id FROM event_rsvp r WHERE r.event_id = ? AND r.status = 'going' AND NOT EXISTS "
            "(SELECT 1 FROM event_attendance a WHERE a.event_id = r.event_id AND a.user_id = r.user_id) "
            "ORDER BY r.sequence",
            (event_id,),
        )
        return [int(row["user_id"]) for row in rows]

    # ---- /me reminders ---------------------------------------------------------------

    async def set_opt_out(self, guild_id: int, user_id: int, *, off: bool, now: datetime) -> bool:
        """Turn a member's reminder DMs off (or back on); True when that changed anything."""
        if off:
            changed = await self._db.execute(
                "INSERT INTO reminder_opt_out (guild_id, user_id, opted_out_at) VALUES (?, ?, ?) "
                "ON CONFLICT (guild_id, user_id) DO NOTHING",
                (guild_id, user_id, now),
            )
        else:
            changed = await self._db.execute(
                "DELETE FROM reminder_opt_out WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
            )
        return changed > 0

    async def is_opted_out(self, guild_id: int, user_id: int) -> bool:
        found = await self._db.fetch_value(
            "SELECT 1 FROM reminder_opt_out WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
        )
        return found is not None
