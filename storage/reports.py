"""Read-only figures over a date range for exports and reports: roll-call records with their
sessions, and per member the roll-call tallies, events attended, events Going and no-shows.

Ranges are half-open `[start, end)` instants in UTC; a roll call belongs to the range it was
opened in and an event to the range it starts in. No-shows count only events that have ended
by `now`: before the end, a member who said Going may still arrive."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from storage.attendance import AttendanceRecord, AttendanceSession
from storage.backend import Database
from storage.rows import instant

ROLL_CALL_STATUSES = ("present", "late", "absent", "excused")


@dataclass(frozen=True, slots=True)
class SessionRecord:
    session: AttendanceSession
    record: AttendanceRecord


@dataclass(slots=True)
class MemberTally:
    user_id: int
    display_name: str = ""
    present: int = 0
    late: int = 0
    absent: int = 0
    excused: int = 0
    events_attended: int = 0
    events_going: int = 0
    no_shows: int = 0
    walk_ins: int = 0

    @property
    def sessions_attended(self) -> int:
        return self.present + self.late

    @property
    def sessions_counted(self) -> int:
        """Roll calls the rate is over: excused ones are left out of both sides."""
        return self.present + self.late + self.absent

    @property
    def rate(self) -> float | None:
        """Present or late ÷ present, late or absent; None when there is nothing to divide by."""
        return self.sessions_attended / self.sessions_counted if self.sessions_counted else None


@dataclass(frozen=True, slots=True)
class EventTally:
    event_id: int
    title: str
    starts_at: datetime
    ends_at: datetime
    going: int
    attended: int
    no_shows: int
    walk_ins: int


@dataclass(frozen=True, slots=True)
class RangeFigures:
    members: dict[int, MemberTally]
    events: list[EventTally] = field(default_factory=list)
    # (session id, opened_at, present + late, counted) per roll call, in time order: the chart's data.
    sessions: list[tuple[int, datetime, int, int]] = field(default_factory=list)


class ReportRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def list_session_records(
        self, guild_id: int, start: datetime, end: datetime, *, user_id: int | None = None
    ) -> list[SessionRecord]:
        """Every record of every roll call opened in the range, oldest roll call first."""
        sql = (
            "SELECT s.*, r.user_id AS r_user_id, r.status AS r_status, r.submitted_at AS r_submitted_at, "
            "r.user_name AS r_user_name, r.display_name AS r_display_name, r.corrected_by AS r_corrected_by, "
            "r.corrected_at AS r_corrected_at "
            "FROM attendance_session s JOIN attendance_record r ON r.session_id = s.id "
            "WHERE s.guild_id = ? AND s.opened_at >= ? AND s.opened_at < ?"
        )
        params: list[object] = [guild_id, start, end]
        if user_id is not None:
            sql += " AND r.user_id = ?"
            params.append(user_id)
        rows = await self._db.fetch_all(sql + " ORDER BY s.opened_at, s.id, lower(r.display_name), r.user_id", params)
        sessions: dict[int, AttendanceSession] = {}
        found: list[SessionRecord] = []
        for row in rows:
            session = sessions.get(row["id"])
            if session is None:
                session = sessions[row["id"]] = AttendanceSession.from_row(row)
            record = AttendanceRecord(
                session_id=session.id,
                user_id=row["r_user_id"],
                status=row["r_status"],
                submitted_at=instant(row["r_submitted_at"]),
                user_name=row["r_user_name"],
                display_name=row["r_display_name"],
                corrected_by=row["r_corrected_by"],
                corrected_at=instant(row["r_corrected_at"]),
            )
            found.append(SessionRecord(session, record))
        return found

    async def range_figures(
        self,
        guild_id: int,
        start: datetime,
        end: datetime,
        *,
        now: datetime,
        user_ids: Collection[int] | None = None,
    ) -> RangeFigures:
        """Per member tallies, per event reconciliation and per roll call counts over the range;
        `user_ids` keeps only those members (a role's, or one member's own)."""
        keep = set(user_ids) if user_ids is not None else None
        tallies = await self._db.fetch_all(
            "SELECT r.user_id, r.status, COUNT(*) AS n, MAX(r.display_name) AS display_name "
            "FROM attendance_record r JOIN attendance_session s ON s.id = r.session_id "
            "WHERE s.guild_id = ? AND s.opened_at >= ? AND s.opened_at < ? GROUP BY r.user_id, r.status",
            (guild_id, start, end),
        )
        sessions = await self._session_points(guild_id, start, end, keep)
        details = [
            (row["id"], row["title"], instant(row["starts_at"]), instant(row["ends_at"]))
            for row in await self._db.fetch_all(
                "SELECT e.id, e.title, e.starts_at, e.ends_at FROM event e "
                "WHERE e.guild_id = ? AND e.cancelled_at IS NULL AND e.starts_at >= ? AND e.starts_at < ? "
                "ORDER BY e.starts_at, e.id",
                (guild_id, start, end),
            )
        ]
        pairs = await self._db.fetch_all(
            "SELECT v.event_id, v.user_id, 1 AS going FROM event_rsvp v JOIN event e ON e.id = v.event_id "
            "WHERE v.status = 'going' "
            "AND e.guild_id = ? AND e.cancelled_at IS NULL AND e.starts_at >= ? AND e.starts_at < ? "
            "UNION ALL "
            "SELECT a.event_id, a.user_id, 0 AS going FROM event_attendance a JOIN event e ON e.id = a.event_id "
            "WHERE e.guild_id = ? AND e.cancelled_at IS NULL AND e.starts_at >= ? AND e.starts_at < ?",
            (guild_id, start, end, guild_id, start, end),
        )
        # Tens of thousands of (event, member) pairs in a year: tallied in a worker thread so the
        # event loop keeps answering everyone else meanwhile (the GIL is handed over every few ms).
        plain_tallies = [(row["user_id"], row["status"], int(row["n"]), row["display_name"]) for row in tallies]
        plain_pairs = [(row[0], row[1], row[2]) for row in pairs]
        members, events = await asyncio.to_thread(_tally, plain_tallies, details, plain_pairs, keep, now)
        return RangeFigures(members, events, sessions)

    async def _session_points(
        self, guild_id: int, start: datetime, end: datetime, keep: set[int] | None
    ) -> list[tuple[int, datetime, int, int]]:
        """Per roll call: who attended and who counted. Summed in SQL for everyone or one member
        (a range holds hundreds of thousands of records); for a role, the rows are filtered here,
        since a member list cannot be a portable parameter."""
        if keep is None or len(keep) == 1:
            sql = (
                "SELECT s.id, s.opened_at, "
                "SUM(CASE WHEN r.status IN ('present', 'late') THEN 1 ELSE 0 END) AS attended, "
                "SUM(CASE WHEN r.status IN ('present', 'late', 'absent') THEN 1 ELSE 0 END) AS counted "
                "FROM attendance_session s LEFT JOIN attendance_record r ON r.session_id = s.id"
            )
            params: list[object] = []
            if keep is not None:
                sql += " AND r.user_id = ?"
                params.append(next(iter(keep)))
            sql += " WHERE s.guild_id = ? AND s.opened_at >= ? AND s.opened_at < ?"
            params += [guild_id, start, end]
            rows = await self._db.fetch_all(sql + " GROUP BY s.id, s.opened_at ORDER BY s.opened_at, s.id", params)
            return [
                (row["id"], instant(row["opened_at"]), int(row["attended"] or 0), int(row["counted"] or 0))
                for row in rows
            ]
        rows = await self._db.fetch_all(
            "SELECT s.id, s.opened_at, r.user_id, r.status "
            "FROM attendance_session s LEFT JOIN attendance_record r ON r.session_id = s.id "
            "WHERE s.guild_id = ? AND s.opened_at >= ? AND s.opened_at < ? ORDER BY s.opened_at, s.id",
            (guild_id, start, end),
        )
        per_session: dict[int, list] = {}
        for row in rows:
            entry = per_session.setdefault(row["id"], [row["id"], instant(row["opened_at"]), 0, 0])
            if row["user_id"] is None or row["user_id"] not in keep:
                continue
            if row["status"] in ("present", "late"):
                entry[2] += 1
            if row["status"] in ("present", "late", "absent"):
                entry[3] += 1
        return [(entry[0], entry[1], entry[2], entry[3]) for entry in per_session.values()]


def _tally(
    tallies: list[tuple[int, str, int, str]],
    details: list[tuple[int, str, datetime, datetime]],
    pairs: list[tuple[int, int, int]],
    keep: set[int] | None,
    now: datetime,
) -> tuple[dict[int, MemberTally], list[EventTally]]:
    members: dict[int, MemberTally] = {}

    def tally(user_id: int) -> MemberTally | None:
        if keep is not None and user_id not in keep:
            return None
        found = members.get(user_id)
        if found is None:
            found = members[user_id] = MemberTally(user_id)
        return found

    for user_id, status, count, display_name in tallies:
        member = tally(user_id)
        if member is not None and status in ROLL_CALL_STATUSES:
            setattr(member, status, getattr(member, status) + count)
            member.display_name = member.display_name or display_name or ""
    going: dict[int, set[int]] = {}
    came: dict[int, set[int]] = {}
    for event_id, user_id, said_going in pairs:
        if keep is None or user_id in keep:
            (going if said_going else came).setdefault(event_id, set()).add(user_id)
    events: list[EventTally] = []
    for event_id, title, starts_at, ends_at in details:
        said = going.get(event_id, set())
        there = came.get(event_id, set())
        ended = ends_at <= now
        missing = said - there if ended else set()
        walk_ins = there - said
        for user in there:
            tally(user).events_attended += 1  # type: ignore[union-attr]
        for user in walk_ins:
            tally(user).walk_ins += 1  # type: ignore[union-attr]
        if ended:
            for user in said:
                tally(user).events_going += 1  # type: ignore[union-attr]
            for user in missing:
                tally(user).no_shows += 1  # type: ignore[union-attr]
        events.append(
            EventTally(event_id, title, starts_at, ends_at, len(said), len(there), len(missing), len(walk_ins))
        )
    return members, events
