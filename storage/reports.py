"""Read-only figures over a date range for exports and reports: roll-call records with their
sessions, and per member the roll-call tallies, events attended, events Going and no-shows.

Ranges are half-open `[start, end)` instants in UTC; a roll call belongs to the range it was
opened in and an event to the range it starts in. No-shows count only events that have ended
by `now`: before the end, a member who said Going may still arrive."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from storage.attendance import AttendanceRecord, AttendanceSession
from storage.backend import Database, Row
from storage.rows import instant

ROLL_CALL_STATUSES = ("present", "late", "absent", "excused")
# The events of a range: not cancelled, starting inside it (three parameters: guild, start, end).
IN_RANGE = "e.guild_id = ? AND e.cancelled_at IS NULL AND e.starts_at >= ? AND e.starts_at < ?"


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
        # One member's figures are filtered in SQL; a role's members cannot be a portable
        # parameter, so their rows (at most one per member and figure) are filtered here.
        one = next(iter(keep)) if keep is not None and len(keep) == 1 else None
        members: dict[int, MemberTally] = {}

        def tally(user_id: int) -> MemberTally | None:
            if keep is not None and user_id not in keep:
                return None
            found = members.get(user_id)
            if found is None:
                found = members[user_id] = MemberTally(user_id)
            return found

        sql = (
            "SELECT r.user_id, r.status, COUNT(*) AS n, MAX(r.display_name) AS display_name "
            "FROM attendance_record r JOIN attendance_session s ON s.id = r.session_id "
            "WHERE s.guild_id = ? AND s.opened_at >= ? AND s.opened_at < ?"
        )
        for row in await self._db.fetch_all(
            *_for_one(sql, "r.user_id", [guild_id, start, end], one, "r.user_id, r.status")
        ):
            member = tally(row["user_id"])
            if member is not None and row["status"] in ROLL_CALL_STATUSES:
                setattr(member, row["status"], getattr(member, row["status"]) + int(row["n"]))
                member.display_name = member.display_name or row["display_name"] or ""

        sql = (
            "SELECT a.user_id, COUNT(*) AS attended, SUM(CASE WHEN v.user_id IS NULL THEN 1 ELSE 0 END) AS walk_ins "
            "FROM event_attendance a JOIN event e ON e.id = a.event_id "
            "LEFT JOIN event_rsvp v ON v.event_id = a.event_id AND v.user_id = a.user_id AND v.status = 'going' "
            "WHERE " + IN_RANGE
        )
        for row in await self._db.fetch_all(*_for_one(sql, "a.user_id", [guild_id, start, end], one, "a.user_id")):
            member = tally(row["user_id"])
            if member is not None:
                member.events_attended += int(row["attended"])
                member.walk_ins += int(row["walk_ins"] or 0)

        # Going and no-shows count only events that have ended: until then a member may still come.
        sql = (
            "SELECT v.user_id, COUNT(*) AS going, SUM(CASE WHEN a.user_id IS NULL THEN 1 ELSE 0 END) AS no_shows "
            "FROM event_rsvp v JOIN event e ON e.id = v.event_id "
            "LEFT JOIN event_attendance a ON a.event_id = v.event_id AND a.user_id = v.user_id "
            "WHERE v.status = 'going' AND e.ends_at <= ? AND " + IN_RANGE
        )
        for row in await self._db.fetch_all(*_for_one(sql, "v.user_id", [now, guild_id, start, end], one, "v.user_id")):
            member = tally(row["user_id"])
            if member is not None:
                member.events_going += int(row["going"])
                member.no_shows += int(row["no_shows"] or 0)

        sessions = await self._session_points(guild_id, start, end, keep)
        if keep is None or one is not None:
            events = await self._event_counts(guild_id, start, end, now, one)
        else:
            events = await self._event_counts_for(guild_id, start, end, now, keep)
        return RangeFigures(members, events, sessions)

    async def _event_counts(
        self, guild_id: int, start: datetime, end: datetime, now: datetime, one: int | None
    ) -> list[EventTally]:
        """Going, attended, missing and walk-ins per event, counted in SQL (for one member if given)."""
        only_v = " AND v.user_id = ?" if one is not None else ""
        only_a = " AND a.user_id = ?" if one is not None else ""
        sql = (
            "SELECT e.id, e.title, e.starts_at, e.ends_at, "  # noqa: S608 - constant fragments, values bound as ?
            "(SELECT COUNT(*) FROM event_rsvp v WHERE v.event_id = e.id AND v.status = 'going'"
            + only_v
            + ") AS going, "
            "(SELECT COUNT(*) FROM event_attendance a WHERE a.event_id = e.id" + only_a + ") AS attended, "
            "(SELECT COUNT(*) FROM event_rsvp v WHERE v.event_id = e.id AND v.status = 'going'" + only_v + " "
            "AND NOT EXISTS (SELECT 1 FROM event_attendance x WHERE x.event_id = v.event_id AND x.user_id = v.user_id)"
            ") AS missing, "
            "(SELECT COUNT(*) FROM event_attendance a WHERE a.event_id = e.id" + only_a + " "
            "AND NOT EXISTS (SELECT 1 FROM event_rsvp x WHERE x.event_id = a.event_id AND x.user_id = a.user_id "
            "AND x.status = 'going')) AS walk_ins "
            "FROM event e WHERE " + IN_RANGE + " ORDER BY e.starts_at, e.id"
        )
        params: list[object] = [one] * 4 if one is not None else []
        rows = await self._db.fetch_all(sql, [*params, guild_id, start, end])
        events = []
        for row in rows:
            starts_at, ends_at = instant(row["starts_at"]), instant(row["ends_at"])
            missing = int(row["missing"]) if ends_at <= now else 0
            counts = (int(row["going"]), int(row["attended"]), missing, int(row["walk_ins"]))
            events.append(EventTally(row["id"], row["title"], starts_at, ends_at, *counts))
        return events

    async def _event_counts_for(
        self, guild_id: int, start: datetime, end: datetime, now: datetime, keep: set[int]
    ) -> list[EventTally]:
        """The same per event counts among a role's members, from the (event, member) pairs."""
        details = [
            (row["id"], row["title"], instant(row["starts_at"]), instant(row["ends_at"]))
            for row in await self._db.fetch_all(
                "SELECT e.id, e.title, e.starts_at, e.ends_at FROM event e WHERE "  # noqa: S608 - constant fragments
                + IN_RANGE
                + " ORDER BY e.starts_at, e.id",
                (guild_id, start, end),
            )
        ]
        pairs = await self._db.fetch_all(
            "SELECT v.event_id, v.user_id, 1 AS going FROM event_rsvp v JOIN event e ON e.id = v.event_id "  # noqa: S608
            "WHERE v.status = 'going' AND " + IN_RANGE + " "
            "UNION ALL "
            "SELECT a.event_id, a.user_id, 0 AS going FROM event_attendance a JOIN event e ON e.id = a.event_id "
            "WHERE " + IN_RANGE,
            (guild_id, start, end, guild_id, start, end),
        )
        # Tens of thousands of pairs in a busy year: tallied in a worker thread, so the event loop
        # keeps answering everyone else meanwhile.
        return await asyncio.to_thread(_event_tallies, details, pairs, keep, now)

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


def _for_one(sql: str, column: str, params: list[object], one: int | None, group: str) -> tuple[str, list[object]]:
    """`sql` narrowed to one member when `one` is set, then grouped. `column` and `group` are always
    constants written in this module (as `IN_RANGE` is); every value is bound as `?`."""
    if one is not None:
        sql += " AND " + column + " = ?"
        params = [*params, one]
    return sql + " GROUP BY " + group, params


def _event_tallies(
    details: list[tuple[int, str, datetime, datetime]], pairs: Sequence[Row], keep: set[int], now: datetime
) -> list[EventTally]:
    going: dict[int, set[int]] = {}
    came: dict[int, set[int]] = {}
    for event_id, user_id, said_going in pairs:
        if user_id in keep:
            (going if said_going else came).setdefault(event_id, set()).add(user_id)
    events: list[EventTally] = []
    for event_id, title, starts_at, ends_at in details:
        said = going.get(event_id, set())
        there = came.get(event_id, set())
        missing = len(said - there) if ends_at <= now else 0
        events.append(
            EventTally(event_id, title, starts_at, ends_at, len(said), len(there), missing, len(there - said))
        )
    return events
