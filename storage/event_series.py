"""Recurring events: the series rule and the claim that creates its next occurrence.

A series row holds the rule in wall-clock terms (utils/recurrence.py) and points at its latest
occurrence. The next occurrence is created by `create_next`, one transaction whose first
statement locks the series row (a no-op UPDATE: the write lock on SQLite, the row lock on
PostgreSQL); it re-reads the series and its latest occurrence, and inserts the next event and
moves the pointer only if the series is still open and that occurrence has ended. The unique
index on (series_id, series_index) makes a second creation of the same place impossible even so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

from storage.audit import AuditRepository
from storage.backend import Database, Row
from storage.events import Event
from storage.rows import from_row, instant
from utils.recurrence import NextOccurrence, SeriesOver, SeriesRule

FinishReason = Literal["count", "until", "cancelled"]


@dataclass(frozen=True, slots=True)
class Series:
    id: int
    guild_id: int
    rule: SeriesRule
    every_days: int | None
    until_day: str | None
    max_count: int | None
    timezone: str
    local_start: str
    duration_seconds: int
    cutoff_minutes: int | None
    created_by: int
    created_at: datetime
    last_event_id: int | None
    last_index: int
    last_day: str
    finished_at: datetime | None
    finished_reason: str | None
    finished_by: int | None

    @classmethod
    def from_row(cls, row: Row) -> Series:
        return from_row(cls, row)

    @property
    def open(self) -> bool:
        return self.finished_at is None

    @property
    def start_time(self) -> time:
        return time.fromisoformat(self.local_start)

    @property
    def duration(self) -> timedelta:
        return timedelta(seconds=self.duration_seconds)

    @property
    def until(self) -> date | None:
        return date.fromisoformat(self.until_day) if self.until_day else None

    @property
    def latest_day(self) -> date:
        return date.fromisoformat(self.last_day)


@dataclass(frozen=True, slots=True)
class SeriesStep:
    """What one due run of a series did: created `event` (after `skipped` missed places), or
    finished the series (`finished`), or nothing because it was not due or already done."""

    event: Event | None = None
    finished: FinishReason | None = None
    skipped: int = 0
    note: str | None = None


Planner = Callable[[Series, Event, datetime], NextOccurrence | SeriesOver]


class SeriesRepository:
    def __init__(self, db: Database, audit: AuditRepository) -> None:
        self._db = db
        self._audit = audit

    async def start(
        self,
        first: Event,
        *,
        rule: SeriesRule,
        every_days: int | None,
        until_day: date | None,
        max_count: int | None,
        timezone: str,
        local_start: time,
        first_day: date,
        now: datetime,
    ) -> Series:
        """Make `first` (already created and posted) occurrence 1 of a new series."""
        cutoff = None
        if first.signup_cutoff_at is not None:
            cutoff = int((first.starts_at - first.signup_cutoff_at).total_seconds() // 60)
        async with self._db.transaction() as transaction:
            series_id = await transaction.fetch_value(
                "INSERT INTO event_series (guild_id, rule, every_days, until_day, max_count, timezone, local_start, "
                "duration_seconds, cutoff_minutes, created_by, created_at, last_event_id, last_index, last_day) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?) RETURNING id",
                (
                    first.guild_id,
                    rule,
                    every_days,
                    until_day.isoformat() if until_day else None,
                    max_count,
                    timezone,
                    local_start.strftime("%H:%M"),
                    int((first.ends_at - first.starts_at).total_seconds()),
                    cutoff,
                    first.created_by,
                    now,
                    first.id,
                    first_day.isoformat(),
                ),
            )
            await transaction.execute(
                "UPDATE event SET series_id = ?, series_index = 1 WHERE id = ?", (series_id, first.id)
            )
        series = await self.get(int(series_id))
        assert series is not None
        return series

    async def get(self, series_id: int) -> Series | None:
        row = await self._db.fetch_one("SELECT * FROM event_series WHERE id = ?", (series_id,))
        return Series.from_row(row) if row else None

    async def list_open(self) -> list[tuple[Series, datetime]]:
        """Open series with the end of their latest occurrence: when each is next due."""
        rows = await self._db.fetch_all(
            "SELECT event_series.*, event.ends_at AS due_at FROM event_series "
            "JOIN event ON event.id = event_series.last_event_id "
            "WHERE event_series.finished_at IS NULL ORDER BY event_series.id"
        )
        due: list[tuple[Series, datetime]] = []
        for row in rows:
            ends_at = instant(row["due_at"])
            assert ends_at is not None
            due.append((Series.from_row(row), ends_at))
        return due

    async def list_unposted(self, *, now: datetime) -> list[Event]:
        """Occurrences created by a series whose post has not been made yet (Discord refused it
        or the bot stopped in between), still worth posting."""
        rows = await self._db.fetch_all(
            "SELECT * FROM event WHERE series_id IS NOT NULL AND message_id IS NULL AND cancelled_at IS NULL "
            "AND ends_at > ? ORDER BY id",
            (now,),
        )
        return [Event.from_row(row) for row in rows]

    async def create_next(self, series_id: int, *, now: datetime, plan: Planner) -> SeriesStep:
        """Claim and create the next occurrence of a due series (see the module's docstring)."""
        async with self._db.transaction() as transaction:
            locked = await transaction.execute(
                "UPDATE event_series SET last_index = last_index WHERE id = ? AND finished_at IS NULL", (series_id,)
            )
            if not locked:
                return SeriesStep()
            series = Series.from_row(
                await transaction.fetch_one("SELECT * FROM event_series WHERE id = ?", (series_id,))
            )
            latest_row = await transaction.fetch_one("SELECT * FROM event WHERE id = ?", (series.last_event_id,))
            if latest_row is None:
                return SeriesStep()
            latest = Event.from_row(latest_row)
            if latest.ends_at > now:
                return SeriesStep()
            planned = plan(series, latest, now)
            if isinstance(planned, SeriesOver):
                await transaction.execute(
                    "UPDATE event_series SET finished_at = ?, finished_reason = ? WHERE id = ?",
                    (now, planned.reason, series_id),
                )
                return SeriesStep(finished=planned.reason)
            cutoff_at = (
                planned.starts_at - timedelta(minutes=series.cutoff_minutes)
                if series.cutoff_minutes is not None
                else None
            )
            # Carried over from the latest occurrence (an organizer's edit of its title, text or
            # place carries on); RSVPs, attendance, reviews and the post start afresh.
            event_id = await transaction.fetch_value(
                "INSERT INTO event (guild_id, channel_id, created_by, created_at, title, description, location, "
                "starts_at, ends_at, capacity, role_id, signup_cutoff_at, series_id, series_index) "
                "SELECT guild_id, channel_id, created_by, ?, title, description, location, ?, ?, capacity, role_id, "
                "?, series_id, ? FROM event WHERE id = ? RETURNING id",
                (now, planned.starts_at, planned.ends_at, cutoff_at, planned.index, latest.id),
            )
            # A preset's slots carry over too (each occurrence keeps its own copy, empty of members).
            await transaction.execute(
                "INSERT INTO event_slot (event_id, position, name, seats, role_id) "
                "SELECT ?, position, name, seats, role_id FROM event_slot WHERE event_id = ?",
                (event_id, latest.id),
            )
            await transaction.execute(
                "UPDATE event_series SET last_event_id = ?, last_index = ?, last_day = ? WHERE id = ?",
                (event_id, planned.index, planned.day.isoformat(), series_id),
            )
            await self._audit.record(
                transaction,
                guild_id=series.guild_id,
                actor_id=series.created_by,
                action="event.series_next",
                subject=f"event:{event_id}",
                before=f"series:{series_id}",
                after=f"occurrence {planned.index}",
                now=now,
            )
            created = Event.from_row(await transaction.fetch_one("SELECT * FROM event WHERE id = ?", (event_id,)))
        return SeriesStep(event=created, skipped=planned.skipped, note=planned.note)

    async def cancel(self, series_id: int, *, actor_id: int, now: datetime) -> bool:
        """No more occurrences; audited. False when the series had already finished."""
        async with self._db.transaction() as transaction:
            changed = await transaction.execute(
                "UPDATE event_series SET finished_at = ?, finished_reason = 'cancelled', finished_by = ? "
                "WHERE id = ? AND finished_at IS NULL",
                (now, actor_id, series_id),
            )
            if not changed:
                return False
            guild_id = await transaction.fetch_value("SELECT guild_id FROM event_series WHERE id = ?", (series_id,))
            await self._audit.record(
                transaction,
                guild_id=int(guild_id),
                actor_id=actor_id,
                action="event.series_cancel",
                subject=f"series:{series_id}",
                before="open",
                after="cancelled",
                now=now,
            )
        return True
