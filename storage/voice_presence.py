"""Who sat in a roll call's tracked voice or stage channel, as intervals in rows (issue 15).

An interval is open (`left_at` NULL) while the member is in the channel. The rows, not memory,
are the truth: a restart closes and reopens them (see `pause` and `resume`)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter

from storage.backend import Database, Row, Transaction
from storage.group_commit import BatchWriter, GroupCommitter
from storage.rows import from_row, instant


@dataclass(frozen=True, slots=True)
class PresenceInterval:
    session_id: int
    user_id: int
    joined_at: datetime
    left_at: datetime | None

    @classmethod
    def from_row(cls, row: Row) -> PresenceInterval:
        return from_row(cls, row)


@dataclass(frozen=True, slots=True)
class PresenceGap:
    """A stretch the bot did not watch the channel: counted as unknown, not as absence."""

    started_at: datetime
    ended_at: datetime

    @classmethod
    def from_row(cls, row: Row) -> PresenceGap:
        return from_row(cls, row)


# The partial unique index keeps one open interval per member: a repeated join changes nothing.
_JOIN = (
    "INSERT INTO voice_presence (session_id, user_id, joined_at, left_at) VALUES (?, ?, ?, NULL) "
    "ON CONFLICT (session_id, user_id) WHERE left_at IS NULL DO NOTHING"
)
_LEAVE = "UPDATE voice_presence SET left_at = ? WHERE session_id = ? AND user_id = ? AND left_at IS NULL"

# sequence, joined (else left), session_id, user_id, at. The sequence keeps every event of a
# batch (the committer keeps only the last row per key) and their order.
VoiceEvent = tuple[int, bool, int, int, datetime]


async def _write_events(transaction: Transaction, rows: Sequence[VoiceEvent]) -> list[None]:
    # A member's events must land in order (a leave then a rejoin in one batch would otherwise
    # end the new interval), so only runs of consecutive joins, or leaves, go as one statement.
    for joined, run in itertools.groupby(sorted(rows), key=itemgetter(1)):
        if joined:
            await transaction.execute_many(_JOIN, [(session_id, user_id, at) for _, _, session_id, user_id, at in run])
        else:
            await transaction.execute_many(_LEAVE, [(at, session_id, user_id) for _, _, session_id, user_id, at in run])
    return [None] * len(rows)


class VoicePresenceRepository:
    def __init__(self, db: Database, writer: BatchWriter | None = None) -> None:
        self._db = db
        # Voice events arrive in bursts beside a lecture hall's /here burst: they share its
        # group-commit transactions (see storage/group_commit.py), so they add no commit of
        # their own and never wait for the /here batch's write lock, nor make it wait. Nobody
        # waits on them for a reply, so they go in the background: a /here row never waits
        # behind one for a place in a batch.
        self._sequence = itertools.count()
        self._events: GroupCommitter[VoiceEvent, None] = (writer or BatchWriter(db)).committer(
            _write_events, key=itemgetter(0), background=True
        )

    def join(self, session_id: int, user_id: int, at: datetime) -> asyncio.Future[None]:
        """Hands the join to the group commit now, in the order events arrive; the future is
        done once it is committed."""
        return self._events.submit_nowait((next(self._sequence), True, session_id, user_id, at))

    def leave(self, session_id: int, user_id: int, at: datetime) -> asyncio.Future[None]:
        """As `join`, for the member leaving the channel."""
        return self._events.submit_nowait((next(self._sequence), False, session_id, user_id, at))

    def hold_events(self) -> AbstractAsyncContextManager[None]:
        """Joins and leaves wait, unwritten, while this is held (see `GroupCommitter.held`)."""
        return self._events.held()

    async def flush(self) -> None:
        """Wait until every voice event handed over is committed."""
        await self._events.wait_idle()

    async def snapshot(self, session_id: int, present: Iterable[int], at: datetime) -> None:
        """Make the open intervals match who is in the channel now, in one transaction: members
        missing from `present` leave at `at`, members in it without an open interval join."""
        inside = set(present)
        async with self._db.transaction() as transaction:
            rows = await transaction.fetch_all(
                "SELECT user_id FROM voice_presence WHERE session_id = ? AND left_at IS NULL", (session_id,)
            )
            open_now = {row["user_id"] for row in rows}
            gone = open_now - inside
            if gone:
                await transaction.execute_many(_LEAVE, [(at, session_id, user_id) for user_id in sorted(gone)])
            arrived = inside - open_now
            if arrived:
                await transaction.execute_many(_JOIN, [(session_id, user_id, at) for user_id in sorted(arrived)])

    async def close_all(self, session_id: int, at: datetime, transaction: Transaction | None = None) -> None:
        """End every open interval at `at` (the roll call closed)."""
        sql = "UPDATE voice_presence SET left_at = ? WHERE session_id = ? AND left_at IS NULL"
        if transaction is not None:
            await transaction.execute(sql, (at, session_id))
        else:
            await self._db.execute(sql, (at, session_id))

    async def pause(self, session_id: int, at: datetime) -> None:
        """Clean shutdown: end the open intervals at `at` and remember it, so the time until the
        next start-up is counted as unknown."""
        async with self._db.transaction() as transaction:
            await self.close_all(session_id, at, transaction)
            await transaction.execute(
                "UPDATE attendance_session SET presence_paused_at = ? WHERE id = ? AND status = 'open'",
                (at, session_id),
            )

    async def resume(self, session_id: int, *, last_seen: datetime, now: datetime) -> datetime:
        """Start-up: the session's watch stopped at its pause instant (clean shutdown) or, after a
        crash, at `last_seen` (the last rotation the bot recorded); intervals left open by a crash
        end there (never before they began). The stretch until `now` is recorded as a gap.
        Returns the instant the watch stopped."""
        async with self._db.transaction() as transaction:
            paused = await transaction.fetch_value(
                "SELECT presence_paused_at FROM attendance_session WHERE id = ?", (session_id,)
            )
            stopped = instant(paused) or last_seen
            rows = await transaction.fetch_all(
                "SELECT id, joined_at FROM voice_presence WHERE session_id = ? AND left_at IS NULL", (session_id,)
            )
            if rows:
                await transaction.execute_many(
                    "UPDATE voice_presence SET left_at = ? WHERE id = ?",
                    [(max(instant(row["joined_at"]), stopped), row["id"]) for row in rows],
                )
            if now > stopped:
                await transaction.execute(
                    "INSERT INTO voice_presence_gap (session_id, started_at, ended_at) VALUES (?, ?, ?)",
                    (session_id, stopped, now),
                )
            await transaction.execute(
                "UPDATE attendance_session SET presence_paused_at = NULL WHERE id = ?", (session_id,)
            )
        return stopped

    async def list_intervals(self, session_id: int) -> list[PresenceInterval]:
        rows = await self._db.fetch_all(
            "SELECT session_id, user_id, joined_at, left_at FROM voice_presence WHERE session_id = ? "
            "ORDER BY user_id, joined_at",
            (session_id,),
        )
        return [PresenceInterval.from_row(row) for row in rows]

    async def list_gaps(self, session_id: int) -> list[PresenceGap]:
        rows = await self._db.fetch_all(
            "SELECT started_at, ended_at FROM voice_presence_gap WHERE session_id = ? ORDER BY started_at",
            (session_id,),
        )
        return [PresenceGap.from_row(row) for row in rows]
