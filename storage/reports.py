"""Read-only figures over a date range for exports and reports: roll-call records with their
sessions, and per member the roll-call tallies, events attended, events Going and no-shows.

Ranges are half-open `[start, end)` instants in UTC; a roll call belongs to the range it was
opened in and an event to the range it starts in. No-shows count only events that have ended
by `now`: before the end, a member who said Going may still arrive."""

from __future__ import annotations

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
        members: dict[int, MemberTally] = {}

        def tally(user_id: int) -> MemberTally | None:
            if keep is not None and user_id not in keep:
                return None
            found = members.get(user_id)
            if found is None:
                found = members[user_id] = MemberTally(user_id)
            return found

        rows = await self._db.fetch_all(
            "SELECT r.user_id, r.status, COUNT(*) AS n, MAX(r.display_name) AS display_name "
            "FROM attendance_record r JOIN attendance_session s ON s.id = r.session_id "
            "WHERE s.guild_id = ? AND s.opened_at >= ? AND s.opened_at < ? GROUP BY r.user_id, r.status",
            (guild_id, start, end),
        )
        for row in rows:
            member = tally(row["user_id"])
            if member is not None and row["status"] in ROLL_CALL_STATUSES:
                setattr(member, row["status"], getattr(member, row["status"]) + int(row["n"]))
                member.display_name = member.display_name or row["display_name"] or ""

        session_rows = await self._db.fetch_all(
            "SELECT s.id, s.opened_at, r.user_id, r.status "
            "FROM attendance_session s LEFT JOIN attendance_record r ON r.session_id = s.id "
            "WHERE s.guild_id = ? AND s.opened_at >= ? AND s.opened_at < ? ORDER BY s.opened_at, s.id",
            (guild_id, start, end),
        )
        per_session: dict[int, list] = {}
        for row in session_rows:
            entry = per_session.setdefault(row["id"], [row["id"], instant(row["opened_at"]), 0, 0])
            if row["user_id"] is None or (keep is not None and row["user_id"] not in keep):
                continue
            if row["status"] in ("present", "late"):
                entry[2] += 1
            if row["status"] in ("present", "late", "absent"):
                entry[3] += 1

        event_rows = await self._db.fetch_all(
            "SELECT e.id, e.title, e.starts_at, e.ends_at, v.user_id AS going_id, NULL AS attended_id "
            "FROM event e JOIN event_rsvp v ON v.event_id = e.id AND v.status = 'going' "
            "WHERE e.guild_id = ? AND e.cancelled_at IS NULL AND e.starts_at >= ? AND e.starts_at < ? "
            "UNION ALL "
            "SELECT e.id, e.title, e.starts_at, e.ends_at, NULL AS going_id, a.user_id AS attended_id "
            "FROM event e JOIN event_attendance a ON a.event_id = e.id "
            "WHERE e.guild_id = ? AND e.cancelled_at IS NULL AND e.starts_at >= ? AND e.starts_at < ?",
            (guild_id, start, end, guild_id, start, end),
        )
        going: dict[int, set[int]] = {}
        came: dict[int, set[int]] = {}
        details: dict[int, tuple[str, datetime, datetime]] = {}
        for row in event_rows:
            details[row["id"]] = (row["title"], instant(row["starts_at"]), instant(row["ends_at"]))
            if row["going_id"] is not None:
                going.setdefault(row["id"], set()).add(row["going_id"])
            if row["attended_id"] is not None:
                came.setdefault(row["id"], set()).add(row["attended_id"])
        events: list[EventTally] = []
        for event_id, (title, starts_at, ends_at) in sorted(details.items(), key=lambda item: (item[1][1], item[0])):
            said = {user for user in going.get(event_id, set()) if keep is None or user in keep}
            there = {user for user in came.get(event_id, set()) if keep is None or user in keep}
            ended = ends_at <= now
            missing = said - there if ended else set()
            walk_ins = there - said
            for user in there:
                member = tally(user)
                if member is not None:
                    member.events_attended += 1
            for user in walk_ins:
                member = tally(user)
                if member is not None:
                    member.walk_ins += 1
            if ended:
                for user in said:
                    member = tally(user)
                    if member is not None:
                        member.events_going += 1
                for user in missing:
                    member = tally(user)
                    if member is not None:
                        member.no_shows += 1
            events.append(
                EventTally(event_id, title, starts_at, ends_at, len(said), len(there), len(missing), len(walk_ins))
            )
        sessions = [(entry[0], entry[1], entry[2], entry[3]) for entry in per_session.values()]
        return RangeFigures(members, events, sessions)
