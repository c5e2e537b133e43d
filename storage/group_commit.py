"""Group commit: the rows many concurrent callers write at once go into one transaction.

A storage component of its own, built on the backend's batch write (`Database.write_batch`)
and nothing else, so every backend gets it. Each backend writes the batch its fastest way. The
SQLite backend runs it on the event-loop thread through a second, plain sqlite3 connection, the
one exception to "one connection" (`storage/sqlite/backend.py`): measured under a burst, moving
it to aiosqlite's thread or to a writer thread of our own made p99 250-500 ms worse, because
that thread starves for the GIL while the loop is saturated; on the loop a batch takes a few
milliseconds. PostgreSQL will send it as one `executemany` in one transaction.

One `BatchWriter` per database serves every kind of row written this way (a `/here` answer, a
voice join or leave, a verification attempt), each through its own `GroupCommitter`: the rows
of all kinds waiting at each moment share one transaction, so one commit (and, on SQLite, one
fsync on the loop thread) per window whatever the mix. Measured with a committer of its own per
kind, a lecture hall's voice joins and leaves doubled the commits during the `/here` burst, and
each kind's batch waited for the other's write lock: paced p99 went from 22 to 79 ms
(`bench/here_burst.py --voice 500`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from storage.backend import Database, Transaction
from storage.errors import DatabaseBusy

log = logging.getLogger(__name__)

# How long rows gather before they are written: a few milliseconds turn a lecture hall's
# thousands of commits (and fsyncs) into dozens.
GROUP_COMMIT_WINDOW_SECONDS = 0.003
# SQLite writes a batch on the event-loop thread, so its size bounds how long one write keeps
# the loop from everything else (a few milliseconds at this size).
MAX_BATCH_ROWS = 500

RowT = TypeVar("RowT")
OutcomeT = TypeVar("OutcomeT")


@dataclass(frozen=True, slots=True)
class _RowFailure:
    error: Exception


# A submitted row: its committer, the row, and the future its caller awaits.
_Waiting = tuple["GroupCommitter[Any, Any]", Any, "asyncio.Future[Any]"]


class BatchWriter:
    """Writes the rows its committers gather, all kinds together, one transaction per window.

    A batch holds at most `max_batch` rows, taken in the order they were submitted; the rest
    wait for the next. Rows of a background committer (voice joins and leaves: nobody waits on
    them for a reply) only fill the room a batch has left: they never take a place a row someone
    is waiting on could have, and alone they never cut a window short. Inside a transaction each
    committer's rows are written in the order the committers were created, so two processes'
    batches take their locks in the same order. When a batch fails it is written again row by
    row, each in a savepoint, so a row the database cannot store fails only its own caller."""

    def __init__(
        self,
        db: Database,
        *,
        window_seconds: float = GROUP_COMMIT_WINDOW_SECONDS,
        max_batch: int = MAX_BATCH_ROWS,
    ) -> None:
        self._db = db
        self._window_seconds = window_seconds
        self._max_batch = max_batch
        self._committers: list[GroupCommitter[Any, Any]] = []
        self._foreground: list[_Waiting] = []
        self._background: list[_Waiting] = []
        self._drainer: asyncio.Task[None] | None = None
        # Set when a row arrives or a hold ends: what the drainer waits for when every waiting
        # row belongs to a held committer.
        self._wake = asyncio.Event()

    def committer(
        self,
        write: Callable[[Transaction, Sequence[RowT]], Awaitable[Sequence[OutcomeT]]],
        *,
        key: Callable[[RowT], Hashable],
        background: bool = False,
    ) -> GroupCommitter[RowT, OutcomeT]:
        """A committer of one kind of row; `write` runs inside the shared transaction and
        returns one outcome per row. `background`: its rows yield to the others (see above)."""
        committer: GroupCommitter[RowT, OutcomeT] = GroupCommitter(self, write, key, background)
        self._committers.append(committer)
        return committer

    def _submit(self, committer: GroupCommitter[Any, Any], row: Any) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        (self._background if committer.background else self._foreground).append((committer, row, future))
        committer._outstanding += 1
        committer._idle.clear()
        self._wake.set()
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain(), name="rollcall-group-commit")
        return future

    def _wake_drainer(self) -> None:
        self._wake.set()

    async def _drain(self) -> None:
        while self._foreground or self._background:
            if len(self._foreground) < self._max_batch:
                await asyncio.sleep(self._window_seconds)
            batch = self._take_from(self._foreground, self._max_batch)
            batch += self._take_from(self._background, self._max_batch - len(batch))
            if batch:
                await self._commit(batch)
                continue
            # Every waiting row belongs to a held committer: sleep until a row or a release.
            self._wake.clear()
            await self._wake.wait()

    def _take_from(self, queue: list[_Waiting], room: int) -> list[_Waiting]:
        """Up to `room` rows from the front of `queue`, those of held committers left waiting."""
        if room <= 0 or not queue:
            return []
        if not any(committer.is_held for committer in self._committers):
            taken = queue[:room]
            del queue[:room]
            return taken
        taken, kept = [], []
        for waiting in queue:
            (taken if len(taken) < room and not waiting[0].is_held else kept).append(waiting)
        queue[:] = kept
        return taken

    async def _commit(self, batch: list[_Waiting]) -> None:
        # Per committer, in creation order, the last row of each key (as a database would keep
        # if they came one by one); callers of the same key share its outcome.
        latest: dict[GroupCommitter[Any, Any], dict[Hashable, Any]] = {c: {} for c in self._committers}
        for committer, row, _ in batch:
            latest[committer][committer._key(row)] = row
        groups = [(committer, rows) for committer, rows in latest.items() if rows]
        count = sum(len(rows) for _, rows in groups)

        async def write_all(transaction: Transaction) -> list[Sequence[Any]]:
            return [await committer._write(transaction, list(rows.values())) for committer, rows in groups]

        async def write_each(transaction: Transaction) -> list[Sequence[Any]]:
            return [await committer._write_each(transaction, list(rows.values())) for committer, rows in groups]

        try:
            try:
                results = await self._db.write_batch(write_all)
            except DatabaseBusy as error:
                log.warning("Group commit of %d rows gave up: the database stayed locked (%s)", count, error)
                self._fail(batch, error)
                return
            except Exception as error:
                log.warning("Group commit of %d rows failed (%r); writing them one by one", count, error)
                try:
                    results = await self._db.write_batch(write_each)
                except Exception as retry_error:
                    log.warning("Group commit of %d rows failed row by row too (%r)", count, retry_error)
                    self._fail(batch, retry_error)
                    return
            outcome_of = {
                (committer, key): outcome
                for (committer, rows), outcomes in zip(groups, results, strict=True)
                for key, outcome in zip(rows, outcomes, strict=True)
            }
            for committer, row, future in batch:
                if future.done():
                    continue
                outcome = outcome_of[committer, committer._key(row)]
                if isinstance(outcome, _RowFailure):
                    future.set_exception(outcome.error)
                else:
                    future.set_result(outcome)
        finally:
            for committer, _, _ in batch:
                committer._outstanding -= 1
                if committer._outstanding == 0:
                    committer._idle.set()

    @staticmethod
    def _fail(batch: list[_Waiting], error: Exception) -> None:
        for _, _, future in batch:
            if not future.done():
                future.set_exception(error)


class GroupCommitter(Generic[RowT, OutcomeT]):
    """One kind of row written through a `BatchWriter` (built by `BatchWriter.committer`).

    A lecture hall answering at once would otherwise queue thousands of single-row commits;
    each caller still returns only after its own row is committed, with that row's outcome
    as `write` (run inside the transaction, one outcome per row) decided it. Rows with the
    same key in one batch keep only the last; their callers share its outcome."""

    def __init__(
        self,
        writer: BatchWriter,
        write: Callable[[Transaction, Sequence[RowT]], Awaitable[Sequence[OutcomeT]]],
        key: Callable[[RowT], Hashable],
        background: bool = False,
    ) -> None:
        self._writer = writer
        self._write = write
        self._key = key
        self.background = background
        self._holds = 0
        # Rows submitted and not yet answered; `_idle` is set while there are none.
        self._outstanding = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def submit(self, row: RowT) -> OutcomeT:
        result: OutcomeT = await self._writer._submit(self, row)
        return result

    def submit_nowait(self, row: RowT) -> asyncio.Future[OutcomeT]:
        """Hand the row over without waiting: the future is done once it is committed (or failed).
        For callers that cannot await (code run while discord.py parses an event)."""
        return self._writer._submit(self, row)

    @property
    def is_held(self) -> bool:
        return self._holds > 0

    @asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        """This committer's rows submitted meanwhile wait, unwritten, until this exits (other
        committers' rows still go). Tests use it to let another writer commit while a row is
        known to be pending."""
        self._holds += 1
        try:
            yield
        finally:
            self._holds -= 1
            self._writer._wake_drainer()

    async def wait_idle(self) -> None:
        """Until every row submitted so far is committed (or failed)."""
        await self._idle.wait()

    async def _write_each(self, transaction: Transaction, rows: list[RowT]) -> list[OutcomeT | _RowFailure]:
        results: list[OutcomeT | _RowFailure] = []
        for row in rows:
            try:
                async with transaction.savepoint():
                    results.append((await self._write(transaction, [row]))[0])
            except DatabaseBusy:
                raise
            except Exception as error:
                results.append(_RowFailure(error))
        return results
