"""Roll-call sessions, their records and failed attempts."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from operator import itemgetter

from storage.audit import AuditRepository
from storage.backend import Database, Row, Transaction
from storage.errors import UniqueViolation
from storage.group_commit import BatchWriter, GroupCommitter
from storage.outbox import NewOwed, OutboxRepository
from storage.rows import from_row, instant
from utils.limits import DEFAULT_MIN_PRESENCE_PERCENT, MAX_FAILURES, RECORD_STATUSES

log = logging.getLogger(__name__)


class SessionAlreadyOpen(Exception):
    """The channel already has an open session."""


@dataclass(frozen=True, slots=True)
class AttendanceSession:
    id: int
    guild_id: int
    channel_id: int
    message_id: int | None
    opened_by: int
    opened_at: datetime
    closes_at: datetime | None
    closed_at: datetime | None
    closed_by: int | None
    interval_seconds: int
    code_length: int
    grace_seconds: int
    late_after_minutes: int
    expected_role_id: int | None
    shown_window: int
    status: str
    secret: bytes = field(repr=False)
    # The event this roll call counts attendance for (migration 0004); None for a plain roll call.
    event_id: int | None = None
    # Proof of presence (migration 0009): the tracked voice or stage channel, if any.
    voice_channel_id: int | None = None
    min_presence_percent: int = DEFAULT_MIN_PRESENCE_PERCENT
    # `/here` from outside the tracked channel is refused rather than flagged.
    strict_presence: bool = False
    presence_paused_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    @classmethod
    def from_row(cls, row: Row) -> AttendanceSession:
        # SQLite has no boolean type: 0 or 1 comes back.
        return from_row(cls, row, strict_presence=bool(row["strict_presence"]))


@dataclass(frozen=True, slots=True)
class AttendanceRecord:
    session_id: int
    user_id: int
    status: str
    submitted_at: datetime | None
    user_name: str
    display_name: str
    corrected_by: int | None
    corrected_at: datetime | None

    @classmethod
    def from_row(cls, row: Row) -> AttendanceRecord:
        return from_row(cls, row)


@dataclass(frozen=True, slots=True)
class SessionSummary:
    session: AttendanceSession
    counts: dict[str, int]


@dataclass(frozen=True, slots=True)
class Submission:
    session_id: int
    user_id: int
    status: str
    submitted_at: datetime
    user_name: str
    display_name: str


class SubmissionResult(Enum):
    RECORDED = "recorded"
    SESSION_CLOSED = "session_closed"
    CORRECTED = "corrected"


@dataclass(frozen=True, slots=True)
class SubmissionOutcome:
    """What became of one submission. `status` is the member's status in the session after
    the write (None when the session had closed and nothing was written)."""

    result: SubmissionResult
    status: str | None


@dataclass(frozen=True, slots=True)
class FailureResult:
    failures: int
    locked: bool


# session_id, user_id, status, submitted_at, user_name, display_name
SubmissionRow = tuple[int, int, str, datetime, str, str]

# An organizer's correction wins over any later answer, and an older answer never replaces
# a newer one.
_SUBMISSION_UPSERT = """
INSERT INTO attendance_record (session_id, user_id, status, submitted_at, user_name, display_name)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (session_id, user_id) DO UPDATE SET
    status = excluded.status,
    submitted_at = excluded.submitted_at,
    user_name = excluded.user_name,
    display_name = excluded.display_name
WHERE attendance_record.corrected_by IS NULL
    AND (attendance_record.submitted_at IS NULL OR excluded.submitted_at >= attendance_record.submitted_at)
"""
# event_id, user_id, attended_at, session_id: the first way a member attended is the one kept.
_EVENT_ATTENDANCE_INSERT = """
INSERT INTO event_attendance (event_id, user_id, attended_at, source, session_id)
VALUES (?, ?, ?, 'roll_call', ?)
ON CONFLICT (event_id, user_id) DO NOTHING
"""
_SESSION_CLOSED = SubmissionOutcome(SubmissionResult.SESSION_CLOSED, None)
# Shared, so a burst does not allocate an outcome per answer.
_RECORDED = {status: SubmissionOutcome(SubmissionResult.RECORDED, status) for status in RECORD_STATUSES}
_submission_key = itemgetter(0, 1)


async def _write_submissions(transaction: Transaction, rows: Sequence[SubmissionRow]) -> list[SubmissionOutcome]:
    """Write the rows whose session is still open, inside the batch's transaction.

    The session's status is checked in the same write transaction as the upsert, by a write
    that leaves the row as it is: on SQLite the transaction holds the write lock, on PostgreSQL
    that UPDATE locks the session's row until the commit (a plain SELECT would not). So a close
    either committed before (the answer is refused) or commits after (and counts it). Sessions
    are locked in id order, so two processes' batches never wait for each other in a circle. A roll
    call tied to an event records each accepted answer as attending it in the same transaction."""
    open_sessions: dict[int, int | None] = {}
    for session_id in sorted({row[0] for row in rows}):
        found = await transaction.fetch_one(
            "UPDATE attendance_session SET status = status WHERE id = ? AND status = 'open' RETURNING event_id",
            (session_id,),
        )
        if found is not None:
            open_sessions[session_id] = found["event_id"]
    writable = [row for row in rows if row[0] in open_sessions]
    written = await transaction.execute_many(_SUBMISSION_UPSERT, writable) if writable else 0
    outcomes = []
    for row in rows:
        if row[0] not in open_sessions:
            outcomes.append(_SESSION_CLOSED)
        elif written == len(writable):
            # Every row changed exactly one record: each landed as written.
            outcomes.append(_RECORDED[row[2]])
        else:
            outcomes.append(await _stored_outcome(transaction, row))
    attended = [
        (open_sessions[row[0]], row[1], row[3], row[0])
        for row, outcome in zip(rows, outcomes, strict=True)
        if open_sessions.get(row[0]) is not None and outcome.result is SubmissionResult.RECORDED
    ]
    if attended:
        await transaction.execute_many(_EVENT_ATTENDANCE_INSERT, attended)
    return outcomes


async def _stored_outcome(transaction: Transaction, row: SubmissionRow) -> SubmissionOutcome:
    stored = await transaction.fetch_one(
        "SELECT status, corrected_by FROM attendance_record WHERE session_id = ? AND user_id = ?", row[:2]
    )
    assert stored is not None, "the upsert leaves a record for every row of an open session"
    if stored["corrected_by"] is not None:
        return SubmissionOutcome(SubmissionResult.CORRECTED, stored["status"])
    # Landed, or a newer answer of the same member was already stored: either way the
    # record is the member's own answer.
    return SubmissionOutcome(SubmissionResult.RECORDED, stored["status"])


class AttendanceRepository:
    def __init__(
        self, db: Database, audit: AuditRepository, outbox: OutboxRepository, writer: BatchWriter | None = None
    ) -> None:
        self._db = db
        self._audit = audit
        self._outbox = outbox
        self._submissions: GroupCommitter[SubmissionRow, SubmissionOutcome] = (writer or BatchWriter(db)).committer(
            _write_submissions, key=_submission_key
        )

    # ---- sessions ----------------------------------------------------------------------

    async def open_session(
        self,
        *,
        guild_id: int,
        channel_id: int,
        opened_by: int,
        opened_at: datetime,
        closes_at: datetime | None,
        secret: bytes,
        interval_seconds: int,
        code_length: int,
        grace_seconds: int,
        late_after_minutes: int,
        expected_role_id: int | None,
        event_id: int | None = None,
        voice_channel_id: int | None = None,
        min_presence_percent: int = DEFAULT_MIN_PRESENCE_PERCENT,
        strict: bool = False,
    ) -> AttendanceSession:
        try:
            async with self._db.transaction() as transaction:
                session_id = await transaction.fetch_value(
                    "INSERT INTO attendance_session (guild_id, channel_id, opened_by, opened_at, closes_at, secret, "
                    "interval_seconds, code_length, grace_seconds, late_after_minutes, expected_role_id, event_id, "
                    "voice_channel_id, min_presence_percent, strict_presence) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    (
                        guild_id,
                        channel_id,
                        opened_by,
                        opened_at,
                        closes_at,
                        secret,
                        interval_seconds,
                        code_length,
                        grace_seconds,
                        late_after_minutes,
                        expected_role_id,
                        event_id,
                        voice_channel_id,
                        min_presence_percent,
                        int(strict),
                    ),
                )
        except UniqueViolation as error:
            raise SessionAlreadyOpen(channel_id) from error
        session = await self.get(session_id)
        assert session is not None
        return session

    async def discard(self, session_id: int) -> None:
        """Remove a session whose code message could never be posted."""
        await self._db.execute("DELETE FROM attendance_session WHERE id = ?", (session_id,))

    async def set_message(self, session_id: int, message_id: int) -> None:
        await self._db.execute("UPDATE attendance_session SET message_id = ? WHERE id = ?", (message_id, session_id))

    async def claim_window(self, session_id: int, window: int) -> bool:
        """Take the showing of `window` for this process: True for the one caller that moved
        `shown_window` forward to it, False when it (or a later one) was already taken or the
        session closed. Two processes rotating the same session thus edit its message once."""
        async with self._db.transaction() as transaction:
            claimed = await transaction.fetch_value(
                "UPDATE attendance_session SET shown_window = ? "
                "WHERE id = ? AND status = 'open' AND shown_window < ? RETURNING id",
                (window, session_id, window),
            )
        return claimed is not None

    async def release_window(self, session_id: int, window: int, previous: int) -> None:
        """Give back a claimed window whose code could not be shown, so a later run shows it."""
        await self._db.execute(
            "UPDATE attendance_session SET shown_window = ? WHERE id = ? AND shown_window = ?",
            (previous, session_id, window),
        )

    async def get(self, session_id: int) -> AttendanceSession | None:
        row = await self._db.fetch_one("SELECT * FROM attendance_session WHERE id = ?", (session_id,))
        return AttendanceSession.from_row(row) if row else None

    async def get_in_guild(self, guild_id: int, session_id: int) -> AttendanceSession | None:
        row = await self._db.fetch_one(
            "SELECT * FROM attendance_session WHERE id = ? AND guild_id = ?", (session_id, guild_id)
        )
        return AttendanceSession.from_row(row) if row else None

    async def get_latest(self, guild_id: int) -> AttendanceSession | None:
        row = await self._db.fetch_one(
            "SELECT * FROM attendance_session WHERE guild_id = ? ORDER BY id DESC LIMIT 1", (guild_id,)
        )
        return AttendanceSession.from_row(row) if row else None

    async def list_open(self, guild_id: int | None = None) -> list[AttendanceSession]:
        if guild_id is None:
            rows = await self._db.fetch_all("SELECT * FROM attendance_session WHERE status = 'open' ORDER BY id")
        else:
            rows = await self._db.fetch_all(
                "SELECT * FROM attendance_session WHERE status = 'open' AND guild_id = ? ORDER BY id", (guild_id,)
            )
        return [AttendanceSession.from_row(row) for row in rows]

    async def list_recent(self, guild_id: int, *, limit: int, offset: int = 0) -> list[SessionSummary]:
        rows = await self._db.fetch_all(
            "SELECT * FROM attendance_session WHERE guild_id = ? ORDER BY id DESC LIMIT ? OFFSET ?",
            (guild_id, limit, offset),
        )
        sessions = [AttendanceSession.from_row(row) for row in rows]
        return [SessionSummary(session, await self.count_statuses(session.id)) for session in sessions]

    async def count_sessions(self, guild_id: int) -> int:
        count = await self._db.fetch_value("SELECT COUNT(*) FROM attendance_session WHERE guild_id = ?", (guild_id,))
        return int(count)

    async def search_recent(self, guild_id: int, *, limit: int) -> list[AttendanceSession]:
        rows = await self._db.fetch_all(
            "SELECT * FROM attendance_session WHERE guild_id = ? ORDER BY id DESC LIMIT ?", (guild_id, limit)
        )
        return [AttendanceSession.from_row(row) for row in rows]

    async def list_due_to_close(self, now: datetime) -> list[AttendanceSession]:
        rows = await self._db.fetch_all(
            "SELECT * FROM attendance_session WHERE status = 'open' AND closes_at IS NOT NULL AND closes_at <= ? "
            "ORDER BY closes_at",
            (now,),
        )
        return [AttendanceSession.from_row(row) for row in rows]

    async def close(
        self,
        session_id: int,
        *,
        now: datetime,
        closed_by: int | None,
        absentees: Sequence[tuple[int, str, str]],
        report: NewOwed,
    ) -> int | None:
        """Close the session, record `absentees` (id, name, display name) who have no row and owe
        its `report`, all in one transaction, so a crash after the close cannot lose the report.
        Returns the owed report's id, or None when it was already closed (a close happens once)."""
        async with self._db.transaction() as transaction:
            closed = await transaction.execute(
                "UPDATE attendance_session SET status = 'closed', closed_at = ?, closed_by = ? "
                "WHERE id = ? AND status = 'open'",
                (now, closed_by, session_id),
            )
            if closed == 0:
                return None
            await transaction.execute_many(
                "INSERT INTO attendance_record (session_id, user_id, status, submitted_at, user_name, display_name) "
                "VALUES (?, ?, 'absent', NULL, ?, ?) ON CONFLICT (session_id, user_id) DO NOTHING",
                [(session_id, user_id, name, display) for user_id, name, display in absentees],
            )
            return await self._outbox.add(transaction, report, now=now)

    # ---- records -----------------------------------------------------------------------

    async def flush(self) -> None:
        """Wait until every submission handed to the group committer is committed."""
        await self._submissions.wait_idle()

    def hold_submissions(self) -> AbstractAsyncContextManager[None]:
        """Submissions wait, unwritten, while this is held (see `GroupCommitter.held`)."""
        return self._submissions.held()

    async def record_submission(self, submission: Submission) -> SubmissionOutcome:
        """Durable when this returns: the row is committed (grouped with concurrent ones), or
        the outcome says why it was not written (the session closed, an organizer's correction).
        Raises `DatabaseBusy` when another process kept the database locked too long."""
        return await self._submissions.submit(
            (
                submission.session_id,
                submission.user_id,
                submission.status,
                submission.submitted_at,
                submission.user_name,
                submission.display_name,
            )
        )

    async def list_records(self, session_id: int) -> list[AttendanceRecord]:
        rows = await self._db.fetch_all(
            "SELECT * FROM attendance_record WHERE session_id = ? ORDER BY lower(display_name), user_id",
            (session_id,),
        )
        return [AttendanceRecord.from_row(row) for row in rows]

    async def get_record(self, session_id: int, user_id: int) -> AttendanceRecord | None:
        row = await self._db.fetch_one(
            "SELECT * FROM attendance_record WHERE session_id = ? AND user_id = ?", (session_id, user_id)
        )
        return AttendanceRecord.from_row(row) if row else None

    async def count_statuses(self, session_id: int) -> dict[str, int]:
        rows = await self._db.fetch_all(
            "SELECT status, COUNT(*) AS n FROM attendance_record WHERE session_id = ? GROUP BY status", (session_id,)
        )
        counts = dict.fromkeys(RECORD_STATUSES, 0)
        counts.update({row["status"]: row["n"] for row in rows})
        return counts

    async def mark(
        self,
        session: AttendanceSession,
        *,
        user_id: int,
        user_name: str,
        display_name: str,
        status: str,
        actor_id: int,
        now: datetime,
    ) -> str | None:
        """Set a member's status by hand; returns the status before (None if there was no row)."""
        async with self._db.transaction() as transaction:
            before = await transaction.fetch_value(
                "SELECT status FROM attendance_record WHERE session_id = ? AND user_id = ?", (session.id, user_id)
            )
            await transaction.execute(
                "INSERT INTO attendance_record "
                "(session_id, user_id, status, submitted_at, user_name, display_name, corrected_by, corrected_at) "
                "VALUES (?, ?, ?, NULL, ?, ?, ?, ?) "
                "ON CONFLICT (session_id, user_id) DO UPDATE SET status = excluded.status, "
                "corrected_by = excluded.corrected_by, corrected_at = excluded.corrected_at",
                (session.id, user_id, status, user_name, display_name, actor_id, now),
            )
            await self._audit.record(
                transaction,
                guild_id=session.guild_id,
                actor_id=actor_id,
                action="attendance.mark",
                subject=f"session {session.id} member {user_id}",
                before=before,
                after=status,
                now=now,
            )
        return before

    async def unmark(self, session: AttendanceSession, *, user_id: int, actor_id: int, now: datetime) -> str | None:
        """Remove a member's record; returns the status it had (None: nothing to remove)."""
        async with self._db.transaction() as transaction:
            removed = await transaction.fetch_value(
                "DELETE FROM attendance_record WHERE session_id = ? AND user_id = ? RETURNING status",
                (session.id, user_id),
            )
            if removed is None:
                return None
            await self._audit.record(
                transaction,
                guild_id=session.guild_id,
                actor_id=actor_id,
                action="attendance.unmark",
                subject=f"session {session.id} member {user_id}",
                before=removed,
                after=None,
                now=now,
            )
        return removed

    # ---- failed attempts ---------------------------------------------------------------

    async def record_failure(self, session_id: int, user_id: int, now: datetime) -> FailureResult:
        async with self._db.transaction() as transaction:
            failures = int(
                await transaction.fetch_value(
                    "INSERT INTO attendance_failure (session_id, user_id, failures) VALUES (?, ?, 1) "
                    "ON CONFLICT (session_id, user_id) DO UPDATE SET failures = attendance_failure.failures + 1 "
                    "RETURNING failures",
                    (session_id, user_id),
                )
            )
            locked = failures >= MAX_FAILURES
            if locked:
                await transaction.execute(
                    "UPDATE attendance_failure SET locked_at = COALESCE(locked_at, ?) "
                    "WHERE session_id = ? AND user_id = ?",
                    (now, session_id, user_id),
                )
        return FailureResult(failures, locked)

    async def count_failures(self, session_id: int) -> dict[int, int]:
        rows = await self._db.fetch_all(
            "SELECT user_id, failures FROM attendance_failure WHERE session_id = ?", (session_id,)
        )
        return {row["user_id"]: row["failures"] for row in rows}

    async def list_lockouts(self, session_id: int) -> list[tuple[int, datetime]]:
        rows = await self._db.fetch_all(
            "SELECT user_id, locked_at FROM attendance_failure WHERE session_id = ? AND locked_at IS NOT NULL "
            "ORDER BY locked_at",
            (session_id,),
        )
        return [(row["user_id"], instant(row["locked_at"])) for row in rows]
